"""Customer lists, contacts, shares and visits."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aggregates.customer import Customer
from aggregates.names import skeleton_key
from projections.definition import Projection
from projections.versions import record_version
from projections.writer import Writer
from readmodels.customers import utc
from readmodels.search import grams_of
from readmodels.tables import (
    customer_contacts,
    customer_department_shares,
    customer_shares,
    customer_versions,
    customers,
    visits,
)

# Version 2: deal totals net of returns and exchanges, invoiced totals less credit notes.
# Visits carry their region and distance check (seed 000 §2).
# Department shares (seed 002 §2.2.5) have a table of their own; `share_count` counts them too.
# Version 3: the customers as they were (`rm_customer_versions`, reports as of a past moment).
# Version 4: the search grams (readmodels.search), and indexes for the pool page and the scopes.
customers_projection = Projection("customers", [customers, customer_contacts, customer_shares,
                                                customer_department_shares, visits, customer_versions],
                                  version=4)
on = customers_projection.on
CHANGES = (Customer.InfoChanged, Customer.Restored, Customer.ContactAdded, Customer.ContactEdited,
           Customer.ContactRemoved, Customer.SharesChanged, Customer.Claimed, Customer.Transferred,
           Customer.Assigned, Customer.ReturnedToPool, Customer.Deleted, Customer.VisitRecorded,
           Customer.PoolWarned, Customer.LogoChanged, Customer.DealRecorded, Customer.InvoiceRecorded,
           Customer.PaymentRecorded, Customer.DealAdjusted, Customer.InvoiceCredited)


def _customer_id(e: Any) -> str:
    return str(e.originator_id)


customers_projection.preload(customers, _customer_id, *CHANGES)
customers_projection.preload(customer_shares, _customer_id, Customer.SharesChanged, Customer.Claimed,
                             Customer.Transferred, Customer.Assigned, Customer.ReturnedToPool,
                             column="customer_id")
customers_projection.preload(customer_department_shares, _customer_id, Customer.SharesChanged, Customer.Claimed,
                             Customer.Transferred, Customer.Assigned, Customer.ReturnedToPool,
                             column="customer_id")
customers_projection.preload(customer_contacts, _customer_id, Customer.ContactAdded, Customer.ContactEdited,
                             Customer.ContactRemoved, column="customer_id")
customers_projection.preload(customer_versions, _customer_id, Customer.Registered, *CHANGES)
# The columns of a customer the reports as of a past moment read.
VERSIONED = tuple(c.name for c in customer_versions.columns
                  if c.name not in ("vid", "since", "valid_from", "valid_to"))


def _touch(w: Writer, e: Any, **values: Any) -> dict[str, Any] | None:
    """Change the customer's row; every event moves its version and time."""
    row = w.set(w.customers, (str(e.originator_id),), updated_at=e.timestamp, version=e.originator_version,
                **values)
    if row is not None:
        _version(w, e, row)
    return row


def _version(w: Writer, e: Any, row: dict[str, Any]) -> None:
    """The reported columns as they stand after this event, from its recorded time on."""
    record_version(w, w.customer_versions, row["id"], e.originator_version, e.timestamp,
                   **{name: row[name] for name in VERSIONED})


def _row(w: Writer, customer_id: str) -> dict[str, Any]:
    found = w.get(w.customers, customer_id)
    assert found is not None, f"customer {customer_id} before its registration"
    return found


def _contacts(w: Writer, customer_id: str) -> list[dict[str, Any]]:
    return sorted(w.select_by(w.customer_contacts, customer_id=customer_id), key=lambda c: c["seq"])


def _contact_grams(contacts: list[dict[str, Any]]) -> list[str]:
    return grams_of(text for c in contacts for text in (c["name"], c.get("phone")))


def _refresh_primary(w: Writer, customer_id: str) -> dict[str, Any]:
    """The primary contact's columns and the contacts' search grams, after a contact changed."""
    contacts = _contacts(w, customer_id)
    primary = next((c for c in contacts if c["is_primary"]), None)
    return {"primary_contact_name": primary["name"] if primary else None,
            "primary_contact_phone": primary["phone"] if primary else None,
            "contact_grams": _contact_grams(contacts)}


def _only_primary(w: Writer, customer_id: str, contact_id: str) -> None:
    for other in _contacts(w, customer_id):
        if other["contact_id"] != contact_id and other["is_primary"]:
            w.set(w.customer_contacts, (customer_id, other["contact_id"]), is_primary=False)


@on(Customer.Registered)
def registered(w: Writer, e: Customer.Registered) -> None:
    cid = str(e.originator_id)
    fields = e.fields
    for seq, contact in enumerate(e.contacts, start=1):
        w.put(w.customer_contacts, customer_id=cid, contact_id=contact["id"], name=contact["name"],
              phone=contact.get("phone"), title=contact.get("title"), is_primary=bool(contact.get("primary")),
              seq=seq)
    shares = list(dict.fromkeys(e.shared_with)) if e.owner_id else []
    for person_id in shares:
        w.put(w.customer_shares, customer_id=cid, person_id=person_id)
    primary = next((c for c in e.contacts if c.get("primary")), None)
    w.put(
        w.customers,
        id=cid, number=e.number, name=e.name, name_key=skeleton_key(e.name), type=fields.get("type"),
        source=fields.get("source"),
        region=fields.get("region"), address=fields.get("address"), building=fields.get("building"),
        lat=fields.get("lat"), lng=fields.get("lng"), status="potential", stage=fields.get("stage"),
        owner_id=e.owner_id, owner_since=e.timestamp if e.owner_id else None, in_pool=e.owner_id is None,
        pool_entered_at=None if e.owner_id else e.timestamp, pool_reason=None, registered_by=e.actor_id,
        created_at=e.created_at, updated_at=e.timestamp, visit_count=0, last_visit_at=None,
        primary_contact_name=primary["name"] if primary else None,
        primary_contact_phone=primary.get("phone") if primary else None,
        share_count=len(shares), deleted=False, deal_total=Decimal(0), invoiced_total=Decimal(0),
        collected_total=Decimal(0), logo=None, warned_for=None, version=e.originator_version,
        grams=grams_of((e.name, e.number)), contact_grams=_contact_grams(list(e.contacts)),
    )
    _version(w, e, _row(w, cid))


@on(Customer.InfoChanged, Customer.Restored)
def info_changed(w: Writer, e: Any) -> None:
    changes = {c["field"]: c["new"] for c in e.changes}
    if changes.get("name"):
        changes["name_key"] = skeleton_key(changes["name"])
        changes["grams"] = grams_of((changes["name"], _row(w, str(e.originator_id))["number"]))
    _touch(w, e, **changes)


@on(Customer.ContactAdded)
def contact_added(w: Writer, e: Customer.ContactAdded) -> None:
    cid = str(e.originator_id)
    contact = e.contact
    seq = max((c["seq"] for c in _contacts(w, cid)), default=0) + 1
    if contact.get("primary"):
        _only_primary(w, cid, contact["id"])
    w.put(w.customer_contacts, customer_id=cid, contact_id=contact["id"], name=contact["name"],
          phone=contact.get("phone"), title=contact.get("title"), is_primary=bool(contact.get("primary")), seq=seq)
    _touch(w, e, **_refresh_primary(w, cid))


@on(Customer.ContactEdited)
def contact_edited(w: Writer, e: Customer.ContactEdited) -> None:
    cid = str(e.originator_id)
    values = {("is_primary" if k == "primary" else k): v for k, v in e.changes.items()}
    if values.get("is_primary"):
        _only_primary(w, cid, e.contact_id)
    w.set(w.customer_contacts, (cid, e.contact_id), **values)
    _touch(w, e, **_refresh_primary(w, cid))


@on(Customer.ContactRemoved)
def contact_removed(w: Writer, e: Customer.ContactRemoved) -> None:
    cid = str(e.originator_id)
    gone = w.get(w.customer_contacts, cid, e.contact_id)
    w.remove(w.customer_contacts, cid, e.contact_id)
    remaining = _contacts(w, cid)
    if gone is not None and gone["is_primary"] and remaining:
        w.set(w.customer_contacts, (cid, remaining[0]["contact_id"]), is_primary=True)
    _touch(w, e, **_refresh_primary(w, cid))


@on(Customer.SharesChanged)
def shares_changed(w: Writer, e: Customer.SharesChanged) -> None:
    cid = str(e.originator_id)
    for person_id in e.removed:
        w.remove(w.customer_shares, cid, person_id)
    held = {share["person_id"] for share in w.select_by(w.customer_shares, customer_id=cid)}
    for person_id in e.added:
        if person_id not in held:
            w.put(w.customer_shares, customer_id=cid, person_id=person_id)
    for department_id in e.departments_removed:
        w.remove(w.customer_department_shares, cid, department_id)
    for department_id in e.departments_added:
        w.put(w.customer_department_shares, customer_id=cid, department_id=department_id)
    _touch(w, e, share_count=_share_count(w, cid))


def _share_count(w: Writer, customer_id: str) -> int:
    """The people and the departments the customer is shared with."""
    return (len(w.select_by(w.customer_shares, customer_id=customer_id))
            + len(w.select_by(w.customer_department_shares, customer_id=customer_id)))


def _new_owner(w: Writer, e: Any, person_id: str) -> None:
    cid = str(e.originator_id)
    shares = w.select_by(w.customer_shares, customer_id=cid)
    if any(share["person_id"] == person_id for share in shares):
        w.remove(w.customer_shares, cid, person_id)  # the new owner is no longer a sharee
    _touch(w, e, owner_id=person_id, owner_since=e.timestamp, in_pool=False, pool_entered_at=None,
           pool_reason=None, share_count=_share_count(w, cid))


@on(Customer.Claimed)
def claimed(w: Writer, e: Customer.Claimed) -> None:
    _new_owner(w, e, e.person_id)


@on(Customer.Transferred, Customer.Assigned)
def handed_over(w: Writer, e: Any) -> None:
    _new_owner(w, e, e.to_person_id)


@on(Customer.ReturnedToPool)
def returned_to_pool(w: Writer, e: Customer.ReturnedToPool) -> None:
    cid = str(e.originator_id)
    for share in w.select_by(w.customer_shares, customer_id=cid):
        w.remove(w.customer_shares, cid, share["person_id"])
    for department_share in w.select_by(w.customer_department_shares, customer_id=cid):
        w.remove(w.customer_department_shares, cid, department_share["department_id"])
    _touch(w, e, owner_id=None, owner_since=None, in_pool=True, pool_entered_at=e.timestamp,
           pool_reason=e.reason, share_count=0)


@on(Customer.Deleted)
def deleted(w: Writer, e: Customer.Deleted) -> None:
    _touch(w, e, deleted=True, in_pool=False)


@on(Customer.VisitRecorded)
def visit_recorded(w: Writer, e: Customer.VisitRecorded) -> None:
    cid = str(e.originator_id)
    w.append(w.visits, visit_id=e.visit_id, customer_id=cid, visitor_id=e.actor_id, visited_at=e.visited_at,
             recorded_at=e.timestamp, lat=e.lat, lng=e.lng, address=e.address, contact=e.contact, stage=e.stage,
             notes=e.notes, late_entry=e.late_entry, photo=e.photo,
             region=e.region or _row(w, cid)["region"],  # version 1 visits: the customer's at the time
             far_from_customer=e.far_from_customer, distance_m=e.distance_m, distance_check=e.distance_check)
    current = _row(w, cid)
    last = utc(current["last_visit_at"])
    _touch(
        w, e,
        visit_count=current["visit_count"] + 1,
        last_visit_at=e.visited_at if last is None or e.visited_at > last else last,
        stage=e.stage or current["stage"],
        status="following" if current["status"] == "potential" else current["status"],
    )


@on(Customer.PoolWarned)
def pool_warned(w: Writer, e: Customer.PoolWarned) -> None:
    _touch(w, e, warned_for=e.owner_since)


@on(Customer.LogoChanged)
def logo_changed(w: Writer, e: Customer.LogoChanged) -> None:
    _touch(w, e, logo=e.photo)


@on(Customer.DealRecorded)
def deal_recorded(w: Writer, e: Customer.DealRecorded) -> None:
    _touch(w, e, deal_total=_row(w, str(e.originator_id))["deal_total"] + e.amount, status="dealt")


@on(Customer.InvoiceRecorded)
def invoice_recorded(w: Writer, e: Customer.InvoiceRecorded) -> None:
    _touch(w, e, invoiced_total=_row(w, str(e.originator_id))["invoiced_total"] + e.amount)


@on(Customer.PaymentRecorded)
def payment_recorded(w: Writer, e: Customer.PaymentRecorded) -> None:
    _touch(w, e, collected_total=_row(w, str(e.originator_id))["collected_total"] + e.amount)


@on(Customer.DealAdjusted)
def deal_adjusted(w: Writer, e: Customer.DealAdjusted) -> None:
    """A return (negative) or an exchange's price difference: the deal total is net (D-3 as amended)."""
    _touch(w, e, deal_total=_row(w, str(e.originator_id))["deal_total"] + e.amount)


@on(Customer.InvoiceCredited)
def invoice_credited(w: Writer, e: Customer.InvoiceCredited) -> None:
    """A red-letter invoice: the invoiced total falls by its amount."""
    _touch(w, e, invoiced_total=_row(w, str(e.originator_id))["invoiced_total"] - e.amount)
