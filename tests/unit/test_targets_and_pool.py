"""Targets, their calendar, work-report periods and the pool sweep through the aggregates'
methods: given these events, when this command, then these events or this refusal."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from aggregates.base import Conflict, Invalid
from aggregates.target import SalesTarget, TargetCalendar, WorkReport, report_period
from tests.unit.helpers import T0, ctx, customer, event_names, refused


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


# ---- targets in detail (T-1, T-2) ----------------------------------------------------------------


def target(**figures: object) -> SalesTarget:
    t = SalesTarget.set(ctx(), id=uuid4(), person_id="alice", period=" 十一月 ", start=date(2026, 11, 1),
                        end=date(2026, 11, 30), figures=dict(figures), approved_by="boss")
    t.collect_events()
    return t


def test_a_target_keeps_its_person_trimmed_period_and_figures() -> None:
    given = uuid4()
    t = SalesTarget.set(ctx(), id=given, person_id="alice", period=" 十一月 ", start=date(2026, 11, 1),
                        end=date(2026, 11, 30), figures={"visits": 3}, approved_by="boss")

    [event] = t.collect_events()
    assert (t.id, event.approved_by) == (given, "boss")

    assert (t.person_id, t.period, t.start, t.end, t.cancelled) == (
        "alice", "十一月", date(2026, 11, 1), date(2026, 11, 30), False)
    assert t.figures == {"new_customers": 0, "visits": 3, "deal_amount": Decimal("0.00"),
                         "collected_amount": Decimal("0.00")}


def test_a_one_day_period_is_a_period() -> None:
    t = SalesTarget.set(ctx(), id=uuid4(), person_id="p", period="一天", start=date(2026, 11, 3),
                        end=date(2026, 11, 3), figures={})
    assert t.start == t.end


@pytest.mark.parametrize("period", ["", "  "])
def test_a_target_names_its_period(period: str) -> None:
    with refused(Invalid, "validation_error", field="period"):
        SalesTarget.set(ctx(), id=uuid4(), person_id="p", period=period, start=date(2026, 11, 1),
                        end=date(2026, 11, 30), figures={})
    with refused(Invalid, "validation_error", field="period"):
        target().revise(ctx(), {"period": period})


def test_a_backwards_period_names_both_ends() -> None:
    with refused(Invalid, "invalid_period", field="start", start="2026-11-30", end="2026-11-01"):
        target().revise(ctx(), {"start": date(2026, 11, 30), "end": date(2026, 11, 1)})


@pytest.mark.parametrize(("name", "value"), [
    ("new_customers", -1), ("visits", True), ("visits", "3"), ("new_customers", 2.0),
    ("deal_amount", "-0.01"), ("deal_amount", "1.001"), ("collected_amount", "NaN"),
    ("collected_amount", "Infinity"),
])
def test_figures_are_counts_or_amounts_of_zero_or_more(name: str, value: object) -> None:
    with refused(Invalid, "validation_error", field=name):
        target(**{name: value})


def test_figures_may_be_zero_and_amounts_are_kept_to_the_cent() -> None:
    t = target(new_customers=0, visits=0, deal_amount="0", collected_amount=Decimal("12.5"))

    assert t.figures == {"new_customers": 0, "visits": 0, "deal_amount": Decimal("0.00"),
                         "collected_amount": Decimal("12.50")}


def test_a_revision_records_the_whole_new_target() -> None:
    t = target(visits=3, deal_amount="100")

    t.revise(ctx(), {"period": " 十一月（调整） ", "end": date(2026, 12, 15), "deal_amount": "150",
                     "unrelated": 1}, approved_by="boss")

    assert (t.period, t.start, t.end) == ("十一月（调整）", date(2026, 11, 1), date(2026, 12, 15))
    assert t.figures == {"new_customers": 0, "visits": 3, "deal_amount": Decimal("150.00"),
                         "collected_amount": Decimal("0.00")}
    [event] = t.collect_events()
    assert (event.period, event.end, event.figures, event.approved_by) == (
        "十一月（调整）", date(2026, 12, 15), t.figures, "boss")


def test_a_revision_that_changes_nothing_is_refused() -> None:
    t = target(visits=3)
    with refused(Invalid, "no_change"):
        t.revise(ctx(), {"visits": 3, "period": "十一月", "end": date(2026, 11, 30)})


def test_a_revision_that_only_moves_the_period_is_a_change() -> None:
    t = target()

    t.revise(ctx(), {"start": date(2026, 10, 31)})

    assert t.start == date(2026, 10, 31)


def test_a_cancelled_target_is_neither_revised_nor_cancelled_again() -> None:
    t = target()
    t.cancel(ctx(), "调岗")
    [event] = t.collect_events()
    assert (type(event).__name__, event.reason, t.cancelled) == ("Cancelled", "调岗", True)
    with refused(Conflict, "cancelled"):
        t.revise(ctx(), {"visits": 1})
    with refused(Conflict, "cancelled"):
        t.cancel(ctx(), "")


def test_an_overlap_names_the_target_it_overlaps() -> None:
    calendar = TargetCalendar.open(ctx(), "alice")
    calendar.book(ctx(), "t1", date(2026, 11, 1), date(2026, 11, 30))
    with refused(Conflict, "overlapping_period", field="start", target_id="t1", start="2026-11-01",
                 end="2026-11-30"):
        calendar.book(ctx(), "t2", date(2026, 11, 30), date(2026, 12, 1))


def test_moving_a_booked_period_is_checked_against_every_other_target() -> None:
    calendar = TargetCalendar.open(ctx(), "alice")
    calendar.book(ctx(), "t1", date(2026, 11, 1), date(2026, 11, 30))
    calendar.book(ctx(), "t2", date(2026, 12, 1), date(2026, 12, 31))

    with refused(Conflict, "overlapping_period", target_id="t2"):
        calendar.book(ctx(), "t1", date(2026, 11, 1), date(2026, 12, 1))
    assert calendar.periods["t1"] == ["2026-11-01", "2026-11-30"]


def test_booking_a_period_again_records_nothing_and_freeing_an_unknown_target_nothing() -> None:
    calendar = TargetCalendar.open(ctx(), "alice")
    assert (calendar.id, calendar.person_id) == (TargetCalendar.id_for("alice"), "alice")
    calendar.book(ctx(), "t1", date(2026, 11, 1), date(2026, 11, 30))
    calendar.collect_events()

    calendar.book(ctx(), "t1", date(2026, 11, 1), date(2026, 11, 30))
    calendar.free(ctx(), "t9")

    assert calendar.collect_events() == []
    calendar.free(ctx(), "t1")
    assert calendar.periods == {} and event_names(calendar) == ["PeriodFreed"]


def test_a_report_of_an_unknown_kind_is_refused_with_the_kinds_there_are() -> None:
    with refused(Invalid, "validation_error", field="kind"):
        report_period("yearly", date(2026, 11, 1))
    with pytest.raises(Invalid) as caught:
        report_period("hourly", date(2026, 11, 1))
    assert caught.value.message.endswith("daily, weekly, monthly")


def test_a_submitted_report_is_revision_one_and_each_revision_counts() -> None:
    report = WorkReport.submit(ctx(), person_id="alice", kind="daily", day=date(2026, 11, 3),
                               figures={"visits": 1}, summary="一", plan="二")

    assert (report.person_id, report.kind, report.start, report.end, report.revision) == (
        "alice", "daily", date(2026, 11, 3), date(2026, 11, 3), 1)
    assert (report.figures, report.summary, report.plan) == ({"visits": 1}, "一", "二")
    report.revise(ctx(), {"visits": 2}, "一", "三")
    report.revise(ctx(), {"visits": 3}, "一", "四")
    assert (report.revision, report.figures, report.plan) == (3, {"visits": 3}, "四")
    assert WorkReport.id_for("alice", "daily", date(2026, 11, 3)) != WorkReport.id_for(
        "alice", "weekly", date(2026, 11, 3))
