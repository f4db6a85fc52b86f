"""Handlers for sales targets (T-1..T-3) and work reports (W-1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from aggregates import bounds
from aggregates.base import Context, Forbidden, Invalid, NotFound
from aggregates.organisation import Person, Salesperson
from aggregates.target import REPORT_KINDS, SalesTarget, TargetCalendar, WorkReport, report_period
from commands.actor import Actor
from commands.base import Deps, Result, context, parse_uuid, retrying, save
from readmodels.org import manages
from readmodels.targets import person_figures


@dataclass
class SetTarget:
    person_id: str
    period: str
    start: date
    end: date
    figures: dict[str, Any] = field(default_factory=dict)
    target_id: str = field(default_factory=lambda: str(uuid4()))
    approved_by: str | None = None

    def payload(self) -> dict[str, Any]:
        """The command as plain values, for an approval request (AP-2)."""
        return {"target_id": self.target_id, "person_id": self.person_id, "period": self.period,
                "start": self.start.isoformat(), "end": self.end.isoformat(),
                "figures": {k: str(v) if isinstance(v, Decimal) else v for k, v in self.figures.items()}}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> SetTarget:
        figures = {k: (Decimal(v) if k in ("deal_amount", "collected_amount") else v)
                   for k, v in payload["figures"].items()}
        return cls(person_id=payload["person_id"], period=payload["period"],
                   start=date.fromisoformat(payload["start"]), end=date.fromisoformat(payload["end"]),
                   figures=figures, target_id=payload["target_id"], approved_by=payload.get("approved_by"))


def _may_set_for(deps: Deps, actor: Actor, person_id: str) -> None:
    """T-1: managers for the people of their subtree, admins for anyone, a salesperson for
    themselves (a proposal, when the approval policy covers targets)."""
    if person_id == actor.person_id and "sales" in actor.roles:
        return
    if not manages(deps.store.engine, actor, person_id):
        raise Forbidden("forbidden", "targets are set by a manager of that person", field="person_id")


def prepare_target(cmd: SetTarget, ctx: Context, actor: Actor, deps: Deps) -> list[Any]:
    """Check and build: the target, the person's calendar, and a new salesperson profile
    when the person has none (T-3)."""
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


def revise_target(target_id: str, changes: dict[str, Any], actor: Actor, deps: Deps) -> Result:
    """A manager of the person changes the period or the figures; the calendar re-checks overlaps."""
    def attempt() -> Result:
        ctx = context(deps, actor)
        target = load_target(deps, target_id)
        if not manages(deps.store.engine, actor, target.person_id):
            raise Forbidden("forbidden", "targets are changed by a manager of that person")
        target.revise(ctx, changes)
        calendar = deps.store.find(TargetCalendar.id_for(target.person_id), TargetCalendar)
        assert calendar is not None
        calendar.book(ctx, str(target.id), target.start, target.end)
        return Result(save(deps, target, calendar), {"id": target_id})

    return retrying(attempt)


def cancel_target(target_id: str, reason: str, actor: Actor, deps: Deps) -> Result:
    """The period becomes free again; the cancelled target stays in the history."""
    def attempt() -> Result:
        ctx = context(deps, actor)
        target = load_target(deps, target_id)
        if not manages(deps.store.engine, actor, target.person_id):
            raise Forbidden("forbidden", "targets are cancelled by a manager of that person")
        target.cancel(ctx, reason)
        calendar = deps.store.find(TargetCalendar.id_for(target.person_id), TargetCalendar)
        assert calendar is not None
        calendar.free(ctx, str(target.id))
        return Result(save(deps, target, calendar), {"id": target_id})

    return retrying(attempt)


def submit_work_report(kind: str, day: date, summary: str, plan: str, actor: Actor, deps: Deps) -> Result:
    """W-1: the figures come from the read models for the reporter and the period; the
    reporter adds summary and plan. The same period again revises the report."""
    if kind not in REPORT_KINDS:
        raise Invalid("validation_error", f"kind must be one of {', '.join(REPORT_KINDS)}", field="kind")
    bounds.day(day, "date")  # the week or month of a date past the range may end past what a date holds
    start, end = report_period(kind, day)
    with deps.store.engine.connect() as conn:
        figures = person_figures(conn, [actor.person_id], start, end)[actor.person_id]

    def attempt() -> Result:
        ctx = context(deps, actor)
        report = deps.store.find(WorkReport.id_for(actor.person_id, kind, start), WorkReport)
        if report is None:
            report = WorkReport.submit(ctx, person_id=actor.person_id, kind=kind, day=day, figures=figures,
                                       summary=summary, plan=plan)
        else:
            report.revise(ctx, figures, summary, plan)
        return Result(save(deps, report), {"id": str(report.id), "kind": kind, "start": start, "end": end,
                                           "figures": figures, "revision": report.revision})

    return retrying(attempt)
