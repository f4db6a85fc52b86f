"""Facts for statistics, targets and work reports (D-5): who is credited, on which business
day, and the customer's region, type and source as they were at that moment; and the same
facts pre-aggregated for the statistical reports (SPEC §10)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from aggregates.contract import Contract
from aggregates.customer import Customer
from aggregates.settings import DEFAULT_RULES, Settings
from projections.definition import Projection
from projections.versions import close_version, record_version
from projections.writer import Writer
from readmodels.tables import (
    agg_customers_now,
    agg_deals_region,
    agg_new_customers,
    agg_person_month,
    agg_product_month,
    agg_returns_region,
    agg_visits_customer,
    agg_visits_customer_total,
    agg_visits_region,
    fact_claims,
    fact_deal_adjustments,
    fact_deals,
    fact_deliveries,
    fact_exchanges,
    fact_info_changes,
    fact_new_customers,
    fact_payments,
    fact_transfers,
    fact_visits,
    stat_contracts,
    stat_customer_versions,
    stat_customers,
    stat_person_day,
    stat_settings,
)

# Version 2: deal amounts net of returns and exchanges' price differences, each in its own
# period (D-2, D-3, S-17 as amended).
# Version 3: the counted keys of each customer as they were (`rm_stat_customer_versions`, the
# S-12..S-16 counts as of a past moment).
stats = Projection("stats", [
    stat_settings, stat_customers, stat_contracts, fact_new_customers, fact_visits, fact_deals,
    fact_deal_adjustments, fact_payments, fact_claims, fact_transfers, fact_info_changes, fact_deliveries,
    fact_exchanges, stat_person_day, agg_person_month, agg_visits_customer, agg_visits_customer_total,
    agg_visits_region, agg_new_customers, agg_deals_region, agg_customers_now, agg_product_month,
    agg_returns_region, stat_customer_versions,
], version=3)
on = stats.on


def _originator(e: Any) -> str:
    return str(e.originator_id)


stats.preload(stat_customers, _originator, Customer.InfoChanged, Customer.Restored, Customer.Claimed,
              Customer.Transferred, Customer.Assigned, Customer.ReturnedToPool, Customer.Deleted,
              Customer.VisitRecorded, Customer.DealRecorded, Customer.PaymentRecorded, Customer.DealAdjusted)
stats.preload(stat_customers, lambda e: e.customer_id, Contract.Signed)
stats.preload(stat_customer_versions, _originator, Customer.Registered, Customer.InfoChanged, Customer.Restored,
              Customer.Claimed, Customer.Transferred, Customer.Assigned, Customer.ReturnedToPool, Customer.Deleted,
              Customer.VisitRecorded, Customer.DealRecorded)
stats.preload(stat_contracts, _originator, Contract.Delivered, Contract.Exchanged, Contract.Returned)
# The customer fields the current-customer counts (S-12..S-16) are kept by.
NOW_KEYS = ("owner_id", "status", "stage", "type", "source")
FIELD_NAMES = {"name": "名称", "type": "类型", "source": "来源", "region": "区域", "address": "地址",
               "building": "楼栋门牌", "lat": "纬度", "lng": "经度", "status": "状态", "stage": "跟进阶段"}


def _zone(w: Writer) -> ZoneInfo:
    if "tz" not in w.cache:
        stored = w.get(w.stat_settings, 1)
        w.cache["tz"] = ZoneInfo(stored["timezone"] if stored else DEFAULT_RULES["timezone"])
    zone: ZoneInfo = w.cache["tz"]
    return zone


def business_day_of(w: Writer, moment: datetime) -> date:
    """The business day of `moment` in the time zone of the settings as the projection has them
    at this event (the write side's `commands.base.business_day` takes the settings themselves)."""
    return moment.astimezone(_zone(w)).date()


def _when(day: date) -> dict[str, Any]:
    return {"day": day, "year": day.year, "month": day.month}


def _key(value: Any) -> str:
    """Aggregate keys cannot be NULL: an empty string stands for "not set"."""
    return "" if value is None else str(value)


def _customer(w: Writer, customer_id: str) -> dict[str, Any]:
    found = w.get(w.stat_customers, customer_id)
    # Every customer event follows its registration; an empty row keeps a damaged store readable.
    return found if found is not None else {"region": None, "type": None, "source": None, "status": "potential"}


def _contract(w: Writer, contract_id: str) -> dict[str, Any]:
    found = w.get(w.stat_contracts, contract_id)
    assert found is not None, f"contract {contract_id} before its signing"
    return found


def _count(w: Writer, person_id: str | None, day: date, **amounts: Any) -> None:
    """Per person: by day (targets, work reports) and by month (reports)."""
    if person_id:
        w.add(w.stat_person_day, {"person_id": person_id, "day": day}, **amounts)
        w.add(w.agg_person_month, {"person_id": person_id, "year": day.year, "month": day.month}, **amounts)


def _now_key(row: dict[str, Any]) -> dict[str, str]:
    return {name: _key(row[name]) for name in NOW_KEYS}


def _change_customer(w: Writer, e: Any, **values: Any) -> None:
    """Change the customer's current fields and move it between the S-12..S-16 counts, and
    keep the counted keys as they were from the event's recorded time on."""
    customer_id = str(e.originator_id)
    row = w.get(w.stat_customers, customer_id)
    if row is None:
        return
    before, was_deleted = _now_key(row), row["deleted"]
    w.set(w.stat_customers, (customer_id,), **values)
    after, is_deleted = _now_key(row), row["deleted"]
    if (before, was_deleted) == (after, is_deleted):
        return
    if not was_deleted:
        w.add(w.agg_customers_now, before, customers=-1)
    if not is_deleted:
        w.add(w.agg_customers_now, after, customers=1)
        record_version(w, w.stat_customer_versions, customer_id, e.originator_version, e.timestamp,
                       customer_id=customer_id, **after)
    else:
        close_version(w, w.stat_customer_versions, customer_id, e.timestamp)


@on(Settings.Created, Settings.Changed)
def settings_changed(w: Writer, e: Any) -> None:
    timezone = e.rules.get("timezone") or DEFAULT_RULES["timezone"]
    w.remove(w.stat_settings, 1)
    w.put(w.stat_settings, id=1, timezone=timezone)
    w.cache["tz"] = ZoneInfo(timezone)


@on(Customer.Registered)
def registered(w: Writer, e: Customer.Registered) -> None:
    cid = str(e.originator_id)
    dims = {"region": e.fields.get("region"), "type": e.fields.get("type"), "source": e.fields.get("source")}
    w.put(w.stat_customers, id=cid, number=e.number, name=e.name, status="potential", stage=e.fields.get("stage"),
          owner_id=e.owner_id, deleted=False, **dims)
    w.add(w.agg_customers_now, _now_key(_customer(w, cid)), customers=1)
    record_version(w, w.stat_customer_versions, cid, e.originator_version, e.timestamp, customer_id=cid,
                   **_now_key(_customer(w, cid)))
    day = business_day_of(w, e.created_at)
    person = e.credited_to  # D-5: the registrant, an import row's owner, nobody for a pool import
    w.append(w.fact_new_customers, customer_id=cid, person_id=person, **_when(day), **dims)
    _count(w, person, day, new_customers=1)
    w.add(w.agg_new_customers, {"person_id": _key(person), "year": day.year, "month": day.month,
                                "region": _key(dims["region"]), "type": _key(dims["type"])}, customers=1)


@on(Customer.InfoChanged, Customer.Restored)
def info_changed(w: Writer, e: Any) -> None:
    cid = str(e.originator_id)
    kept = ("name", "region", "type", "source", "status", "stage")
    values = {c["field"]: c["new"] for c in e.changes if c["field"] in kept}
    if values:
        _change_customer(w, e, **values)
    described = "；".join(f"{FIELD_NAMES.get(c['field'], c['field'])}: {_shown(c['old'])} → {_shown(c['new'])}"
                         for c in e.changes)
    if isinstance(e, Customer.Restored):
        described = f"恢复到版本 {e.version}：{described}"
    # The request date: when the change was asked for (approval), else when it was made.
    day = business_day_of(w, getattr(e, "requested_at", None) or e.timestamp)
    w.append(w.fact_info_changes, id=f"{cid}:{e.originator_version}", customer_id=cid, person_id=e.actor_id,
             at=e.timestamp, description=described, approved_by=getattr(e, "approved_by", None), **_when(day))


def _shown(value: Any) -> str:
    return "（空）" if value in (None, "") else str(value)


@on(Customer.Claimed)
def claimed(w: Writer, e: Customer.Claimed) -> None:
    cid = str(e.originator_id)
    current = _customer(w, cid)
    w.append(w.fact_claims, id=f"{cid}:{e.originator_version}", customer_id=cid, person_id=e.person_id,
             at=e.timestamp, region=current["region"], type=current["type"],
             **_when(business_day_of(w, e.timestamp)))
    _change_customer(w, e, owner_id=e.person_id)


@on(Customer.Transferred)
def transferred(w: Writer, e: Customer.Transferred) -> None:
    cid = str(e.originator_id)
    current = _customer(w, cid)
    w.append(w.fact_transfers, id=f"{cid}:{e.originator_version}", customer_id=cid, person_id=e.to_person_id,
             at=e.timestamp, from_id=e.from_person_id, to_id=e.to_person_id, type=current["type"], reason=e.reason,
             **_when(business_day_of(w, e.timestamp)))
    _change_customer(w, e, owner_id=e.to_person_id)


@on(Customer.Assigned)
def assigned(w: Writer, e: Customer.Assigned) -> None:
    _change_customer(w, e, owner_id=e.to_person_id)


@on(Customer.ReturnedToPool)
def returned_to_pool(w: Writer, e: Customer.ReturnedToPool) -> None:
    _change_customer(w, e, owner_id=None)


@on(Customer.Deleted)
def deleted(w: Writer, e: Customer.Deleted) -> None:
    _change_customer(w, e, deleted=True)


@on(Customer.VisitRecorded)
def visit_recorded(w: Writer, e: Customer.VisitRecorded) -> None:
    cid = str(e.originator_id)
    current = _customer(w, cid)
    day = business_day_of(w, e.visited_at)
    region = e.region or current["region"]  # the region visited; version 1 visits: the customer's then
    w.append(w.fact_visits, visit_id=e.visit_id, customer_id=cid, person_id=e.actor_id, visited_at=e.visited_at,
             region=region, address=e.address, lat=e.lat, lng=e.lng, late_entry=e.late_entry,
             far_from_customer=e.far_from_customer, distance_m=e.distance_m, distance_check=e.distance_check,
             **_when(day))
    _count(w, e.actor_id, day, visits=1)
    w.add(w.agg_visits_customer, {"customer_id": cid, "person_id": e.actor_id, "year": day.year},
          latest={"last_visit_on": day}, visits=1)
    w.add(w.agg_visits_customer_total, {"customer_id": cid, "year": day.year}, latest={"last_visit_on": day},
          visits=1)
    w.add(w.agg_visits_region, {"region": _key(region), "person_id": e.actor_id, "year": day.year,
                                "month": day.month}, latest={"last_visit_on": day}, visits=1)
    changes: dict[str, Any] = {"status": "following"} if current["status"] == "potential" else {}
    if e.stage:
        changes["stage"] = e.stage
    if changes:
        _change_customer(w, e, **changes)


@on(Customer.DealRecorded)
def deal_recorded(w: Writer, e: Customer.DealRecorded) -> None:
    _change_customer(w, e, status="dealt")


@on(Customer.PaymentRecorded)
def paid(w: Writer, e: Customer.PaymentRecorded) -> None:
    cid = str(e.originator_id)
    w.append(w.fact_payments, payment_id=e.payment_id, customer_id=cid, contract_id=e.contract_id,
             person_id=e.salesperson_id, amount=e.amount, region=_customer(w, cid)["region"],
             **_when(e.received_on))
    _count(w, e.salesperson_id, e.received_on, collected_amount=Decimal(e.amount))


@on(Contract.Signed)
def signed(w: Writer, e: Contract.Signed) -> None:
    contract_id, day, person = str(e.originator_id), e.signed_on, e.salesperson_id
    w.put(w.stat_contracts, id=contract_id, customer_id=e.customer_id, number=e.number, name=e.name,
          salesperson_id=person, signed_on=day)
    customer = _customer(w, e.customer_id)
    w.append(w.fact_deals, contract_id=contract_id, customer_id=e.customer_id, person_id=person, amount=e.amount,
             region=customer["region"], type=customer["type"], source=customer["source"], **_when(day))
    _count(w, person, day, deals=1, deal_amount=e.amount)
    w.add(w.agg_deals_region, {"region": _key(customer["region"]), "person_id": _key(person), "year": day.year},
          deals=1, deal_amount=e.amount)
    for line in e.lines:
        w.add(w.agg_product_month, {"product_id": line["product_id"], "person_id": _key(person), "year": day.year,
                                    "month": day.month}, quantity=line["quantity"], amount=line["amount"])


@on(Customer.DealAdjusted)
def deal_adjusted(w: Writer, e: Customer.DealAdjusted) -> None:
    """A return (negative) or an exchange's price difference (signed) counts in the deal
    amounts of its own day, for the contract's salesperson, in the customer's region, type
    and source as they are then (D-5); the number of deals does not change."""
    cid, day, person = str(e.originator_id), e.adjusted_on, e.salesperson_id
    customer = _customer(w, cid)
    w.append(w.fact_deal_adjustments, adjustment_id=e.adjustment_id, contract_id=e.contract_id, customer_id=cid,
             kind=e.kind, amount=e.amount, person_id=person, region=customer["region"], type=customer["type"],
             source=customer["source"], **_when(day))
    _count(w, person, day, deal_amount=e.amount)
    w.add(w.agg_deals_region, {"region": _key(customer["region"]), "person_id": _key(person), "year": day.year},
          deal_amount=e.amount)


def _products_sold(w: Writer, e: Any, day: date, changes: dict[str, list[Decimal]]) -> None:
    """S-17: what returns and exchanges change of the products sold, in their own month."""
    person = _key(_contract(w, str(e.originator_id))["salesperson_id"])
    for product_id, (quantity, amount) in changes.items():
        if quantity or amount:
            w.add(w.agg_product_month, {"product_id": product_id, "person_id": person, "year": day.year,
                                        "month": day.month}, quantity=quantity, amount=amount)


def _goods(w: Writer, e: Any, table: Any, key: str, ref: str, day: date, lines: list[dict[str, Any]]) -> None:
    contract = _contract(w, str(e.originator_id))
    w.append(table, **{key: ref}, contract_id=contract["id"], customer_id=contract["customer_id"],
             person_id=contract["salesperson_id"], quantity=sum((Decimal(line["quantity"]) for line in lines),
                                                                Decimal(0)), **_when(day))


@on(Contract.Delivered)
def delivered(w: Writer, e: Contract.Delivered) -> None:
    _goods(w, e, w.fact_deliveries, "delivery_id", e.delivery_id, e.delivered_on, e.lines)


@on(Contract.Exchanged)
def exchanged(w: Writer, e: Contract.Exchanged) -> None:
    _goods(w, e, w.fact_exchanges, "exchange_id", e.exchange_id, e.exchanged_on, e.lines)
    changes: dict[str, list[Decimal]] = {}
    for line in e.lines:
        back, out = line.get("back_amount"), line.get("out_amount")
        if back is None or out is None:
            continue  # version 1: like for like at the contract price, nothing changes
        quantity = Decimal(line["quantity"])
        for product_id, q, amount in ((line["product_id"], -quantity, -Decimal(back)),
                                      (line.get("out_product_id") or line["product_id"], quantity, Decimal(out))):
            change = changes.setdefault(product_id, [Decimal(0), Decimal(0)])
            change[0] += q
            change[1] += amount
    _products_sold(w, e, e.exchanged_on, changes)


@on(Contract.Returned)
def returned(w: Writer, e: Contract.Returned) -> None:
    contract = _contract(w, str(e.originator_id))
    region = _customer(w, contract["customer_id"])["region"]
    day = e.returned_on
    changes: dict[str, list[Decimal]] = {}
    for line in e.lines:
        change = changes.setdefault(line["product_id"], [Decimal(0), Decimal(0)])
        change[0] -= Decimal(line["quantity"])
        change[1] -= Decimal(line["amount"])
    _products_sold(w, e, day, changes)
    w.add(w.agg_returns_region, {"region": _key(region), "person_id": _key(contract["salesperson_id"]),
                                 "year": day.year, "month": day.month},
          quantity=sum((Decimal(line["quantity"]) for line in e.lines), Decimal(0)),
          amount=sum((Decimal(line["amount"]) for line in e.lines), Decimal(0)))
