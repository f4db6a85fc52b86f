"""Queries over the requests from sales to the warehouse (seed 000 §5.6.1–§5.6.3): the
keepers' open requests, a contract's requests, one request with its lines and what carried
it out. Visibility follows the contracts' (R-7): keepers, admins and auditors see every
request; others those of the contracts they may see."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

from commands.actor import Actor
from readmodels.customers import utc
from readmodels.org import people_names
from readmodels.paging import Key, Keyset, page_of
from readmodels.sales import _contract_scope as contract_scope
from readmodels.tables import contracts, customers, handoff_done, handoff_lines, handoff_requests, products

OPEN = ("requested", "partly_done")


def _scoped(conn: Connection, viewer: Actor, query: Select[Any]) -> Select[Any]:
    if viewer.sees_everything or "warehouse" in viewer.roles:
        return query
    seen = select(contracts.c.id).where(contract_scope(conn, viewer))
    return query.where(handoff_requests.c.contract_id.in_(seen))


def contract_visible(conn: Connection, viewer: Actor, contract_id: str) -> bool:
    query = select(contracts.c.id).where(contracts.c.id == contract_id)
    if not (viewer.sees_everything or "warehouse" in viewer.roles):
        query = query.where(contract_scope(conn, viewer))
    return conn.execute(query).first() is not None


def list_requests(conn: Connection, viewer: Actor, *, status: str | None = None, kind: str | None = None,
                  contract_id: str | None = None, page: int = 1, page_size: int = 50,
                  after: list[Any] | None = None) -> tuple[list[dict[str, Any]], int, list[Any] | None]:
    """Requests newest first; the open ones (`status` "open": requested or partly done) oldest
    first, as a keeper works through them."""
    r = handoff_requests
    conditions: list[ColumnElement[bool]] = []
    if status == "open":
        conditions.append(r.c.status.in_(OPEN))
    elif status:
        conditions.append(r.c.status == status)
    if kind:
        conditions.append(r.c.kind == kind)
    if contract_id:
        conditions.append(r.c.contract_id == contract_id)
    counted = _scoped(conn, viewer, select(func.count()).select_from(r).where(*conditions))
    total = conn.execute(counted).scalar_one()
    keyset = Keyset.of(Key("requested_at", r.c.requested_at, request_sort(status).startswith("-")),
                       Key("id", r.c.id))
    query = (select(r, customers.c.name.label("customer_name"))
             .select_from(r.outerjoin(customers, customers.c.id == r.c.customer_id))
             .where(*conditions).order_by(*keyset.order()).limit(page_size + 1))
    query = query.where(keyset.after(after)) if after is not None else query.offset((page - 1) * page_size)
    found = [dict(row) for row in conn.execute(_scoped(conn, viewer, query)).mappings()]
    rows, last = page_of(found, page_size, keyset)
    return _complete(conn, rows), int(total), last


def request_sort(status: str | None) -> str:
    """The order of the requests: the open ones oldest first, as a keeper works through them,
    the others newest first."""
    return "requested_at" if status == "open" else "-requested_at"


def request_view(conn: Connection, viewer: Actor, request_id: str) -> dict[str, Any] | None:
    r = handoff_requests
    query = (select(r, customers.c.name.label("customer_name"))
             .select_from(r.outerjoin(customers, customers.c.id == r.c.customer_id)).where(r.c.id == request_id))
    row = conn.execute(_scoped(conn, viewer, query)).mappings().first()
    return None if row is None else _complete(conn, [dict(row)])[0]


def _complete(conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each request with its lines (what is done, what remains) and what carried it out."""
    ids = [row["id"] for row in rows]
    if not ids:
        return []
    lines: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in conn.execute(select(handoff_lines).where(handoff_lines.c.request_id.in_(ids))
                             .order_by(handoff_lines.c.request_id, handoff_lines.c.line)).mappings():
        lines[line["request_id"]].append(dict(line))
    done: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in conn.execute(select(handoff_done).where(handoff_done.c.request_id.in_(ids))
                               .order_by(handoff_done.c.done_at, handoff_done.c.done_id)).mappings():
        done[record["request_id"]].append(dict(record))
    product_ids = {line["product_id"] for group in lines.values() for line in group}
    product_ids |= {line["replacement_product_id"] for group in lines.values() for line in group
                    if line["replacement_product_id"]}
    names = {str(pid): str(name) for pid, name in conn.execute(
        select(products.c.id, products.c.name).where(products.c.id.in_(product_ids)))} if product_ids else {}
    people = {row["requester_id"] for row in rows} | {row["cancelled_by"] for row in rows if row["cancelled_by"]}
    people |= {record["actor_id"] for group in done.values() for record in group}
    who = people_names(conn, people)
    for row in rows:
        row["requested_at"], row["updated_at"] = utc(row["requested_at"]), utc(row["updated_at"])
        row["requester_name"] = who.get(row["requester_id"])
        row["cancelled_by_name"] = who.get(row["cancelled_by"]) if row["cancelled_by"] else None
        row["lines"] = [
            {"line": line["line"], "product_id": line["product_id"], "product_name": names.get(line["product_id"]),
             "quantity": line["quantity"], "done": line["done"], "remaining": line["quantity"] - line["done"],
             "warehouse": line["warehouse"], "from_warehouse": line["from_warehouse"],
             "replacement_product_id": line["replacement_product_id"],
             "replacement_name": names.get(line["replacement_product_id"] or ""), "unit_price": line["unit_price"]}
            for line in lines[row["id"]]
        ]
        row["carried_out"] = [
            {"done_id": record["done_id"], "done_at": utc(record["done_at"]), "actor_id": record["actor_id"],
             "actor_name": who.get(record["actor_id"]), "lines": record["lines"]}
            for record in done[row["id"]]
        ]
    return rows
