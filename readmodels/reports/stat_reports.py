"""The 19 statistical reports (统计报表, S-1..S-19, SPEC §10): counts and sums over the
pre-aggregated tables of the stats projection (visits, new customers, per-person month
figures, deals and returns by region, products sold), over current customers by status,
stage, type and source (S-12..S-16), and over stock (S-19); with their charts.

Deal amounts (S-6..S-11) and sales amounts (S-17) are net (D-2, D-3, S-17 as amended): a
return counts against them, and an exchange's price difference for or against them, in the
period it happened, for the contract's salesperson and in the customer's region then; so a
month's figure may be negative. S-18 lists the returns themselves."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, case, func, or_, select, true
from sqlalchemy.sql import ColumnElement

from readmodels.i18n import N_, gettext
from readmodels.reports.past import customers_now_at, products_at, stock_at
from readmodels.reports.registry import Query, report
from readmodels.tables import (
    agg_deals_region,
    agg_new_customers,
    agg_person_month,
    agg_product_month,
    agg_returns_region,
    agg_visits_customer,
    agg_visits_customer_total,
    agg_visits_region,
    people,
    products,
    stat_customers,
)

MONTHS = tuple(f"m{m:02d}" for m in range(1, 13))


def _year(q: Query) -> int:
    assert q.period is not None and q.period.year is not None  # statistics always have a year
    return q.period.year


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
    return {"type": "line", "x": [gettext(f"{n}月") for n in range(1, 13)],  # the month columns' titles
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


# A chart's label for rows whose dimension is not set.
NOT_SET = N_("（未填）")


def _bar_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    regions = sorted({row["region"] or "" for row in rows})
    names = sorted({(row["person_name"] or "", row["person_id"]) for row in rows})
    amounts = {(row["region"] or "", row["person_id"]): row["deal_amount"] for row in rows}
    return {"type": "bar", "x": [r or gettext(NOT_SET) for r in regions],
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
    """A pie of the rows whose value is positive: a slice cannot be negative, so a region whose
    returns took its net deal amount to zero or below shows in the table only."""
    def chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
        shown = [row for row in rows if Decimal(str(row[value] or 0)) > 0]
        return {"type": "pie", "x": [row[label] or gettext(NOT_SET) for row in shown],
                "series": [{"name": gettext(series), "data": [row[value] for row in shown]}]}

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
    """Current customers (pool included, deleted excluded) counted by one field; with `as_of`,
    the customers as they were then."""
    a = customers_now_at(q)
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
        period=None, sort="status", mine=True, audience="customers", past=True)
def s12(q: Query) -> Select[Any]:
    return _current(q, "status", mine=True)


@report("S-13", "客户跟进阶段统计", "stat", (("stage", "跟进阶段"), ("customers", "客户数", "int")),
        period=None, sort="stage", filters=("person_id",), audience="customers", past=True)
def s13(q: Query) -> Select[Any]:
    return _current(q, "stage")


@report("S-14", "客户类型统计", "stat", (("type", "客户类型"), ("customers", "客户数", "int"),
                                       ("share", "占比", "share")),
        period=None, sort="-customers", filters=("person_id",), audience="customers", chart="pie", past=True,
        share_of="customers", make_chart=_pie("type", "customers", "客户数"))
def s14(q: Query) -> Select[Any]:
    return _current(q, "type")


@report("S-15", "客户状态统计", "stat", (("status", "客户状态"), ("customers", "客户数", "int")),
        period=None, sort="status", filters=("person_id",), audience="customers", past=True)
def s15(q: Query) -> Select[Any]:
    return _current(q, "status")


@report("S-16", "客户来源统计", "stat", (("source", "客户来源"), ("customers", "客户数", "int")),
        period=None, sort="source", filters=("person_id",), audience="customers", past=True)
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
        period=None, sort="product_name", filters=("product_id", "warehouse"), audience="everyone", past=True)
def s19(q: Query) -> Select[Any]:
    """The stock per product and warehouse, and its value; with `as_of`, as it was then (the
    products named as they were then too)."""
    held, named = stock_at(q), products_at(q)
    statement = (select(held.c.product_id, named.c.name.label("product_name"), held.c.warehouse,
                        held.c.quantity, held.c.value)
                 .select_from(held.join(named, named.c.id == held.c.product_id)))
    return q.filtered(statement, product_id=held.c.product_id, warehouse=held.c.warehouse)
