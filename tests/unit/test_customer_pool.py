"""Who holds a customer (C-4..C-8, C-10, A-1..A-3): shares, claims and the cooldown,
returns to the pool, transfers, assignments, deletion, visits and the pool sweep. Through the
Customer aggregate's methods only."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from aggregates.base import Conflict, Invalid
from aggregates.customer import Customer
from tests.unit.helpers import T0, ctx, customer, event_names, refused

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def released(by: str = "alice", at: datetime = T0) -> Customer:
    c = customer(by)
    c.return_to_pool(ctx(by, at), "released")
    c.collect_events()
    return c


# ---- shares --------------------------------------------------------------------------------------


def test_shares_are_added_and_removed_in_one_change() -> None:
    c = customer(shared_with=["bob", "carol"])
    c.collect_events()

    c.change_shares(ctx(), ["dave", "dave", "bob"], ["carol", "erin"])

    assert c.shared_with == ["bob", "dave"]
    [event] = c.collect_events()
    assert (event.added, event.removed) == (["dave"], ["carol"])


def test_a_person_both_added_and_removed_is_added_when_new_and_removed_when_shared() -> None:
    c = customer(shared_with=["bob"])

    c.change_shares(ctx(), ["bob", "carol"], ["bob", "carol"])

    assert c.shared_with == ["carol"]


def test_a_share_change_that_changes_nothing_is_refused() -> None:
    c = customer(shared_with=["bob"])
    with refused(Invalid, "no_change"):
        c.change_shares(ctx(), ["bob"], ["carol"])
    with refused(Invalid, "no_change"):
        c.change_shares(ctx(), [], [])


def test_the_owner_is_never_a_sharee_and_a_pool_customer_is_never_shared() -> None:
    with refused(Invalid, "share_with_owner", field="add"):
        customer().change_shares(ctx(), ["bob", "alice"], [])
    with refused(Conflict, "in_pool"):
        customer(owner=None).change_shares(ctx(), ["bob"], [])


def test_the_owner_may_be_named_among_those_removed() -> None:
    c = customer(shared_with=["bob"])

    c.change_shares(ctx(), [], ["alice", "bob"])

    assert c.shared_with == []


# ---- claims and the cooldown (C-5) ---------------------------------------------------------------


def test_a_claim_takes_a_pool_customer_into_hand_from_now() -> None:
    c = released()
    at = T0 + 3 * HOUR

    c.claim(ctx("bob", at), "bob", cooldown_days=0)

    assert (c.owner_id, c.owner_since, c.pool_entered_at, c.pool_reason, c.in_pool) == ("bob", at, None, None,
                                                                                         False)
    [event] = c.collect_events()
    assert (type(event).__name__, event.person_id) == ("Claimed", "bob")


def test_the_previous_owner_waits_out_the_cooldown_to_the_moment() -> None:
    c = released(at=T0)
    with refused(Conflict, "claim_cooldown", until=(T0 + 2 * DAY).isoformat()):
        c.claim(ctx("alice", T0 + 2 * DAY - timedelta(seconds=1)), "alice", cooldown_days=2)

    c.claim(ctx("alice", T0 + 2 * DAY), "alice", cooldown_days=2)

    assert c.owner_id == "alice"


def test_without_a_cooldown_the_previous_owner_claims_back_at_once() -> None:
    c = released()

    c.claim(ctx("alice"), "alice", cooldown_days=0)

    assert c.owner_id == "alice"


def test_a_one_day_cooldown_holds_for_a_day() -> None:
    c = released(at=T0)
    with refused(Conflict, "claim_cooldown", until=(T0 + DAY).isoformat()):
        c.claim(ctx("alice", T0 + 23 * HOUR), "alice", cooldown_days=1)
    c.claim(ctx("alice", T0 + DAY), "alice", cooldown_days=1)


def test_with_no_cooldown_the_previous_owner_is_never_held_back_whatever_the_clocks_say() -> None:
    c = released(at=T0)

    c.claim(ctx("alice", T0 - timedelta(seconds=30)), "alice", cooldown_days=0)  # a lagging clock

    assert c.owner_id == "alice"


def test_the_cooldown_binds_only_the_previous_owner() -> None:
    c = released()

    c.claim(ctx("bob"), "bob", cooldown_days=30)

    assert c.owner_id == "bob"


def test_a_customer_never_held_has_no_cooldown() -> None:
    c = customer(owner=None)

    c.claim(ctx("alice"), "alice", cooldown_days=30)

    assert c.owner_id == "alice"


def test_the_cooldown_runs_from_the_latest_loss() -> None:
    c = released(at=T0)
    c.claim(ctx("bob", T0 + DAY), "bob", 0)
    c.return_to_pool(ctx("bob", T0 + 5 * DAY), "released")
    c.claim(ctx("alice", T0 + 6 * DAY), "alice", cooldown_days=2)  # alice's own cooldown is over
    c.return_to_pool(ctx("alice", T0 + 7 * DAY), "released")

    with refused(Conflict, "claim_cooldown", until=(T0 + 9 * DAY).isoformat()):
        c.claim(ctx("alice", T0 + 8 * DAY), "alice", cooldown_days=2)
    c.claim(ctx("bob", T0 + 8 * DAY), "bob", cooldown_days=2)


def test_only_pool_customers_are_claimed() -> None:
    with refused(Conflict, "not_in_pool"):
        customer().claim(ctx("bob"), "bob", 0)
    gone = customer(owner=None)
    gone.delete(ctx())
    with refused(Conflict, "deleted"):
        gone.claim(ctx("bob"), "bob", 0)


# ---- back to the pool (C-6) ----------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["released", "recalled", "overdue"])
def test_a_return_to_the_pool_clears_owner_and_shares_and_remembers_who_lost_it(reason: str) -> None:
    c = customer(shared_with=["bob"])
    c.collect_events()
    at = T0 + 5 * HOUR

    assert c.return_to_pool(ctx("boss", at), reason, "说明") == "alice"

    assert (c.owner_id, c.owner_since, c.shared_with, c.in_pool) == (None, None, [], True)
    assert (c.last_owner_id, c.last_lost_at, c.pool_entered_at, c.pool_reason) == ("alice", at, at, reason)
    [event] = c.collect_events()
    assert (event.reason, event.note, event.previous_owner_id) == (reason, "说明", "alice")


def test_a_return_has_an_empty_note_unless_given() -> None:
    c = customer()
    c.collect_events()

    c.return_to_pool(ctx(), "released")

    [event] = c.collect_events()
    assert event.note == ""


@pytest.mark.parametrize("reason", ["", "lost", "Released"])
def test_a_return_needs_a_known_reason(reason: str) -> None:
    c = customer()
    with refused(Invalid, "validation_error", field="reason"):
        c.return_to_pool(ctx(), reason)
    assert c.owner_id == "alice"


def test_a_pool_customer_is_not_returned_again() -> None:
    with refused(Conflict, "in_pool"):
        customer(owner=None).return_to_pool(ctx(), "released")


# ---- transfers and assignments -------------------------------------------------------------------


def test_a_transfer_hands_the_customer_over_from_now() -> None:
    c = customer(shared_with=["bob", "carol"])
    c.collect_events()
    at = T0 + 2 * HOUR

    assert c.transfer(ctx("boss", at), "bob", "调岗") == "alice"

    assert (c.owner_id, c.owner_since, c.shared_with) == ("bob", at, ["carol"])
    [event] = c.collect_events()
    assert (event.from_person_id, event.to_person_id, event.reason) == ("alice", "bob", "调岗")


def test_a_transfer_needs_a_held_customer_and_another_person() -> None:
    with refused(Conflict, "in_pool"):
        customer(owner=None).transfer(ctx(), "bob", "")
    with refused(Invalid, "same_owner", field="to_person_id"):
        customer().transfer(ctx(), "alice", "")


def test_an_assignment_takes_a_pool_customer_out_of_the_pool() -> None:
    c = customer(owner=None)
    c.collect_events()

    assert c.assign(ctx("boss"), "bob") is None

    assert (c.owner_id, c.owner_since, c.in_pool, c.pool_entered_at) == ("bob", T0, False, None)
    [event] = c.collect_events()
    assert (event.from_person_id, event.to_person_id) == (None, "bob")


def test_an_assignment_moves_a_held_customer_but_not_to_its_owner() -> None:
    c = customer(shared_with=["bob"])
    c.collect_events()

    assert c.assign(ctx("boss"), "bob") == "alice"
    assert (c.owner_id, c.shared_with) == ("bob", [])
    [event] = c.collect_events()
    assert (event.from_person_id, event.to_person_id) == ("alice", "bob")
    with refused(Invalid, "same_owner", field="to_person_id"):
        c.assign(ctx("boss"), "bob")


def test_a_deleted_customer_is_neither_transferred_nor_assigned() -> None:
    c = customer(owner=None)
    c.delete(ctx())
    with refused(Conflict, "deleted"):
        c.assign(ctx(), "bob")
    with refused(Conflict, "deleted"):
        c.transfer(ctx(), "bob", "")
    with refused(Conflict, "deleted"):
        c.return_to_pool(ctx(), "released")
    with refused(Conflict, "deleted"):
        c.change_shares(ctx(), ["bob"], [])


# ---- deletion (C-8) ------------------------------------------------------------------------------


def test_a_pool_customer_is_deleted_with_a_reason_and_leaves_the_pool() -> None:
    c = customer(owner=None)
    c.collect_events()

    c.delete(ctx(), "重复")

    assert c.deleted and not c.in_pool
    [event] = c.collect_events()
    assert (type(event).__name__, event.reason) == ("Deleted", "重复")
    with refused(Conflict, "deleted"):
        c.delete(ctx())


def test_a_deletion_without_a_reason_has_an_empty_one() -> None:
    c = customer(owner=None)
    c.collect_events()

    c.delete(ctx())

    [event] = c.collect_events()
    assert event.reason == ""


def test_a_held_customer_is_not_deleted() -> None:
    c = customer()
    with refused(Conflict, "not_in_pool"):
        c.delete(ctx())
    assert not c.deleted


# ---- visits (C-10) -------------------------------------------------------------------------------


def visit(c: Customer, visited_at: datetime, entered_at: datetime | None = None, hours: int = 24,
          **kw: Any) -> bool:
    _, late, _ = c.record_visit(ctx(at=entered_at or visited_at), visited_at=visited_at,
                                late_entry_hours=hours, **kw)
    return late


def test_a_visit_is_recorded_with_what_was_seen() -> None:
    c = customer()
    c.collect_events()

    visit_id, late, _ = c.record_visit(ctx(at=T0 + HOUR), visited_at=T0, late_entry_hours=24, lat=31.2,
                                       lng=121.5, address="上海", contact="甲", stage="需求确认", notes="谈了",
                                       photo="sha", photo_exif={"taken_at": "x"})

    [event] = c.collect_events()
    assert (event.visit_id, event.visited_at, event.late_entry, late) == (visit_id, T0, False, False)
    assert (event.lat, event.lng, event.address, event.contact, event.stage, event.notes) == (
        31.2, 121.5, "上海", "甲", "需求确认", "谈了")
    assert (event.photo, event.photo_exif) == ("sha", {"taken_at": "x"})
    assert (c.visit_count, c.last_visit_at, c.stage, c.status) == (1, T0, "需求确认", "following")


def test_each_visit_has_its_own_id() -> None:
    c = customer()

    first, _, _ = c.record_visit(ctx(), visited_at=T0, late_entry_hours=24)
    second, _, _ = c.record_visit(ctx(), visited_at=T0, late_entry_hours=24)

    assert first != second and len(first) == 32


def test_a_visit_without_a_stage_keeps_the_stage() -> None:
    c = customer()
    visit(c, T0, stage="方案报价")

    visit(c, T0 + HOUR)

    assert (c.stage, c.visit_count) == ("方案报价", 2)


def test_an_older_visit_entered_later_does_not_move_the_last_visit_back() -> None:
    c = customer()
    visit(c, T0 + 5 * HOUR)

    visit(c, T0 + HOUR, entered_at=T0 + 6 * HOUR)

    assert (c.last_visit_at, c.visit_count) == (T0 + 5 * HOUR, 2)


@pytest.mark.parametrize("status", ["lost", "dealt"])
def test_a_visit_to_a_dealt_or_lost_customer_keeps_its_status(status: str) -> None:
    c = customer()
    if status == "dealt":
        c.record_deal(ctx(), "k1", "HT-1", Decimal("1.00"), date(2026, 11, 1))
    else:
        c.change_info(ctx(), {"status": "lost"}, "")

    visit(c, T0)

    assert (c.status, c.visit_count) == (status, 1)


def test_a_followed_customer_stays_followed() -> None:
    c = customer()
    visit(c, T0)

    visit(c, T0 + HOUR)

    assert c.status == "following"


def test_a_visit_exactly_late_entry_hours_late_is_on_time_and_a_second_more_is_late() -> None:
    c = customer()

    assert visit(c, T0, entered_at=T0 + 24 * HOUR, hours=24) is False
    assert visit(c, T0, entered_at=T0 + 24 * HOUR + timedelta(seconds=1), hours=24) is True
    assert visit(c, T0, entered_at=T0 + 3 * HOUR, hours=2) is True
    assert visit(c, T0, entered_at=T0 + 3 * HOUR, hours=4) is False


def test_a_visit_may_be_five_minutes_ahead_of_the_clock_but_no_more() -> None:
    c = customer()

    assert visit(c, T0 + timedelta(minutes=5), entered_at=T0) is False
    with refused(Invalid, "visit_in_future", field="visited_at"):
        visit(c, T0 + timedelta(minutes=5, seconds=1), entered_at=T0)
    assert c.visit_count == 1


def test_only_a_held_live_customer_is_visited() -> None:
    with refused(Conflict, "in_pool"):
        visit(customer(owner=None), T0)
    gone = customer(owner=None)
    gone.delete(ctx())
    with refused(Conflict, "deleted"):
        visit(gone, T0)


# ---- the holding's deadline and the sweep (A-1..A-3) ---------------------------------------------


def test_the_holding_runs_out_follow_days_after_it_began() -> None:
    c = customer()
    c.transfer(ctx(at=T0 + 2 * DAY), "bob", "")

    assert c.follow_deadline(30) == T0 + 32 * DAY


def test_pool_dealt_and_deleted_customers_have_no_deadline() -> None:
    pooled = customer(owner=None)
    assert pooled.follow_deadline(30) is None
    pooled.delete(ctx())
    assert pooled.follow_deadline(30) is None
    c = customer()
    c.record_deal(ctx(), "k1", "HT-1", Decimal("1.00"), date(2026, 11, 1))
    assert c.follow_deadline(30) is None


def test_the_sweep_warns_from_the_first_moment_of_the_window_and_returns_at_the_deadline() -> None:
    c = customer()
    c.collect_events()
    deadline = T0 + 30 * DAY
    window = deadline - 3 * DAY

    assert c.sweep(ctx(), window - timedelta(seconds=1), 30, 3) is None
    assert c.sweep(ctx(), window, 30, 3) == "warned"
    [warning] = c.collect_events()
    assert (warning.owner_id, warning.owner_since, warning.deadline) == ("alice", T0, deadline)
    assert c.warned_for == T0
    assert c.sweep(ctx(), deadline - timedelta(seconds=1), 30, 3) is None

    assert c.sweep(ctx("system", deadline), deadline, 30, 3) == "returned"

    [returned] = c.collect_events()
    assert (returned.reason, returned.note, returned.previous_owner_id) == (
        "overdue", "held 30 days without a deal", "alice")
    assert (c.owner_id, c.pool_reason, c.last_lost_at) == (None, "overdue", deadline)


def test_a_holding_past_its_deadline_is_returned_without_a_warning_first() -> None:
    c = customer()
    c.collect_events()

    assert c.sweep(ctx(), T0 + 45 * DAY, 30, 3) == "returned"

    assert event_names(c) == ["ReturnedToPool"]


def test_without_a_warning_window_there_is_no_warning() -> None:
    c = customer()

    assert c.sweep(ctx(), T0 + 30 * DAY - timedelta(seconds=1), 30, 0) is None
    assert c.sweep(ctx(), T0 + 30 * DAY, 30, 0) == "returned"
