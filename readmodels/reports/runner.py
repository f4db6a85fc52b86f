"""Running a report for one viewer: whose facts they may see, the period, the request's
filters and sort checked, the rows paged and typed the way API.md has them, shares of the
total, and the chart over all rows; and the catalogue of every report."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, literal, select
from sqlalchemy.engine import Connection

from aggregates import bounds
from aggregates.base import Forbidden, Invalid, NotFound
from aggregates.settings import DEFAULT_RULES
from commands.actor import Actor
from readmodels.customers import utc
from readmodels.i18n import gettext
from readmodels.org import current_settings, visible_people
from readmodels.reports.registry import REPORTS, Period, Query, Report

FOUR = Decimal("0.0001")
# The most rows an export (CSV, XLSX) of a report holds.
EXPORT_LIMIT = 200_000
# Columns whose empty-string aggregate key means "not set".
DIMENSIONS = ("region", "type", "source", "stage", "status")


def _people_for(conn: Connection, viewer: Actor, spec: Report) -> set[str] | None:
    if spec.mine:
        return {viewer.person_id}
    if spec.audience == "everyone" or (spec.audience == "goods" and "warehouse" in viewer.roles):
        return None
    return visible_people(conn, viewer)


def choose_period(spec: Report, year: int | None, month: int | None, today: date,
                  since: date | None = None, until: date | None = None) -> Period | None:
    """The period defaults to the current year or month in the business time zone; query
    reports cover a month, or a whole year when only the year is given. A query report also
    takes a range of business days (`from`, `to`, inclusive, either side open): alone it is the
    period, with a year or month the period is the days in both; for the reports over current
    customers (no period of their own) it picks the customers registered in it."""
    for name, day in (("from", since), ("to", until)):
        if day is not None and not bounds.DATE_MIN <= day <= bounds.DATE_MAX:
            raise Invalid("validation_error", "{field} must lie between {min} and {max}", field=name,
                          details={"min": bounds.DATE_MIN.isoformat(), "max": bounds.DATE_MAX.isoformat()},
                          min=bounds.DATE_MIN.isoformat(), max=bounds.DATE_MAX.isoformat())
    if since is not None and until is not None and since > until:
        raise Invalid("invalid_period", "from is after to", field="from",
                      details={"from": since.isoformat(), "to": until.isoformat()})
    ranged = since is not None or until is not None
    if ranged and spec.kind != "query":
        raise Invalid("unsupported_filter", "{report_id} does not take a range of days", field="from",
                      details={"filters": list(spec.filters)}, report_id=spec.id)
    if month is not None and not 1 <= month <= 12:
        raise Invalid("validation_error", "month must be 1 to 12", field="month")
    if year is not None and not 1900 <= year <= 9999:
        raise Invalid("validation_error", "year must be 1900 to 9999", field="year")
    if spec.period is None:
        return Period(None, None, since, until) if ranged else None
    if ranged and year is None and month is None:
        return Period(None, None, since, until)
    if spec.period == "year":
        return Period(year or today.year, None)
    if spec.period == "month":
        return Period(year or today.year, month or (today.month if year is None else 1))
    if year is not None and month is None:
        return Period(year, None, since, until)
    return Period(year or today.year, month or today.month, since, until)


def business_zone(conn: Connection) -> ZoneInfo:
    """The business time zone (the settings' `timezone` rule), in which reports show times."""
    return ZoneInfo(str(current_settings(conn)["rules"].get("timezone") or DEFAULT_RULES["timezone"]))


def business_time(value: datetime, zone: tzinfo) -> datetime:
    """A stored moment (UTC) as the business wall time with its offset, to the whole second:
    what a person reads in a report, a CSV or a spreadsheet is the clock on their wall."""
    moment = utc(value)
    assert moment is not None
    return moment.astimezone(zone).replace(microsecond=0)


def _shape(spec: Report, row: dict[str, Any], zone: tzinfo) -> dict[str, Any]:
    """Typed values the way API.md has them: money and quantities as decimal strings,
    dates ISO, datetimes in the business time zone with its offset, months YYYY-MM, unset
    dimensions null."""
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
            shaped[column.key] = business_time(value, zone)
        elif column.kind == "bool":
            shaped[column.key] = bool(value)
        else:
            shaped[column.key] = value
    return shaped


def _moment(spec: Report, as_of: datetime | None) -> datetime | None:
    """The request's `as_of` in UTC, for the reports that take it."""
    if as_of is None:
        return None
    if not spec.past:
        raise Invalid("unsupported_filter", "{report_id} does not take as_of", field="as_of",
                      details={"filters": list(spec.filters)}, report_id=spec.id)
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise Invalid("validation_error", "as_of needs a UTC offset", field="as_of")
    return as_of.astimezone(UTC)


def run_report(conn: Connection, viewer: Actor, report_id: str, *, today: date, type_tree: list[dict[str, Any]],
               year: int | None = None, month: int | None = None, filters: dict[str, Any] | None = None,
               sort: str | None = None, page: int = 1, page_size: int | None = 50,
               since: date | None = None, until: date | None = None,
               as_of: datetime | None = None) -> dict[str, Any]:
    """One report for one viewer: its rows (a page of them, or all when page_size is None),
    the total row count and, for charted reports, the chart over all rows. With `as_of`, a
    report over current state shows its rows as the service had recorded them by that moment,
    with the viewer's visibility of today."""
    spec = REPORTS.get(report_id)
    if spec is None:
        raise NotFound("not_found", "no report {report_id}", field="id", report_id=report_id)
    moment = _moment(spec, as_of)
    given = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
    unsupported = sorted(set(given) - set(spec.filters))
    if unsupported:
        raise Invalid("unsupported_filter", "{report_id} does not filter by {field}",
                      field=unsupported[0], details={"filters": list(spec.filters)}, report_id=report_id)
    if spec.mine and not viewer.person_id:
        raise Forbidden("forbidden", "a 'my' report needs a person")
    query = Query(conn=conn, viewer=viewer, period=choose_period(spec, year, month, today, since, until),
                  params=given,
                  people=_people_for(conn, viewer, spec), type_tree=type_tree, as_of=moment)
    period = query.period
    base = spec.build(query).subquery()
    keys = [c.key for c in spec.columns if c.key != "share"]
    order_key = (sort or spec.sort)
    descending = order_key.startswith("-")
    order_key = order_key.lstrip("+-")
    if order_key not in [c.key for c in spec.columns]:
        raise Invalid("validation_error", "cannot sort by {key}", field="sort", key=order_key)
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
        # Shares of the positive total, as the pie chart has them: a row at zero or below (a
        # region whose returns outweigh its deals) has no share.
        share_column = base.c[spec.share_of]
        whole = conn.execute(select(func.coalesce(func.sum(share_column), literal(0)))
                             .where(share_column > 0)).scalar_one()
        whole = Decimal(whole or 0)
        for row in rows:
            value = Decimal(row[spec.share_of] or 0)
            row["share"] = (value / whole) if whole and value > 0 else Decimal(0)
    zone = business_zone(conn)
    shaped = [_shape(spec, row, zone) for row in rows]
    chart = None
    if spec.make_chart is not None:
        every = shaped if page_size is None or total <= len(shaped) else run_report(
            conn, viewer, report_id, today=today, type_tree=type_tree, year=year, month=month, filters=filters,
            sort=sort, page_size=None, since=since, until=until, as_of=as_of)["rows"]
        chart = spec.make_chart(every)
    return {
        "id": spec.id, "title": gettext(spec.title), "kind": spec.kind,
        "period": period.as_dict() if period else None,
        "as_of": business_time(moment, zone) if moment is not None else None,
        "columns": [{"key": c.key, "title": gettext(c.title)} for c in spec.columns],
        "rows": shaped, "total": total, "page": page, "page_size": page_size or max(total, 1), "chart": chart,
    }


def catalogue() -> list[dict[str, Any]]:
    return [spec.catalogue_entry() for spec in REPORTS.values()]
