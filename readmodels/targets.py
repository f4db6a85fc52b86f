"""Attainment (T-4), department roll-ups with drill-down, and work reports (W-1), from
the pre-aggregated facts of the stats projection."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, literal, null, select, union_all
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.sql import ColumnElement

from aggregates.base import Invalid
from commands.actor import Actor
from readmodels.customers import utc
from readmodels.org import all_departments, managed_departments, people_names, subtree, visible_people
from readmodels.paging import Key, Keyset, page_of
from readmodels.tables import (
    fact_deal_adjustments,
    fact_deals,
    fact_new_customers,
    fact_payments,
    fact_visits,
    people,
    stat_customers,
    stat_person_day,
    targets,
    work_reports,
)

TARGET_FIGURES = ("new_customers", "visits", "deal_amount", "collected_amount")
MONEY = ("deal_amount", "collected_amount")
ZERO = Decimal("0.00")
FOUR_PLACES = Decimal("0.0001")


def empty_figures() -> dict[str, Any]:
    return {"new_customers": 0, "visits": 0, "deals": 0, "deal_amount": ZERO, "collected_amount": ZERO}


def person_figures(conn: Connection, person_ids: list[str], start: date, end: date) -> dict[str, dict[str, Any]]:
    """New customers, visits, deals (count, amount) and collected amount credited to each
    person between two business days, both included (D-5)."""
    found = {person_id: empty_figures() for person_id in person_ids}
    if not person_ids:
        return found
    t = stat_person_day
    rows = conn.execute(
        select(t.c.person_id, func.sum(t.c.new_customers), func.sum(t.c.visits), func.sum(t.c.deals),
               func.sum(t.c.deal_amount), func.sum(t.c.collected_amount))
        .where(t.c.person_id.in_(person_ids), t.c.day >= start, t.c.day <= end)
        .group_by(t.c.person_id)
    )
    for person_id, new, visits, deals, amount, collected in rows:
        found[str(person_id)] = {
            "new_customers": int(new or 0), "visits": int(visits or 0), "deals": int(deals or 0),
            # SUM keeps the column's type, so these arrive as exact decimals.
            "deal_amount": amount if amount is not None else ZERO,
            "collected_amount": collected if collected is not None else ZERO,
        }
    return found


def attainment(target: dict[str, Any], actual: dict[str, Any]) -> dict[str, str | None]:
    """Actual ÷ target per figure, 4 places; None where the target is 0."""
    ratios: dict[str, str | None] = {}
    for name in TARGET_FIGURES:
        wanted = Decimal(target[name])
        ratios[name] = str((Decimal(actual[name]) / wanted).quantize(FOUR_PLACES)) if wanted else None
    return ratios


def _target_item(row: RowMapping, names: dict[str, str], actual: dict[str, Any]) -> dict[str, Any]:
    figures = {name: row[name] for name in TARGET_FIGURES}
    return {
        "id": row["id"], "person_id": row["person_id"], "person_name": names.get(row["person_id"]),
        "period": row["period"], "start": row["starts_on"], "end": row["ends_on"], **figures,
        "actual": {name: actual[name] for name in TARGET_FIGURES},
        "attainment": attainment(figures, actual), "cancelled": row["cancelled"], "set_by": row["set_by"],
        "approved_by": row["approved_by"], "updated_at": utc(row["updated_at"]), "version": row["version"],
    }


def list_targets(conn: Connection, viewer: Actor, *, person_id: str | None = None,
                 department_id: str | None = None, on: date | None = None, include_cancelled: bool = False,
                 page: int = 1, page_size: int = 50,
                 after: list[Any] | None = None) -> tuple[list[dict[str, Any]], int, list[Any] | None]:
    """Targets with their actual figures inside each target's own period (T-4), newest period
    first (then by person and id, so each has one place)."""
    conditions: list[ColumnElement[bool]] = []
    allowed = visible_people(conn, viewer)
    if allowed is not None:
        conditions.append(targets.c.person_id.in_(allowed))
    if person_id:
        conditions.append(targets.c.person_id == person_id)
    if department_id:
        members = select(people.c.id).where(people.c.department_id.in_(subtree(conn, [department_id])))
        conditions.append(targets.c.person_id.in_(members))
    if on is not None:
        conditions += [targets.c.starts_on <= on, targets.c.ends_on >= on]
    if not include_cancelled:
        conditions.append(targets.c.cancelled.is_(False))
    total = conn.execute(select(func.count()).select_from(targets).where(*conditions)).scalar_one()
    keyset = Keyset.of(Key("starts_on", targets.c.starts_on, True), Key("person_id", targets.c.person_id),
                       Key("id", targets.c.id))
    query = select(targets).where(*conditions).order_by(*keyset.order()).limit(page_size + 1)
    query = query.where(keyset.after(after)) if after is not None else query.offset((page - 1) * page_size)
    rows, last = page_of(list(conn.execute(query).mappings()), page_size, keyset)
    names = people_names(conn, {r["person_id"] for r in rows})
    items = []
    for row in rows:
        actual = person_figures(conn, [row["person_id"]], row["starts_on"], row["ends_on"])[row["person_id"]]
        items.append(_target_item(row, names, actual))
    return items, int(total), last


def get_target(conn: Connection, viewer: Actor, target_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(targets).where(targets.c.id == target_id)).mappings().first()
    allowed = visible_people(conn, viewer)
    if row is None or (allowed is not None and row["person_id"] not in allowed):
        return None
    actual = person_figures(conn, [row["person_id"]], row["starts_on"], row["ends_on"])[row["person_id"]]
    return _target_item(row, people_names(conn, {row["person_id"]}), actual)


def _deal_facts() -> Any:
    """The deals and the returns and exchange differences on them, as one set of records: the
    deal amount of T-4 is net (D-2, D-3 as amended), so its records add up to it."""
    d, a = fact_deals, fact_deal_adjustments
    return union_all(
        select(d.c.contract_id.label("id"), d.c.customer_id, d.c.person_id, d.c.day, d.c.amount,
               literal("deal").label("kind")),
        select(a.c.adjustment_id.label("id"), a.c.customer_id, a.c.person_id, a.c.day, a.c.amount, a.c.kind),
    ).subquery()


def target_records(conn: Connection, target: dict[str, Any], figure: str) -> list[dict[str, Any]]:
    """The records behind one actual figure of a target (T-4 drill-down); the deal amount's are
    the deals (`kind` "deal") and the returns and exchanges on them in the period ("return",
    "exchange", their amounts signed)."""
    person, start, end = target["person_id"], target["start"], target["end"]
    c = stat_customers
    if figure == "new_customers":
        f: Any = fact_new_customers
        query = select(f.c.customer_id.label("id"), f.c.customer_id, f.c.day, null().label("at"),
                       null().label("amount"), null().label("kind"))
    elif figure == "visits":
        f = fact_visits
        query = select(f.c.visit_id.label("id"), f.c.customer_id, f.c.day, f.c.visited_at.label("at"),
                       null().label("amount"), null().label("kind"))
    elif figure == "deal_amount":
        f = _deal_facts()
        query = select(f.c.id, f.c.customer_id, f.c.day, null().label("at"), f.c.amount, f.c.kind)
    elif figure == "collected_amount":
        f = fact_payments
        query = select(f.c.payment_id.label("id"), f.c.customer_id, f.c.day, null().label("at"),
                       f.c.amount, null().label("kind"))
    else:
        raise Invalid("validation_error", "figure must be one of {figures}", field="figure",
                      figures=', '.join(TARGET_FIGURES))
    query = (query.add_columns(c.c.number, c.c.name)
             .select_from(f.outerjoin(c, c.c.id == f.c.customer_id))
             .where(f.c.person_id == person, f.c.day >= start, f.c.day <= end)
             .order_by(f.c.day, query.selected_columns.at, query.selected_columns.id))
    records = []
    for row in conn.execute(query).mappings():
        records.append({
            "id": row["id"], "customer_id": row["customer_id"], "customer_number": row["number"],
            "customer_name": row["name"], "on": row["day"], "at": utc(row["at"]),
            "amount": row["amount"], "kind": row["kind"],
        })
    return records


def department_rollup(conn: Connection, viewer: Actor, on: date) -> list[dict[str, Any]]:
    """Per department (its whole subtree): the targets whose period holds `on`, summed,
    against the actual figures of each target's own period (T-4)."""
    if viewer.sees_everything:
        visible = {str(d["id"]) for d in all_departments(conn)}
    elif viewer.is_manager:
        visible = managed_departments(conn, viewer)
    else:
        return []
    active = list(conn.execute(
        select(targets, people.c.department_id)
        .select_from(targets.join(people, people.c.id == targets.c.person_id))
        .where(targets.c.cancelled.is_(False), targets.c.starts_on <= on, targets.c.ends_on >= on)).mappings())
    by_department: dict[str | None, list[RowMapping]] = defaultdict(list)
    for row in active:
        by_department[row["department_id"]].append(row)
    rows = []
    for department in all_departments(conn):
        department_id = str(department["id"])
        if department_id not in visible:
            continue
        wanted = {name: (ZERO if name in MONEY else 0) for name in TARGET_FIGURES}
        actual = dict(wanted)
        members = [r for d in subtree(conn, [department_id]) for r in by_department.get(d, [])]
        for row in members:
            done = person_figures(conn, [row["person_id"]], row["starts_on"], row["ends_on"])[row["person_id"]]
            for name in TARGET_FIGURES:
                wanted[name] += row[name]
                actual[name] += done[name]
        rows.append({"department_id": department_id, "department_name": department["name"],
                     "targets": len(members), "target": wanted, "actual": actual,
                     "attainment": attainment(wanted, actual)})
    return rows


def list_work_reports(conn: Connection, viewer: Actor, *, kind: str | None = None, person_id: str | None = None,
                      start: date | None = None, end: date | None = None, page: int = 1,
                      page_size: int = 50,
                      after: list[Any] | None = None) -> tuple[list[dict[str, Any]], int, list[Any] | None]:
    """Reports whose period lies in [start, end] (overlapping it), newest period first (then by
    person and id)."""
    r = work_reports
    conditions: list[ColumnElement[bool]] = []
    allowed = visible_people(conn, viewer)
    if allowed is not None:
        conditions.append(r.c.person_id.in_(allowed))
    if kind:
        conditions.append(r.c.kind == kind)
    if person_id:
        conditions.append(r.c.person_id == person_id)
    if start:
        conditions.append(r.c.ends_on >= start)
    if end:
        conditions.append(r.c.starts_on <= end)
    total = conn.execute(select(func.count()).select_from(r).where(*conditions)).scalar_one()
    keyset = Keyset.of(Key("starts_on", r.c.starts_on, True), Key("person_id", r.c.person_id), Key("id", r.c.id))
    query = select(r).where(*conditions).order_by(*keyset.order()).limit(page_size + 1)
    query = query.where(keyset.after(after)) if after is not None else query.offset((page - 1) * page_size)
    rows, last = page_of(list(conn.execute(query).mappings()), page_size, keyset)
    names = people_names(conn, {row["person_id"] for row in rows})
    return [work_report_item(row, names) for row in rows], int(total), last


def work_report_item(row: RowMapping, names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": row["id"], "person_id": row["person_id"], "person_name": names.get(row["person_id"]),
        "kind": row["kind"], "start": row["starts_on"], "end": row["ends_on"],
        "figures": {name: row[name] for name in ("new_customers", "visits", "deals", "deal_amount",
                                                  "collected_amount")},
        "summary": row["summary"], "plan": row["plan"], "revision": row["revision"],
        "submitted_at": utc(row["submitted_at"]), "revised_at": utc(row["revised_at"]),
    }


def get_work_report(conn: Connection, viewer: Actor, report_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(work_reports).where(work_reports.c.id == report_id)).mappings().first()
    allowed = visible_people(conn, viewer)
    if row is None or (allowed is not None and row["person_id"] not in allowed):
        return None
    return work_report_item(row, people_names(conn, {row["person_id"]}))
