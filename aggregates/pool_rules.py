"""Time rules of holding a customer, for `aggregates.customer.Customer`: the previous owner's
cooldown (C-5), a visit's time (C-10) and the holding's deadline and warning (A-1, A-2)."""

from __future__ import annotations

from datetime import datetime, timedelta

from aggregates import bounds
from aggregates.base import Invalid

# Clocks of phones and servers differ: a visit up to this far ahead of the server is "now".
VISIT_CLOCK_GRACE = timedelta(minutes=5)


def cooldown_until(last_owner_id: str | None, last_lost_at: datetime | None, person_id: str,
                   cooldown_days: int, at: datetime) -> datetime | None:
    """C-5: until when `person_id`, who lost the customer at `last_lost_at`, may not claim it
    back; None when they may (another person, no cooldown, or the cooldown is over)."""
    if cooldown_days <= 0 or last_owner_id != person_id or last_lost_at is None:
        return None
    until = last_lost_at + timedelta(days=bounds.days(cooldown_days))
    return until if at < until else None


def visit_is_late(visited_at: datetime, entered_at: datetime, late_entry_hours: int) -> bool:
    """C-10: a visit cannot lie in the future; one entered more than `late_entry_hours` after
    it happened is a late entry (exactly that late is still on time)."""
    if visited_at > entered_at + VISIT_CLOCK_GRACE:
        raise Invalid("visit_in_future", "the visit time lies in the future", field="visited_at")
    return visited_at < entered_at - timedelta(hours=bounds.days(late_entry_hours, bounds.HOURS_MAX))


def sweep_due(now: datetime, deadline: datetime, warning_days: int, warned: bool) -> str | None:
    """A-1, A-2: "returned" once the deadline is reached, "warned" inside the warning window
    when this holding has not been warned yet, else None."""
    if now >= deadline:
        return "returned"
    if now >= deadline - timedelta(days=bounds.days(warning_days)) and not warned:
        return "warned"
    return None
