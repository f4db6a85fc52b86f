"""B1's yardstick: a bare `eventsourcing` application with one simple aggregate, writing
the same events as the CRM's commands did — per command, the same aggregates (each CRM
aggregate mapped to one of ours, so histories grow alike and a reload replays as many
events) with the same number of new events, saved in one transaction — into its own fresh
store of the same kind, through the same persistence module (`eventsourcing_sqlalchemy`).

What it leaves out is exactly the CRM's own cost: handlers, domain rules, extra loads
(settings, profiles, indexes), read-model lookups and sequences."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

# One command's save: for each aggregate saved, its id, how many new events it carried and
# how many it had before.
Shape = list[tuple[UUID, int, int]]


class Thing(Aggregate):
    @event("Created")
    def __init__(self, label: str, data: dict[str, Any]) -> None:
        self.label = label
        self.data = data
        self.touches = 0

    @event("Touched")
    def touch(self, at: datetime, data: dict[str, Any]) -> None:
        self.touches += 1
        self.data = data


class BareApp(Application):
    """Snapshots long histories as the CRM's store does (every 100 events, also while the
    histories are written in bulk above), so both sides load the same way."""

    name = "bare"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Thing: 100}


def payload() -> dict[str, Any]:
    """About what a CRM event carries besides its header: who, which command, a few fields."""
    return {"actor_id": str(uuid4()), "command_id": uuid4().hex, "region": "华东", "stage": "初步接触",
            "notes": "上门拜访，介绍产品方案"}


class Bare:
    """The bare application over a fresh store at `url`."""

    def __init__(self, url: str) -> None:
        # Configured as the CRM's store is (commands/store.py): an aggregate cache that
        # fast-forwards, so the ratio measures the CRM's own work, not a different set-up.
        self.app = BareApp(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": url,
                                "CREATE_TABLE": "y", "AGGREGATE_CACHE_MAXSIZE": "20000",
                                "AGGREGATE_CACHE_FASTFORWARD": "y"})
        self.ids: dict[UUID, UUID] = {}

    def prepare(self, shapes: list[Shape], chunk: int = 200) -> int:
        """Give every aggregate the shapes load (not create) as long a history as the CRM's
        had before its first save in them; the events written."""
        histories: dict[UUID, int] = {}
        for shape in shapes:
            for crm_id, _, before in shape:
                if crm_id not in histories and crm_id not in self.ids:
                    histories[crm_id] = before
        written, pending = 0, []
        for crm_id, before in histories.items():
            if before <= 0:
                continue
            thing = Thing(label=str(crm_id), data=payload())
            for _ in range(before - 1):
                thing.touch(datetime.now(UTC), payload())
            self.ids[crm_id] = thing.id
            pending.append(thing)
            if sum(len(t.pending_events) for t in pending) >= 2000 or len(pending) >= chunk:
                written += len(self.app.save(*pending))
                pending = []
        if pending:
            written += len(self.app.save(*pending))
        return written

    def command(self, shape: Shape) -> int:
        """Load (or create) each aggregate of the shape, trigger its events, save them together."""
        changed = []
        for crm_id, count, _ in shape:
            bare_id = self.ids.get(crm_id)
            if bare_id is None:
                thing = Thing(label=str(crm_id), data=payload())
                self.ids[crm_id] = thing.id
                count -= 1
            else:
                thing = self.app.repository.get(bare_id)
            for _ in range(count):
                thing.touch(datetime.now(UTC), payload())
            changed.append(thing)
        return len(self.app.save(*changed)) if changed else 0

    def close(self) -> None:
        self.app.recorder.datastore.engine.dispose()  # type: ignore[attr-defined]


class SaveRecorder:
    """Wraps an event store's `save` to note each save's shape (in the benchmark process
    only); costs a few microseconds per command."""

    def __init__(self, store: Any) -> None:
        self.shapes: list[Shape] = []
        original: Callable[..., Any] = store.save

        def save(*objects: Any, **kwargs: Any) -> Any:
            shape = [(o.id, len(o.pending_events), o.version - len(o.pending_events))
                     for o in objects if getattr(o, "pending_events", None)]
            result = original(*objects, **kwargs)
            self.shapes.append(shape)
            return result

        store.save = save
