"""Record history (H-2): every event in order with field-level old→new values, worked out by
replaying the events one by one and comparing the views."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

META = {"originator_id", "originator_version", "timestamp", "actor_id", "command_id", "originator_topic"}
# Fields derived by an aggregate that do not say anything new in a diff.
QUIET = {"owner_since", "pool_entered_at"}


class Replaying(Protocol):
    """A record being replayed step by step: its version so far and its view."""

    version: int

    def apply(self, step: Any) -> None: ...

    def view(self) -> dict[str, Any]: ...


class _Single:
    """The replay of one aggregate's events, each step its event."""

    def __init__(self) -> None:
        self.aggregate: Any = None
        self.version = 0

    def apply(self, step: Any) -> None:
        self.aggregate = step.mutate(self.aggregate)
        self.version = step.originator_version

    def view(self) -> dict[str, Any]:
        return self.aggregate.view() if self.aggregate is not None else {}


def history_items(events: Iterable[Any], names: dict[str, str], replay: Replaying | None = None,
                  quiet: frozenset[str] | set[str] = QUIET) -> list[dict[str, Any]]:
    """One item per step. The steps are an aggregate's events, or, with `replay`, whatever
    that replay applies (a record of several aggregates: steps with an `event`)."""
    replay = replay or _Single()
    items = []
    for step in events:
        event = getattr(step, "event", step)
        before = replay.view()
        replay.apply(step)
        after = replay.view()
        changes = [
            {"field": key, "old": before.get(key), "new": value}
            for key, value in after.items()
            if key not in quiet and before.get(key) != value
        ]
        items.append(
            {
                "version": replay.version,
                "type": type(event).__name__,
                "at": event.timestamp,
                "actor_id": event.actor_id,
                "actor_name": names.get(event.actor_id),
                "command_id": event.command_id,
                "data": {k: v for k, v in vars(event).items() if k not in META},
                "changes": changes,
            }
        )
    return items
