"""Schemas of api/routes/inbox.py: approvals (a decision's comment, the approval as listed)
and notifications. The 202 answer of a command that waits for approval, `Pending`, is in
common, as the customer, sales and target routes give it too."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from aggregates import bounds
from api.schemas.common import Strict


class Decision(Strict):
    comment: str = Field(default="", max_length=bounds.COMMENT)


class ApprovalOut(BaseModel):
    id: str
    kind: str
    target_id: str
    summary: str
    payload: dict[str, Any]
    requester_id: str
    requester_name: str | None
    approver_ids: list[str]
    status: str
    requested_at: datetime
    decided_by: str | None
    decided_by_name: str | None
    decided_at: datetime | None
    comment: str | None
    base: dict[str, Any] | None = Field(
        default=None, description="the values the request was made against (AP-2); null for older requests")
    current: dict[str, Any] | None = Field(
        default=None, description="while pending: the present values of what it changes (a price change: "
                                  "price, average cost and stock per warehouse; an info change: the "
                                  "customer's fields; a target: the person's targets in the period)")


class ApprovalState(BaseModel):
    """The request as its events left it (H-3): pending, or decided by whom with what comment."""

    kind: str
    target_id: str
    payload: dict[str, Any]
    summary: str
    requester_id: str
    approver_ids: list[str]
    status: str
    decided_by: str | None
    comment: str | None
    base: dict[str, Any] | None = Field(default=None, description="the values the request was made against")


class ApprovalAt(BaseModel):
    """An approval request rebuilt from its events at a version or a moment (H-3)."""

    id: str
    version: int
    at: datetime
    state: ApprovalState


class NotificationOut(BaseModel):
    id: str
    kind: str
    text: str
    ref_id: str | None
    created_at: datetime
    read_at: datetime | None
