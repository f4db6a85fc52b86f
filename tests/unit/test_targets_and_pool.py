"""Targets, their calendar, work-report periods and the pool sweep through the aggregates'
methods: given these events, when this command, then these events or this refusal."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from aggregates.base import Conflict, Invalid
from aggregates.target import SalesTarget, TargetCalendar, WorkReport, report_period
from tests.unit.test_aggregates import T0, ctx, customer, event_names


def calendar_with(*periods: tuple[str, str]) -> TargetCalendar:
    calendar = TargetCalendar.open(ctx(), "alice")
    for start, end in periods:
        calendar.book(ctx(), str(uuid4()), date.fromisoformat(start), date.fromisoformat(end))
    return calendar


@pytest.mark.parametrize(("start", "end"), [
    ("2026-11-30", "2026-12-31"),  # shares the last day
    ("2026-10-01", "2026-11-01"),  # shares the first day
    ("2026-11-10", "2026-11-12"),  # inside
    ("2026-10-01", "2026-12-31"),  # around
])
def test_overlapping_periods_are_refused(start: str, end: str) -> None:
    calendar = calendar_with(("2026-11-01", "2026-11-30"))
    with pytest.raises(Conflict) as refused:
        calendar.book(ctx(), str(uuid4()), date.fromisoformat(start), date.fromisoformat(end))
    assert refused.value.code == "overlapping_period"


def test_adjacent_periods_and_rebooking_oneself_are_fine() -> None:
    calendar = calendar_with(("2026-11-01", "2026-11-30"), ("2026-12-01", "2026-12-31"))
    [(november_id, _)] = [(k, v) for k, v in calendar.periods.items() if v[0] == "2026-11-01"]
    calendar.book(ctx(), november_id, date(2026, 10, 20), date(2026, 11, 30))  # moves itself
    assert calendar.periods[november_id] == ["2026-10-20", "2026-11-30"]
    calendar.free(ctx(), november_id)
    calendar.book(ctx(), str(uuid4()), date(2026, 11, 15), date(2026, 11, 20))
    assert len(calendar.periods) == 2


def test_targets_check_period_and_figures() -> None:
    with pytest.raises(Invalid) as backwards:
        SalesTarget.set(ctx(), id=uuid4(), person_id="p", period="十一月", start=date(2026, 11, 30),
                        end=date(2026, 11, 1), figures={})
    assert backwards.value.code == "invalid_period"
    for bad in ({"visits": -1}, {"deal_amount": "1.001"}, {"new_customers": 1.5}, {"collected_amount": "-3"}):
        with pytest.raises(Invalid):
            SalesTarget.set(ctx(), id=uuid4(), person_id="p", period="十一月", start=date(2026, 11, 1),
                            end=date(2026, 11, 30), figures=bad)
    target = SalesTarget.set(ctx(), id=uuid4(), person_id="p", period="十一月", start=date(2026, 11, 1),
                             end=date(2026, 11, 30), figures={"deal_amount": "100", "visits": 3})
    assert target.figures == {"new_customers": 0, "visits": 3, "deal_amount": Decimal("100.00"),
                              "collected_amount": Decimal("0.00")}
    with pytest.raises(Invalid) as unchanged:
        target.revise(ctx(), {"visits": 3})
    assert unchanged.value.code == "no_change"
    target.revise(ctx(), {"visits": 4, "end": date(2026, 12, 5)})
    target.cancel(ctx(), "调岗")
    with pytest.raises(Conflict):
        target.revise(ctx(), {"visits": 5})
    assert [type(e).__name__ for e in target.collect_events()] == ["Set", "Revised", "Cancelled"]


@pytest.mark.parametrize(("kind", "day", "start", "end"), [
    ("daily", "2026-11-24", "2026-11-24", "2026-11-24"),
    ("weekly", "2026-11-24", "2026-11-23", "2026-11-29"),
    ("weekly", "2026-11-29", "2026-11-23", "2026-11-29"),
    ("weekly", "2027-01-01", "2026-12-28", "2027-01-03"),  # ISO week 53 of 2026
    ("monthly", "2026-02-14", "2026-02-01", "2026-02-28"),
    ("monthly", "2028-02-29", "2028-02-01", "2028-02-29"),
    ("monthly", "2026-12-31", "2026-12-01", "2026-12-31"),
])
def test_report_periods(kind: str, day: str, start: str, end: str) -> None:
    assert report_period(kind, date.fromisoformat(day)) == (date.fromisoformat(start), date.fromisoformat(end))


def test_a_second_submission_revises_the_same_report() -> None:
    report = WorkReport.submit(ctx(), person_id="alice", kind="weekly", day=date(2026, 11, 25), figures={},
                               summary="一", plan="二")
    assert report.id == WorkReport.id_for("alice", "weekly", date(2026, 11, 23))
    report.revise(ctx(), {"visits": 2}, "一（改）", "二")
    assert (report.revision, report.summary) == (2, "一（改）")


def test_sweep_warns_once_per_holding_then_returns() -> None:
    c = customer()
    c.collect_events()
    assert c.sweep(ctx(at=T0 + timedelta(days=26)), T0 + timedelta(days=26), 30, 3) is None
    assert c.sweep(ctx(at=T0 + timedelta(days=27)), T0 + timedelta(days=27), 30, 3) == "warned"
    assert c.sweep(ctx(at=T0 + timedelta(days=28)), T0 + timedelta(days=28), 30, 3) is None
    assert c.sweep(ctx(at=T0 + timedelta(days=30)), T0 + timedelta(days=30), 30, 3) == "returned"
    assert event_names(c) == ["PoolWarned", "ReturnedToPool"]
    assert (c.owner_id, c.pool_reason, c.last_owner_id) == (None, "overdue", "alice")
    assert c.sweep(ctx(at=T0 + timedelta(days=31)), T0 + timedelta(days=31), 30, 3) is None


def test_a_new_holding_is_warned_afresh_and_dealt_customers_never_return() -> None:
    c = customer()
    c.sweep(ctx(at=T0 + timedelta(days=28)), T0 + timedelta(days=28), 30, 3)
    c.transfer(ctx(at=T0 + timedelta(days=29)), "bob", "")
    assert c.sweep(ctx(at=T0 + timedelta(days=30)), T0 + timedelta(days=30), 30, 3) is None
    assert c.sweep(ctx(at=T0 + timedelta(days=57)), T0 + timedelta(days=57), 30, 3) == "warned"
    dealt = customer()
    dealt.record_deal(ctx(), "c1", "HT-1", Decimal("10.00"), date(2026, 11, 1))
    assert dealt.sweep(ctx(at=T0 + timedelta(days=400)), T0 + timedelta(days=400), 30, 3) is None
    pooled = customer(owner=None)
    assert pooled.sweep(ctx(at=T0 + timedelta(days=400)), T0 + timedelta(days=400), 30, 3) is None
