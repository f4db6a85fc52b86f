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
    request_id: Id | None = Field(default=None, description="the delivery request (发货通知) this carries out")


class ReturnLineIn(Strict):
    product_id: Id
    quantity: QuantityIn
    warehouse: ShortText | None = Field(
        default=None, description="the warehouse the goods come back to: the one the delivery line left from; "
                                  "required only when the delivery left from more than one")


class ReturnIn(Strict):
    delivery_id: Id
    returned_on: BizDate | None = None
    lines: MoveLines[ReturnLineIn]
    request_id: Id | None = Field(default=None, description="the return request this carries out")


class ExchangeLineIn(Strict):
    """What goes out (`product_id` unless `replacement_product_id`, `quantity`, from `warehouse`)
    and what comes back (`product_id`, the same quantity, to `from_warehouse`)."""

    product_id: Id = Field(description="the product delivered, which comes back")
    quantity: QuantityIn
    warehouse: Label = Field(description="the warehouse the replacement leaves from")
    from_warehouse: ShortText | None = Field(
        default=None, description="the warehouse the delivery line left from, where the goods come back to; "
                                  "required only when the delivery left from more than one")
    replacement_product_id: Id | None = Field(
        default=None, description="a different product going out instead (seed 000 §5.6.3)")
    unit_price: MoneyIn | None = Field(
        default=None, description="the replacement's unit price; default: the contract's price for the same "
                                  "product, that product's list price for a different one")


class ExchangeIn(Strict):
    delivery_id: Id
    exchanged_on: BizDate | None = None
    lines: MoveLines[ExchangeLineIn]
    request_id: Id | None = Field(default=None, description="the exchange request this carries out")


class CreditNoteIn(Strict):
    """A red-letter invoice (红字发票): reverses invoicing, e.g. after a return."""

    amount: MoneyIn
    credited_on: BizDate | None = None
    reason: ReasonText = ""


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
    invoiced: Decimal = Field(description="invoiced less the credit notes")
    collected: Decimal
    returned_amount: Decimal
    exchange_difference: Decimal = Field(description="the exchanges' price differences, signed")
    net_amount: Decimal = Field(description="amount − returned_amount + exchange_difference")
    credited_amount: Decimal = Field(description="reversed by credit notes (红字发票)")
    remaining_to_invoice: Decimal = Field(description="max(0, net_amount − invoiced)")
    to_credit: Decimal = Field(description="max(0, invoiced − net_amount): invoiced beyond the net amount, "
                                           "for a credit note")
    outstanding: Decimal = Field(description="max(0, net_amount − collected)")
    credit: Decimal = Field(description="max(0, collected − net_amount): collected beyond the net amount")
    fully_invoiced: bool
    fully_delivered: bool = Field(description="every line delivered in full (true without lines)")


class ContractLineOut(BaseModel):
    product_id: str
    product_name: str | None
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    delivered: Decimal
    returned: Decimal
    remaining: Decimal
    signed_quantity: Decimal = Field(description="as signed; quantity = signed_quantity − returned + exchanged")
    exchanged: Decimal = Field(description="moved by exchanges for another product: − away, + the replacement")


class InvoiceOut(BaseModel):
    invoice_id: str
    amount: Decimal
    invoiced_on: date


class CreditNoteOut(BaseModel):
    credit_note_id: str
    amount: Decimal
    credited_on: date
    reason: str | None


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
    price_difference: Decimal = Field(description="Σ out − Σ back of the lines' amounts")


class ContractView(ContractSummary):
    lines: list[ContractLineOut]
    invoices: list[InvoiceOut]
    credit_notes: list[CreditNoteOut]
    payments: list[PaymentOut]
    deliveries: list[DeliveryOut]
    returns: list[ReturnOut]
    exchanges: list[ExchangeOut]


class ContractStateLine(BaseModel):
    product_id: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


class ContractStateMove(BaseModel):
    """A line of goods out: a delivery's, or the replacement of an exchange."""

    product_id: str
    warehouse: str
    quantity: Decimal
    unit_cost: Decimal


class ContractState(BaseModel):
    """The contract as its events left it (H-3): the deal, its lines as signed, the totals
    of its invoices (less credit notes) and payments, the goods out per delivery or exchange,
    what came back per delivery line, and the derived figures the detail shows too."""

    customer_id: str
    number: str
    name: str
    signed_on: date
    amount: Decimal
    salesperson_id: str | None
    lines: list[ContractStateLine]
    invoiced: Decimal = Field(description="invoiced less the credit notes")
    collected: Decimal
    deliveries: dict[str, list[ContractStateMove]] = Field(
        description="by delivery id (an exchange's replacement: by exchange id), the goods out")
    returned: dict[str, Decimal] = Field(
        description="by delivery line `delivery_id:product_id:warehouse`, the quantity back (returns, exchanges)")
    returned_amount: Decimal
    exchange_difference: Decimal = Field(description="the exchanges' price differences, signed")
    order_changes: dict[str, Decimal] = Field(
        description="by product, what returns and exchanges took off the order (−) or put on it (+)")
    exchange_prices: dict[str, Decimal] = Field(
        description="by product, the unit price of a replacement not on the contract")
    net_amount: Decimal = Field(description="amount − returned_amount + exchange_difference")
    remaining_to_invoice: Decimal = Field(description="max(0, net_amount − invoiced)")
    outstanding: Decimal = Field(description="max(0, net_amount − collected)")
    credit: Decimal = Field(description="max(0, collected − net_amount)")


class ContractAt(BaseModel):
    """A contract rebuilt from its events at a version or a moment (H-3)."""

    id: str
    version: int
    at: datetime
    state: ContractState


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


class ProductState(BaseModel):
    """The product as its events left it (H-3), with the price then in force."""

    code: str
    name: str
    spec: str | None
    unit: str | None
    enabled: bool
    price: Decimal | None
    priced_on: date | None


class ProductAt(BaseModel):
    """A product rebuilt from its events at a version or a moment (H-3)."""

    id: str
    version: int
    at: datetime
    state: ProductState


class StockState(BaseModel):
    """One product's stock in one warehouse as its events left it (H-3)."""

    product_id: str
    warehouse: str
    quantity: Decimal
    unit_cost: Decimal = Field(description="the moving-average unit cost")
    value: Decimal


class StockAt(BaseModel):
    """Stock of a product in a warehouse rebuilt from its events at a version or a moment (H-3);
    `id` is the stock record's own, derived from the product and the warehouse."""

    id: str
    version: int
    at: datetime
    state: StockState


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
