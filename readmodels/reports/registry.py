"""The report registry: what a report is (its columns, period, sort, filters, audience,
chart) and the request it answers (`Query`: viewer, period, filters, whose facts may be
shown), and the `@report` decorator that registers each report's query in `REPORTS`."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, func, true
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

from aggregates import bounds
from aggregates.settings import type_with_subtypes
from commands.actor import Actor
from readmodels.customers import like_pattern
from readmodels.i18n import gettext


@dataclass(frozen=True)
class ReportColumn:
    """One column of a report: its row key, its title, and how its values are typed. A report's
    title and its columns' titles are message ids of the `crm` catalogue as they are written
    (Chinese, the seeds' words), shown in the reader's locale (`gettext`) where they are read."""

    key: str
    title: str
    kind: str = "text"  # text, id, int, money, quantity, share, date, datetime, bool, month, metres

    @property
    def exported(self) -> bool:
        return self.kind != "id"


@dataclass(frozen=True)
class Period:
    """A year, or a month of it, narrowed by `since` and `until` (the request's `from` and `to`,
    business days, inclusive) when given: the days in both. A query report asked only for a
    range has no year; an open side of the range reaches the end of the business dates."""

    year: int | None
    month: int | None
    since: date | None = None
    until: date | None = None

    @property
    def start(self) -> date:
        first = bounds.DATE_MIN if self.year is None else date(self.year, self.month or 1, 1)
        return first if self.since is None else max(first, self.since)

    @property
    def end(self) -> date:
        if self.year is None:
            last = bounds.DATE_MAX
        else:
            month = self.month or 12
            last = date(self.year, month, calendar.monthrange(self.year, month)[1])
        return last if self.until is None else min(last, self.until)

    @property
    def ranged(self) -> bool:
        return self.since is not None or self.until is not None

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
    # The moment (UTC) whose rows a report over current state shows; None: now.
    as_of: datetime | None = None

    def in_people(self, column: Any) -> ColumnElement[bool]:
        return true() if self.people is None else column.in_(self.people)

    def in_period(self, table: Any) -> ColumnElement[bool]:
        """The facts of the period: by their year and month columns, and by their business
        `day` (a date column, compared as dates on SQLite and PostgreSQL alike) within the range."""
        assert self.period is not None
        conditions: list[ColumnElement[bool]] = []
        if self.period.year is not None:
            conditions.append(table.c.year == self.period.year)
            if self.period.month is not None:
                conditions.append(table.c.month == self.period.month)
        if self.period.since is not None:
            conditions.append(table.c.day >= self.period.since)
        if self.period.until is not None:
            conditions.append(table.c.day <= self.period.until)
        return and_(*conditions) if conditions else true()

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
    columns: tuple[ReportColumn, ...]
    build: Callable[[Query], Select[Any]]
    period: str | None  # year, month, query (a month, or a year without month), or None (current state)
    sort: str
    filters: tuple[str, ...] = ()
    audience: str = "people"  # people, goods, customers, everyone
    mine: bool = False
    chart: str | None = None
    share_of: str | None = None  # the column a `share` column divides by its total
    past: bool = False  # takes `as_of`: its rows as they were at a past moment
    make_chart: Callable[[list[dict[str, Any]]], dict[str, Any]] | None = field(default=None, compare=False)

    def catalogue_entry(self) -> dict[str, Any]:
        return {"id": self.id, "title": gettext(self.title), "kind": self.kind, "chart": self.chart,
                "filters": list(self.filters)}


REPORTS: dict[str, Report] = {}


def report(id: str, title: str, kind: str, columns: Iterable[tuple[str, str] | tuple[str, str, str]], *,
           period: str | None, sort: str, **options: Any) -> Callable[[Callable[[Query], Select[Any]]], Any]:
    def register(build: Callable[[Query], Select[Any]]) -> Callable[[Query], Select[Any]]:
        REPORTS[id] = Report(id=id, title=title, kind=kind, columns=tuple(ReportColumn(*c) for c in columns),
                             build=build, period=period, sort=sort, **options)
        return build

    return register
