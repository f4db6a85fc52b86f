"""Queries over approval requests and notifications. A pending request is shown with the
present values of what it changes beside the requested ones (`current`) and the values it
was asked against (`base`), so the approver sees what happened meanwhile (AP-2)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from aggregates.approval import KINDS
from commands.actor import Actor
from readmodels.customers import access, get_customer_row, utc
from readmodels.i18n import N_, gettext, t
from readmodels.org import people_names
from readmodels.tables import (
    approvals,
    customer_contacts,
    customer_shares,
    notification_reads,
    notifications,
    products,
    stock,
    targets,
)

FOUR_PLACES = Decimal("0.0001")


def list_approvals(conn: Connection, viewer: Actor, status: str | None) -> list[dict[str, Any]]:
    """Requests the viewer made or may decide; admins and auditors see all."""
    query = select(approvals).order_by(approvals.c.requested_at.desc())
    if status:
        query = query.where(approvals.c.status == status)
    rows = [dict(r) for r in conn.execute(query).mappings()]
    if not viewer.sees_everything:
        rows = [r for r in rows if _sees(viewer, r)]
    return _shown(conn, viewer, rows)


def get_approval(conn: Connection, viewer: Actor, approval_id: str) -> dict[str, Any] | None:
    """One request, for those who made it or may decide it (admins and auditors: any)."""
    row = conn.execute(select(approvals).where(approvals.c.id == approval_id)).mappings().first()
    if row is None or not (viewer.sees_everything or _sees(viewer, row)):
        return None
    return _shown(conn, viewer, [dict(row)])[0]


def _sees(viewer: Actor, row: Any) -> bool:
    return bool(row["requester_id"] == viewer.person_id or viewer.person_id in row["approver_ids"])


def _shown(conn: Connection, viewer: Actor, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    people = {r["requester_id"] for r in rows} | {r["decided_by"] for r in rows if r["decided_by"]}
    names = people_names(conn, people)
    for r in rows:
        r["requested_at"], r["decided_at"] = utc(r["requested_at"]), utc(r["decided_at"])
        r["requester_name"] = names.get(r["requester_id"])
        r["decided_by_name"] = names.get(r["decided_by"]) if r["decided_by"] else None
        # Once decided, the present no longer bears on the request.
        reader = CURRENT.get(r["kind"]) if r["status"] == "pending" else None
        r["current"] = reader(conn, viewer, r) if reader else None
    return rows


# ---- the present values of what a pending request changes ------------------------------------

def _price(conn: Connection, viewer: Actor, r: dict[str, Any]) -> dict[str, Any] | None:
    """G-3 beside G-2: the price now, the stock per warehouse and its overall average cost."""
    product = conn.execute(select(products.c.price, products.c.priced_on)
                           .where(products.c.id == r["target_id"])).first()
    if product is None:
        return None
    held = [dict(s) for s in conn.execute(
        select(stock.c.warehouse, stock.c.quantity, stock.c.unit_cost, stock.c.value)
        .where(stock.c.product_id == r["target_id"]).order_by(stock.c.warehouse)).mappings()]
    quantity = sum((s["quantity"] for s in held), Decimal(0))
    value = sum((s["value"] for s in held), Decimal(0))
    average = (value / quantity).quantize(FOUR_PLACES) if quantity else None
    return {"price": product.price, "priced_on": product.priced_on, "average_cost": average,
            "quantity": quantity, "stock": held}


def _customer(conn: Connection, viewer: Actor, customer_id: str) -> Any:
    """The customer's row, when the viewer sees it in full (R-2..R-4): what a request shows of
    a customer is no more than its detail would."""
    row = get_customer_row(conn, customer_id)
    return row if row is not None and access(conn, viewer, row) == "full" else None


def _info(conn: Connection, viewer: Actor, r: dict[str, Any]) -> dict[str, Any] | None:
    """C-3: the customer's present values of the fields the request changes."""
    row = _customer(conn, viewer, r["target_id"])
    if row is None:
        return None
    changes = r["payload"].get("changes") or {}
    return {name: row[name] for name in changes if name in row}


def _holder(conn: Connection, viewer: Actor, r: dict[str, Any]) -> dict[str, Any] | None:
    """C-5, C-7: who holds the customer now."""
    row = _customer(conn, viewer, r["target_id"])
    if row is None:
        return None
    return {"owner_id": row["owner_id"], "owner_name": row["owner_name"], "in_pool": row["in_pool"],
            "status": row["status"]}


def _contacts(conn: Connection, viewer: Actor, r: dict[str, Any]) -> dict[str, Any] | None:
    """C-9: the customer's contacts now (the one a change names, or all of them)."""
    if _customer(conn, viewer, r["target_id"]) is None:
        return None
    query = select(customer_contacts).where(customer_contacts.c.customer_id == r["target_id"])
    contact_id = r["payload"].get("contact_id")
    if contact_id:
        query = query.where(customer_contacts.c.contact_id == contact_id)
    rows = [{"id": c.contact_id, "name": c.name, "phone": c.phone, "title": c.title, "primary": c.is_primary}
            for c in conn.execute(query.order_by(customer_contacts.c.seq))]
    if contact_id:
        return {"contact": rows[0] if rows else None}
    return {"contacts": rows}


def _shares(conn: Connection, viewer: Actor, r: dict[str, Any]) -> dict[str, Any] | None:
    """C-4: who the customer is shared with now."""
    if _customer(conn, viewer, r["target_id"]) is None:
        return None
    sharees = sorted(str(p) for p in conn.execute(
        select(customer_shares.c.person_id).where(customer_shares.c.customer_id == r["target_id"])).scalars())
    names = people_names(conn, set(sharees))
    return {"shared_with": [{"person_id": p, "name": names.get(p)} for p in sharees]}


def _target(conn: Connection, viewer: Actor, r: dict[str, Any]) -> dict[str, Any] | None:
    """T-1, T-2: the person's live targets whose periods share a day with the requested one
    (the requested target itself, once it exists)."""
    payload = r["payload"]
    try:
        start, end = date.fromisoformat(str(payload["start"])), date.fromisoformat(str(payload["end"]))
    except (KeyError, ValueError):
        return None
    rows = conn.execute(
        select(targets).where(targets.c.person_id == payload.get("person_id"), targets.c.cancelled.is_(False),
                              targets.c.starts_on <= end, targets.c.ends_on >= start)
        .order_by(targets.c.starts_on)).mappings()
    return {"targets": [
        {"id": t["id"], "period": t["period"], "start": t["starts_on"], "end": t["ends_on"],
         "new_customers": t["new_customers"], "visits": t["visits"], "deal_amount": t["deal_amount"],
         "collected_amount": t["collected_amount"], "version": t["version"]} for t in rows]}


CURRENT: dict[str, Callable[[Connection, Actor, dict[str, Any]], dict[str, Any] | None]] = {
    "price_change": _price,
    "customer_info_change": _info,
    "target": _target,
    "transfer": _holder,
    "claim": _holder,
    "contact_add": _contacts,
    "contact_change": _contacts,
    "contact_remove": _contacts,
    "share_change": _shares,
}


def list_notifications(conn: Connection, person_id: str, unread_only: bool) -> list[dict[str, Any]]:
    reads = {str(n): utc(at) for n, at in conn.execute(
        select(notification_reads.c.notification_id, notification_reads.c.read_at)
        .where(notification_reads.c.person_id == person_id))}
    rows = conn.execute(select(notifications).where(notifications.c.person_id == person_id)
                        .order_by(notifications.c.created_at.desc())).mappings()
    items = [{"id": r["id"], "person_id": r["person_id"], "kind": r["kind"],
              "text": notification_text(r["message"], r["params"]), "ref_id": r["ref_id"],
              "created_at": utc(r["created_at"]), "read_at": reads.get(r["id"])} for r in rows]
    return [i for i in items if i["read_at"] is None] if unread_only else items


# What a warehouse request asks for, in the words of its notices.
REQUEST_WORDS = {"delivery": N_("发货通知"), "return": N_("退货申请"), "exchange": N_("换货申请")}
# The most characters a notice shows (a long summary or comment is cut, marked …).
TEXT_LIMIT = 500


def notification_text(message: str, params: dict[str, Any] | None, locale: str | None = None) -> str:
    """A notification in the reader's locale (the current one by default): its message from the
    `crm` catalogue, its placeholders filled from the stored values, the words of stored codes
    (an approval's kind, a warehouse request's kind) and the customer's name with its number
    rendered in that locale too. Rendering when read, not when projected, lets one inbox be
    read in Chinese and in English."""
    values = dict(params or {})
    if "approval_kind" in values:
        kind = str(values.pop("approval_kind"))
        values["kind"] = gettext(KINDS.get(kind, kind), locale=locale)
    if "request_kind" in values:
        kind = str(values.pop("request_kind"))
        values["request"] = gettext(REQUEST_WORDS.get(kind, kind), locale=locale)
    if "customer_name" in values:
        name, number = values.pop("customer_name"), values.pop("customer_number", None)
        values["customer"] = t(N_("{name}（{number}）"), locale=locale, name=name, number=number) if number \
            else name
    text = t(message, locale=locale, **values)
    return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT - 1] + "…"


def mark_read(conn: Connection, person_id: str, notification_id: str, at: datetime) -> bool:
    """Mark one of the person's notifications read; False when it is not theirs."""
    owner = conn.execute(select(notifications.c.person_id).where(notifications.c.id == notification_id)).scalar()
    if owner != person_id:
        return False
    seen = conn.execute(select(notification_reads.c.notification_id)
                        .where(notification_reads.c.notification_id == notification_id)).first()
    if seen is None:
        conn.execute(notification_reads.insert().values(notification_id=notification_id, person_id=person_id,
                                                        read_at=at))
    return True
