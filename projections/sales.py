"""Contracts with their execution, payments, problem reports; products, prices and stock."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from aggregates.contract import Contract
from aggregates.customer import Customer
from aggregates.money import unit_cost
from aggregates.problem import ProblemReport
from aggregates.product import Product, ProductStock
from projections.definition import Projection
from projections.versions import record_version
from projections.writer import Writer
from readmodels.tables import (
    contract_lines,
    contracts,
    credit_notes,
    goods_moves,
    invoices,
    payments,
    price_history,
    problems,
    product_versions,
    products,
    stock,
    stock_versions,
)

# Version 2: net amounts (returns, exchanges' price differences), credit notes, lines as the deal stands.
sales = Projection("sales", [contracts, contract_lines, invoices, credit_notes, payments, goods_moves, problems],
                   version=2)
# Version 2: stock and products as they were (`rm_stock_versions`, `rm_product_versions`: S-19 as
# of a past moment).
products_projection = Projection("products", [products, price_history, stock, stock_versions, product_versions],
                                 version=2)


def _originator(e: Any) -> str:
    return str(e.originator_id)


sales.preload(contracts, _originator, Contract.Invoiced, Contract.InvoiceCredited, Contract.PaymentReceived,
              Contract.Delivered, Contract.Returned, Contract.Exchanged)
sales.preload(contract_lines, _originator, Contract.Delivered, Contract.Returned, Contract.Exchanged,
              column="contract_id")
products_projection.preload(stock, _originator, ProductStock.Received, ProductStock.Issued, column="stock_id")
products_projection.preload(products, _originator, Product.Changed, Product.PriceChanged)
products_projection.preload(stock_versions, _originator, ProductStock.Opened, ProductStock.Received,
                            ProductStock.Issued)
products_projection.preload(product_versions, _originator, Product.Created, Product.Changed)


def _contract(w: Writer, e: Any, **values: Any) -> dict[str, Any]:
    row = w.set(w.contracts, (str(e.originator_id),), version=e.originator_version, **values)
    assert row is not None, f"contract {e.originator_id} before its signing"
    return row


def _current(w: Writer, e: Any, column: str) -> Decimal:
    row = w.get(w.contracts, str(e.originator_id))
    assert row is not None
    return Decimal(row[column])


def _line_changed(w: Writer, contract_id: str, product_id: str, unit_price: Any = None,
                  **deltas: Decimal) -> None:
    """Add to a line's figures; a replacement not on the contract gets a line of its own, at
    the unit price it was exchanged at."""
    line = w.get(w.contract_lines, contract_id, product_id)
    if line is None:
        if unit_price is None:
            return
        w.put(w.contract_lines, contract_id=contract_id, product_id=product_id, quantity=Decimal(0),
              unit_price=Decimal(unit_price), amount=Decimal(0), delivered=Decimal(0), returned=Decimal(0),
              signed_quantity=Decimal(0), exchanged=Decimal(0))
        line = w.get(w.contract_lines, contract_id, product_id)
        assert line is not None
    w.set(w.contract_lines, (contract_id, product_id), **{k: line[k] + v for k, v in deltas.items()})


def _exchange_amounts(line: dict[str, Any]) -> tuple[Decimal, Decimal]:
    """What the goods back were worth and what the goods out are (version 1 events, like for
    like at the contract price, recorded neither: no difference)."""
    back, out = line.get("back_amount"), line.get("out_amount")
    if back is None or out is None:
        return Decimal(0), Decimal(0)
    return Decimal(back), Decimal(out)


def _moves(w: Writer, e: Any, ref_id: str, kind: str, moved_on: date, lines: list[dict[str, Any]],
           offset: int = 0) -> None:
    for n, line in enumerate(lines):
        w.append(w.goods_moves, ref_id=ref_id, line=offset + n, kind=kind, contract_id=str(e.originator_id),
                 delivery_id=e.delivery_id, product_id=line["product_id"], warehouse=line["warehouse"],
                 quantity=line["quantity"], unit_cost=line["unit_cost"], amount=line.get("amount"),
                 moved_on=moved_on)


@sales.on(Contract.Signed)
def signed(w: Writer, e: Contract.Signed) -> None:
    cid = str(e.originator_id)
    w.put(w.contracts, id=cid, customer_id=e.customer_id, number=e.number, name=e.name, signed_on=e.signed_on,
          amount=e.amount, salesperson_id=e.salesperson_id, invoiced=Decimal(0), credited_amount=Decimal(0),
          collected=Decimal(0), returned_amount=Decimal(0), exchange_difference=Decimal(0),
          created_at=e.timestamp, version=e.originator_version)
    for line in e.lines:
        w.put(w.contract_lines, contract_id=cid, product_id=line["product_id"], quantity=line["quantity"],
              unit_price=line["unit_price"], amount=line["amount"], delivered=Decimal(0), returned=Decimal(0),
              signed_quantity=line["quantity"], exchanged=Decimal(0))


@sales.on(Contract.Invoiced)
def invoiced(w: Writer, e: Contract.Invoiced) -> None:
    row = _contract(w, e, invoiced=_current(w, e, "invoiced") + e.amount)
    w.append(w.invoices, invoice_id=e.invoice_id, contract_id=row["id"], customer_id=row["customer_id"],
             amount=e.amount, invoiced_on=e.invoiced_on, actor_id=e.actor_id)


@sales.on(Contract.InvoiceCredited)
def invoice_credited(w: Writer, e: Contract.InvoiceCredited) -> None:
    """A red-letter invoice: the invoiced total falls by its amount."""
    row = _contract(w, e, invoiced=_current(w, e, "invoiced") - e.amount,
                    credited_amount=_current(w, e, "credited_amount") + e.amount)
    w.append(w.credit_notes, credit_note_id=e.credit_note_id, contract_id=row["id"],
             customer_id=row["customer_id"], amount=e.amount, credited_on=e.credited_on, reason=e.reason,
             actor_id=e.actor_id)


@sales.on(Contract.PaymentReceived)
def contract_paid(w: Writer, e: Contract.PaymentReceived) -> None:
    _contract(w, e, collected=_current(w, e, "collected") + e.amount)


@sales.on(Customer.PaymentRecorded)
def payment(w: Writer, e: Customer.PaymentRecorded) -> None:
    w.append(w.payments, payment_id=e.payment_id, customer_id=str(e.originator_id), contract_id=e.contract_id,
             amount=e.amount, received_on=e.received_on, salesperson_id=e.salesperson_id, actor_id=e.actor_id)


@sales.on(Contract.Delivered)
def delivered(w: Writer, e: Contract.Delivered) -> None:
    _moves(w, e, e.delivery_id, "delivery", e.delivered_on, e.lines)
    for line in e.lines:
        _line_changed(w, str(e.originator_id), line["product_id"], delivered=line["quantity"])
    _contract(w, e)


@sales.on(Contract.Returned)
def returned(w: Writer, e: Contract.Returned) -> None:
    """G-5 with D-2, D-3 as amended: the return shrinks the deal — the line's ordered and
    delivered quantities and its amount — and the contract's net amount."""
    _moves(w, e, e.return_id, "return", e.returned_on, e.lines)
    for line in e.lines:
        _line_changed(w, str(e.originator_id), line["product_id"], quantity=-line["quantity"],
                      delivered=-line["quantity"], returned=line["quantity"], amount=-Decimal(line["amount"]))
    total = sum((line["amount"] for line in e.lines), Decimal(0))
    _contract(w, e, returned_amount=_current(w, e, "returned_amount") + total)


@sales.on(Contract.Exchanged)
def exchanged(w: Writer, e: Contract.Exchanged) -> None:
    """G-6: goods back from the delivery, the same quantity of the replacement out; one of
    another product moves the ordered quantity (and its money) to the replacement's line, and
    a price difference changes the net amount."""
    cid = str(e.originator_id)
    back, out = [], []
    for m in e.lines:
        out_product = m.get("out_product_id") or m["product_id"]
        back_amount, out_amount = _exchange_amounts(m)
        back.append({"product_id": m["product_id"], "warehouse": m["back_warehouse"], "quantity": m["quantity"],
                     "unit_cost": m["back_cost"], "amount": m.get("back_amount")})
        out.append({"product_id": out_product, "warehouse": m["out_warehouse"], "quantity": m["quantity"],
                    "unit_cost": m["out_cost"], "amount": m.get("out_amount")})
        if out_product == m["product_id"]:
            _line_changed(w, cid, out_product, amount=out_amount - back_amount)
        else:
            _line_changed(w, cid, m["product_id"], quantity=-m["quantity"], delivered=-m["quantity"],
                          exchanged=-m["quantity"], amount=-back_amount)
            _line_changed(w, cid, out_product, unit_price=m.get("unit_price") or Decimal(0),
                          quantity=m["quantity"], delivered=m["quantity"], exchanged=m["quantity"],
                          amount=out_amount)
    _moves(w, e, e.exchange_id, "exchange_in", e.exchanged_on, back)
    _moves(w, e, e.exchange_id, "exchange_out", e.exchanged_on, out, offset=len(back))
    difference = Decimal(getattr(e, "price_difference", None) or 0)
    _contract(w, e, exchange_difference=_current(w, e, "exchange_difference") + difference)


@sales.on(ProblemReport.Reported)
def problem_reported(w: Writer, e: ProblemReport.Reported) -> None:
    w.put(w.problems, id=str(e.originator_id), customer_id=e.customer_id, type=e.kind, description=e.description,
          responsible_id=e.responsible_id, reported_by=e.actor_id, reported_at=e.timestamp, status="open")


@sales.on(ProblemReport.Resolved)
def problem_resolved(w: Writer, e: ProblemReport.Resolved) -> None:
    w.set(w.problems, (str(e.originator_id),), status="resolved", resolution=e.resolution, resolved_at=e.timestamp)


@products_projection.on(Product.Created)
def product_created(w: Writer, e: Product.Created) -> None:
    w.put(w.products, id=str(e.originator_id), code=e.code, name=e.name, spec=e.spec, unit=e.unit, enabled=True)
    _product_version(w, e)


@products_projection.on(Product.Changed)
def product_changed(w: Writer, e: Product.Changed) -> None:
    w.set(w.products, (str(e.originator_id),), **e.changes)
    _product_version(w, e)


def _product_version(w: Writer, e: Any) -> None:
    """What S-19 shows of a product (its code and name) from the event's recorded time on."""
    row = w.get(w.products, str(e.originator_id))
    if row is not None:
        record_version(w, w.product_versions, row["id"], e.originator_version, e.timestamp, id=row["id"],
                       code=row["code"], name=row["name"])


@products_projection.on(Product.PriceChanged)
def price_changed(w: Writer, e: Product.PriceChanged) -> None:
    pid = str(e.originator_id)
    w.set(w.products, (pid,), price=e.price, priced_on=e.priced_on)
    w.append(w.price_history, product_id=pid, version=e.originator_version, old_price=e.old_price, price=e.price,
             priced_on=e.priced_on, reason=e.reason, actor_id=e.actor_id, approved_by=e.approved_by,
             at=e.timestamp)


@products_projection.on(ProductStock.Opened)
def stock_opened(w: Writer, e: ProductStock.Opened) -> None:
    w.put(w.stock, stock_id=str(e.originator_id), product_id=e.product_id, warehouse=e.warehouse,
          quantity=Decimal(0), unit_cost=Decimal(0), value=Decimal(0))
    _stock_version(w, e, w.get(w.stock, e.product_id, e.warehouse))


STOCK_VERSIONED = ("stock_id", "product_id", "warehouse", "quantity", "unit_cost", "value")


def _stock_version(w: Writer, e: Any, row: dict[str, Any] | None) -> None:
    """The stock row from the event's recorded time on."""
    if row is not None:
        record_version(w, w.stock_versions, row["stock_id"], e.originator_version, e.timestamp,
                       **{name: row[name] for name in STOCK_VERSIONED})


@products_projection.on(ProductStock.Received, ProductStock.Issued)
def stock_moved(w: Writer, e: Any) -> None:
    [current] = w.select_by(w.stock, stock_id=str(e.originator_id))
    sign = 1 if isinstance(e, ProductStock.Received) else -1
    quantity = current["quantity"] + sign * e.quantity
    value = current["value"] + sign * e.value
    cost = current["unit_cost"]
    if isinstance(e, ProductStock.Received) and quantity:
        cost = unit_cost(value / quantity)
    _stock_version(w, e, w.set(w.stock, (current["product_id"], current["warehouse"]), quantity=quantity,
                               value=value, unit_cost=cost))
