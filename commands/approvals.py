"""The approval flow (AP-1, AP-2): commands of the kinds in the policy, made by people who
are not managers or admins, become requests; on approval the command runs then — its
checks evaluated then, its effects attributed to the requester, the approver recorded —
and the decision and the change commit together. The running is `commands.handlers`'s;
this module files and decides the requests."""

from __future__ import annotations

from dataclasses import replace
from uuid import uuid4

from aggregates.approval import KINDS, Approval
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
    required = load_settings(deps).rules.get("approval_required") or []
    return command.KIND in required and not actor.roles & {"manager", "admin"}


def file_request(command: Approvable, actor: Actor, deps: Deps, check: Handler) -> Result:
    """Check the command as far as the present allows (a dry run of its handler, so a request
    that could never pass is refused at once), then file it for approval."""
    check(command, actor, replace(deps, dry_run=True))
    approval = Approval.request(
        context(deps, actor), id=uuid4(), kind=command.KIND, target_id=command.subject_id(),
        payload=command.payload(), summary=command.summary() or KINDS.get(command.KIND, command.KIND),
        approver_ids=deps.organisation.approvers_for(actor),
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


def approve(cmd: ApproveRequest, actor: Actor, deps: Deps, run: Handler) -> Result:
    def attempt() -> Result:
        approval = load_approval(deps, cmd.approval_id)
        ctx = context(deps, actor)
        approval.decide(ctx, "approved", cmd.comment, deps.organisation.manages(actor, approval.requester_id))
        requester = deps.organisation.actor_of(approval.requester_id)
        if requester is None:
            raise NotFound("not_found", "the requester is unknown")
        # The change is the requester's, made now, with the approver on record; the decision
        # is saved with it, under the same command id.
        done = run(requested_command(approval, actor), requester,
                   replace(deps, enlisted=(approval,), command_id=ctx.command_id))
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

