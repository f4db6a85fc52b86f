"""Approvals (AP-1, AP-2): a request keeps the full command; an eligible manager approves
or rejects it, never their own (R-6); the requester may withdraw it while it waits."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from aggregates import bounds
from aggregates.base import Conflict, Context, CrmAggregate, Forbidden

KINDS = {
    "customer_info_change": "客户信息变更",
    "price_change": "产品定价",
    "target": "指标编审",
}


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

    def __init__(self) -> None:
        """Empty: the Created event's apply() sets the state."""

    class Requested(CrmAggregate.Created):
        kind: str
        target_id: str
        payload: dict[str, Any]
        summary: str
        approver_ids: list[str]

        def apply(self, a: Approval) -> None:
            a.kind, a.target_id, a.payload, a.summary = self.kind, self.target_id, dict(self.payload), self.summary
            a.requester_id, a.approver_ids = self.actor_id, list(self.approver_ids)
            a.status, a.decided_by, a.comment = "pending", None, None

    class Decided(CrmAggregate.Event):
        status: str
        comment: str

        def apply(self, a: Approval) -> None:
            a.status, a.decided_by, a.comment = self.status, self.actor_id, self.comment

    @classmethod
    def request(cls, ctx: Context, *, id: UUID, kind: str, target_id: str, payload: dict[str, Any],
                summary: str, approver_ids: list[str]) -> Approval:
        return cls._create_by(ctx, cls.Requested, id=id, kind=kind, target_id=target_id, payload=payload,
                              summary=summary, approver_ids=approver_ids)

    def _pending(self) -> None:
        if self.status != "pending":
            raise Conflict("not_pending", f"the request is {self.status} already")

    def decide(self, ctx: Context, status: str, comment: str, eligible: bool) -> None:
        """approved or rejected, by an eligible person who is not the requester."""
        self._pending()
        if ctx.actor_id == self.requester_id:
            raise Forbidden("own_request", "nobody approves their own request")
        if not eligible:
            raise Forbidden("forbidden", "only a manager of the requester decides this request")
        self._record(ctx, self.Decided, status=status, comment=comment)

    def withdraw(self, ctx: Context, comment: str) -> None:
        self._pending()
        if ctx.actor_id != self.requester_id:
            raise Forbidden("forbidden", "only the requester withdraws a request")
        self._record(ctx, self.Decided, status="withdrawn", comment=comment)
