"""Every record's history and past state (H-2, H-3), read from its events.

A record is the aggregate a detail route shows, sometimes with companions that hold part of
it under an id derived from the record's (a person's limits live on the salesperson profile).
Its steps are the events of all its parts in recorded order; step N is version N, so on a
record of one aggregate the version is the aggregate's own. The past state at a moment is
what the service had recorded by then: every event whose timestamp is not after it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from aggregates.approval import Approval
from aggregates.base import CrmAggregate, Invalid, NotFound
from aggregates.contract import Contract
from aggregates.customer import Customer
from aggregates.organisation import Department, Person, Salesperson
from aggregates.product import Product, ProductStock
from aggregates.settings import Settings
from aggregates.target import SalesTarget
from commands.base import Deps


@dataclass(frozen=True)
class Companion:
    """Another aggregate holding part of a record: its class, its id from the record's, and
    the fields of its view the record shows."""

    cls: type[CrmAggregate]
    id_of: Callable[[UUID], UUID]
    fields: tuple[str, ...]
    # The names of its event classes that are steps of the record (all when empty); the others
    # change none of `fields` and are applied, unseen, with the part's next step.
    steps: tuple[str, ...] = ()
    # A field of the record's view telling whether this part exists yet.
    present: str | None = None


@dataclass(frozen=True)
class RecordKind:
    name: str
    main: type[CrmAggregate]
    companions: tuple[Companion, ...] = ()


KINDS: dict[str, RecordKind] = {
    kind.name: kind
    for kind in (
        RecordKind("customer", Customer),
        RecordKind("contract", Contract),
        RecordKind("product", Product),
        RecordKind("stock", ProductStock),
        RecordKind("person", Person, (
            Companion(Salesperson, lambda uid: Salesperson.id_for(str(uid)), ("max_customers", "max_follow_days"),
                      steps=("Created", "LimitsChanged"), present="is_salesperson"),
        )),
        RecordKind("department", Department),
        RecordKind("settings", Settings),
        RecordKind("target", SalesTarget),
        RecordKind("approval", Approval),
    )
}


def _belongs(event: Any, cls: type[CrmAggregate]) -> bool:
    """Whether an event is one of this aggregate class's own (not a subclass's or a namesake's)."""
    kind = type(event)
    return kind.__module__ == cls.__module__ and kind.__qualname__.split(".")[0] == cls.__qualname__


@dataclass(frozen=True)
class Step:
    """One event of a record: which part it belongs to (0 is the main aggregate) and the event."""

    part: int
    event: Any
    catch_up: tuple[Any, ...] = ()  # the part's unseen events before this one


def record_steps(deps: Deps, kind: str, record_id: UUID) -> list[Step]:
    """The record's events of every part in recorded order; none when the id is not a record of
    this kind, so such an id is as unknown as one without events."""
    record = KINDS[kind]
    main = list(deps.store.events.get(record_id))
    if not main or not _belongs(main[0], record.main):
        return []
    steps = [Step(0, event) for event in main]
    for number, companion in enumerate(record.companions, 1):
        unseen: list[Any] = []
        for event in deps.store.events.get(companion.id_of(record_id)):
            if companion.steps and type(event).__name__ not in companion.steps:
                unseen.append(event)
                continue
            steps.append(Step(number, event, tuple(unseen)))
            unseen = []
    if record.companions:
        steps.sort(key=lambda s: (s.event.timestamp, s.part, s.event.originator_version))
    return steps


class Replay:
    """A record's parts as they stand after the steps applied so far."""

    def __init__(self, kind: str) -> None:
        self.record = KINDS[kind]
        self.parts: dict[int, Any] = {}
        self.version = 0
        self.at: datetime | None = None

    def apply(self, step: Step) -> None:
        for event in step.catch_up:
            self.parts[step.part] = event.mutate(self.parts.get(step.part))
        self.parts[step.part] = step.event.mutate(self.parts.get(step.part))
        self.version += 1
        self.at = step.event.timestamp

    @property
    def main(self) -> Any:
        return self.parts.get(0)

    def view(self) -> dict[str, Any]:
        if 0 not in self.parts:
            return {}
        values: dict[str, Any] = self.parts[0].view()
        for number, companion in enumerate(self.record.companions, 1):
            part = self.parts.get(number)
            shown = part.view() if part is not None else {}
            values.update({field: shown.get(field) for field in companion.fields})
            if companion.present:
                values[companion.present] = part is not None
        return values


def record_at(deps: Deps, kind: str, record_id: UUID, *, version: int | None = None,
              as_of: datetime | None = None) -> Replay:
    """H-3: the record as it was after `version` steps, or with what had been recorded by `as_of`.
    NotFound when it has no such version or did not exist at that moment."""
    if as_of is not None and as_of.tzinfo is None:
        raise Invalid("validation_error", "as_of needs a UTC offset", field="as_of")
    steps = record_steps(deps, kind, record_id)
    if not steps:
        raise NotFound("not_found", "no such record")
    replay = Replay(kind)
    for step in steps:
        if version is not None and replay.version >= version:
            break
        if as_of is not None and step.event.timestamp > as_of:
            break
        replay.apply(step)
    if replay.main is None:
        raise NotFound("not_found", "the record did not exist at that moment", field="as_of")
    if version is not None and replay.version < version:
        raise NotFound("not_found", "no such record or version", field="version")
    return replay

