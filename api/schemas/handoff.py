"""Schemas of api/routes/handoff.py: the requests from sales to the warehouse (seed 000
§5.6.1–§5.6.3) — a delivery notice (发货通知), a return or an exchange request — and what a
request shows: its lines, what is done of them, and the deliveries, returns or exchanges
that carried it out."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from api.schemas.common import Id, Label, MoneyIn, QuantityIn, ReasonText, Strict, T

RequestKind = Literal["delivery", "return", "exchange"]
RequestStatus = Literal["requested", "partly_done", "done", "cancelled"]
# A list's filter: a status, or "open" (requested or partly done).
StatusFilter = Literal["open", "requested", "partly_done", "done", "cancelled"]
# At most as many lines as a delivery, a return or an exchange carries.
RequestLines = Annotated[list[T], Field(min_length=1, max_length=200)]


# ---- requests -------------------------------------------------------------------------------


class RequestLineIn(Strict):
    product_id: Id
    quantity: QuantityIn
    warehouse: Label | None = Field(
        default=None, description="the warehouse the goods leave from (a return: come back to); "
                                  "left out, the keeper chooses")


class DeliveryRequestIn(Strict):
    lines: RequestLines[RequestLineIn]
    note: ReasonText = ""


class ReturnRequestIn(Strict):
    delivery_id: Id
    lines: RequestLines[RequestLineIn]
    note: ReasonText = ""


class ExchangeRequestLineIn(RequestLineIn):
    """As an exchange's line, the warehouses optional: what comes back (`product_id`, to
    `from_warehouse`), what goes out (`replacement_product_id` or the same product, from
    `warehouse`, at `unit_price`)."""

    from_warehouse: Label | None = Field(
        default=None, description="the warehouse the delivery line left from, where the goods come back to")
    replacement_product_id: Id | None = Field(default=None, description="a different product going out instead")
    unit_price: MoneyIn | None = Field(default=None, description="the replacement's agreed unit price")


class ExchangeRequestIn(Strict):
    delivery_id: Id
    lines: RequestLines[ExchangeRequestLineIn]
    note: ReasonText = ""


class CancelIn(Strict):
    reason: ReasonText = ""


# ---- answers --------------------------------------------------------------------------------


class RequestCreated(BaseModel):
    id: str
    number: str
    position: int


class RequestLineOut(BaseModel):
    line: int
    product_id: str
    product_name: str | None
    quantity: Decimal
    done: Decimal
    remaining: Decimal
    warehouse: str | None
    from_warehouse: str | None
    replacement_product_id: str | None
    replacement_name: str | None
    unit_price: Decimal | None


class DonePart(BaseModel):
    line: int
    quantity: Decimal


class CarriedOutOut(BaseModel):
    done_id: str = Field(description="the delivery, return or exchange")
    done_at: datetime
    actor_id: str
    actor_name: str | None
    lines: list[DonePart]


class WarehouseRequestOut(BaseModel):
    id: str
    number: str
    kind: RequestKind
    status: RequestStatus
    contract_id: str
    contract_number: str
    customer_id: str
    customer_name: str | None
    delivery_id: str | None
    requester_id: str
    requester_name: str | None
    note: str
    requested_at: datetime
    approved_by: str | None
    updated_at: datetime
    cancelled_by: str | None
    cancelled_by_name: str | None
    cancel_reason: str | None
    lines: list[RequestLineOut]
    carried_out: list[CarriedOutOut]
