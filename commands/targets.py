"""Handlers for sales targets (T-1..T-3) and work reports (W-1)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aggregates import bounds
from aggregates.base import Context, Forbidden, Invalid, NotFound
from aggregates.organisation import Person, Salesperson
from aggregates.target import REPORT_KINDS, SalesTarget, TargetCalendar, WorkReport, report_period
from commands.actor import Actor
from commands.base import Deps, Result, business_day, context, load_settings, parse_uuid, retrying, save
from commands.messages import CancelTarget, ReviseTarget, SetTarget, SubmitWorkReport


def _may_set_for(deps: Deps, actor: Actor, person_id: str) -> None:
    """T-1: managers for the people of their subtree, admins for anyone, a salesperson for
    themselves (a proposal, when the approval policy covers targets)."""
    if person_id == actor.person_id and "sales" in actor.roles:
        return
    if not deps.organisation.manages(actor, person_id):
        raise Forbidden("forbidden", "targets are set by a manager of that person", field="person_id")


def set_target(cmd: SetTarget, actor: Actor, deps: Deps) -> Result:
    """T-1..T-3: the target, booked in the person's calendar so periods never overlap, and a
    new salesperson profile when the person has none."""

    def attempt() -> Result:
        return Result(save(deps, *_prepare_target(cmd, context(deps, actor), actor, deps)), {"id": cmd.target_id})

    return retrying(attempt)


def _prepare_target(cmd: SetTarget, ctx: Context, actor: Actor, deps: Deps) -> list[Any]:
    person = deps.store.find(parse_uuid(cmd.person_id, "person_id"), Person)
    if person is None:
        raise Invalid("unknown_person", "no such person", field="person_id")
    _may_set_for(deps, actor, cmd.person_id)
    target = SalesTarget.set(ctx, id=UUID(cmd.target_id), person_id=cmd.person_id, period=cmd.period,
                             start=cmd.start, end=cmd.end, figures=cmd.figures, approved_by=cmd.approved_by)
    calendar = deps.store.find(TargetCalendar.id_for(cmd.person_id), TargetCalendar)
    calendar = calendar or TargetCalendar.open(ctx, cmd.person_id)
    calendar.book(ctx, str(target.id), cmd.start, cmd.end)
    profile = None
    if deps.store.find(Salesperson.id_for(cmd.person_id), Salesperson) is None:
        profile = Salesperson.create(ctx, cmd.person_id, None, None)
    return [target, calendar, profile]


def load_target(deps: Deps, target_id: str) -> SalesTarget:
    found = deps.store.find(parse_uuid(target_id, "target_id"), SalesTarget)
    if found is None:
        raise NotFound("not_found", "no such target")
    return found


def revise_target(cmd: ReviseTarget, actor: Actor, deps: Deps) -> Result:
    """A manager of the person changes the period or the figures; the calendar re-checks overlaps."""
    def attempt() -> Result:
        ctx = context(deps, actor)
        target = load_target(deps, cmd.target_id)
        if not deps.organisation.manages(actor, target.person_id):
            raise Forbidden("forbidden", "targets are changed by a manager of that person")
        target.revise(ctx, cmd.changes)
        calendar = deps.store.find(TargetCalendar.id_for(target.person_id), TargetCalendar)
        assert calendar is not None
        calendar.book(ctx, str(target.id), target.start, target.end)
        return Result(save(deps, target, calendar), {"id": cmd.target_id})

    return retrying(attempt)


def cancel_target(cmd: CancelTarget, actor: Actor, deps: Deps) -> Result:
    """The period becomes free again; the cancelled target stays in the history."""
    def attempt() -> Result:
        ctx = context(deps, actor)
        target = load_target(deps, cmd.target_id)
        if not deps.organisation.manages(actor, target.person_id):
            raise Forbidden("forbidden", "targets are cancelled by a manager of that person")
        target.cancel(ctx, cmd.reason)
        calendar = deps.store.find(TargetCalendar.id_for(target.person_id), TargetCalendar)
        assert calendar is not None
        calendar.free(ctx, str(target.id))
        return Result(save(deps, target, calendar), {"id": cmd.target_id})

    return retrying(attempt)


def submit_work_report(cmd: SubmitWorkReport, actor: Actor, deps: Deps) -> Result:
    """W-1: the figures come from the read models for the reporter and the period; the
    reporter adds summary and plan. The same period again revises the report."""
    if cmd.kind not in REPORT_KINDS:
        raise Invalid("validation_error", "kind must be one of {kinds}", field="kind",
                      kinds=', '.join(REPORT_KINDS))
    bounds.day(cmd.day, "date")  # the week or month of a date past the range may end past what a date holds
    today = business_day(deps.clock.now(), load_settings(deps))
    if cmd.day > today:
        # A report tells what was done: one dated after today (the business day) is refused.
        raise Invalid("date_in_future", "a work report cannot be dated after today", field="date",
                      details={"today": today.isoformat()})
    start, end = report_period(cmd.kind, cmd.day)
    figures = deps.target_figures.of([actor.person_id], start, end)[actor.person_id]

    def attempt() -> Result:
        ctx = context(deps, actor)
        report = deps.store.find(WorkReport.id_for(actor.person_id, cmd.kind, start), WorkReport)
        if report is None:
            report = WorkReport.submit(ctx, person_id=actor.person_id, kind=cmd.kind, day=cmd.day, figures=figures,
                                       summary=cmd.summary, plan=cmd.plan)
        else:
            report.revise(ctx, figures, cmd.summary, cmd.plan)
        return Result(save(deps, report), {"id": str(report.id), "kind": cmd.kind, "start": start, "end": end,
                                           "figures": figures, "revision": report.revision})

    return retrying(attempt)
