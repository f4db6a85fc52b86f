"""Contracts with their execution, payments, problem reports; products, prices and stock."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update

from aggregates.contract import Contract
from aggregates.customer import Customer
from aggregates.money import unit_cost
from aggregates.problem import ProblemReport
from aggregates.product import Product, ProductStock
from projections.base import Projection, Writer
from readmodels.tables import (
    contract_lines,
    contracts,
    goods_moves,
    invoices,
    payments,
    price_history,
    problems,
    products,
    stock,
)

sales = Projection("sales", [contracts, contract_lines, invoices, payments, goods_moves, problems])
catalogue = Projection("products", [products, price_history, stock])


def _contract(w: Writer, e: Any, **values: Any) -> None:
    w.conn.execute(update(w.contracts).where(w.contracts.c.id == str(e.originator_id))
                   .values(version=e.originator_version, **values))


def _current(w: Writer, e: Any, column: str) -> Decimal:
    query = select(w.contracts.c[column]).where(w.contracts.c.id == str(e.originator_id))
    return Decimal(w.conn.execute(query).scalar_one())


def _line_moved(w: Writer, contract_id: str, product_id: str, delivered: Decimal, returned: Decimal) -> None:
    line = w.contract_lines
    key = (line.c.contract_id == contract_id, line.c.product_id == product_id)
    current = w.conn.execute(select(line.c.delivered, line.c.returned).where(*key)).one()
    w.conn.execute(update(line).where(*key).values(delivered=current.delivered + delivered,
                                                   returned=current.returned + returned))


def _moves(w: Writer, e: Any, ref_id: str, kind: str, moved_on: date, lines: list[dict[str, Any]],
           offset: int = 0) -> None:
    for n, line in enumerate(lines):
        w.conn.execute(w.goods_moves.insert().values(
            ref_id=ref_id, line=offset + n, kind=kind, contract_id=str(e.originator_id),
            delivery_id=e.delivery_id, product_id=line["product_id"], warehouse=line["warehouse"],
            quantity=line["quantity"], unit_cost=line["unit_cost"], amount=line.get("amount"), moved_on=moved_on,
        ))


@sales.on(Contract.Signed)
def signed(w: Writer, e: Contract.Signed) -> None:
    cid = str(e.originator_id)
    w.conn.execute(w.contracts.insert().values(
        id=cid, customer_id=e.customer_id, number=e.number, name=e.name, signed_on=e.signed_on,
        amount=e.amount, salesperson_id=e.salesperson_id, invoiced=0, collected=0, returned_amount=0,
        created_at=e.timestamp, version=e.originator_version,
    ))
    for line in e.lines:
        w.conn.execute(w.contract_lines.insert().values(
            contract_id=cid, product_id=line["product_id"], quantity=line["quantity"],
            unit_price=line["unit_price"], amount=line["amount"], delivered=0, returned=0,
        ))


@sales.on(Contract.Invoiced)
def invoiced(w: Writer, e: Contract.Invoiced) -> None:
    cid = str(e.originator_id)
    customer_id = w.conn.execute(select(w.contracts.c.customer_id).where(w.contracts.c.id == cid)).scalar_one()
    w.conn.execute(w.invoices.insert().values(
        invoice_id=e.invoice_id, contract_id=cid, customer_id=customer_id, amount=e.amount,
        invoiced_on=e.invoiced_on, actor_id=e.actor_id,
    ))
    _contract(w, e, invoiced=_current(w, e, "invoiced") + e.amount)


@sales.on(Contract.PaymentReceived)
def contract_paid(w: Writer, e: Contract.PaymentReceived) -> None:
    _contract(w, e, collected=_current(w, e, "collected") + e.amount)


@sales.on(Customer.PaymentRecorded)
def payment(w: Writer, e: Customer.PaymentRecorded) -> None:
    w.conn.execute(w.payments.insert().values(
        payment_id=e.payment_id, customer_id=str(e.originator_id), contract_id=e.contract_id,
        amount=e.amount, received_on=e.received_on, salesperson_id=e.salesperson_id, actor_id=e.actor_id,
    ))


@sales.on(Contract.Delivered)
def delivered(w: Writer, e: Contract.Delivered) -> None:
    _moves(w, e, e.delivery_id, "delivery", e.delivered_on, e.lines)
    for line in e.lines:
        _line_moved(w, str(e.originator_id), line["product_id"], line["quantity"], Decimal(0))
    _contract(w, e)


@sales.on(Contract.Returned)
def returned(w: Writer, e: Contract.Returned) -> None:
    _moves(w, e, e.return_id, "return", e.returned_on, e.lines)
    for line in e.lines:
        _line_moved(w, str(e.originator_id), line["product_id"], -line["quantity"], line["quantity"])
    total = sum((line["amount"] for line in e.lines), Decimal(0))
    _contract(w, e, returned_amount=_current(w, e, "returned_amount") + total)


@sales.on(Contract.Exchanged)
def exchanged(w: Writer, e: Contract.Exchanged) -> None:
    back = [{"product_id": m["product_id"], "warehouse": m["back_warehouse"], "quantity": m["quantity"],
             "unit_cost": m["back_cost"]} for m in e.lines]
    out = [{"product_id": m["product_id"], "warehouse": m["out_warehouse"], "quantity": m["quantity"],
            "unit_cost": m["out_cost"]} for m in e.lines]
    _moves(w, e, e.exchange_id, "exchange_in", e.exchanged_on, back)
    _moves(w, e, e.exchange_id, "exchange_out", e.exchanged_on, out, offset=len(back))
    _contract(w, e)


@sales.on(ProblemReport.Reported)
def problem_reported(w: Writer, e: ProblemReport.Reported) -> None:
    w.conn.execute(w.problems.insert().values(
        id=str(e.originator_id), customer_id=e.customer_id, type=e.kind, description=e.description,
        responsible_id=e.responsible_id, reported_by=e.actor_id, reported_at=e.timestamp, status="open",
    ))


@sales.on(ProblemReport.Resolved)
def problem_resolved(w: Writer, e: ProblemReport.Resolved) -> None:
    w.conn.execute(update(w.problems).where(w.problems.c.id == str(e.originator_id)).values(
        status="resolved", resolution=e.resolution, resolved_at=e.timestamp))


@catalogue.on(Product.Created)
def product_created(w: Writer, e: Product.Created) -> None:
    w.conn.execute(w.products.insert().values(
        id=str(e.originator_id), code=e.code, name=e.name, spec=e.spec, unit=e.unit, enabled=True))


@catalogue.on(Product.Changed)
def product_changed(w: Writer, e: Product.Changed) -> None:
    w.conn.execute(update(w.products).where(w.products.c.id == str(e.originator_id)).values(**e.changes))


@catalogue.on(Product.PriceChanged)
def price_changed(w: Writer, e: Product.PriceChanged) -> None:
    pid = str(e.originator_id)
    w.conn.execute(update(w.products).where(w.products.c.id == pid).values(price=e.price, priced_on=e.priced_on))
    w.conn.execute(w.price_history.insert().values(
        product_id=pid, version=e.originator_version, old_price=e.old_price, price=e.price,
        priced_on=e.priced_on, reason=e.reason, actor_id=e.actor_id, approved_by=e.approved_by, at=e.timestamp,
    ))


@catalogue.on(ProductStock.Opened)
def stock_opened(w: Writer, e: ProductStock.Opened) -> None:
    w.conn.execute(w.stock.insert().values(stock_id=str(e.originator_id), product_id=e.product_id,
                                           warehouse=e.warehouse, quantity=0, unit_cost=0, value=0))


@catalogue.on(ProductStock.Received, ProductStock.Issued)
def stock_moved(w: Writer, e: Any) -> None:
    s = w.stock
    current = w.conn.execute(select(s).where(s.c.stock_id == str(e.originator_id))).one()
    sign = 1 if isinstance(e, ProductStock.Received) else -1
    quantity = current.quantity + sign * e.quantity
    value = current.value + sign * e.value
    cost = current.unit_cost
    if isinstance(e, ProductStock.Received) and quantity:
        cost = unit_cost(value / quantity)
    w.conn.execute(update(s).where(s.c.stock_id == str(e.originator_id))
                   .values(quantity=quantity, value=value, unit_cost=cost))
