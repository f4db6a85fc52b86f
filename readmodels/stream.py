"""The live-update stream's read side: which records the events between two positions changed
(kinds and ids, read from the event store's notification log, which every API process shares),
which of them one viewer may see (the read routes' own rules, R-2..R-7), and the single-use
tickets that open a stream.

A change names a record the way the read routes do: `customer`, `contract`, `product`, `stock`
(the product whose stock moved: `GET /stock?product_id=`), `person`, `department`, `settings`,
`approval`, `problem`, `target`, `work_report`, `warehouse_request`. Events of the write side's
own bookkeeping (name and number indexes, the salesperson's counters, target calendars) change
no record a client reads and are not announced.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic
from sqlalchemy import delete, or_, select, update
from sqlalchemy.engine import Connection, Engine

from aggregates.approval import Approval
from aggregates.contract import Contract
from aggregates.customer import Customer
from aggregates.delivery_request import DeliveryRequest
from aggregates.organisation import Department, Person
from aggregates.problem import ProblemReport
from aggregates.product import Product, ProductStock
from aggregates.settings import Settings
from aggregates.target import SalesTarget, WorkReport
from commands.actor import Actor
from commands.adapters.store import EventStore
from readmodels.customers import access, shared_ids
from readmodels.org import managed_people, subtree, visible_people
from readmodels.sales import _contract_scope as contract_scope
from readmodels.tables import (
    approvals,
    contracts,
    customers,
    handoff_requests,
    problems,
    stock,
    stream_tickets,
    targets,
    work_reports,
)

log = logging.getLogger("crm.stream")

# The aggregate (by its stored topic) each record kind comes from.
KINDS: dict[str, str] = {
    get_topic(Customer): "customer",
    get_topic(Contract): "contract",
    get_topic(Product): "product",
    get_topic(ProductStock): "stock",
    get_topic(Person): "person",
    get_topic(Department): "department",
    get_topic(Settings): "settings",
    get_topic(Approval): "approval",
    get_topic(ProblemReport): "problem",
    get_topic(SalesTarget): "target",
    get_topic(WorkReport): "work_report",
    get_topic(DeliveryRequest): "warehouse_request",
}
# Kinds every signed-in person reads (the products, stock, directory and settings routes).
FOR_EVERYONE = frozenset({"product", "stock", "person", "department", "settings"})
# Customer events after which some who saw the customer no longer do: they are told too, so
# their lists drop it. The fields name the people or departments who lost sight of it.
LOSING_SIGHT: dict[str, tuple[str, ...]] = {
    get_topic(Customer.Transferred): ("from_person_id",),
    get_topic(Customer.Assigned): ("from_person_id",),
    get_topic(Customer.ReturnedToPool): ("previous_owner_id",),
    get_topic(Customer.SharesChanged): ("removed",),
}
LOSING_DEPARTMENTS: dict[str, str] = {get_topic(Customer.SharesChanged): "departments_removed"}
# Customer events that take a customer out of the pool, whose public fields everybody read.
LEAVING_POOL = frozenset({get_topic(Customer.Claimed), get_topic(Customer.Deleted), get_topic(Customer.Assigned)})

TICKET_BYTES = 32


@dataclass(frozen=True)
class Change:
    """One record an event changed, at the event's position; `former` and
    `former_departments` lost sight of it with this event, `everyone` read it before (a pool
    customer leaving the pool)."""

    position: int
    kind: str
    id: str
    former: frozenset[str] = frozenset()
    former_departments: frozenset[str] = frozenset()
    everyone: bool = False


def kind_of(topic: str) -> str | None:
    """The record kind of an event's topic (`aggregates.customer:Customer.Claimed` → customer)."""
    module, _, name = topic.partition(":")
    parts = name.split(".")
    for end in range(len(parts) - 1, 0, -1):
        found = KINDS.get(f"{module}:{'.'.join(parts[:end])}")
        if found is not None:
            return found
    return None


def read_changes(store: EventStore, after: int, upto: int, batch: int = 500) -> list[Change]:
    """The records the events after position `after` up to `upto` (inclusive) changed, in order."""
    found: list[Change] = []
    start = after + 1
    while start <= upto:
        notifications = store.recorder.select_notifications(start=start, limit=batch, stop=upto)
        if not notifications:
            break
        for notification in notifications:
            change = _change(store, notification)
            if change is not None:
                found.append(change)
        start = notifications[-1].id + 1
    stock_ids = [c.id for c in found if c.kind == "stock"]
    if stock_ids:
        # The stock aggregates' ids are derived; a client reads stock by its product.
        with store.engine.connect() as conn:
            products = dict(conn.execute(select(stock.c.stock_id, stock.c.product_id)
                                         .where(stock.c.stock_id.in_(stock_ids))).tuples().all())
        found = [Change(c.position, c.kind, str(products[c.id])) if c.kind == "stock" else c
                 for c in found if c.kind != "stock" or c.id in products]
    return found


def _change(store: EventStore, notification: Notification) -> Change | None:
    kind = kind_of(notification.topic)
    if kind is None:
        return None
    position, record = notification.id, str(notification.originator_id)
    topic = notification.topic
    if topic not in LOSING_SIGHT and topic not in LEAVING_POOL:
        return Change(position, kind, record)
    try:
        event: Any = store.mapper.to_domain_event(notification)
    except Exception:  # announced all the same, to those who see the customer now
        log.warning("could not decode %s at %d for the stream", topic, position, exc_info=True)
        return Change(position, kind, record)
    former: set[str] = set()
    for name in LOSING_SIGHT.get(topic, ()):
        value = getattr(event, name, None)
        former.update([value] if isinstance(value, str) else [str(v) for v in value or ()])
    departments = {str(d) for d in getattr(event, LOSING_DEPARTMENTS.get(topic, ""), None) or ()}
    everyone = topic in LEAVING_POOL and not (topic == get_topic(Customer.Assigned)
                                              and getattr(event, "from_person_id", None))
    return Change(position, kind, record, frozenset(former), frozenset(departments), everyone)


def latest(changes: Iterable[Change]) -> list[Change]:
    """One change per record, the newest, in the order of their positions."""
    newest: dict[tuple[str, str], Change] = {}
    for change in changes:
        key = (change.kind, change.id)
        if key not in newest or newest[key].position < change.position:
            newest[key] = change
    return sorted(newest.values(), key=lambda c: (c.position, c.kind, c.id))


# ---- who sees what ----------------------------------------------------------------------------

def visible(conn: Connection, viewer: Actor, changes: Sequence[Change]) -> list[Change]:
    """The changes of records the viewer may read now, by the read routes' rules, and of
    customers the viewer could read until the change (one change per record, newest)."""
    changes = latest(changes)
    ids: dict[str, list[str]] = {}
    for change in changes:
        ids.setdefault(change.kind, []).append(change.id)
    seen: set[tuple[str, str]] = set()
    for kind, among in ids.items():
        if kind in FOR_EVERYONE or viewer.sees_everything:
            seen.update((kind, i) for i in among)
        else:
            seen.update((kind, i) for i in CHECKS[kind](conn, viewer, among))
    losing = [c for c in changes
              if (c.kind, c.id) not in seen and (c.former or c.former_departments or c.everyone)]
    if losing:
        seen.update((c.kind, c.id) for c in _lost_sight(conn, viewer, losing))
    return [c for c in changes if (c.kind, c.id) in seen]


def _lost_sight(conn: Connection, viewer: Actor, changes: list[Change]) -> list[Change]:
    team: set[str] | None = None
    below: dict[frozenset[str], set[str]] = {}
    lost = []
    for change in changes:
        if change.everyone or viewer.person_id in change.former:
            lost.append(change)
            continue
        if viewer.is_manager and change.former:
            team = managed_people(conn, viewer) if team is None else team
            if change.former & team:
                lost.append(change)
                continue
        if change.former_departments and viewer.department_id is not None:
            if change.former_departments not in below:
                below[change.former_departments] = subtree(conn, sorted(change.former_departments))
            if viewer.department_id in below[change.former_departments]:
                lost.append(change)
    return lost


def _customers(conn: Connection, viewer: Actor, among: list[str]) -> set[str]:
    rows = conn.execute(select(customers.c.id, customers.c.owner_id, customers.c.deleted)
                        .where(customers.c.id.in_(among))).mappings().all()
    team = managed_people(conn, viewer) if viewer.is_manager else set()
    shared = shared_ids(conn, viewer, among)
    return {str(r["id"]) for r in rows if access(conn, viewer, r, team, shared) is not None}


def _contracts(conn: Connection, viewer: Actor, among: list[str]) -> set[str]:
    return {str(i) for i in conn.execute(select(contracts.c.id).where(
        contracts.c.id.in_(among), contract_scope(conn, viewer))).scalars()}


def _approvals(conn: Connection, viewer: Actor, among: list[str]) -> set[str]:
    rows = conn.execute(select(approvals.c.id, approvals.c.requester_id, approvals.c.approver_ids)
                        .where(approvals.c.id.in_(among))).mappings()
    return {str(r["id"]) for r in rows
            if r["requester_id"] == viewer.person_id or viewer.person_id in (r["approver_ids"] or [])}


def _problems(conn: Connection, viewer: Actor, among: list[str]) -> set[str]:
    people = {viewer.person_id} | (managed_people(conn, viewer) if viewer.is_manager else set())
    return {str(i) for i in conn.execute(select(problems.c.id).where(
        problems.c.id.in_(among),
        or_(problems.c.responsible_id.in_(people), problems.c.reported_by.in_(people)))).scalars()}


def _of_people(table: Any) -> Callable[[Connection, Actor, list[str]], set[str]]:
    def check(conn: Connection, viewer: Actor, among: list[str]) -> set[str]:
        allowed = visible_people(conn, viewer)
        query = select(table.c.id).where(table.c.id.in_(among))
        if allowed is not None:
            query = query.where(table.c.person_id.in_(allowed))
        return {str(i) for i in conn.execute(query).scalars()}

    return check


def _warehouse_requests(conn: Connection, viewer: Actor, among: list[str]) -> set[str]:
    query = select(handoff_requests.c.id).where(handoff_requests.c.id.in_(among))
    if "warehouse" not in viewer.roles:
        query = query.where(handoff_requests.c.contract_id.in_(
            select(contracts.c.id).where(contract_scope(conn, viewer))))
    return {str(i) for i in conn.execute(query).scalars()}


CHECKS: dict[str, Callable[[Connection, Actor, list[str]], set[str]]] = {
    "customer": _customers,
    "contract": _contracts,
    "approval": _approvals,
    "problem": _problems,
    "target": _of_people(targets),
    "work_report": _of_people(work_reports),
    "warehouse_request": _warehouse_requests,
}


# ---- tickets ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ticket:
    """A redeemed ticket: whose stream it opens, and the session it was issued in."""

    person_id: str
    token_id: str
    session_version: int
    token_expires_at: datetime


class TicketRefused(Exception):
    """`invalid_ticket` (unknown), `ticket_used` or `ticket_expired`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def ticket_hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode("utf-8", "surrogatepass")).hexdigest()


def issue_ticket(engine: Engine, person_id: str, token_id: str, session_version: int,
                 token_expires_at: datetime, now: datetime, lifetime: timedelta) -> tuple[str, datetime]:
    """A new ticket and its expiry. Tickets gone an hour past their expiry are cleared on the way."""
    ticket = secrets.token_urlsafe(TICKET_BYTES)
    expires_at = now + lifetime
    with engine.begin() as conn:
        conn.execute(delete(stream_tickets).where(stream_tickets.c.expires_at < now - timedelta(hours=1)))
        conn.execute(stream_tickets.insert().values(
            ticket_hash=ticket_hash(ticket), person_id=person_id, token_id=token_id,
            session_version=session_version, token_expires_at=token_expires_at, issued_at=now,
            expires_at=expires_at, used_at=None))
    return ticket, expires_at


def redeem_ticket(engine: Engine, ticket: str, now: datetime) -> Ticket:
    """Use the ticket, once: the one update that marks it used succeeds for one request only,
    whichever process it reaches. Raises TicketRefused."""
    digest = ticket_hash(ticket)
    with engine.begin() as conn:
        taken = conn.execute(update(stream_tickets).where(
            stream_tickets.c.ticket_hash == digest, stream_tickets.c.used_at.is_(None),
            stream_tickets.c.expires_at > now).values(used_at=now)).rowcount
        row = conn.execute(select(stream_tickets).where(stream_tickets.c.ticket_hash == digest)).mappings().first()
    if row is None:
        raise TicketRefused("invalid_ticket")
    if taken != 1:
        raise TicketRefused("ticket_used" if row["used_at"] is not None else "ticket_expired")
    expires = row["token_expires_at"]
    return Ticket(str(row["person_id"]), str(row["token_id"]), int(row["session_version"]),
                  expires.replace(tzinfo=UTC) if expires.tzinfo is None else expires)
