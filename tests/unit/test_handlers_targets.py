"""Targets and work reports through `handle` with fakes (T-1..T-3, W-1): periods that never
overlap, who sets and changes targets, the automatic salesperson profile, and work reports
whose figures come from the target-figures port."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from aggregates.organisation import Salesperson
from aggregates.target import SalesTarget, TargetCalendar, WorkReport
from commands import messages as m
from commands.actor import Actor
from tests.unit.fakes import Team, World

NOVEMBER: dict[str, Any] = {"period": "2026年11月", "start": date(2026, 11, 1), "end": date(2026, 11, 30)}


def test_a_set_target_command_can_be_made() -> None:
    # Its `target_id` field was once shadowed by an inherited read-only property of `Approvable`:
    # making a SetTarget raised AttributeError, so no target could be set at all.
    person_id, target_id = str(uuid4()), str(uuid4())
    command = m.SetTarget(person_id=person_id, period="十一月", start=date(2026, 11, 1), end=date(2026, 11, 30),
                          target_id=target_id)
    assert (command.person_id, command.target_id) == (person_id, target_id)
    assert m.SetTarget(person_id=person_id, **NOVEMBER).target_id != m.SetTarget(person_id=person_id,
                                                                                  **NOVEMBER).target_id
    again = m.SetTarget.from_payload(command.payload())
    assert (again.target_id, again.start) == (target_id, date(2026, 11, 1))


def set_target(w: World, who: Actor, person: Actor, **kw: Any) -> str:
    fields: dict[str, Any] = {**NOVEMBER, **kw}
    return str(w.do(m.SetTarget(person_id=person.person_id, **fields), who).ids["id"])


def calendar(w: World, person: Actor) -> dict[str, list[str]]:
    return w.find(TargetCalendar.id_for(person.person_id), TargetCalendar).periods


# ---- setting targets (T-1..T-3) ----------------------------------------------------------------


def test_a_manager_sets_a_target_for_one_of_their_people(w: World, team: Team) -> None:
    tid = set_target(w, team.boss, team.alice, figures={"visits": 10, "deal_amount": "50000"})
    target = w.find(tid, SalesTarget)
    assert (target.person_id, target.period, target.start, target.end) == (
        team.alice.person_id, "2026年11月", date(2026, 11, 1), date(2026, 11, 30))
    assert target.figures == {"new_customers": 0, "visits": 10, "deal_amount": Decimal("50000.00"),
                              "collected_amount": Decimal("0.00")}
    assert calendar(w, team.alice) == {tid: ["2026-11-01", "2026-11-30"]}


@pytest.mark.parametrize(("start", "end"), [
    (date(2026, 11, 30), date(2026, 12, 15)),  # shares the last day
    (date(2026, 10, 1), date(2026, 11, 1)),  # shares the first day
    (date(2026, 11, 10), date(2026, 11, 12)),  # inside
    (date(2026, 10, 1), date(2026, 12, 31)),  # around
])
def test_periods_of_one_person_never_overlap(w: World, team: Team, start: date, end: date) -> None:
    first = set_target(w, team.boss, team.alice)
    refused = w.refused(m.SetTarget(person_id=team.alice.person_id, period="重叠", start=start, end=end), team.boss)
    assert (refused.code, refused.field, refused.details["target_id"]) == ("overlapping_period", "start", first)
    set_target(w, team.boss, team.bob, start=start, end=end, period="别人的")  # another person's periods


def test_adjacent_periods_are_fine_and_backwards_ones_are_not(w: World, team: Team) -> None:
    set_target(w, team.boss, team.alice)
    set_target(w, team.boss, team.alice, period="十二月", start=date(2026, 12, 1), end=date(2026, 12, 31))
    set_target(w, team.boss, team.alice, period="一天", start=date(2027, 1, 1), end=date(2027, 1, 1))
    assert len(calendar(w, team.alice)) == 3
    refused = w.refused(m.SetTarget(person_id=team.alice.person_id, period="倒置", start=date(2027, 3, 31),
                                    end=date(2027, 3, 1)), team.boss)
    assert (refused.code, refused.field) == ("invalid_period", "start")


def test_who_sets_targets(w: World, team: Team) -> None:
    # A salesperson sets their own (without the policy, at once), nobody else's.
    set_target(w, team.alice, team.alice)
    refused = w.refused(m.SetTarget(person_id=team.alice.person_id, **NOVEMBER), team.bob)
    assert (refused.code, refused.field) == ("forbidden", "person_id")
    south = w.department("华南部")
    other_boss = w.person("southboss", ["manager"], department=south)
    assert w.refused(m.SetTarget(person_id=team.bob.person_id, **NOVEMBER), other_boss).code == "forbidden"
    # A warehouse keeper is neither a salesperson nor a manager: not even their own target.
    keeper = w.person("keeper", ["warehouse"], department=team.dept)
    assert w.refused(m.SetTarget(person_id=keeper.person_id, **NOVEMBER), keeper).code == "forbidden"
    refused = w.refused(m.SetTarget(person_id=str(uuid4()), **NOVEMBER), w.root)
    assert (refused.code, refused.field) == ("unknown_person", "person_id")
    assert w.refused(m.SetTarget(person_id="alice", **NOVEMBER), w.root).field == "person_id"


def test_a_person_without_a_profile_gets_one(w: World, team: Team) -> None:
    assert w.store.find(Salesperson.id_for(team.boss.person_id), Salesperson) is None
    set_target(w, w.root, team.boss, figures={"deal_amount": "10"})
    profile = w.profile(team.boss)
    assert (profile.max_customers, profile.max_follow_days, profile.held) == (None, None, [])
    set_target(w, w.root, team.boss, period="十二月", start=date(2026, 12, 1), end=date(2026, 12, 31))
    assert w.event_types(Salesperson.id_for(team.boss.person_id)) == ["Created"]  # once


@pytest.mark.parametrize("figures", [
    {"visits": -1}, {"new_customers": 1.5}, {"new_customers": True}, {"visits": "3"},
    {"deal_amount": "1.001"}, {"collected_amount": "-3"}, {"deal_amount": "NaN"}, {"deal_amount": "Infinity"},
])
def test_target_figures_are_counts_and_amounts(w: World, team: Team, figures: dict[str, Any]) -> None:
    refused = w.refused(m.SetTarget(person_id=team.alice.person_id, figures=figures, **NOVEMBER), team.boss)
    assert refused.code == "validation_error"
    assert refused.field == next(iter(figures))


def test_target_periods_and_amounts_are_bounded(w: World, team: Team) -> None:
    for start, end in ((date(1899, 12, 31), date(1900, 1, 31)), (date(2199, 12, 1), date(2200, 1, 1))):
        refused = w.refused(m.SetTarget(person_id=team.alice.person_id, period="远", start=start, end=end), team.boss)
        assert refused.code == "date_out_of_range"
    refused = w.refused(m.SetTarget(person_id=team.alice.person_id, figures={"deal_amount": "1e13"}, **NOVEMBER),
                        team.boss)
    assert refused.code == "out_of_range"
    assert w.refused(m.SetTarget(person_id=team.alice.person_id, period=" ", start=date(2026, 11, 1),
                                 end=date(2026, 11, 2)), team.boss).field == "period"
    assert w.refused(m.SetTarget(person_id=team.alice.person_id, period="期" * 101, start=date(2026, 11, 1),
                                 end=date(2026, 11, 2)), team.boss).code == "too_long"


@pytest.mark.parametrize("figures", [{"deal_amount": "99999999999.00"}, {"visits": 10**30}])
def test_target_figures_beyond_the_bounds_are_refused(w: World, team: Team, figures: dict[str, Any]) -> None:
    refused = w.refused(m.SetTarget(person_id=team.alice.person_id, figures=figures, **NOVEMBER), team.boss)
    assert (refused.code, refused.field) == ("out_of_range", next(iter(figures)))
    assert w.do(m.SetTarget(person_id=team.alice.person_id, figures={"deal_amount": "9999999999.99",
                                                                      "visits": 1_000_000}, **NOVEMBER), team.boss)


# ---- revising and cancelling -------------------------------------------------------------------


def test_a_manager_revises_and_the_calendar_rechecks(w: World, team: Team) -> None:
    november = set_target(w, team.boss, team.alice)
    december = set_target(w, team.boss, team.alice, period="十二月", start=date(2026, 12, 1), end=date(2026, 12, 31))
    refused = w.refused(m.ReviseTarget(december, {"start": date(2026, 11, 20)}), team.boss)
    assert (refused.code, refused.details["target_id"]) == ("overlapping_period", november)
    assert w.find(december, SalesTarget).start == date(2026, 12, 1)
    w.do(m.CancelTarget(november, reason="调岗"), team.boss)
    assert list(calendar(w, team.alice)) == [december]
    w.do(m.ReviseTarget(december, {"start": date(2026, 11, 20), "visits": 7}), team.boss)
    target = w.find(december, SalesTarget)
    assert (target.start, target.end, target.figures["visits"]) == (date(2026, 11, 20), date(2026, 12, 31), 7)
    assert calendar(w, team.alice) == {december: ["2026-11-20", "2026-12-31"]}
    assert w.refused(m.ReviseTarget(december, {"visits": 7}), team.boss).code == "no_change"
    assert w.refused(m.ReviseTarget(december, {"end": date(2026, 11, 1)}), team.boss).code == "invalid_period"


def test_who_revises_and_cancels(w: World, team: Team) -> None:
    tid = set_target(w, team.alice, team.alice)  # set by alice herself
    assert w.refused(m.ReviseTarget(tid, {"visits": 1}), team.alice).code == "forbidden"
    assert w.refused(m.CancelTarget(tid), team.alice).code == "forbidden"
    assert w.refused(m.CancelTarget(tid), team.bob).code == "forbidden"
    assert w.refused(m.ReviseTarget(str(uuid4()), {"visits": 1}), team.boss).code == "not_found"
    w.do(m.CancelTarget(tid), w.root)
    assert w.find(tid, SalesTarget).cancelled is True
    assert w.refused(m.CancelTarget(tid), team.boss).code == "cancelled"
    assert w.refused(m.ReviseTarget(tid, {"visits": 1}), team.boss).code == "cancelled"
    set_target(w, team.boss, team.alice)  # the period is free again


# ---- work reports (W-1) ------------------------------------------------------------------------


def test_a_work_report_takes_its_figures_from_the_port(w: World, team: Team) -> None:
    figures = {"new_customers": 3, "visits": 5, "deal_amount": Decimal("6000.00"),
               "collected_amount": Decimal("4500.00")}
    w.target_figures.figures[team.alice.person_id] = figures
    w.clock.set(datetime(2026, 11, 4, 2, 0, tzinfo=UTC))  # a report is dated today or earlier
    done = w.do(m.SubmitWorkReport("weekly", date(2026, 11, 4), summary="本周拜访五家", plan="跟进报价"), team.alice)
    assert w.target_figures.calls == [([team.alice.person_id], date(2026, 11, 2), date(2026, 11, 8))]
    assert (done.ids["start"], done.ids["end"], done.ids["figures"], done.ids["revision"]) == (
        date(2026, 11, 2), date(2026, 11, 8), figures, 1)
    report = w.find(done.ids["id"], WorkReport)
    assert (report.person_id, report.kind, report.figures, report.summary, report.plan) == (
        team.alice.person_id, "weekly", figures, "本周拜访五家", "跟进报价")


def test_the_same_period_again_revises_the_report_with_fresh_figures(w: World, team: Team) -> None:
    w.clock.set(datetime(2026, 11, 30, 2, 0, tzinfo=UTC))  # a report is dated today or earlier
    first = w.do(m.SubmitWorkReport("monthly", date(2026, 11, 15), summary="初稿"), team.alice)
    w.target_figures.figures[team.alice.person_id] = {"new_customers": 9, "visits": 9,
                                                      "deal_amount": Decimal("1"), "collected_amount": Decimal("0")}
    again = w.do(m.SubmitWorkReport("monthly", date(2026, 11, 30), summary="终稿"), team.alice)
    assert again.ids["id"] == first.ids["id"] and again.ids["revision"] == 2
    assert w.target_figures.calls[-1] == ([team.alice.person_id], date(2026, 11, 1), date(2026, 11, 30))
    report = w.find(first.ids["id"], WorkReport)
    assert (report.summary, report.figures["new_customers"], report.revision) == ("终稿", 9, 2)
    daily = w.do(m.SubmitWorkReport("daily", date(2026, 11, 30)), team.alice)
    assert daily.ids["id"] != first.ids["id"]
    other = w.do(m.SubmitWorkReport("monthly", date(2026, 11, 15)), team.bob)  # each person has their own
    assert other.ids["id"] != first.ids["id"] and other.ids["revision"] == 1


def test_work_report_refusals(w: World, team: Team) -> None:
    refused = w.refused(m.SubmitWorkReport("yearly", date(2026, 11, 1)), team.alice)
    assert (refused.code, refused.field) == ("validation_error", "kind")
    refused = w.refused(m.SubmitWorkReport("monthly", date(9999, 12, 31)), team.alice)
    assert (refused.code, refused.field) == ("date_out_of_range", "date")
    assert w.refused(m.SubmitWorkReport("daily", date(2026, 11, 1), summary="\x00"), team.alice).code == (
        "control_character")
    assert w.target_figures.calls == [([team.alice.person_id], date(2026, 11, 1), date(2026, 11, 1))]
    w.clock.set(datetime(2199, 12, 31, 2, 0, tzinfo=UTC))  # a report is dated today or earlier
    w.do(m.SubmitWorkReport("monthly", date(2199, 12, 31), plan="多行\n计划"), team.alice)  # the last month
