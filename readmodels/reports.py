"""The 12 query reports and 19 statistical reports (SPEC §10), each one SQL query over the
facts and pre-aggregated tables of the stats projection (or another read model for current
state), with the visibility rules R-7, filters, sorting and paging applied in SQL.

Visibility: facts belong to the person they are credited to (D-5): admins and auditors see
everybody's, managers their subtree's and their own, other people their own; warehouse
keepers see every goods movement and stock. Reports over current customers follow the
customer lists: the owners one may see, plus the pool, whose counted fields are public (R-3).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, case, false, func, literal, or_, select, true
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

from aggregates.base import Forbidden, Invalid, NotFound
from aggregates.settings import type_with_subtypes
from commands.actor import Actor
from readmodels.customers import like_pattern, utc
from readmodels.org import managed_people, visible_people
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
    customer_shares,
    customers,
    fact_claims,
    fact_deals,
    fact_deliveries,
    fact_exchanges,
    fact_info_changes,
    fact_new_customers,
    fact_payments,
    fact_transfers,
    fact_visits,
    people,
    products,
    stat_contracts,
    stat_customers,
    stock,
    work_reports,
)

MONTHS = tuple(f"m{m:02d}" for m in range(1, 13))
FOUR = Decimal("0.0001")
EXPORT_LIMIT = 200_000
# Columns whose empty-string aggregate key means "not set".
DIMENSIONS = ("region", "type", "source", "stage", "status")


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: str = "text"  # text, id, int, money, quantity, share, date, datetime, bool, month

    @property
    def exported(self) -> bool:
        return self.kind != "id"


@dataclass(frozen=True)
class Period:
    year: int
    month: int | None

    @property
    def start(self) -> date:
        return date(self.year, self.month or 1, 1)

    @property
    def end(self) -> date:
        month = self.month or 12
        return date(self.year, month, calendar.monthrange(self.year, month)[1])

    def as_dict(self) -> dict[str, Any]:
        return {"year": self.year, "month": self.month, "start": self.start, "end": self.end}


@dataclass
class Query:
    """One request for a report: who asks, for which period, with which filters."""

    conn: Connection
    viewer: Actor
    period: Period | None
    params: dict[str, Any]
    people: set[str] | None  # whose facts may be shown; None: everybody's
    type_tree: list[dict[str, Any]]

    def in_people(self, column: Any) -> ColumnElement[bool]:
        return true() if self.people is None else column.in_(self.people)

    def in_period(self, table: Any) -> ColumnElement[bool]:
        assert self.period is not None
        condition = table.c.year == self.period.year
        if self.period.month is not None:
            condition = and_(condition, table.c.month == self.period.month)
        return condition

    def filtered(self, statement: Select[Any], **columns: Any) -> Select[Any]:
        """Apply the request's filters that this report offers, each to its column."""
        for name, column in columns.items():
            value = self.params.get(name)
            if value in (None, ""):
                continue
            if name == "q":
                statement = statement.where(func.lower(column).like(like_pattern(str(value).strip()), escape="\\"))
            elif name == "type":
                statement = statement.where(column.in_(type_with_subtypes(self.type_tree, value) or [value]))
            else:
                statement = statement.where(column == value)
        return statement


@dataclass(frozen=True)
class Report:
    id: str
    title: str
    kind: str  # query or stat
    columns: tuple[Column, ...]
    build: Callable[[Query], Select[Any]]
    period: str | None  # year, month, query (a month, or a year without month), or None (current state)
    sort: str
    filters: tuple[str, ...] = ()
    audience: str = "people"  # people, goods, customers, everyone
    mine: bool = False
    chart: str | None = None
    share_of: str | None = None  # the column a `share` column divides by its total
    make_chart: Callable[[list[dict[str, Any]]], dict[str, Any]] | None = field(default=None, compare=False)

    def catalogue_entry(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "kind": self.kind, "chart": self.chart}


REPORTS: dict[str, Report] = {}


def report(id: str, title: str, kind: str, columns: Iterable[tuple[str, str] | tuple[str, str, str]], *,
           period: str | None, sort: str, **options: Any) -> Callable[[Callable[[Query], Select[Any]]], Any]:
    def register(build: Callable[[Query], Select[Any]]) -> Callable[[Query], Select[Any]]:
        REPORTS[id] = Report(id=id, title=title, kind=kind, columns=tuple(Column(*c) for c in columns),
                             build=build, period=period, sort=sort, **options)
        return build

    return register


def _names(alias: str) -> tuple[Any, Any]:
    """A people alias to outer-join for a person id column, and its name column."""
    p = people.alias(alias)
    return p, p.c.name


# ---- query reports (查询报表) -------------------------------------------------------------------

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


@report("Q-3", "客户拜访查询", "query", (("visit_id", "拜访ID", "id"), *CUSTOMER,
                                        ("visited_at", "拜访时间", "datetime"), ("visitor_id", "拜访人ID", "id"),
                                        ("visitor_name", "拜访人"), ("address", "拜访地点"), ("lat", "纬度"),
                                        ("lng", "经度"), ("late_entry", "补录", "bool")),
        period="query", sort="-visited_at", filters=("region", "person_id", "late_entry", "q"))
def q3(q: Query) -> Select[Any]:
    f, c = fact_visits, stat_customers
    p, name = _names("p")
    statement = (select(f.c.visit_id, f.c.customer_id, c.c.number.label("customer_number"),
                        c.c.name.label("customer_name"), f.c.visited_at, f.c.person_id.label("visitor_id"),
                        name.label("visitor_name"), f.c.address, f.c.lat, f.c.lng, f.c.late_entry)
                 .select_from(f.join(c, c.c.id == f.c.customer_id).outerjoin(p, p.c.id == f.c.person_id))
                 .where(q.in_period(f), q.in_people(f.c.person_id)))
    return q.filtered(statement, region=f.c.region, person_id=f.c.person_id, late_entry=f.c.late_entry,
                      q=c.c.name)


def _visible_customers(q: Query) -> ColumnElement[bool]:
    """Current customers one may read in full (R-2..R-4): owned, shared, a manager's team."""
    viewer = q.viewer
    if viewer.sees_everything:
        return customers.c.deleted == false()
    team = {viewer.person_id} | (managed_people(q.conn, viewer) if viewer.is_manager else set())
    # The ids shared with the viewer, looked up once: a per-row EXISTS beside the owner
    # test made the database probe the shares for every customer it scanned.
    shared = sorted({str(c) for c in q.conn.execute(
        select(customer_shares.c.customer_id).where(customer_shares.c.person_id == viewer.person_id)).scalars()})
    seen = customers.c.owner_id.in_(team)
    return and_(customers.c.deleted == false(), or_(seen, customers.c.id.in_(shared)) if shared else seen)


@report("Q-4", "客户位置信息", "query", (*CUSTOMER, ("address", "地址"), ("building", "楼栋门牌"),
                                        ("primary_contact", "主要联系人"), ("phone", "联系电话"),
                                        ("region", "所属区域"), ("lat", "纬度"), ("lng", "经度")),
        period=None, sort="customer_number", filters=("region", "type", "person_id", "q"), audience="customers")
def q4(q: Query) -> Select[Any]:
    c = customers
    statement = select(c.c.id.label("customer_id"), c.c.number.label("customer_number"),
                       c.c.name.label("customer_name"), c.c.address, c.c.building,
                       c.c.primary_contact_name.label("primary_contact"), c.c.primary_contact_phone.label("phone"),
                       c.c.region, c.c.lat, c.c.lng).where(_visible_customers(q))
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


@report("Q-6", "客户成交查询", "query", (("contract_id", "合同ID", "id"), *CUSTOMER,
                                        ("signed_on", "成交日期", "date"), ("amount", "成交金额", "money"),
                                        ("owner_id", "业务员ID", "id"), ("owner_name", "销售经理"),
                                        ("region", "所属区域"), ("contract_number", "合同编号"),
                                        ("contract_name", "合同名称")),
        period="query", sort="-signed_on", filters=("region", "type", "source", "person_id", "q"))
def q6(q: Query) -> Select[Any]:
    f, c, k = fact_deals, stat_customers, stat_contracts
    p, name = _names("p")
    statement = (select(f.c.contract_id, f.c.customer_id, c.c.number.label("customer_number"),
                        c.c.name.label("customer_name"), f.c.day.label("signed_on"), f.c.amount,
                        f.c.person_id.label("owner_id"), name.label("owner_name"), f.c.region,
                        k.c.number.label("contract_number"), k.c.name.label("contract_name"))
                 .select_from(f.join(c, c.c.id == f.c.customer_id).join(k, k.c.id == f.c.contract_id)
                              .outerjoin(p, p.c.id == f.c.person_id))
                 .where(q.in_period(f), q.in_people(f.c.person_id)))
    return q.filtered(statement, region=f.c.region, type=f.c.type, source=f.c.source, person_id=f.c.person_id,
                      q=c.c.name)


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
                                        ("delivered_on", "交付日期", "date"), *GOODS),
        period="query", sort="-delivered_on", filters=("person_id", "q"), audience="goods")
def q7(q: Query) -> Select[Any]:
    return _goods_query(q, fact_deliveries, "delivery_id", "delivered_on")


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
                                                      "q"), audience="customers")
def q11(q: Query) -> Select[Any]:
    c = customers
    p, name = _names("p")
    statement = (select(c.c.id.label("customer_id"), c.c.number.label("customer_number"),
                        c.c.name.label("customer_name"), c.c.type, c.c.status, c.c.region, c.c.owner_id,
                        name.label("owner_name"), c.c.visit_count)
                 .select_from(c.outerjoin(p, p.c.id == c.c.owner_id)).where(_visible_customers(q)))
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


# ---- statistical reports (统计报表) -------------------------------------------------------------

def _visits_per_customer(q: Query) -> Select[Any]:
    c = stat_customers
    if q.people is None and not q.params.get("person_id"):
        # Everybody's visits: the per-customer totals, no grouping at request time.
        t = agg_visits_customer_total
        statement = (select(t.c.customer_id, c.c.name.label("customer_name"), t.c.visits, t.c.last_visit_on)
                     .select_from(t.join(c, c.c.id == t.c.customer_id)).where(t.c.year == _year(q)))
        return q.filtered(statement, q=c.c.name, region=c.c.region)
    a = agg_visits_customer
    statement = (select(a.c.customer_id, c.c.name.label("customer_name"), func.sum(a.c.visits).label("visits"),
                        func.max(a.c.last_visit_on).label("last_visit_on"))
                 .select_from(a.join(c, c.c.id == a.c.customer_id))
                 .where(a.c.year == _year(q), q.in_people(a.c.person_id)))
    return (q.filtered(statement, q=c.c.name, region=c.c.region, person_id=a.c.person_id)
            .group_by(a.c.customer_id, c.c.name))


VISITS_PER_CUSTOMER = (("customer_id", "客户ID", "id"), ("customer_name", "客户名称"),
                       ("visits", "拜访次数", "int"), ("last_visit_on", "最近拜访日期", "date"))


@report("S-1", "本年客户拜访统计", "stat", VISITS_PER_CUSTOMER, period="year", sort="-visits",
        filters=("person_id", "region", "q"))
def s1(q: Query) -> Select[Any]:
    return _visits_per_customer(q)


@report("S-2", "我的本年客户拜访统计", "stat", VISITS_PER_CUSTOMER, period="year", sort="-visits",
        filters=("region", "q"), mine=True)
def s2(q: Query) -> Select[Any]:
    return _visits_per_customer(q)


@report("S-3", "本月区域拜访统计", "stat", (("region", "区域"), ("visits", "拜访次数", "int"),
                                           ("last_visit_on", "最近拜访日期", "date")),
        period="month", sort="region", filters=("person_id",))
def s3(q: Query) -> Select[Any]:
    a = agg_visits_region
    statement = (select(a.c.region, func.sum(a.c.visits).label("visits"),
                        func.max(a.c.last_visit_on).label("last_visit_on"))
                 .where(q.in_period(a), q.in_people(a.c.person_id)))
    return q.filtered(statement, person_id=a.c.person_id).group_by(a.c.region)


def _pivot(month: Any, value: Any) -> list[Any]:
    """m01 … m12 and total: the value summed per month of the year."""
    return [*(func.sum(case((month == m, value), else_=0)).label(MONTHS[m - 1]) for m in range(1, 13)),
            func.sum(value).label("total")]


def _month_columns(kind: str) -> tuple[tuple[str, str, str], ...]:
    return (*((key, f"{n}月", kind) for n, key in enumerate(MONTHS, 1)), ("total", "合计", kind))


@report("S-4", "本年区域客户新增统计", "stat", (("region", "区域"), *_month_columns("int")), period="year",
        sort="region", filters=("person_id", "type"))
def s4(q: Query) -> Select[Any]:
    a = agg_new_customers
    statement = select(a.c.region, *_pivot(a.c.month, a.c.customers)).where(a.c.year == _year(q),
                                                                           q.in_people(a.c.person_id))
    return q.filtered(statement, person_id=a.c.person_id, type=a.c.type).group_by(a.c.region)


@report("S-5", "我的本年客户新增统计（按类型）", "stat", (("type", "客户类型"), *_month_columns("int")),
        period="year", sort="type", filters=("region",), mine=True)
def s5(q: Query) -> Select[Any]:
    a = agg_new_customers
    statement = select(a.c.type, *_pivot(a.c.month, a.c.customers)).where(a.c.year == _year(q),
                                                                         q.in_people(a.c.person_id))
    return q.filtered(statement, region=a.c.region).group_by(a.c.type)


def _per_person(q: Query, figures: Callable[[Any], list[Any]], zero: Callable[[Any], list[Any]]) -> Select[Any]:
    """One row per visible salesperson (and anyone else credited in the period), zeros included."""
    a = agg_person_month
    sums = (select(a.c.person_id, *figures(a)).where(q.in_period(a), q.in_people(a.c.person_id))
            .group_by(a.c.person_id).subquery())
    statement = (select(people.c.id.label("person_id"), people.c.name.label("person_name"), *zero(sums))
                 .select_from(people.outerjoin(sums, sums.c.person_id == people.c.id))
                 .where(or_(people.c.is_salesperson, sums.c.person_id.is_not(None)), q.in_people(people.c.id)))
    return q.filtered(statement, person_id=people.c.id)


PERSON = (("person_id", "业务员ID", "id"), ("person_name", "业务员"))
MONTH_FIGURES = ("new_customers", "visits", "deals", "deal_amount", "collected_amount")
MONTH_COLUMNS = (("new_customers", "新增客户", "int"), ("visits", "拜访次数", "int"), ("deals", "成交笔数", "int"),
                 ("deal_amount", "成交金额", "money"), ("collected_amount", "回款金额", "money"))


def _month_figures(q: Query) -> Select[Any]:
    return _per_person(q, lambda a: [func.sum(a.c[f]).label(f) for f in MONTH_FIGURES],
                       lambda s: [func.coalesce(s.c[f], 0).label(f) for f in MONTH_FIGURES])


@report("S-6", "本月业务员业绩统计", "stat", (*PERSON, *MONTH_COLUMNS), period="month", sort="-deal_amount",
        filters=("person_id",))
def s6(q: Query) -> Select[Any]:
    return _month_figures(q)


@report("S-7", "我的本月业绩统计", "stat", (*PERSON, *MONTH_COLUMNS), period="month", sort="-deal_amount",
        mine=True)
def s7(q: Query) -> Select[Any]:
    return _month_figures(q)


def _line_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "line", "x": [f"{n}月" for n in range(1, 13)],
            "series": [{"name": row["person_name"], "data": [row[m] for m in MONTHS]} for row in rows]}


@report("S-8", "本年业务员月度成交金额", "stat", (*PERSON, *_month_columns("money")), period="year",
        sort="-total", filters=("person_id",), chart="line", make_chart=_line_chart)
def s8(q: Query) -> Select[Any]:
    return _per_person(q, lambda a: _pivot(a.c.month, a.c.deal_amount),
                       lambda s: [func.coalesce(s.c[k], 0).label(k) for k in (*MONTHS, "total")])


@report("S-9", "本月业务员成交金额", "stat", (*PERSON, ("deal_amount", "成交金额", "money")), period="month",
        sort="-deal_amount", filters=("person_id",))
def s9(q: Query) -> Select[Any]:
    return _per_person(q, lambda a: [func.sum(a.c.deal_amount).label("deal_amount")],
                       lambda s: [func.coalesce(s.c.deal_amount, 0).label("deal_amount")])


def _bar_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    regions = sorted({row["region"] or "" for row in rows})
    names = sorted({(row["person_name"] or "", row["person_id"]) for row in rows})
    amounts = {(row["region"] or "", row["person_id"]): row["deal_amount"] for row in rows}
    return {"type": "bar", "x": [r or "（未填）" for r in regions],
            "series": [{"name": name, "data": [amounts.get((r, pid), "0.00") for r in regions]}
                       for name, pid in names]}


@report("S-10", "本年区域业务员成交金额", "stat", (("region", "区域"), *PERSON,
                                                ("deal_amount", "成交金额", "money")),
        period="year", sort="region", filters=("person_id",), chart="bar", make_chart=_bar_chart)
def s10(q: Query) -> Select[Any]:
    a = agg_deals_region
    statement = (select(a.c.region, a.c.person_id, people.c.name.label("person_name"),
                        func.sum(a.c.deal_amount).label("deal_amount"))
                 .select_from(a.outerjoin(people, people.c.id == a.c.person_id))
                 .where(a.c.year == _year(q), q.in_people(a.c.person_id)))
    return q.filtered(statement, person_id=a.c.person_id).group_by(a.c.region, a.c.person_id, people.c.name)


def _pie(label: str, value: str, series: str) -> Callable[[list[dict[str, Any]]], dict[str, Any]]:
    def chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
        return {"type": "pie", "x": [row[label] or "（未填）" for row in rows],
                "series": [{"name": series, "data": [row[value] for row in rows]}]}

    return chart


@report("S-11", "本年区域成交金额", "stat", (("region", "区域"), ("deal_amount", "成交金额", "money"),
                                           ("share", "占比", "share")),
        period="year", sort="-deal_amount", filters=("person_id",), chart="pie", share_of="deal_amount",
        make_chart=_pie("region", "deal_amount", "成交金额"))
def s11(q: Query) -> Select[Any]:
    a = agg_deals_region
    statement = (select(a.c.region, func.sum(a.c.deal_amount).label("deal_amount"))
                 .where(a.c.year == _year(q), q.in_people(a.c.person_id)))
    return q.filtered(statement, person_id=a.c.person_id).group_by(a.c.region)


def _current(q: Query, column: str, mine: bool = False) -> Select[Any]:
    """Current customers (pool included, deleted excluded) counted by one field."""
    a = agg_customers_now
    if mine:
        visible: ColumnElement[bool] = a.c.owner_id == q.viewer.person_id
    elif q.people is None:
        visible = true()
    else:
        visible = or_(a.c.owner_id == "", a.c.owner_id.in_(q.people))
    statement = select(a.c[column], func.sum(a.c.customers).label("customers")).where(visible)
    return (q.filtered(statement, person_id=a.c.owner_id).group_by(a.c[column])
            .having(func.sum(a.c.customers) > 0))


@report("S-12", "我的客户状态统计", "stat", (("status", "客户状态"), ("customers", "客户数", "int")),
        period=None, sort="status", mine=True, audience="customers")
def s12(q: Query) -> Select[Any]:
    return _current(q, "status", mine=True)


@report("S-13", "客户跟进阶段统计", "stat", (("stage", "跟进阶段"), ("customers", "客户数", "int")),
        period=None, sort="stage", filters=("person_id",), audience="customers")
def s13(q: Query) -> Select[Any]:
    return _current(q, "stage")


@report("S-14", "客户类型统计", "stat", (("type", "客户类型"), ("customers", "客户数", "int"),
                                       ("share", "占比", "share")),
        period=None, sort="-customers", filters=("person_id",), audience="customers", chart="pie",
        share_of="customers", make_chart=_pie("type", "customers", "客户数"))
def s14(q: Query) -> Select[Any]:
    return _current(q, "type")


@report("S-15", "客户状态统计", "stat", (("status", "客户状态"), ("customers", "客户数", "int")),
        period=None, sort="status", filters=("person_id",), audience="customers")
def s15(q: Query) -> Select[Any]:
    return _current(q, "status")


@report("S-16", "客户来源统计", "stat", (("source", "客户来源"), ("customers", "客户数", "int")),
        period=None, sort="source", filters=("person_id",), audience="customers")
def s16(q: Query) -> Select[Any]:
    return _current(q, "source")


@report("S-17", "产品月度销售统计", "stat", (("product_id", "产品ID", "id"), ("product_name", "产品名称"),
                                           ("month", "月份", "month"), ("quantity", "销售数量", "quantity"),
                                           ("amount", "销售金额", "money")),
        period="year", sort="month", filters=("person_id", "product_id"), audience="goods")
def s17(q: Query) -> Select[Any]:
    a = agg_product_month
    statement = (select(a.c.product_id, products.c.name.label("product_name"),
                        (a.c.year * 100 + a.c.month).label("month"), func.sum(a.c.quantity).label("quantity"),
                        func.sum(a.c.amount).label("amount"))
                 .select_from(a.outerjoin(products, products.c.id == a.c.product_id))
                 .where(a.c.year == _year(q), q.in_people(a.c.person_id)))
    return (q.filtered(statement, person_id=a.c.person_id, product_id=a.c.product_id)
            .group_by(a.c.product_id, products.c.name, a.c.year, a.c.month))


@report("S-18", "本年区域退货统计", "stat", (("region", "区域"), ("month", "月份", "month"),
                                           ("quantity", "退货数量", "quantity"), ("amount", "退货金额", "money")),
        period="year", sort="month", filters=("person_id",), audience="goods")
def s18(q: Query) -> Select[Any]:
    a = agg_returns_region
    statement = (select(a.c.region, (a.c.year * 100 + a.c.month).label("month"),
                        func.sum(a.c.quantity).label("quantity"), func.sum(a.c.amount).label("amount"))
                 .where(a.c.year == _year(q), q.in_people(a.c.person_id)))
    return q.filtered(statement, person_id=a.c.person_id).group_by(a.c.region, a.c.year, a.c.month)


@report("S-19", "产品库存统计", "stat", (("product_id", "产品ID", "id"), ("product_name", "产品名称"),
                                       ("warehouse", "仓库"), ("quantity", "库存数量", "quantity"),
                                       ("value", "库存金额", "money")),
        period=None, sort="product_name", filters=("product_id", "warehouse"), audience="everyone")
def s19(q: Query) -> Select[Any]:
    statement = (select(stock.c.product_id, products.c.name.label("product_name"), stock.c.warehouse,
                        stock.c.quantity, stock.c.value)
                 .select_from(stock.join(products, products.c.id == stock.c.product_id)))
    return q.filtered(statement, product_id=stock.c.product_id, warehouse=stock.c.warehouse)


def _year(q: Query) -> int:
    assert q.period is not None
    return q.period.year


# ---- running a report ---------------------------------------------------------------------------


def _people_for(conn: Connection, viewer: Actor, spec: Report) -> set[str] | None:
    if spec.mine:
        return {viewer.person_id}
    if spec.audience == "everyone" or (spec.audience == "goods" and "warehouse" in viewer.roles):
        return None
    return visible_people(conn, viewer)


def choose_period(spec: Report, year: int | None, month: int | None, today: date) -> Period | None:
    """The period defaults to the current year or month in the business time zone; query
    reports cover a month, or a whole year when only the year is given."""
    if month is not None and not 1 <= month <= 12:
        raise Invalid("validation_error", "month must be 1 to 12", field="month")
    if year is not None and not 1900 <= year <= 9999:
        raise Invalid("validation_error", "year must be 1900 to 9999", field="year")
    if spec.period is None:
        return None
    if spec.period == "year":
        return Period(year or today.year, None)
    if spec.period == "month":
        return Period(year or today.year, month or (today.month if year is None else 1))
    if year is not None and month is None:
        return Period(year, None)
    return Period(year or today.year, month or today.month)


def _shape(spec: Report, row: dict[str, Any]) -> dict[str, Any]:
    """Typed values the way API.md has them: money and quantities as decimal strings,
    dates ISO, months YYYY-MM, unset dimensions null."""
    shaped: dict[str, Any] = {}
    for column in spec.columns:
        value = row.get(column.key)
        if column.key in DIMENSIONS and value == "":
            value = None
        if value is None:
            shaped[column.key] = None if column.kind not in ("int",) else 0
        elif column.kind == "money":
            shaped[column.key] = str(Decimal(value).quantize(Decimal("0.01")))
        elif column.kind in ("quantity", "share"):
            shaped[column.key] = str(Decimal(value).quantize(FOUR))
        elif column.kind == "int":
            shaped[column.key] = int(value)
        elif column.kind == "month":
            shaped[column.key] = f"{int(value) // 100:04d}-{int(value) % 100:02d}"
        elif column.kind == "datetime":
            shaped[column.key] = utc(value)
        elif column.kind == "bool":
            shaped[column.key] = bool(value)
        else:
            shaped[column.key] = value
    return shaped


def run_report(conn: Connection, viewer: Actor, report_id: str, *, today: date, type_tree: list[dict[str, Any]],
               year: int | None = None, month: int | None = None, filters: dict[str, Any] | None = None,
               sort: str | None = None, page: int = 1, page_size: int | None = 50) -> dict[str, Any]:
    """One report for one viewer: its rows (a page of them, or all when page_size is None),
    the total row count and, for charted reports, the chart over all rows."""
    spec = REPORTS.get(report_id)
    if spec is None:
        raise NotFound("not_found", f"no report {report_id}", field="id")
    given = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
    unsupported = sorted(set(given) - set(spec.filters))
    if unsupported:
        raise Invalid("unsupported_filter", f"{report_id} does not filter by {unsupported[0]}",
                      field=unsupported[0], details={"filters": list(spec.filters)})
    if spec.mine and not viewer.person_id:
        raise Forbidden("forbidden", "a 'my' report needs a person")
    query = Query(conn=conn, viewer=viewer, period=choose_period(spec, year, month, today), params=given,
                  people=_people_for(conn, viewer, spec), type_tree=type_tree)
    period = query.period
    base = spec.build(query).subquery()
    keys = [c.key for c in spec.columns if c.key != "share"]
    order_key = (sort or spec.sort)
    descending = order_key.startswith("-")
    order_key = order_key.lstrip("+-")
    if order_key not in [c.key for c in spec.columns]:
        raise Invalid("validation_error", f"cannot sort by {order_key}", field="sort")
    sort_column = base.c[spec.share_of if order_key == "share" and spec.share_of else order_key]
    ordering = [sort_column.desc() if descending else sort_column.asc()]
    # Ties go by the other columns as shown, the opaque ids last, so the order is stable.
    kinds = {c.key: c.kind for c in spec.columns}
    ordering += [base.c[k].asc() for k in sorted(keys, key=lambda k: kinds[k] == "id") if k != order_key]
    total = int(conn.execute(select(func.count()).select_from(base)).scalar_one())
    statement = select(*(base.c[k] for k in keys)).order_by(*ordering)
    if page_size is not None:
        statement = statement.limit(page_size).offset((page - 1) * page_size)
    rows = [dict(r) for r in conn.execute(statement).mappings()]
    if spec.share_of:
        whole = conn.execute(select(func.coalesce(func.sum(base.c[spec.share_of]), literal(0)))).scalar_one()
        whole = Decimal(whole or 0)
        for row in rows:
            row["share"] = (Decimal(row[spec.share_of] or 0) / whole) if whole else Decimal(0)
    shaped = [_shape(spec, row) for row in rows]
    chart = None
    if spec.make_chart is not None:
        every = shaped if page_size is None or total <= len(shaped) else run_report(
            conn, viewer, report_id, today=today, type_tree=type_tree, year=year, month=month, filters=filters,
            sort=sort, page_size=None)["rows"]
        chart = spec.make_chart(every)
    return {
        "id": spec.id, "title": spec.title, "kind": spec.kind,
        "period": period.as_dict() if period else None,
        "columns": [{"key": c.key, "title": c.title} for c in spec.columns],
        "rows": shaped, "total": total, "page": page, "page_size": page_size or max(total, 1), "chart": chart,
    }


def catalogue() -> list[dict[str, Any]]:
    return [spec.catalogue_entry() for spec in REPORTS.values()]
