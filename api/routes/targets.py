"""Targets with attainment and drill-down (T-1..T-4), and work reports (W-1)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse

from aggregates.base import NotFound
from api.deps import CurrentUser, ServiceDep, require
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
from commands import approvals
from commands import targets as tc
from commands.actor import Actor
from commands.base import business_day, load_settings, parse_uuid
from readmodels import targets as rm

router = APIRouter(tags=["targets"])

PageNo = Annotated[int, Query(ge=1, le=100000)]
PageSize = Annotated[int, Query(ge=1, le=200)]
Figure = Literal["new_customers", "visits", "deal_amount", "collected_amount"]
FIGURES = ("new_customers", "visits", "deal_amount", "collected_amount")


@router.post("/targets", response_model=Created, status_code=status.HTTP_201_CREATED,
             responses={202: {"model": Pending, "description": "a salesperson's proposal waits for approval"}})
def set_target(service: ServiceDep, body: TargetIn, user: CurrentUser) -> Any:
    """Set a person's targets for a period (T-1): managers for their subtree; a salesperson
    proposes their own (approval when the policy covers `target`). Overlapping periods → 409
    `overlapping_period`; start after end → 422 `invalid_period`."""
    cmd = tc.SetTarget(person_id=body.person_id, period=body.period, start=body.start, end=body.end,
                       figures={name: getattr(body, name) for name in FIGURES})
    applied, result = approvals.submit("target", cmd.payload(), f"{body.period} 指标", user, service.deps)
    if applied:
        return Created(id=result.ids["id"], position=result.position)
    return JSONResponse(status_code=202, content=Pending(approval_id=result.ids["approval_id"],
                                                         position=result.position).model_dump())


@router.get("/targets", response_model=Page[TargetOut])
def list_targets(service: ServiceDep, user: CurrentUser,
                 person_id: Annotated[str | None, Query(max_length=36)] = None,
                 department_id: Annotated[str | None, Query(max_length=36)] = None, on: date | None = None,
                 include_cancelled: bool = False, page: PageNo = 1, page_size: PageSize = 50) -> Any:
    """Targets you may see, each with its `actual` figures inside its period and the
    `attainment` per figure (T-4); `on` keeps the targets whose period holds that day."""
    with service.store.engine.connect() as conn:
        items, total = rm.list_targets(conn, user, person_id=person_id, department_id=department_id, on=on,
                                       include_cancelled=include_cancelled, page=page, page_size=page_size)
    return {"items": items, "total": total, "page": page, "page_size": page_size}


@router.get("/targets/departments", response_model=list[DepartmentAttainment])
def department_attainment(service: ServiceDep, user: Annotated[Actor, require("manager", "admin", "auditor")],
                          on: date | None = None) -> Any:
    """Per department, with its whole subtree: targets whose period holds `on` (default today),
    summed, against their actual figures (T-4 roll-up)."""
    day = on or business_day(service.deps.clock.now(), load_settings(service.deps))
    with service.store.engine.connect() as conn:
        return rm.department_rollup(conn, user, day)


def _visible_target(service: ServiceDep, user: Actor, target_id: str) -> dict[str, Any]:
    parse_uuid(target_id, "target_id")
    with service.store.engine.connect() as conn:
        found = rm.get_target(conn, user, target_id)
    if found is None:
        raise NotFound("not_found", "no such target")
    return found


@router.get("/targets/{target_id}", response_model=TargetOut)
def get_target(service: ServiceDep, user: CurrentUser, target_id: str) -> Any:
    """One target with its actual figures and attainment."""
    return _visible_target(service, user, target_id)


@router.get("/targets/{target_id}/records", response_model=TargetRecords)
def target_records(service: ServiceDep, user: CurrentUser, target_id: str, figure: Figure) -> Any:
    """The records behind one actual figure: the customers registered, the visits, the
    deals or the payments credited to the person inside the period (T-4 drill-down)."""
    target = _visible_target(service, user, target_id)
    with service.store.engine.connect() as conn:
        items = rm.target_records(conn, target, figure)
    return {"target_id": target_id, "figure": figure, "items": items}


@router.patch("/targets/{target_id}", response_model=Done)
def revise_target(service: ServiceDep, target_id: str, body: TargetUpdate,
                  user: Annotated[Actor, require("manager", "admin")]) -> Done:
    """Change a target's period or figures (a manager of the person); overlaps are re-checked."""
    changes = body.model_dump(exclude_unset=True)
    return Done(position=tc.revise_target(target_id, changes, user, service.deps).position)


@router.delete("/targets/{target_id}", response_model=Done)
def cancel_target(service: ServiceDep, target_id: str, user: Annotated[Actor, require("manager", "admin")],
                  body: Reason | None = None) -> Done:
    """Cancel a target; its period becomes free, its history stays."""
    reason = body.reason if body else ""
    return Done(position=tc.cancel_target(target_id, reason, user, service.deps).position)


@router.post("/work-reports", response_model=WorkReportSubmitted, status_code=status.HTTP_201_CREATED)
def submit_report(service: ServiceDep, body: WorkReportIn,
                  user: Annotated[Actor, require("sales", "manager")]) -> Any:
    """Submit your daily, weekly (ISO week) or monthly report: the figures are filled in from
    the read models for you and the period; the same period again revises it (W-1)."""
    result = tc.submit_work_report(body.kind, body.date, body.summary, body.plan, user, service.deps)
    return {**result.ids, "position": result.position}


@router.get("/work-reports", response_model=Page[WorkReportOut])
def list_reports(service: ServiceDep, user: CurrentUser,
                 kind: Literal["daily", "weekly", "monthly"] | None = None,
                 person_id: Annotated[str | None, Query(max_length=36)] = None,
                 from_: Annotated[date | None, Query(alias="from")] = None,
                 to: date | None = None, page: PageNo = 1, page_size: PageSize = 50) -> Any:
    """Work reports you may see (your own; managers: their subtree), periods overlapping [from, to]."""
    with service.store.engine.connect() as conn:
        items, total = rm.list_work_reports(conn, user, kind=kind, person_id=person_id, start=from_, end=to,
                                            page=page, page_size=page_size)
    return {"items": items, "total": total, "page": page, "page_size": page_size}


@router.get("/work-reports/{report_id}", response_model=WorkReportView)
def get_report(service: ServiceDep, user: CurrentUser, report_id: str) -> Any:
    """One report with every revision (W-1: resubmission keeps the history)."""
    uid = parse_uuid(report_id, "report_id")
    with service.store.engine.connect() as conn:
        found = rm.get_work_report(conn, user, report_id)
    if found is None:
        raise NotFound("not_found", "no such work report")
    events: list[Any] = list(service.store.events.get(uid))
    revisions = [
        {"revision": event.originator_version, "at": event.timestamp, "figures": event.figures,
         "summary": event.summary, "plan": event.plan}
        for event in events
    ]
    return {**found, "revisions": revisions}
