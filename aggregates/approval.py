"""Approvals (AP-1, AP-2): a request keeps the full command and the state it was made
against; an eligible manager approves or rejects it, never their own (R-6); approving one
whose state has changed since is refused (`stale_request`), so a late approval never
overwrites a newer decision; the requester may withdraw it while it waits."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from aggregates import bounds
from aggregates.base import Conflict, Context, CrmAggregate, Forbidden

# The kinds of the approval policy (AP-1): the values `approval_required` takes.
POLICIES = {
    "customer_info_change": "客户信息变更",
    "price_change": "产品定价",
    "target": "指标编审",
    "transfer": "客户转交",
    "claim": "公海领取",
    "return": "销售退货",
    "exchange": "销售换货",
}

# The kinds requests are stored under: the policies', and those of the contact and share
# edits the info-change policy governs (seed 000 §5.1.6).
KINDS = {
    **POLICIES,
    "contact_add": "新增联系人",
    "contact_change": "联系人变更",
    "contact_remove": "删除联系人",
    "share_change": "共享范围变更",
}

# What the approver reads: a summary is cut to this many characters (the payload keeps all).
SUMMARY_MAX = 200

Base = dict[str, Any]


def changed_since(base: Base | None, current: Base | None) -> list[dict[str, Any]]:
    """The fields whose value differs between the state a request was made against and the
    state now, as {field, then, now}; nothing when either is unknown (a request filed before
    bases were recorded, or a record that is gone: the command's own checks speak then)."""
    if base is None or current is None:
        return []
    return [{"field": key, "then": base.get(key), "now": current.get(key)}
            for key in sorted(set(base) | set(current)) if base.get(key) != current.get(key)]


class Approval(CrmAggregate):

    TEXT_LIMITS: ClassVar[dict[str, int]] = {"summary": bounds.REASON, "kind": 40}
    kind: str
    target_id: str
    payload: dict[str, Any]
    summary: str
    requester_id: str
    approver_ids: list[str]
    status: str
    decided_by: str | None
    comment: str | None
    base: Base | None

    def __init__(self) -> None:
        """Empty: the Created event's apply() sets the state."""

    class Requested(CrmAggregate.Created):
        kind: str
        target_id: str
        payload: dict[str, Any]
        summary: str
        approver_ids: list[str]
        # The old values of what the command changes, as plain values (AP-2); None: not known.
        base: dict[str, Any] | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Requests filed before the base was recorded: no base, so no staleness check."""
            state["base"] = None

        def apply(self, a: Approval) -> None:
            a.kind, a.target_id, a.payload, a.summary = self.kind, self.target_id, dict(self.payload), self.summary
            a.requester_id, a.approver_ids = self.actor_id, list(self.approver_ids)
            a.status, a.decided_by, a.comment = "pending", None, None
            a.base = None if self.base is None else dict(self.base)

    class Decided(CrmAggregate.Event):
        status: str
        comment: str

        def apply(self, a: Approval) -> None:
            a.status, a.decided_by, a.comment = self.status, self.actor_id, self.comment

    @classmethod
    def request(cls, ctx: Context, *, id: UUID, kind: str, target_id: str, payload: dict[str, Any],
                summary: str, approver_ids: list[str], base: Base | None = None) -> Approval:
        return cls._create_by(ctx, cls.Requested, id=id, kind=kind, target_id=target_id, payload=payload,
                              summary=summary, approver_ids=approver_ids, base=base)

    def _pending(self) -> None:
        if self.status != "pending":
            raise Conflict("not_pending", "the request is {status} already", status=self.status)

    def decide(self, ctx: Context, status: str, comment: str, eligible: bool, current: Base | None = None) -> None:
        """approved or rejected, by an eligible person who is not the requester; approved only
        while what it was asked against still holds (`current`: that state now)."""
        self._pending()
        if ctx.actor_id == self.requester_id:
            raise Forbidden("own_request", "nobody approves their own request")
        if not eligible:
            raise Forbidden("forbidden", "only a manager of the requester decides this request")
        if status == "approved":
            self.ensure_current(current)
        self._record(ctx, self.Decided, status=status, comment=comment)

    def ensure_current(self, current: Base | None) -> None:
        """Refuse to approve a request whose base has changed since it was filed (AP-2: a late
        approval never overwrites a newer decision), naming what changed."""
        changed = changed_since(self.base, current)
        if changed:
            names = ", ".join(c["field"] for c in changed)
            raise Conflict("stale_request", "{names} changed since the request was made: reject it, or ask again",
                           field=changed[0]["field"], details={"changed": changed}, names=names)

    def withdraw(self, ctx: Context, comment: str) -> None:
        self._pending()
        if ctx.actor_id != self.requester_id:
            raise Forbidden("forbidden", "only the requester withdraws a request")
        self._record(ctx, self.Decided, status="withdrawn", comment=comment)
