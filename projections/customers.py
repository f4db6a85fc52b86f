"""Customer lists, contacts, shares and visits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.engine import Connection

from aggregates.customer import Customer
from projections.base import Projection
from readmodels.tables import customer_contacts, customer_shares, customers, visits

customers_projection = Projection("customers")
on = customers_projection.on


def _touch(conn: Connection, e: Any, **values: Any) -> None:
    conn.execute(
        update(customers)
        .where(customers.c.id == str(e.originator_id))
        .values(updated_at=e.timestamp, version=e.originator_version, **values)
    )


def _refresh_primary(conn: Connection, customer_id: str) -> None:
    row = conn.execute(
        select(customer_contacts.c.name, customer_contacts.c.phone).where(
            customer_contacts.c.customer_id == customer_id, customer_contacts.c.is_primary
        )
    ).first()
    conn.execute(
        update(customers)
        .where(customers.c.id == customer_id)
        .values(
            primary_contact_name=row.name if row else None,
            primary_contact_phone=row.phone if row else None,
        )
    )


def _recount_shares(conn: Connection, customer_id: str) -> None:
    count = select(func.count()).where(customer_shares.c.customer_id == customer_id).scalar_subquery()
    conn.execute(update(customers).where(customers.c.id == customer_id).values(share_count=count))


def _insert_contact(conn: Connection, customer_id: str, contact: dict[str, Any]) -> None:
    seq = conn.execute(
        select(func.coalesce(func.max(customer_contacts.c.seq), 0) + 1).where(
            customer_contacts.c.customer_id == customer_id
        )
    ).scalar_one()
    if contact.get("primary"):
        conn.execute(
            update(customer_contacts)
            .where(customer_contacts.c.customer_id == customer_id)
            .values(is_primary=False)
        )
    conn.execute(
        customer_contacts.insert().values(
            customer_id=customer_id, contact_id=contact["id"], name=contact["name"],
            phone=contact.get("phone"), title=contact.get("title"),
            is_primary=bool(contact.get("primary")), seq=seq,
        )
    )


@on(Customer.Registered)
def registered(conn: Connection, e: Customer.Registered) -> None:
    cid = str(e.originator_id)
    fields = e.fields
    conn.execute(
        customers.insert().values(
            id=cid, number=e.number, name=e.name, type=fields.get("type"),
            source=fields.get("source"), region=fields.get("region"),
            address=fields.get("address"), building=fields.get("building"),
            lat=fields.get("lat"), lng=fields.get("lng"), status="potential",
            stage=fields.get("stage"), owner_id=e.owner_id,
            owner_since=e.timestamp if e.owner_id else None, in_pool=e.owner_id is None,
            pool_entered_at=None if e.owner_id else e.timestamp, pool_reason=None,
            registered_by=e.actor_id, created_at=e.created_at, updated_at=e.timestamp,
            visit_count=0, last_visit_at=None, share_count=0, deleted=False,
            version=e.originator_version,
        )
    )
    for contact in e.contacts:
        _insert_contact(conn, cid, contact)
    if e.owner_id:
        for person_id in e.shared_with:
            conn.execute(customer_shares.insert().values(customer_id=cid, person_id=person_id))
    _refresh_primary(conn, cid)
    _recount_shares(conn, cid)


@on(Customer.InfoChanged)
def info_changed(conn: Connection, e: Customer.InfoChanged) -> None:
    _touch(conn, e, **{c["field"]: c["new"] for c in e.changes})


@on(Customer.ContactAdded)
def contact_added(conn: Connection, e: Customer.ContactAdded) -> None:
    cid = str(e.originator_id)
    _insert_contact(conn, cid, e.contact)
    _refresh_primary(conn, cid)
    _touch(conn, e)


@on(Customer.ContactEdited)
def contact_edited(conn: Connection, e: Customer.ContactEdited) -> None:
    cid = str(e.originator_id)
    values = {("is_primary" if k == "primary" else k): v for k, v in e.changes.items()}
    if values.get("is_primary"):
        conn.execute(
            update(customer_contacts)
            .where(customer_contacts.c.customer_id == cid)
            .values(is_primary=False)
        )
    conn.execute(
        update(customer_contacts)
        .where(customer_contacts.c.customer_id == cid, customer_contacts.c.contact_id == e.contact_id)
        .values(**values)
    )
    _refresh_primary(conn, cid)
    _touch(conn, e)


@on(Customer.ContactRemoved)
def contact_removed(conn: Connection, e: Customer.ContactRemoved) -> None:
    cid = str(e.originator_id)
    key = and_(customer_contacts.c.customer_id == cid, customer_contacts.c.contact_id == e.contact_id)
    was_primary = conn.execute(select(customer_contacts.c.is_primary).where(key)).scalar()
    conn.execute(delete(customer_contacts).where(key))
    if was_primary:
        first = conn.execute(
            select(customer_contacts.c.contact_id)
            .where(customer_contacts.c.customer_id == cid)
            .order_by(customer_contacts.c.seq)
            .limit(1)
        ).scalar()
        if first is not None:
            conn.execute(
                update(customer_contacts)
                .where(customer_contacts.c.customer_id == cid, customer_contacts.c.contact_id == first)
                .values(is_primary=True)
            )
    _refresh_primary(conn, cid)
    _touch(conn, e)


@on(Customer.SharesChanged)
def shares_changed(conn: Connection, e: Customer.SharesChanged) -> None:
    cid = str(e.originator_id)
    if e.removed:
        conn.execute(
            delete(customer_shares).where(
                customer_shares.c.customer_id == cid, customer_shares.c.person_id.in_(e.removed)
            )
        )
    for person_id in e.added:
        conn.execute(customer_shares.insert().values(customer_id=cid, person_id=person_id))
    _recount_shares(conn, cid)
    _touch(conn, e)


def _new_owner(conn: Connection, e: Any, person_id: str) -> None:
    cid = str(e.originator_id)
    conn.execute(
        delete(customer_shares).where(
            customer_shares.c.customer_id == cid, customer_shares.c.person_id == person_id
        )
    )
    _recount_shares(conn, cid)
    _touch(
        conn, e, owner_id=person_id, owner_since=e.timestamp, in_pool=False,
        pool_entered_at=None, pool_reason=None,
    )


@on(Customer.Claimed)
def claimed(conn: Connection, e: Customer.Claimed) -> None:
    _new_owner(conn, e, e.person_id)


@on(Customer.Transferred, Customer.Assigned)
def handed_over(conn: Connection, e: Any) -> None:
    _new_owner(conn, e, e.to_person_id)


@on(Customer.ReturnedToPool)
def returned_to_pool(conn: Connection, e: Customer.ReturnedToPool) -> None:
    cid = str(e.originator_id)
    conn.execute(delete(customer_shares).where(customer_shares.c.customer_id == cid))
    _touch(
        conn, e, owner_id=None, owner_since=None, in_pool=True, pool_entered_at=e.timestamp,
        pool_reason=e.reason, share_count=0,
    )


@on(Customer.Deleted)
def deleted(conn: Connection, e: Customer.Deleted) -> None:
    _touch(conn, e, deleted=True, in_pool=False)


@on(Customer.VisitRecorded)
def visit_recorded(conn: Connection, e: Customer.VisitRecorded) -> None:
    cid = str(e.originator_id)
    conn.execute(
        visits.insert().values(
            visit_id=e.visit_id, customer_id=cid, visitor_id=e.actor_id, visited_at=e.visited_at,
            recorded_at=e.timestamp, lat=e.lat, lng=e.lng, address=e.address, contact=e.contact,
            stage=e.stage, notes=e.notes, late_entry=e.late_entry,
        )
    )
    current = conn.execute(
        select(customers.c.status, customers.c.last_visit_at, customers.c.stage).where(
            customers.c.id == cid
        )
    ).one()
    last = current.last_visit_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=e.visited_at.tzinfo)
    _touch(
        conn, e,
        visit_count=customers.c.visit_count + 1,
        last_visit_at=e.visited_at if last is None or e.visited_at > last else current.last_visit_at,
        stage=e.stage or current.stage,
        status="following" if current.status == "potential" else current.status,
    )
