"""The approval flow (AP-1, AP-2): commands of the kinds in the policy, made by people who
are not managers or admins, become requests; on approval the command runs then — its
checks evaluated then, its effects attributed to the requester, the approver recorded —
and the decision and the change commit together."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

from aggregates.approval import KINDS, Approval
from aggregates.base import Context, NotFound
from commands import customers as cc
from commands import sales as sc
from commands import targets as tc
from commands.actor import Actor
from commands.base import Deps, Result, context, load_settings, parse_uuid, retrying, save
from readmodels.org import get_person, list_people, managed_people, manages

Prepare = Callable[[dict[str, Any], Context, Actor, Deps], list[Any]]


def _info_change(payload: dict[str, Any], ctx: Context, requester: Actor, deps: Deps) -> list[Any]:
    requested = payload.get("requested_at")
    cmd = cc.ChangeCustomerInfo(payload["customer_id"], payload["changes"], payload["reason"],
                                approved_by=payload.get("approved_by"),
                                requested_at=datetime.fromisoformat(requested) if requested else None)
    return cc.prepare_info_change(cmd, cc.clean_changes(cmd.changes, deps), ctx, requester, deps)


def _price_change(payload: dict[str, Any], ctx: Context, requester: Actor, deps: Deps) -> list[Any]:
    return sc.prepare_price_change(payload["product_id"], Decimal(payload["price"]), payload["reason"], ctx,
                                   deps, payload.get("approved_by"))


def _target(payload: dict[str, Any], ctx: Context, requester: Actor, deps: Deps) -> list[Any]:
    return tc.prepare_target(tc.SetTarget.from_payload(payload), ctx, requester, deps)


PREPARE: dict[str, Prepare] = {"customer_info_change": _info_change, "price_change": _price_change,
                               "target": _target}
TARGET = {"customer_info_change": "customer_id", "price_change": "product_id", "target": "target_id"}


def needs_approval(kind: str, actor: Actor, deps: Deps) -> bool:
    required = load_settings(deps).rules.get("approval_required") or []
    return kind in required and not actor.roles & {"manager", "admin"}


def approvers_for(deps: Deps, requester: Actor) -> list[str]:
    """The managers whose departments hold the requester; admins when there are none."""
    with deps.store.engine.connect() as conn:
        managers = [
            str(p["id"]) for p in list_people(conn, role="manager")
            if requester.person_id in managed_people(conn, viewer_of_row(p))
        ]
        if managers:
            return sorted(set(managers) - {requester.person_id})
        return sorted(str(p["id"]) for p in list_people(conn, role="admin") if p["id"] != requester.person_id)


def viewer_of_row(row: Any) -> Actor:
    return Actor(str(row["id"]), row["name"], frozenset(row["roles"] or []), row["department_id"])


def submit(kind: str, payload: dict[str, Any], summary: str, actor: Actor, deps: Deps) -> tuple[bool, Result]:
    """Run the command now, or file it for approval. Returns (applied, result)."""
    if not needs_approval(kind, actor, deps):
        def run() -> Result:
            changed = PREPARE[kind](payload, context(deps, actor), actor, deps)
            return Result(save(deps, *changed), {"id": payload[TARGET[kind]]})

        return True, retrying(run)
    # Check it now as far as the present allows, so a request that could never pass is refused at once.
    PREPARE[kind](payload, context(deps, actor), actor, deps)
    approval = Approval.request(
        context(deps, actor), id=uuid4(), kind=kind, target_id=payload[TARGET[kind]], payload=payload,
        summary=summary or KINDS.get(kind, kind), approver_ids=approvers_for(deps, actor),
    )
    return False, Result(save(deps, approval), {"approval_id": str(approval.id)})


def load_approval(deps: Deps, approval_id: str) -> Approval:
    found = deps.store.find(parse_uuid(approval_id, "approval_id"), Approval)
    if found is None:
        raise NotFound("not_found", "no such approval request")
    return found


def requester_of(deps: Deps, person_id: str) -> Actor:
    with deps.store.engine.connect() as conn:
        row = get_person(conn, person_id)
    if row is None:
        raise NotFound("not_found", "the requester is unknown")
    return viewer_of_row(row)


def approve(approval_id: str, comment: str, actor: Actor, deps: Deps) -> Result:
    def attempt() -> Result:
        approval = load_approval(deps, approval_id)
        ctx = context(deps, actor)
        approval.decide(ctx, "approved", comment, manages(deps.store.engine, actor, approval.requester_id))
        requester = requester_of(deps, approval.requester_id)
        # The change is the requester's, made now, with the approver on record.
        run_as = Context(actor_id=requester.person_id, command_id=ctx.command_id, at=ctx.at)
        payload = {**approval.payload, "approved_by": actor.person_id,
                   "requested_at": approval.created_on.isoformat()}
        changed = PREPARE[approval.kind](payload, run_as, requester, deps)
        return Result(save(deps, approval, *changed), {"id": approval_id})

    return retrying(attempt)


def reject(approval_id: str, comment: str, actor: Actor, deps: Deps) -> Result:
    def attempt() -> Result:
        approval = load_approval(deps, approval_id)
        approval.decide(context(deps, actor), "rejected", comment,
                        manages(deps.store.engine, actor, approval.requester_id))
        return Result(save(deps, approval), {"id": approval_id})

    return retrying(attempt)


def withdraw(approval_id: str, comment: str, actor: Actor, deps: Deps) -> Result:
    def attempt() -> Result:
        approval = load_approval(deps, approval_id)
        approval.withdraw(context(deps, actor), comment)
        return Result(save(deps, approval), {"id": approval_id})

    return retrying(attempt)
