"""The 12 query reports (查询报表, Q-1..Q-12, SPEC §10): lists of the facts of the stats
projection (new customers, claims, visits, payments, deals, deliveries, exchanges,
transfers, information changes), of daily work reports, and of current customers (Q-4,
Q-11), which follow the customer lists' visibility (R-2..R-4)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, case, false, func, literal, or_, select, true, type_coerce, union_all
from sqlalchemy.sql import ColumnElement

from readmodels.customers import shared_ids
from readmodels.i18n import N_, gettext
from readmodels.org import managed_people
from readmodels.reports.past import customers_at
from readmodels.reports.registry import Query, report
from readmodels.tables import (
    customers,
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
    people,
    stat_contracts,
    stat_customers,
    work_reports,
)
from readmodels.tables.handoff import handoff_done, handoff_requests
from readmodels.types import Money


def _names(alias: str) -> tuple[Any, Any]:
    """A people alias to outer-join for a person id column, and its name column."""
    p = people.alias(alias)
    return p, p.c.name


CUSTOMER = (("customer_id", "客户ID", "id"), ("customer_number", "客户编号"), ("customer_name", "客户名称"))


@report("Q-1", "客户新增查询", "query", (*CUSTOMER, ("type", "客户类型"), ("source", "客户来源"),
                                        ("region", "所属区域"), ("created_on", "新增日期", "date"),
                                        ("person_id", "登记人ID", "id"), ("person_name", "登记人")),
        period="query", sort="-created_on", filters=("region", "type", "source", "person_id", "q"))
def q1(q: Query) -> Select[Any]:
    f, c = fact_new_customers, stat_customers
    p, name = _names("p")
    statement = (select(f.c.customer_id, c.c.number.label("customer_number"), c.c.name.label("customer_name"),
                        f.c.type, f.c.source, f.c.region, f.c.day.label("created_on"), f.c.person_id,
                        name.label("person_name"))
                 .select_from(f.join(c, c.c.id == f.c.customer_id).outerjoin(p, p.c.id == f.c.person_id))
                 .where(q.in_period(f), q.in_people(f.c.person_id)))
    return q.filtered(statement, region=f.c.region, type=f.c.type, source=f.c.source, person_id=f.c.person_id,
                      q=c.c.name)


@report("Q-2", "客户申领查询", "query", (*CUSTOMER, ("type", "客户类型"), ("status", "客户状态"),
                                        ("claimed_on", "申领日期", "date"), ("owner_id", "业务员ID", "id"),
                                        ("owner_name", "销售经理"), ("region", "所属区域")),
        period="query", sort="-claimed_on", filters=("region", "type", "status", "person_id", "q"))
def q2(q: Query) -> Select[Any]:
    f, c = fact_claims, stat_customers
    p, name = _names("p")
    statement = (select(f.c.customer_id, c.c.number.label("customer_number"), c.c.name.label("customer_name"),
                        f.c.type, c.c.status, f.c.day.label("claimed_on"), f.c.person_id.label("owner_id"),
                        name.label("owner_name"), f.c.region)
                 .select_from(f.join(c, c.c.id == f.c.customer_id).outerjoin(p, p.c.id == f.c.person_id))
                 .where(q.in_period(f), q.in_people(f.c.person_id)))
    return q.filtered(statement, region=f.c.region, type=f.c.type, status=c.c.status, person_id=f.c.person_id,
                      q=c.c.name)


# What a visit's distance check found (aggregates.visit_evidence), in words for the table.
DISTANCE_NOTES = {"checked": N_("已核验"), "no_photo": N_("无照片，未核验"),
                  "no_photo_gps": N_("照片无定位，未核验"), "no_customer_location": N_("客户无位置，未核验"),
                  "unchecked": N_("早期记录，未核验")}


@report("Q-3", "客户拜访查询", "query", (("visit_id", "拜访ID", "id"), *CUSTOMER,
                                        ("visited_at", "拜访时间", "datetime"), ("visitor_id", "拜访人ID", "id"),
                                        ("visitor_name", "拜访人"), ("region", "所属区域"),
                                        ("address", "拜访地点"), ("lat", "纬度"), ("lng", "经度"),
                                        ("late_entry", "补录", "bool"),
                                        ("far_from_customer", "远离客户", "bool"),
                                        ("distance_m", "距客户(米)", "metres"),  # null when not checked
                                        ("distance_check", "距离核验"), ("distance_note", "距离核验说明")),
        period="query", sort="-visited_at",
        filters=("region", "person_id", "late_entry", "far_from_customer", "distance_check", "q"))
def q3(q: Query) -> Select[Any]:
    """Seed 000 §2: each visit with its late-entry and far-from-customer flags and what its
    distance check found; the place is the visit's address, or the customer's when the visit
    has none (visits recorded before addresses were taken from the customer)."""
    f, c = fact_visits, stat_customers
    p, name = _names("p")
    note = case(*((f.c.distance_check == code, gettext(words)) for code, words in DISTANCE_NOTES.items()),
                else_=f.c.distance_check)
    statement = (select(f.c.visit_id, f.c.customer_id, c.c.number.label("customer_number"),
                        c.c.name.label("customer_name"), f.c.visited_at, f.c.person_id.label("visitor_id"),
                        name.label("visitor_name"), f.c.region,
                        func.coalesce(f.c.address, customers.c.address).label("address"), f.c.lat, f.c.lng,
                        f.c.late_entry, f.c.far_from_customer, f.c.distance_m, f.c.distance_check,
                        note.label("distance_note"))
                 .select_from(f.join(c, c.c.id == f.c.customer_id).outerjoin(p, p.c.id == f.c.person_id)
                              .outerjoin(customers, customers.c.id == f.c.customer_id))
                 .where(q.in_period(f), q.in_people(f.c.person_id)))
    return q.filtered(statement, region=f.c.region, person_id=f.c.person_id, late_entry=f.c.late_entry,
                      far_from_customer=f.c.far_from_customer, distance_check=f.c.distance_check, q=c.c.name)


def _registered_in(q: Query, c: Any) -> ColumnElement[bool]:
    """The current customers registered in the request's range of days, when it gives one: by
    their registration's business day (Q-1's new-customer fact), so a customer registered at
    17:00 UTC on the last of February counts on the first of March in Shanghai."""
    if q.period is None or not q.period.ranged:
        return true()
    f = fact_new_customers
    return c.c.id.in_(select(f.c.customer_id).where(q.in_period(f)))


def _visible_customers(q: Query, customers: Any) -> ColumnElement[bool]:
    """Current customers one may read in full (R-2..R-4): owned, shared, a manager's team. Over
    the customers as they were (`as_of`), the viewer's team and shares are today's."""
    viewer = q.viewer
    if viewer.sees_everything:
        return customers.c.deleted == false()
    team = {viewer.person_id} | (managed_people(q.conn, viewer) if viewer.is_manager else set())
    # The ids shared with the viewer, looked up once: a per-row EXISTS beside the owner
    # test made the database probe the shares for every customer it scanned.
    # By name or through the viewer's department (seed 002 §2.2.5).
    shared = sorted(shared_ids(q.conn, viewer))
    seen = customers.c.owner_id.in_(team)
    return and_(customers.c.deleted == false(), or_(seen, customers.c.id.in_(shared)) if shared else seen)


@report("Q-4", "客户位置信息", "query", (*CUSTOMER, ("address", "地址"), ("building", "楼栋门牌"),
                                        ("primary_contact", "主要联系人"), ("phone", "联系电话"),
                                        ("region", "所属区域"), ("lat", "纬度"), ("lng", "经度")),
        period=None, sort="customer_number", filters=("region", "type", "person_id", "q"), audience="customers",
        past=True)
def q4(q: Query) -> Select[Any]:
    c = customers_at(q)
    statement = select(c.c.id.label("customer_id"), c.c.number.label("customer_number"),
                       c.c.name.label("customer_name"), c.c.address, c.c.building,
                       c.c.primary_contact_name.label("primary_contact"), c.c.primary_contact_phone.label("phone"),
                       c.c.region, c.c.lat, c.c.lng).where(_visible_customers(q, c), _registered_in(q, c))
    return q.filtered(statement, region=c.c.region, type=c.c.type, person_id=c.c.owner_id, q=c.c.name)


@report("Q-5", "客户回款查询", "query", (("payment_id", "回款ID", "id"), *CUSTOMER,
                                        ("received_on", "回款日期", "date"), ("amount", "回款金额", "money"),
                                        ("region", "所属区域"), ("person_id", "业务员ID", "id"),
                                        ("person_name", "销售经理"), ("contract_number", "合同编号")),
        period="query", sort="-received_on", filters=("region", "person_id", "q"))
def q5(q: Query) -> Select[Any]:
    f, c, k = fact_payments, stat_customers, stat_contracts
    p, name = _names("p")
    statement = (select(f.c.payment_id, f.c.customer_id, c.c.number.label("customer_number"),
                        c.c.name.label("customer_name"), f.c.day.label("received_on"), f.c.amount, f.c.region,
                        f.c.person_id, name.label("person_name"), k.c.number.label("contract_number"))
                 .select_from(f.join(c, c.c.id == f.c.customer_id).outerjoin(p, p.c.id == f.c.person_id)
                              .outerjoin(k, k.c.id == f.c.contract_id))
                 .where(q.in_period(f), q.in_people(f.c.person_id)))
    return q.filtered(statement, region=f.c.region, person_id=f.c.person_id, q=c.c.name)


def _no_money() -> Any:
    return literal(Decimal(0), Money())


def _deal_facts_in(q: Query) -> Any:
    """Q-6's facts in the period: the deals signed in it (their amount) and the returns and
    exchange price differences in it on any deal (D-2, D-3 as amended), each with the
    customer's region, type and source when it happened, filtered like the deals."""
    d, a = fact_deals, fact_deal_adjustments
    keys = ("contract_id", "customer_id", "person_id", "region", "type", "source", "day", "year", "month")
    facts = union_all(
        select(*(d.c[k] for k in keys), d.c.amount.label("amount"), _no_money().label("returned_amount"),
               _no_money().label("exchange_difference")),
        select(*(a.c[k] for k in keys), _no_money().label("amount"),
               case((a.c.kind == "return", -a.c.amount), else_=_no_money()).label("returned_amount"),
               case((a.c.kind == "exchange", a.c.amount), else_=_no_money()).label("exchange_difference")),
    ).subquery()
    picked = select(facts).where(q.in_period(facts), q.in_people(facts.c.person_id))
    return q.filtered(picked, region=facts.c.region, type=facts.c.type, source=facts.c.source,
                      person_id=facts.c.person_id).subquery()


@report("Q-6", "客户成交查询", "query", (("contract_id", "合同ID", "id"), *CUSTOMER,
                                        ("signed_on", "成交日期", "date"), ("amount", "成交金额", "money"),
                                        ("returned_amount", "退货金额", "money"),
                                        ("exchange_difference", "换货差价", "money"),
                                        ("net_amount", "净成交金额", "money"),
                                        ("owner_id", "业务员ID", "id"), ("owner_name", "销售经理"),
                                        ("region", "所属区域"), ("contract_number", "合同编号"),
                                        ("contract_name", "合同名称")),
        period="query", sort="-signed_on", filters=("region", "type", "source", "person_id", "q"))
def q6(q: Query) -> Select[Any]:
    """One row per deal (and region) with facts in the period: its amount when it was signed in
    the period (else 0), the returns and exchange differences on it in the period, and the net
    of these, so the rows add up to S-6..S-11's deal amounts for the same people, period and
    region. A deal signed earlier shows with its own deal date when it had a return in the
    period; a customer who moved region between deal and return shows a row per region."""
    f, c, k = _deal_facts_in(q), stat_customers, stat_contracts
    p, name = _names("p")
    sums = (select(f.c.contract_id, f.c.customer_id, f.c.person_id, f.c.region,
                   func.sum(f.c.amount).label("amount"), func.sum(f.c.returned_amount).label("returned_amount"),
                   func.sum(f.c.exchange_difference).label("exchange_difference"))
            .group_by(f.c.contract_id, f.c.customer_id, f.c.person_id, f.c.region).subquery())
    statement = (select(sums.c.contract_id, sums.c.customer_id, c.c.number.label("customer_number"),
                        c.c.name.label("customer_name"), k.c.signed_on, sums.c.amount, sums.c.returned_amount,
                        sums.c.exchange_difference,
                        type_coerce(sums.c.amount - sums.c.returned_amount + sums.c.exchange_difference,
                                    Money()).label("net_amount"),
                        sums.c.person_id.label("owner_id"), name.label("owner_name"), sums.c.region,
                        k.c.number.label("contract_number"), k.c.name.label("contract_name"))
                 .select_from(sums.join(c, c.c.id == sums.c.customer_id).join(k, k.c.id == sums.c.contract_id)
                              .outerjoin(p, p.c.id == sums.c.person_id)))
    return q.filtered(statement, q=c.c.name)


def _goods_query(q: Query, f: Any, key: str, day: str) -> Select[Any]:
    c, k = stat_customers, stat_contracts
    statement = (select(f.c[key], f.c.customer_id, c.c.number.label("customer_number"),
                        c.c.name.label("customer_name"), f.c.day.label(day), k.c.id.label("contract_id"),
                        k.c.name.label("contract_name"), k.c.number.label("contract_number"), f.c.quantity)
                 .select_from(f.join(c, c.c.id == f.c.customer_id).join(k, k.c.id == f.c.contract_id))
                 .where(q.in_period(f), q.in_people(f.c.person_id)))
    return q.filtered(statement, person_id=f.c.person_id, q=c.c.name)


GOODS = (("contract_id", "合同ID", "id"), ("contract_name", "合同名称"), ("contract_number", "合同编号"),
         ("quantity", "数量", "quantity"))


@report("Q-7", "销售交付查询", "query", (("delivery_id", "交付ID", "id"), *CUSTOMER,
                                        ("delivered_on", "交付日期", "date"), *GOODS,
                                        ("request_id", "发货通知ID", "id"), ("request_number", "发货通知单号")),
        period="query", sort="-delivered_on", filters=("person_id", "q"), audience="goods")
def q7(q: Query) -> Select[Any]:
    """Each delivery with the delivery notice (发货通知) it carried out, if any (seed 000 §5.6.1)."""
    done, request = handoff_done, handoff_requests
    return (_goods_query(q, fact_deliveries, "delivery_id", "delivered_on")
            .outerjoin(done, done.c.done_id == fact_deliveries.c.delivery_id)
            .outerjoin(request, request.c.id == done.c.request_id)
            .add_columns(request.c.id.label("request_id"), request.c.number.label("request_number")))


@report("Q-8", "销售换货查询", "query", (("exchange_id", "换货ID", "id"), *CUSTOMER,
                                        ("exchanged_on", "换货日期", "date"), *GOODS),
        period="query", sort="-exchanged_on", filters=("person_id", "q"), audience="goods")
def q8(q: Query) -> Select[Any]:
    return _goods_query(q, fact_exchanges, "exchange_id", "exchanged_on")


@report("Q-9", "客户转交查询", "query", (*CUSTOMER, ("type", "客户类型"), ("status", "客户状态"),
                                        ("transferred_on", "转交日期", "date"), ("from_id", "转出人ID", "id"),
                                        ("from_name", "转出人"), ("to_id", "接收人ID", "id"),
                                        ("to_name", "接收人"), ("reason", "转交原因")),
        period="query", sort="-transferred_on", filters=("type", "status", "person_id", "q"))
def q9(q: Query) -> Select[Any]:
    f, c = fact_transfers, stat_customers
    giver, giver_name = _names("giver")
    taker, taker_name = _names("taker")
    seen = true() if q.people is None else or_(f.c.from_id.in_(q.people), f.c.to_id.in_(q.people))
    statement = (select(f.c.customer_id, c.c.number.label("customer_number"), c.c.name.label("customer_name"),
                        f.c.type, c.c.status, f.c.day.label("transferred_on"), f.c.from_id,
                        giver_name.label("from_name"), f.c.to_id, taker_name.label("to_name"), f.c.reason)
                 .select_from(f.join(c, c.c.id == f.c.customer_id).outerjoin(giver, giver.c.id == f.c.from_id)
                              .outerjoin(taker, taker.c.id == f.c.to_id))
                 .where(q.in_period(f), seen))
    person = q.params.get("person_id")
    if person:
        statement = statement.where(or_(f.c.from_id == person, f.c.to_id == person))
    return q.filtered(statement, type=f.c.type, status=c.c.status, q=c.c.name)


@report("Q-10", "销售日报查询", "query", (("report_id", "日报ID", "id"), ("report_date", "日报日期", "date"),
                                         ("person_id", "业务员ID", "id"), ("person_name", "业务员"),
                                         ("summary", "工作总结"), ("plan", "工作计划"),
                                         ("new_customers", "新增客户", "int"), ("visits", "拜访", "int"),
                                         ("deals", "成交笔数", "int"), ("deal_amount", "成交金额", "money"),
                                         ("collected_amount", "回款金额", "money")),
        period="query", sort="-report_date", filters=("person_id", "q"))
def q10(q: Query) -> Select[Any]:
    r = work_reports
    p, name = _names("p")
    assert q.period is not None
    statement = (select(r.c.id.label("report_id"), r.c.starts_on.label("report_date"), r.c.person_id,
                        name.label("person_name"), r.c.summary, r.c.plan, r.c.new_customers, r.c.visits,
                        r.c.deals, r.c.deal_amount, r.c.collected_amount)
                 .select_from(r.outerjoin(p, p.c.id == r.c.person_id))
                 .where(r.c.kind == "daily", r.c.starts_on >= q.period.start, r.c.starts_on <= q.period.end,
                        q.in_people(r.c.person_id)))
    return q.filtered(statement, person_id=r.c.person_id, q=r.c.summary)


@report("Q-11", "客户信息查询", "query", (*CUSTOMER, ("type", "客户类型"), ("status", "客户状态"),
                                         ("region", "所属区域"), ("owner_id", "业务员ID", "id"),
                                         ("owner_name", "销售经理"), ("visit_count", "拜访次数", "int")),
        period=None, sort="customer_number", filters=("region", "type", "source", "status", "stage", "person_id",
                                                      "q"), audience="customers", past=True)
def q11(q: Query) -> Select[Any]:
    c = customers_at(q)
    p, name = _names("p")
    statement = (select(c.c.id.label("customer_id"), c.c.number.label("customer_number"),
                        c.c.name.label("customer_name"), c.c.type, c.c.status, c.c.region, c.c.owner_id,
                        name.label("owner_name"), c.c.visit_count)
                 .select_from(c.outerjoin(p, p.c.id == c.c.owner_id)).where(_visible_customers(q, c),
                                                                             _registered_in(q, c)))
    return q.filtered(statement, region=c.c.region, type=c.c.type, source=c.c.source, status=c.c.status,
                      stage=c.c.stage, person_id=c.c.owner_id, q=c.c.name)


@report("Q-12", "信息变更查询", "query", (("change_id", "变更ID", "id"), *CUSTOMER,
                                         ("requested_on", "申请日期", "date"), ("requester_id", "申请人ID", "id"),
                                         ("requester_name", "申请人"), ("description", "变更说明"),
                                         ("approver_name", "审批人")),
        period="query", sort="-requested_on", filters=("person_id", "q"))
def q12(q: Query) -> Select[Any]:
    f, c = fact_info_changes, stat_customers
    p, name = _names("p")
    a, approver = _names("a")
    statement = (select(f.c.id.label("change_id"), f.c.customer_id, c.c.number.label("customer_number"),
                        c.c.name.label("customer_name"), f.c.day.label("requested_on"),
                        f.c.person_id.label("requester_id"), name.label("requester_name"), f.c.description,
                        approver.label("approver_name"))
                 .select_from(f.join(c, c.c.id == f.c.customer_id).outerjoin(p, p.c.id == f.c.person_id)
                              .outerjoin(a, a.c.id == f.c.approved_by))
                 .where(q.in_period(f), q.in_people(f.c.person_id)))
    return q.filtered(statement, person_id=f.c.person_id, q=c.c.name)
