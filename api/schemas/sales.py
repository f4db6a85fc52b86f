"""Schemas of api/routes/sales.py: contracts with their invoices, payments, deliveries,
returns and exchanges; products, stock and prices; after-sales problems."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from aggregates import bounds
from api.schemas.common import (
    BizDate,
    Id,
    Label,
    MoneyIn,
    QuantityIn,
    ReasonText,
    ShortText,
    Strict,
    T,
    UnitCostIn,
)

# The lines of a delivery, a return or an exchange.
MoveLines = Annotated[list[T], Field(min_length=1, max_length=200)]
ProductName = Annotated[str, Field(min_length=1, max_length=bounds.PRODUCT_NAME)]
ProblemText = Annotated[str, Field(min_length=1, max_length=bounds.NOTES)]


# ---- contracts: requests --------------------------------------------------------------------


class ContractLineIn(Strict):
    product_id: Id
    quantity: QuantityIn
    unit_price: MoneyIn


class ContractCreate(Strict):
    customer_id: Id
    number: str = Field(min_length=1, max_length=bounds.CONTRACT_NUMBER)
    name: str = Field(min_length=1, max_length=bounds.CONTRACT_NAME)
    signed_on: BizDate | None = None
    amount: MoneyIn | None = None
    lines: list[ContractLineIn] = Field(default=[], max_length=200)


class InvoiceIn(Strict):
    amount: MoneyIn
    invoiced_on: BizDate | None = None


class PaymentIn(Strict):
    customer_id: Id
    contract_id: Id | None = None
    amount: MoneyIn
    received_on: BizDate | None = None


class DeliveryLineIn(Strict):
    product_id: Id
    warehouse: Label
    quantity: QuantityIn


class DeliveryIn(Strict):
    delivered_on: BizDate | None = None
    lines: MoveLines[DeliveryLineIn]


class ReturnLineIn(Strict):
    product_id: Id
    quantity: QuantityIn
    warehouse: ShortText | None = None


class ReturnIn(Strict):
    delivery_id: Id
    returned_on: BizDate | None = None
    lines: MoveLines[ReturnLineIn]


class ExchangeIn(Strict):
    delivery_id: Id
    exchanged_on: BizDate | None = None
    lines: MoveLines[DeliveryLineIn]


# ---- contracts: answers ---------------------------------------------------------------------


class ContractSummary(BaseModel):
    id: str
    customer_id: str
    customer_name: str | None
    number: str
    name: str
    signed_on: date
    amount: Decimal
    salesperson_id: str | None
    invoiced: Decimal
    collected: Decimal
    returned_amount: Decimal
    remaining_to_invoice: Decimal
    outstanding: Decimal


class ContractLineOut(BaseModel):
    product_id: str
    product_name: str | None
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    delivered: Decimal
    returned: Decimal
    remaining: Decimal


class InvoiceOut(BaseModel):
    invoice_id: str
    amount: Decimal
    invoiced_on: date


class PaymentOut(BaseModel):
    payment_id: str
    amount: Decimal
    received_on: date


class MoveLine(BaseModel):
    product_id: str
    warehouse: str
    quantity: Decimal
    unit_cost: Decimal
    amount: Decimal | None
    direction: Literal["out", "in"]


class DeliveryOut(BaseModel):
    delivery_id: str
    delivered_on: date
    lines: list[MoveLine]


class ReturnOut(BaseModel):
    return_id: str
    delivery_id: str
    returned_on: date
    amount: Decimal
    lines: list[MoveLine]


class ExchangeOut(BaseModel):
    exchange_id: str
    delivery_id: str
    exchanged_on: date
    lines: list[MoveLine]


class ContractView(ContractSummary):
    lines: list[ContractLineOut]
    invoices: list[InvoiceOut]
    payments: list[PaymentOut]
    deliveries: list[DeliveryOut]
    returns: list[ReturnOut]
    exchanges: list[ExchangeOut]


# ---- products, stock and prices -------------------------------------------------------------


class ProductBase(Strict):
    name: ProductName | None = None
    spec: str | None = Field(default=None, max_length=bounds.PRODUCT_SPEC)
    unit: str | None = Field(default=None, max_length=bounds.PRODUCT_UNIT)


class ProductCreate(ProductBase):
    name: ProductName


class ProductUpdate(ProductBase):
    enabled: bool | None = None


class ProductCreated(BaseModel):
    id: str
    code: str
    position: int


class StockIn(Strict):
    warehouse: Label
    quantity: QuantityIn
    unit_cost: UnitCostIn
    received_on: BizDate | None = None


class PriceChangeIn(Strict):
    price: MoneyIn
    reason: ReasonText = ""


class StockRow(BaseModel):
    warehouse: str
    quantity: Decimal
    unit_cost: Decimal
    value: Decimal


class StockListRow(StockRow):
    product_id: str
    code: str
    product_name: str


class PriceHistoryRow(BaseModel):
    old_price: Decimal | None
    price: Decimal
    priced_on: date
    reason: str | None
    actor_id: str
    actor_name: str | None
    approved_by: str | None
    approver_name: str | None
    at: datetime


class ProductOut(BaseModel):
    id: str
    code: str
    name: str
    spec: str | None
    unit: str | None
    enabled: bool
    price: Decimal | None
    priced_on: date | None


class ProductView(ProductOut):
    stock: list[StockRow]
    price_history: list[PriceHistoryRow]


# ---- after-sales problems -------------------------------------------------------------------


class ProblemIn(Strict):
    customer_id: Id
    type: Label
    description: ProblemText
    responsible_id: Id


class ProblemResolve(Strict):
    resolution: ProblemText


class ProblemOut(BaseModel):
    id: str
    customer_id: str
    type: str
    description: str
    responsible_id: str
    reported_by: str
    reported_at: datetime
    status: str
    resolution: str | None
    resolved_at: datetime | None


# ---- what a delivery, a return or an exchange answers -----------------------------------------


class DeliveryCreated(BaseModel):
    delivery_id: str
    position: int


class ReturnCreated(BaseModel):
    return_id: str
    position: int


class ExchangeCreated(BaseModel):
    exchange_id: str
    position: int
