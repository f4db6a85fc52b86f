"""Targets with attainment and drill-down (T-1..T-4), and work reports (W-1)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Connection

from aggregates.base import NotFound
from api.deps import ConnDep, CurrentUser, Id, ServiceDep, require
from api.params import After, PageNo, PageSize, next_cursor, read_cursor
from api.records import AsOf, AtVersion, history_of, past_record, wants_past
from api.schemas import (
    Created,
    DepartmentAttainment,
    Done,
    Page,
    Pending,
    Reason,
    TargetIn,
    TargetOut,
    TargetRecords,
    TargetUpdate,
    WorkReportIn,
    WorkReportOut,
    WorkReportSubmitted,
    WorkReportView,
)
from api.schemas.customers import History
from api.schemas.targets import TargetAt
from commands import messages as m
from commands.actor import Actor
from commands.base import business_day, load_settings
from commands.handlers import handle
from readmodels import targets as rm

router = APIRouter(tags=["targets"])

Figure = Literal["new_customers", "visits", "deal_amount", "collected_amount"]
FIGURES = ("new_customers", "visits", "deal_amount", "collected_amount")


@router.post("/targets", response_model=Created, status_code=status.HTTP_201_CREATED,
             responses={202: {"model": Pending, "description": "a salesperson's proposal waits for approval"}})
def set_target(service: ServiceDep, body: TargetIn, user: CurrentUser) -> Any:
    """Set a person's targets for a period (T-1): managers for their subtree; a salesperson
    proposes their own (approval when the policy covers `target`). Overlapping periods → 409
    `overlapping_period`; start after end → 422 `invalid_period`."""
    command = m.SetTarget(person_id=body.person_id, period=body.period, start=body.start, end=body.end,
                          figures={name: getattr(body, name) for name in FIGURES})
    result = handle(command, user, service.deps)
    if result.pending:
        return JSONResponse(status_code=202, content=Pending(approval_id=result.ids["approval_id"],
                                                             position=result.position).model_dump())
    return Created(id=result.ids["id"], position=result.position)


@router.get("/targets", response_model=Page[TargetOut])
def list_targets(service: ServiceDep, user: CurrentUser, conn: ConnDep,
                 person_id: Annotated[str | None, Query(max_length=36)] = None,
                 department_id: Annotated[str | None, Query(max_length=36)] = None, on: date | None = None,
                 include_cancelled: bool = False, page: PageNo = 1, page_size: PageSize = 50,
                 after: After = None) -> Any:
    """Targets you may see, each with its `actual` figures inside its period and the
    `attainment` per figure (T-4); `on` keeps the targets whose period holds that day."""
    items, total, last = rm.list_targets(conn, user, person_id=person_id, department_id=department_id, on=on,
                                         include_cancelled=include_cancelled, page=page, page_size=page_size,
                                         after=read_cursor(service, "targets", "-start", after, page))
    return {"items": items, "total": total, "page": page, "page_size": page_size,
            "next": next_cursor(service, "targets", "-start", last)}


@router.get("/targets/departments", response_model=list[DepartmentAttainment])
def department_attainment(service: ServiceDep, user: Annotated[Actor, require("manager", "admin", "auditor")],
                          conn: ConnDep, on: date | None = None) -> Any:
    """Per department, with its whole subtree: targets whose period holds `on` (default today),
    summed, against their actual figures (T-4 roll-up)."""
    day = on or business_day(service.deps.clock.now(), load_settings(service.deps))
    return rm.department_rollup(conn, user, day)


def _visible_target(conn: Connection, user: Actor, target_id: str) -> dict[str, Any]:
    found = rm.get_target(conn, user, target_id)
    if found is None:
        raise NotFound("not_found", "no such target")
    return found


@router.get("/targets/{target_id}", response_model=TargetOut | TargetAt)
def get_target(service: ServiceDep, user: CurrentUser, conn: ConnDep, target_id: Id, as_of: AsOf = None,
               version: AtVersion = None) -> Any:
    """One target with its actual figures and attainment; or, with `as_of` or `version`, the
    target as it was then: period, figures, cancelled (managers, admins, auditors) (H-3)."""
    found = _visible_target(conn, user, str(target_id))
    if wants_past(as_of, version):
        past = past_record(service, user, "target", target_id, as_of, version)
        state = dict(past["state"])
        state.update(state.pop("figures", None) or {})
        return TargetAt(**{**past, "state": state})
    return TargetOut(**found)


@router.get("/targets/{target_id}/history", response_model=History)
def target_history(service: ServiceDep, user: CurrentUser, conn: ConnDep, target_id: Id) -> Any:
    """Every event of the target: set, revised, cancelled, with actor, time, command id and
    old → new (H-2); for whoever may see the target."""
    _visible_target(conn, user, str(target_id))
    found = history_of(service, conn, "target", target_id)
    if found is None:
        raise NotFound("not_found", "no such target")
    return found


@router.get("/targets/{target_id}/records", response_model=TargetRecords)
def target_records(user: CurrentUser, conn: ConnDep, target_id: Id, figure: Figure) -> Any:
    """The records behind one actual figure: the customers registered, the visits, the
    deals or the payments credited to the person inside the period (T-4 drill-down)."""
    target = _visible_target(conn, user, str(target_id))
    items = rm.target_records(conn, target, figure)
    return {"target_id": str(target_id), "figure": figure, "items": items}


@router.patch("/targets/{target_id}", response_model=Done)
def revise_target(service: ServiceDep, target_id: Id, body: TargetUpdate,
                  user: Annotated[Actor, require("manager", "admin")]) -> Done:
    """Change a target's period or figures (a manager of the person); overlaps are re-checked."""
    changes = body.model_dump(exclude_unset=True)
    return Done(position=handle(m.ReviseTarget(str(target_id), changes), user, service.deps).position)


@router.delete("/targets/{target_id}", response_model=Done)
def cancel_target(service: ServiceDep, target_id: Id, user: Annotated[Actor, require("manager", "admin")],
                  body: Reason | None = None) -> Done:
    """Cancel a target; its period becomes free, its history stays."""
    reason = body.reason if body else ""
    return Done(position=handle(m.CancelTarget(str(target_id), reason), user, service.deps).position)


@router.post("/work-reports", response_model=WorkReportSubmitted, status_code=status.HTTP_201_CREATED)
def submit_report(service: ServiceDep, body: WorkReportIn,
                  user: Annotated[Actor, require("sales", "manager")]) -> Any:
    """Submit your daily, weekly (ISO week) or monthly report: the figures are filled in from
    the read models for you and the period; the same period again revises it (W-1)."""
    result = handle(m.SubmitWorkReport(body.kind, body.date, body.summary, body.plan), user, service.deps)
    return {**result.ids, "position": result.position}


@router.get("/work-reports", response_model=Page[WorkReportOut])
def list_reports(service: ServiceDep, user: CurrentUser, conn: ConnDep,
                 kind: Literal["daily", "weekly", "monthly"] | None = None,
                 person_id: Annotated[str | None, Query(max_length=36)] = None,
                 from_: Annotated[date | None, Query(alias="from")] = None,
                 to: date | None = None, page: PageNo = 1, page_size: PageSize = 50,
                 after: After = None) -> Any:
    """Work reports you may see (your own; managers: their subtree), periods overlapping [from, to]."""
    items, total, last = rm.list_work_reports(conn, user, kind=kind, person_id=person_id, start=from_, end=to,
                                              page=page, page_size=page_size,
                                              after=read_cursor(service, "work-reports", "-start", after, page))
    return {"items": items, "total": total, "page": page, "page_size": page_size,
            "next": next_cursor(service, "work-reports", "-start", last)}


@router.get("/work-reports/{report_id}", response_model=WorkReportView)
def get_report(service: ServiceDep, user: CurrentUser, conn: ConnDep, report_id: Id) -> Any:
    """One report with every revision (W-1: resubmission keeps the history)."""
    found = rm.get_work_report(conn, user, str(report_id))
    if found is None:
        raise NotFound("not_found", "no such work report")
    events: list[Any] = list(service.store.events.get(report_id))
    revisions = [
        {"revision": event.originator_version, "at": event.timestamp, "figures": event.figures,
         "summary": event.summary, "plan": event.plan}
        for event in events
    ]
    return {**found, "revisions": revisions}
