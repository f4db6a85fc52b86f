"""Queries over contracts and their execution (D-4), products, stock and problems."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, not_, or_, select, true
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

from commands.actor import Actor
from readmodels.customers import like_pattern, shared_with_viewer, utc
from readmodels.org import managed_people, people_names
from readmodels.paging import Key, Keyset, page_of
from readmodels.tables import (
    contract_lines,
    contracts,
    credit_notes,
    customers,
    goods_moves,
    invoices,
    payments,
    price_history,
    problems,
    products,
    stock,
)

ZERO = Decimal("0")


def _contract_scope(conn: Connection, viewer: Actor) -> ColumnElement[bool]:
    """R-7: the contracts of customers the viewer may see; warehouse keepers see all (they deliver)."""
    if viewer.sees_everything or "warehouse" in viewer.roles:
        return true()
    people = {viewer.person_id} | (managed_people(conn, viewer) if viewer.is_manager else set())
    owned = select(customers.c.id).where(customers.c.owner_id.in_(people))
    return or_(contracts.c.salesperson_id.in_(people), contracts.c.customer_id.in_(owned),
               shared_with_viewer(conn, viewer, contracts.c.customer_id))  # by name or department


# The net amount (D-2, D-3 as amended): the amount less its returns, plus or minus the
# exchanges' price differences.
NET_AMOUNT = contracts.c.amount - contracts.c.returned_amount + contracts.c.exchange_difference
# A line of the deal as it stands not yet delivered in full.
UNDELIVERED = exists().where(contract_lines.c.contract_id == contracts.c.id,
                             contract_lines.c.delivered < contract_lines.c.quantity)


def contract_summary(row: Any) -> dict[str, Any]:
    """The contract's money as it stands: the net amount, and against it what is left to
    collect (`outstanding`) or collected beyond it (`credit`), left to invoice
    (`remaining_to_invoice`) or invoiced beyond it (`to_credit`: for a red-letter invoice)."""
    net = row.amount - row.returned_amount + row.exchange_difference
    zero = Decimal("0.00")
    return {
        "id": row.id, "customer_id": row.customer_id, "customer_name": row.customer_name, "number": row.number,
        "name": row.name, "signed_on": row.signed_on, "amount": row.amount, "salesperson_id": row.salesperson_id,
        "invoiced": row.invoiced, "collected": row.collected, "returned_amount": row.returned_amount,
        "exchange_difference": row.exchange_difference, "net_amount": net,
        "credited_amount": row.credited_amount,
        "remaining_to_invoice": max(zero, net - row.invoiced), "to_credit": max(zero, row.invoiced - net),
        "outstanding": max(zero, net - row.collected), "credit": max(zero, row.collected - net),
        "fully_invoiced": row.invoiced >= net, "fully_delivered": not row.undelivered,
    }


def _with_customer() -> Any:
    return (select(contracts, customers.c.name.label("customer_name"), UNDELIVERED.label("undelivered"))
            .select_from(contracts.outerjoin(customers, customers.c.id == contracts.c.customer_id)))


def list_contracts(conn: Connection, viewer: Actor, customer_id: str | None, page: int, page_size: int,
                   fully_invoiced: bool | None = None,
                   fully_delivered: bool | None = None,
                   after: list[Any] | None = None) -> tuple[list[dict[str, Any]], int, list[Any] | None]:
    """The contracts one may see; `fully_invoiced=false` keeps those with something left to
    invoice of the net amount (选择未完成开票的合同), `fully_delivered=false` those with a line
    not delivered in full (a contract without lines has nothing to deliver)."""
    conditions = [_contract_scope(conn, viewer)]
    if customer_id:
        conditions.append(contracts.c.customer_id == customer_id)
    if fully_invoiced is not None:
        invoiced = contracts.c.invoiced
        conditions.append(invoiced >= NET_AMOUNT if fully_invoiced else invoiced < NET_AMOUNT)
    if fully_delivered is not None:
        conditions.append(not_(UNDELIVERED) if fully_delivered else UNDELIVERED)
    total = conn.execute(select(func.count()).select_from(contracts).where(*conditions)).scalar_one()
    keyset = Keyset.of(Key("signed_on", contracts.c.signed_on, True), Key("number", contracts.c.number),
                       Key("id", contracts.c.id))
    query = _with_customer().where(*conditions).order_by(*keyset.order()).limit(page_size + 1)
    query = query.where(keyset.after(after)) if after is not None else query.offset((page - 1) * page_size)
    rows, last = page_of(list(conn.execute(query)), page_size, keyset)
    return [contract_summary(r) for r in rows], int(total), last


def contract_view(conn: Connection, viewer: Actor, contract_id: str) -> dict[str, Any] | None:
    """D-4: header, lines, and execution with totals and what remains."""
    row = conn.execute(_with_customer().where(contracts.c.id == contract_id,
                                              _contract_scope(conn, viewer))).first()
    if row is None:
        return None
    view = contract_summary(row)
    names = {str(pid): str(name) for pid, name in conn.execute(select(products.c.id, products.c.name))}
    view["lines"] = [
        {"product_id": line.product_id, "product_name": names.get(line.product_id), "quantity": line.quantity,
         "unit_price": line.unit_price, "amount": line.amount, "delivered": line.delivered,
         "returned": line.returned, "remaining": line.quantity - line.delivered,
         "signed_quantity": line.signed_quantity, "exchanged": line.exchanged}
        for line in conn.execute(select(contract_lines).where(contract_lines.c.contract_id == contract_id)
                                 .order_by(contract_lines.c.product_id))
    ]
    view["invoices"] = [
        {"invoice_id": i.invoice_id, "amount": i.amount, "invoiced_on": i.invoiced_on}
        for i in conn.execute(select(invoices).where(invoices.c.contract_id == contract_id)
                              .order_by(invoices.c.invoiced_on, invoices.c.invoice_id))
    ]
    view["credit_notes"] = [
        {"credit_note_id": n.credit_note_id, "amount": n.amount, "credited_on": n.credited_on, "reason": n.reason}
        for n in conn.execute(select(credit_notes).where(credit_notes.c.contract_id == contract_id)
                              .order_by(credit_notes.c.credited_on, credit_notes.c.credit_note_id))
    ]
    view["payments"] = [
        {"payment_id": p.payment_id, "amount": p.amount, "received_on": p.received_on}
        for p in conn.execute(select(payments).where(payments.c.contract_id == contract_id)
                              .order_by(payments.c.received_on, payments.c.payment_id))
    ]
    grouped: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for move in conn.execute(select(goods_moves).where(goods_moves.c.contract_id == contract_id)
                             .order_by(goods_moves.c.moved_on, goods_moves.c.ref_id, goods_moves.c.line)):
        grouped[(move.kind.split("_")[0], move.ref_id)].append(move)

    def lines(moves: list[Any]) -> list[dict[str, Any]]:
        # An exchange's lines: the goods back ("in", their money at the contract price) and the
        # replacement out ("out", at the price it was exchanged at).
        return [{"product_id": m.product_id, "warehouse": m.warehouse, "quantity": m.quantity,
                 "unit_cost": m.unit_cost, "amount": m.amount, "direction": "out" if m.kind in
                 ("delivery", "exchange_out") else "in"} for m in moves]

    view["deliveries"] = [{"delivery_id": ref, "delivered_on": moves[0].moved_on, "lines": lines(moves)}
                          for (kind, ref), moves in grouped.items() if kind == "delivery"]
    view["returns"] = [{"return_id": ref, "delivery_id": moves[0].delivery_id, "returned_on": moves[0].moved_on,
                        "amount": sum((m.amount or ZERO for m in moves), ZERO), "lines": lines(moves)}
                       for (kind, ref), moves in grouped.items() if kind == "return"]
    view["exchanges"] = [{"exchange_id": ref, "delivery_id": moves[0].delivery_id,
                          "exchanged_on": moves[0].moved_on, "lines": lines(moves),
                          "price_difference": _price_difference(moves)}
                         for (kind, ref), moves in grouped.items() if kind == "exchange"]
    return view


def _price_difference(moves: list[Any]) -> Decimal:
    """Σ out − Σ back of an exchange's money (none recorded: like for like, no difference)."""
    if any(m.amount is None for m in moves):
        return Decimal("0.00")
    return sum((m.amount if m.kind == "exchange_out" else -m.amount for m in moves), Decimal("0.00"))


def product_view(conn: Connection, product_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(products).where(products.c.id == product_id)).mappings().first()
    if row is None:
        return None
    view = dict(row)
    view["stock"] = [dict(s) for s in conn.execute(
        select(stock.c.warehouse, stock.c.quantity, stock.c.unit_cost, stock.c.value)
        .where(stock.c.product_id == product_id).order_by(stock.c.warehouse)).mappings()]
    history = list(conn.execute(select(price_history).where(price_history.c.product_id == product_id)
                                .order_by(price_history.c.version)).mappings())
    actors = {h["actor_id"] for h in history} | {h["approved_by"] for h in history if h["approved_by"]}
    names = people_names(conn, actors)
    view["price_history"] = [
        {**{k: h[k] for k in ("old_price", "price", "priced_on", "reason", "actor_id", "approved_by")},
         "at": utc(h["at"]), "actor_name": names.get(h["actor_id"]),
         "approver_name": names.get(h["approved_by"]) if h["approved_by"] else None}
        for h in history
    ]
    return view


def list_products(conn: Connection, q: str | None, page: int, page_size: int,
                  after: list[Any] | None = None) -> tuple[list[dict[str, Any]], int, list[Any] | None]:
    conditions = []
    if q:
        pattern = like_pattern(q)
        conditions.append(or_(func.lower(products.c.name).like(pattern, escape="\\"),
                              func.lower(products.c.code).like(pattern, escape="\\")))
    total = conn.execute(select(func.count()).select_from(products).where(*conditions)).scalar_one()
    keyset = Keyset.of(Key("code", products.c.code))
    query = select(products).where(*conditions).order_by(*keyset.order()).limit(page_size + 1)
    query = query.where(keyset.after(after)) if after is not None else query.offset((page - 1) * page_size)
    rows, last = page_of(list(conn.execute(query).mappings()), page_size, keyset)
    return [dict(r) for r in rows], int(total), last


def list_stock(conn: Connection, product_id: str | None, warehouse: str | None) -> list[dict[str, Any]]:
    query = (select(stock.c.product_id, products.c.code, products.c.name.label("product_name"), stock.c.warehouse,
                    stock.c.quantity, stock.c.unit_cost, stock.c.value)
             .select_from(stock.join(products, products.c.id == stock.c.product_id)))
    if product_id:
        query = query.where(stock.c.product_id == product_id)
    if warehouse:
        query = query.where(stock.c.warehouse == warehouse)
    return [dict(r) for r in conn.execute(query.order_by(products.c.code, stock.c.warehouse)).mappings()]


def stock_row(conn: Connection, product_id: str, warehouse: str) -> dict[str, Any] | None:
    """The row /stock lists for one product and warehouse; None when there is none."""
    rows = [r for r in list_stock(conn, product_id, warehouse) if r["warehouse"] == warehouse]
    return rows[0] if rows else None


def list_problems(conn: Connection, viewer: Actor, status: str | None) -> list[dict[str, Any]]:
    query = select(problems).order_by(problems.c.reported_at.desc())
    if not (viewer.sees_everything or viewer.is_manager):
        query = query.where(or_(problems.c.responsible_id == viewer.person_id,
                                problems.c.reported_by == viewer.person_id))
    elif viewer.is_manager and not viewer.sees_everything:
        team = managed_people(conn, viewer) | {viewer.person_id}
        query = query.where(or_(problems.c.responsible_id.in_(team), problems.c.reported_by.in_(team)))
    if status:
        query = query.where(problems.c.status == status)
    return [{**dict(r), "reported_at": utc(r["reported_at"]), "resolved_at": utc(r["resolved_at"])}
            for r in conn.execute(query).mappings()]
