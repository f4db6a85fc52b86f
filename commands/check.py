"""`crm check`: the event store is sound — every aggregate's
versions run 1, 2, 3… without a hole, every event can be read — and every read model
equals a fresh build from the events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

from commands.adapters.store import EventStore

MAX_LISTED = 50


@dataclass
class StoreReport:
    events: int = 0
    aggregates: int = 0
    # Positions a rolled-back write took (PostgreSQL sequences do not give them back): not a loss.
    gaps: int = 0
    problems: list[str] = field(default_factory=list)
    more_problems: int = 0

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_LISTED:
            self.problems.append(text)
        else:
            self.more_problems += 1


def check_event_store(store: EventStore, progress: Callable[[int, int], None] | None = None,
                      batch: int = 5000) -> StoreReport:
    report = StoreReport()
    versions: dict[UUID | str, int] = {}
    head = store.head()
    previous = 0
    while True:
        notifications = store.recorder.select_notifications(start=previous + 1, limit=batch)
        if not notifications:
            break
        for n in notifications:
            if n.id > previous + 1:
                report.gaps += n.id - previous - 1
            expected = versions.get(n.originator_id, 0) + 1
            if n.originator_version != expected:
                report.problem(f"aggregate {n.originator_id}: version {n.originator_version} where {expected} "
                               f"was due (position {n.id})")
            versions[n.originator_id] = n.originator_version
            try:
                store.mapper.to_domain_event(n)
            except Exception as error:  # any failure to read an event is what the check is for
                report.problem(f"position {n.id} ({n.topic}) cannot be read: {error}")
            previous = max(previous, n.id)
            report.events += 1
        if progress is not None:
            progress(previous, head)
    report.aggregates = len(versions)
    return report
