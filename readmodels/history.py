"""Customer history (H-2): every event in order with field-level old→new values,
worked out by replaying the events one by one and comparing the views."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

META = {"originator_id", "originator_version", "timestamp", "actor_id", "command_id", "originator_topic"}
# Fields derived by the aggregate that do not say anything new in a diff.
QUIET = {"owner_since", "pool_entered_at"}


def history_items(events: Iterable[Any], names: dict[str, str]) -> list[dict[str, Any]]:
    items = []
    aggregate: Any = None
    for event in events:
        before: dict[str, Any] = aggregate.view() if aggregate is not None else {}
        aggregate = event.mutate(aggregate)
        after = aggregate.view()
        changes = [
            {"field": key, "old": before.get(key), "new": value}
            for key, value in after.items()
            if key not in QUIET and before.get(key) != value
        ]
        items.append(
            {
                "version": event.originator_version,
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
