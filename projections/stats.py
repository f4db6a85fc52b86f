"""Facts for statistics, targets and work reports (D-5): who is credited, on which
business day, and the customer's region, type and source as they were at that moment.
Totals per person and day are kept pre-aggregated."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from aggregates.contract import Contract
from aggregates.customer import Customer
from aggregates.settings import DEFAULT_RULES, Settings
from projections.base import Projection, Writer, upsert_add
from readmodels.tables import (
    fact_deals,
    fact_new_customers,
    fact_payments,
    fact_visits,
    stat_customers,
    stat_person_day,
    stat_settings,
)

stats = Projection("stats", [stat_settings, stat_customers, fact_new_customers, fact_visits, fact_deals,
                             fact_payments, stat_person_day])
DIMENSIONS = ("name", "region", "type", "source")


def _zone(w: Writer) -> ZoneInfo:
    if "tz" not in w.cache:
        stored = w.conn.execute(select(w.stat_settings.c.timezone)).scalar()
        w.cache["tz"] = ZoneInfo(stored or DEFAULT_RULES["timezone"])
    zone: ZoneInfo = w.cache["tz"]
    return zone


def business_day(w: Writer, moment: datetime) -> date:
    return moment.astimezone(_zone(w)).date()


def _dimensions(w: Writer, customer_id: str) -> dict[str, Any]:
    row = w.conn.execute(select(w.stat_customers.c.region, w.stat_customers.c.type, w.stat_customers.c.source)
                         .where(w.stat_customers.c.id == customer_id)).first()
    return {"region": row.region, "type": row.type, "source": row.source} if row else {}


def _count(w: Writer, person_id: str | None, day: date, **add: Any) -> None:
    if person_id:
        upsert_add(w, w.stat_person_day, {"person_id": person_id, "day": day}, add)


@stats.on(Settings.Created, Settings.Changed)
def settings_changed(w: Writer, e: Any) -> None:
    timezone = e.rules.get("timezone") or DEFAULT_RULES["timezone"]
    w.conn.execute(w.stat_settings.delete())
    w.conn.execute(w.stat_settings.insert().values(id=1, timezone=timezone))
    w.cache["tz"] = ZoneInfo(timezone)


@stats.on(Customer.Registered)
def registered(w: Writer, e: Customer.Registered) -> None:
    cid = str(e.originator_id)
    dims = {"region": e.fields.get("region"), "type": e.fields.get("type"), "source": e.fields.get("source")}
    w.conn.execute(w.stat_customers.insert().values(id=cid, number=e.number, name=e.name, **dims))
    day = business_day(w, e.created_at)
    person = credited_for_registration(e)
    w.conn.execute(w.fact_new_customers.insert().values(customer_id=cid, person_id=person, day=day, **dims))
    _count(w, person, day, new_customers=1)


def credited_for_registration(e: Customer.Registered) -> str:
    """D-5: the person who registered the customer."""
    return e.actor_id


@stats.on(Customer.InfoChanged)
def info_changed(w: Writer, e: Customer.InfoChanged) -> None:
    values = {c["field"]: c["new"] for c in e.changes if c["field"] in DIMENSIONS}
    if values:
        w.conn.execute(update(w.stat_customers).where(w.stat_customers.c.id == str(e.originator_id))
                       .values(**values))


@stats.on(Customer.VisitRecorded)
def visit_recorded(w: Writer, e: Customer.VisitRecorded) -> None:
    cid = str(e.originator_id)
    day = business_day(w, e.visited_at)
    w.conn.execute(w.fact_visits.insert().values(
        visit_id=e.visit_id, customer_id=cid, person_id=e.actor_id, day=day, visited_at=e.visited_at,
        region=_dimensions(w, cid).get("region"), late_entry=e.late_entry))
    _count(w, e.actor_id, day, visits=1)


@stats.on(Contract.Signed)
def signed(w: Writer, e: Contract.Signed) -> None:
    w.conn.execute(w.fact_deals.insert().values(
        contract_id=str(e.originator_id), customer_id=e.customer_id, person_id=e.salesperson_id,
        day=e.signed_on, amount=e.amount, **_dimensions(w, e.customer_id)))
    _count(w, e.salesperson_id, e.signed_on, deals=1, deal_amount=e.amount)


@stats.on(Customer.PaymentRecorded)
def paid(w: Writer, e: Customer.PaymentRecorded) -> None:
    cid = str(e.originator_id)
    w.conn.execute(w.fact_payments.insert().values(
        payment_id=e.payment_id, customer_id=cid, contract_id=e.contract_id, person_id=e.salesperson_id,
        day=e.received_on, amount=e.amount, region=_dimensions(w, cid).get("region")))
    _count(w, e.salesperson_id, e.received_on, collected_amount=Decimal(e.amount))
