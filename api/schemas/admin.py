"""Schemas of api/routes/admin.py: health, the pool sweep, and the operation log."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import BizDateTime, Strict


class Health(BaseModel):
    status: str = Field(description="ok, or degraded when a projection has parked events")
    head: int
    positions: dict[str, int]
    parked: dict[str, int] = Field({}, description="parked events per projection, where there are any")


class SweepIn(Strict):
    now: BizDateTime | None = Field(default=None, description="sweep as of this moment (default: now)")


class SweepOut(BaseModel):
    now: datetime
    warned: int
    returned: int
    position: int


class OperationEntry(BaseModel):
    """One command as it reached the API (H-5, R-8)."""

    id: int
    at: datetime
    actor_id: str | None
    actor_name: str | None
    method: str
    operation: str = Field(description="the operation's name, by its command, e.g. customer.claim "
                           "(\"unknown\" for a request that matches no route)", examples=["customer.claim"])
    route: str = Field(description="method and route template, e.g. "
                       "POST /api/v1/customers/{customer_id}/claim",
                       examples=["POST /api/v1/customers/{customer_id}/claim"])
    path: str
    target_id: str | None
    status: int
    outcome: Literal["accepted", "refused", "failed"]
    error_code: str | None
    message: str | None
    position: int | None
    duration_ms: int
