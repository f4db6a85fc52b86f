"""Approval requests (AP-1, AP-2) and the notifications inbox (N-1)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from aggregates.base import NotFound
from api.deps import ConnDep, CurrentUser, Id, ServiceDep
from api.records import AsOf, AtVersion, history_of, past_record, wants_past
from api.schemas import ApprovalOut, Decision, Done, NotificationOut
from api.schemas.customers import History
from api.schemas.inbox import ApprovalAt
from commands import messages as m
from commands.handlers import handle
from readmodels import inbox as rm

router = APIRouter(tags=["approvals"])


@router.get("/approvals", response_model=list[ApprovalOut])
def approvals(user: CurrentUser, conn: ConnDep,
              status: Annotated[str | None, Query(max_length=20)] = None) -> Any:
    """Requests you made or may decide (admins and auditors: all)."""
    return rm.list_approvals(conn, user, status)


@router.get("/approvals/{approval_id}", response_model=ApprovalOut | ApprovalAt)
def approval(service: ServiceDep, user: CurrentUser, conn: ConnDep, approval_id: Id, as_of: AsOf = None,
             version: AtVersion = None) -> Any:
    """One request you made or may decide (admins and auditors: any), with the present values
    of what it changes beside the requested ones while it waits; or, for managers, admins and
    auditors who may see it, the request as its events left it at a past moment or version (H-3)."""
    found = rm.get_approval(conn, user, str(approval_id))
    if found is None:
        raise NotFound("not_found", "no such approval request")
    if wants_past(as_of, version):
        return ApprovalAt(**past_record(service, user, "approval", approval_id, as_of, version))
    return found


@router.get("/approvals/{approval_id}/history", response_model=History)
def approval_history(service: ServiceDep, user: CurrentUser, conn: ConnDep, approval_id: Id) -> Any:
    """The request's events (filed, then approved, rejected or withdrawn) with actor, time,
    command id and field-level old→new values (H-2); for whoever may see the request."""
    if rm.get_approval(conn, user, str(approval_id)) is None:
        raise NotFound("not_found", "no such approval request")
    found = history_of(service, conn, "approval", approval_id)
    if found is None:
        raise NotFound("not_found", "no such approval request")
    return found


@router.post("/approvals/{approval_id}/approve", response_model=Done)
def approve(service: ServiceDep, approval_id: Id, user: CurrentUser, body: Decision | None = None) -> Done:
    """Approve: the command runs now as the requester's, its checks evaluated now (R-6: not your own);
    one whose record changed since it was asked is refused with 409 `stale_request` and stays pending."""
    return Done(position=handle(m.ApproveRequest(str(approval_id), body.comment if body else ""), user,
                                service.deps).position)


@router.post("/approvals/{approval_id}/reject", response_model=Done)
def reject(service: ServiceDep, approval_id: Id, user: CurrentUser, body: Decision | None = None) -> Done:
    """Reject a request; it keeps its history."""
    return Done(position=handle(m.RejectRequest(str(approval_id), body.comment if body else ""), user,
                                service.deps).position)


@router.post("/approvals/{approval_id}/withdraw", response_model=Done)
def withdraw(service: ServiceDep, approval_id: Id, user: CurrentUser, body: Decision | None = None) -> Done:
    """Withdraw your own pending request."""
    return Done(position=handle(m.WithdrawRequest(str(approval_id), body.comment if body else ""), user,
                                service.deps).position)


@router.get("/notifications", response_model=list[NotificationOut])
def notifications(user: CurrentUser, conn: ConnDep, unread: bool = False) -> Any:
    """Your inbox, newest first."""
    return rm.list_notifications(conn, user.person_id, unread)


@router.post("/notifications/{notification_id}/read", response_model=NotificationOut)
def read(service: ServiceDep, user: CurrentUser, notification_id: str) -> Any:
    """Mark one of your notifications read."""
    with service.store.engine.begin() as conn:
        if not rm.mark_read(conn, user.person_id, notification_id, service.deps.clock.now()):
            raise NotFound("not_found", "no such notification in your inbox")
    with service.store.engine.connect() as conn:
        return next(n for n in rm.list_notifications(conn, user.person_id, False) if n["id"] == notification_id)
