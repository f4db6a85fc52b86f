"""The read-model rows a report reads, as they were at the request's `as_of` moment.

The reports over current state (S-12..S-16, S-19, Q-4, Q-11) read a table; asked with
`as_of`, they read instead the rows of its version table that were valid at that moment
(`valid_from <= as_of < valid_to`, open versions having no `valid_to`), shaped as the live
table, so each report runs the same query over the rows as they were. The version tables are
written by the projections beside the live rows (`projections.versions`). Without `as_of`
each function hands back the live table itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.sql import ColumnElement

from readmodels.reports.registry import Query
from readmodels.tables import (
    agg_customers_now,
    customer_versions,
    customers,
    product_versions,
    products,
    stat_customer_versions,
    stock,
    stock_versions,
)


def valid_at(table: Any, moment: datetime) -> ColumnElement[bool]:
    """The versions that held at `moment` (a UTC time)."""
    return and_(table.c.valid_from <= moment, or_(table.c.valid_to.is_(None), table.c.valid_to > moment))


def _at(live: Any, versions: Any, moment: datetime, name: str) -> Any:
    """The live table's columns (those the versions keep) from the versions valid at `moment`."""
    kept = [versions.c[c.name].label(c.name) for c in live.columns if c.name in versions.c]
    return select(*kept).where(valid_at(versions, moment)).subquery(name)


def customers_at(q: Query) -> Any:
    """`rm_customers` (Q-4, Q-11), or the customers as they were."""
    if q.as_of is None:
        return customers
    return _at(customers, customer_versions, q.as_of, "customers_at")


def customers_now_at(q: Query) -> Any:
    """`rm_agg_customers_now` (S-12..S-16), or the counts as they were: the customers not deleted
    then, counted by the same keys."""
    if q.as_of is None:
        return agg_customers_now
    v = stat_customer_versions
    keys = [v.c[name] for name in ("owner_id", "status", "stage", "type", "source")]
    return (select(*keys, func.count().label("customers")).where(valid_at(v, q.as_of)).group_by(*keys)
            .subquery("customers_now_at"))


def stock_at(q: Query) -> Any:
    """`rm_stock` (S-19), or the stock as it was."""
    if q.as_of is None:
        return stock
    return _at(stock, stock_versions, q.as_of, "stock_at")


def products_at(q: Query) -> Any:
    """`rm_products` as S-19 names them (code, name), or as they were."""
    if q.as_of is None:
        return products
    return _at(products, product_versions, q.as_of, "products_at")
