"""Customer lists, contacts, shares and visits."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import and_, delete, func, select, update

from aggregates.customer import Customer
from projections.base import Projection, Writer
from readmodels.tables import customer_contacts, customer_shares, customers, visits

customers_projection = Projection(
    "customers", [customers, customer_contacts, customer_shares, visits]
)
on = customers_projection.on


def _touch(w: Writer, e: Any, **values: Any) -> None:
    w.conn.execute(
        update(w.customers)
        .where(w.customers.c.id == str(e.originator_id))
        .values(updated_at=e.timestamp, version=e.originator_version, **values)
    )


def _refresh_primary(w: Writer, customer_id: str) -> None:
    row = w.conn.execute(
        select(w.customer_contacts.c.name, w.customer_contacts.c.phone).where(
            w.customer_contacts.c.customer_id == customer_id, w.customer_contacts.c.is_primary
        )
    ).first()
    w.conn.execute(
        update(w.customers)
        .where(w.customers.c.id == customer_id)
        .values(
            primary_contact_name=row.name if row else None,
            primary_contact_phone=row.phone if row else None,
        )
    )


def _recount_shares(w: Writer, customer_id: str) -> None:
    count = select(func.count()).where(w.customer_shares.c.customer_id == customer_id).scalar_subquery()
    w.conn.execute(update(w.customers).where(w.customers.c.id == customer_id).values(share_count=count))


def _insert_contact(w: Writer, customer_id: str, contact: dict[str, Any]) -> None:
    seq = w.conn.execute(
        select(func.coalesce(func.max(w.customer_contacts.c.seq), 0) + 1).where(
            w.customer_contacts.c.customer_id == customer_id
        )
    ).scalar_one()
    if contact.get("primary"):
        w.conn.execute(
            update(w.customer_contacts)
            .where(w.customer_contacts.c.customer_id == customer_id)
            .values(is_primary=False)
        )
    w.conn.execute(
        w.customer_contacts.insert().values(
            customer_id=customer_id, contact_id=contact["id"], name=contact["name"],
            phone=contact.get("phone"), title=contact.get("title"),
            is_primary=bool(contact.get("primary")), seq=seq,
        )
    )


@on(Customer.Registered)
def registered(w: Writer, e: Customer.Registered) -> None:
    cid = str(e.originator_id)
    fields = e.fields
    w.conn.execute(
        w.customers.insert().values(
            id=cid, number=e.number, name=e.name, type=fields.get("type"),
            source=fields.get("source"), region=fields.get("region"),
            address=fields.get("address"), building=fields.get("building"),
            lat=fields.get("lat"), lng=fields.get("lng"), status="potential",
            stage=fields.get("stage"), owner_id=e.owner_id,
            owner_since=e.timestamp if e.owner_id else None, in_pool=e.owner_id is None,
            pool_entered_at=None if e.owner_id else e.timestamp, pool_reason=None,
            registered_by=e.actor_id, created_at=e.created_at, updated_at=e.timestamp,
            visit_count=0, last_visit_at=None, share_count=0, deleted=False,
            deal_total=0, invoiced_total=0, collected_total=0,
            version=e.originator_version,
        )
    )
    for contact in e.contacts:
        _insert_contact(w, cid, contact)
    if e.owner_id:
        for person_id in e.shared_with:
            w.conn.execute(w.customer_shares.insert().values(customer_id=cid, person_id=person_id))
    _refresh_primary(w, cid)
    _recount_shares(w, cid)


@on(Customer.InfoChanged, Customer.Restored)
def info_changed(w: Writer, e: Any) -> None:
    _touch(w, e, **{c["field"]: c["new"] for c in e.changes})


@on(Customer.ContactAdded)
def contact_added(w: Writer, e: Customer.ContactAdded) -> None:
    cid = str(e.originator_id)
    _insert_contact(w, cid, e.contact)
    _refresh_primary(w, cid)
    _touch(w, e)


@on(Customer.ContactEdited)
def contact_edited(w: Writer, e: Customer.ContactEdited) -> None:
    cid = str(e.originator_id)
    values = {("is_primary" if k == "primary" else k): v for k, v in e.changes.items()}
    if values.get("is_primary"):
        w.conn.execute(
            update(w.customer_contacts)
            .where(w.customer_contacts.c.customer_id == cid)
            .values(is_primary=False)
        )
    w.conn.execute(
        update(w.customer_contacts)
        .where(w.customer_contacts.c.customer_id == cid, w.customer_contacts.c.contact_id == e.contact_id)
        .values(**values)
    )
    _refresh_primary(w, cid)
    _touch(w, e)


@on(Customer.ContactRemoved)
def contact_removed(w: Writer, e: Customer.ContactRemoved) -> None:
    cid = str(e.originator_id)
    key = and_(w.customer_contacts.c.customer_id == cid, w.customer_contacts.c.contact_id == e.contact_id)
    was_primary = w.conn.execute(select(w.customer_contacts.c.is_primary).where(key)).scalar()
    w.conn.execute(delete(w.customer_contacts).where(key))
    if was_primary:
        first = w.conn.execute(
            select(w.customer_contacts.c.contact_id)
            .where(w.customer_contacts.c.customer_id == cid)
            .order_by(w.customer_contacts.c.seq)
            .limit(1)
        ).scalar()
        if first is not None:
            w.conn.execute(
                update(w.customer_contacts)
                .where(w.customer_contacts.c.customer_id == cid, w.customer_contacts.c.contact_id == first)
                .values(is_primary=True)
            )
    _refresh_primary(w, cid)
    _touch(w, e)


@on(Customer.SharesChanged)
def shares_changed(w: Writer, e: Customer.SharesChanged) -> None:
    cid = str(e.originator_id)
    if e.removed:
        w.conn.execute(
            delete(w.customer_shares).where(
                w.customer_shares.c.customer_id == cid, w.customer_shares.c.person_id.in_(e.removed)
            )
        )
    for person_id in e.added:
        w.conn.execute(w.customer_shares.insert().values(customer_id=cid, person_id=person_id))
    _recount_shares(w, cid)
    _touch(w, e)


def _new_owner(w: Writer, e: Any, person_id: str) -> None:
    cid = str(e.originator_id)
    w.conn.execute(
        delete(w.customer_shares).where(
            w.customer_shares.c.customer_id == cid, w.customer_shares.c.person_id == person_id
        )
    )
    _recount_shares(w, cid)
    _touch(
        w, e, owner_id=person_id, owner_since=e.timestamp, in_pool=False,
        pool_entered_at=None, pool_reason=None,
    )


@on(Customer.Claimed)
def claimed(w: Writer, e: Customer.Claimed) -> None:
    _new_owner(w, e, e.person_id)


@on(Customer.Transferred, Customer.Assigned)
def handed_over(w: Writer, e: Any) -> None:
    _new_owner(w, e, e.to_person_id)


@on(Customer.ReturnedToPool)
def returned_to_pool(w: Writer, e: Customer.ReturnedToPool) -> None:
    cid = str(e.originator_id)
    w.conn.execute(delete(w.customer_shares).where(w.customer_shares.c.customer_id == cid))
    _touch(
        w, e, owner_id=None, owner_since=None, in_pool=True, pool_entered_at=e.timestamp,
        pool_reason=e.reason, share_count=0,
    )


@on(Customer.Deleted)
def deleted(w: Writer, e: Customer.Deleted) -> None:
    _touch(w, e, deleted=True, in_pool=False)


@on(Customer.VisitRecorded)
def visit_recorded(w: Writer, e: Customer.VisitRecorded) -> None:
    cid = str(e.originator_id)
    w.conn.execute(
        w.visits.insert().values(
            visit_id=e.visit_id, customer_id=cid, visitor_id=e.actor_id, visited_at=e.visited_at,
            recorded_at=e.timestamp, lat=e.lat, lng=e.lng, address=e.address, contact=e.contact,
            stage=e.stage, notes=e.notes, late_entry=e.late_entry, photo=e.photo,
        )
    )
    current = w.conn.execute(
        select(w.customers.c.status, w.customers.c.last_visit_at, w.customers.c.stage).where(
            w.customers.c.id == cid
        )
    ).one()
    last = current.last_visit_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=e.visited_at.tzinfo)
    _touch(
        w, e,
        visit_count=w.customers.c.visit_count + 1,
        last_visit_at=e.visited_at if last is None or e.visited_at > last else current.last_visit_at,
        stage=e.stage or current.stage,
        status="following" if current.status == "potential" else current.status,
    )


@on(Customer.PoolWarned)
def pool_warned(w: Writer, e: Customer.PoolWarned) -> None:
    _touch(w, e, warned_for=e.owner_since)


@on(Customer.LogoChanged)
def logo_changed(w: Writer, e: Customer.LogoChanged) -> None:
    _touch(w, e, logo=e.photo)


@on(Customer.DealRecorded)
def deal_recorded(w: Writer, e: Customer.DealRecorded) -> None:
    total = _money(w, e, "deal_total") + e.amount
    _touch(w, e, deal_total=total, status="dealt")


@on(Customer.InvoiceRecorded)
def invoice_recorded(w: Writer, e: Customer.InvoiceRecorded) -> None:
    _touch(w, e, invoiced_total=_money(w, e, "invoiced_total") + e.amount)


@on(Customer.PaymentRecorded)
def payment_recorded(w: Writer, e: Customer.PaymentRecorded) -> None:
    _touch(w, e, collected_total=_money(w, e, "collected_total") + e.amount)


def _money(w: Writer, e: Any, column: str) -> Decimal:
    query = select(w.customers.c[column]).where(w.customers.c.id == str(e.originator_id))
    return Decimal(w.conn.execute(query).scalar_one())
