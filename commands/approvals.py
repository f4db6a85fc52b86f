"""The approval flow (AP-1, AP-2): commands of the kinds in the policy, made by people who
are not managers or admins, become requests; on approval the command runs then — its
checks evaluated then, its effects attributed to the requester, the approver recorded —
and the decision and the change commit together. A request records the state it was made
against (`Approvable.base`); one whose state has changed since is not approved
(`stale_request`) and stays pending, for a rejection or a fresh request. The running is
`commands.handlers`'s; this module files and decides the requests."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import uuid4

from aggregates.approval import KINDS, SUMMARY_MAX, Approval
from aggregates.base import NotFound
from commands.actor import Actor
from commands.base import Deps, Handler, Result, context, load_settings, parse_uuid, retrying, save
from commands.messages import (
    APPROVABLE,
    Approvable,
    ApproveRequest,
    RejectRequest,
    WithdrawRequest,
)


def needs_approval(command: Approvable, actor: Actor, deps: Deps) -> bool:
    """AP-1: the command's policy kind is switched on and the actor is no manager or admin."""
    required = load_settings(deps).rules.get("approval_required") or []
    return command.POLICY in required and not actor.roles & {"manager", "admin"}


def _summary(command: Approvable) -> str:
    text = command.summary() or KINDS.get(command.KIND, command.KIND)
    return text if len(text) <= SUMMARY_MAX else text[:SUMMARY_MAX - 1] + "…"


def file_request(command: Approvable, actor: Actor, deps: Deps, check: Handler) -> Result:
    """Check the command as far as the present allows (a dry run of its handler, so a request
    that could never pass is refused at once), then file it with the state it is made against."""
    check(command, actor, replace(deps, dry_run=True))
    approval = Approval.request(
        context(deps, actor), id=uuid4(), kind=command.KIND, target_id=command.subject_id(),
        payload=command.payload(), summary=_summary(command),
        approver_ids=deps.organisation.approvers_for(actor), base=command.base(deps.store),
    )
    return Result(save(deps, approval), {"approval_id": str(approval.id)}, pending=True)


def load_approval(deps: Deps, approval_id: str) -> Approval:
    found = deps.store.find(parse_uuid(approval_id, "approval_id"), Approval)
    if found is None:
        raise NotFound("not_found", "no such approval request")
    return found


def requested_command(approval: Approval, approver: Actor) -> Approvable:
    """The stored request as its command again, with the approver and the time of asking."""
    payload = {**approval.payload, "approved_by": approver.person_id,
               "requested_at": approval.created_on.isoformat()}
    return APPROVABLE[approval.kind].from_payload(payload)


class _StillAsAsked:
    """Saved with an approved change, after the handler has loaded and decided on what it
    changes: at that moment the request's base is read once more, and a change since refuses
    the save (`stale_request`). A change committed after this read makes the save fail on the
    version instead, and the retry sees it: so of two approvals racing against one record,
    the second never overwrites the first. It adds no events (the store collects them from
    each object it saves, this one's are none)."""

    def __init__(self, approval: Approval, command: Approvable, deps: Deps) -> None:
        self.id = uuid4()
        self.approval, self.command, self.deps = approval, command, deps

    def collect_events(self) -> list[Any]:
        self.approval.ensure_current(self.command.base(self.deps.store))
        return []


def approve(cmd: ApproveRequest, actor: Actor, deps: Deps, run: Handler) -> Result:
    def attempt() -> Result:
        approval = load_approval(deps, cmd.approval_id)
        ctx = context(deps, actor)
        eligible = deps.organisation.manages(actor, approval.requester_id)
        requester = deps.organisation.actor_of(approval.requester_id)
        command = requested_command(approval, actor)
        approval.decide(ctx, "approved", cmd.comment, eligible, current=command.base(deps.store))
        if requester is None:
            raise NotFound("not_found", "the requester is unknown")
        # The change is the requester's, made now, with the approver on record; the decision
        # is saved with it, under the same command id, and only while the base still holds.
        enlisted = (approval, _StillAsAsked(approval, command, deps))
        done = run(command, requester, replace(deps, enlisted=enlisted, command_id=ctx.command_id))
        return Result(done.position, {"id": cmd.approval_id})

    return retrying(attempt)


def reject(cmd: RejectRequest, actor: Actor, deps: Deps) -> Result:
    def attempt() -> Result:
        approval = load_approval(deps, cmd.approval_id)
        approval.decide(context(deps, actor), "rejected", cmd.comment,
                        deps.organisation.manages(actor, approval.requester_id))
        return Result(save(deps, approval), {"id": cmd.approval_id})

    return retrying(attempt)


def withdraw(cmd: WithdrawRequest, actor: Actor, deps: Deps) -> Result:
    def attempt() -> Result:
        approval = load_approval(deps, cmd.approval_id)
        approval.withdraw(context(deps, actor), cmd.comment)
        return Result(save(deps, approval), {"id": cmd.approval_id})

    return retrying(attempt)
