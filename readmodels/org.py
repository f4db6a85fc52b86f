"""Queries over people, departments and settings; the manager subtree (P-1, R-4)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.engine import Connection, Engine, RowMapping

from aggregates.settings import DEFAULT_DICTIONARIES, DEFAULT_RULES
from commands.actor import Actor
from commands.adapters.organisation import below
from readmodels.tables import departments, people, settings


def person_query(person_id: str) -> Select[Any]:
    return select(people).where(people.c.id == person_id)


def get_person(conn: Connection, person_id: str) -> RowMapping | None:
    return conn.execute(person_query(person_id)).mappings().first()


def people_names(conn: Connection, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = conn.execute(select(people.c.id, people.c.name).where(people.c.id.in_(ids)))
    return {str(i): n for i, n in rows}


def list_people(
    conn: Connection, department_id: str | None = None, role: str | None = None
) -> list[RowMapping]:
    query = select(people).order_by(people.c.name)
    if department_id:
        query = query.where(people.c.department_id.in_(subtree(conn, [department_id])))
    rows = list(conn.execute(query).mappings())
    if role:
        rows = [r for r in rows if role in (r["roles"] or [])]
    return rows


def all_departments(conn: Connection) -> list[RowMapping]:
    return list(conn.execute(select(departments).order_by(departments.c.name)).mappings())


def get_department(conn: Connection, department_id: str) -> RowMapping | None:
    return conn.execute(select(departments).where(departments.c.id == department_id)).mappings().first()


def subtree(conn: Connection, roots: list[str]) -> set[str]:
    """The given departments and every department below them."""
    rows = conn.execute(select(departments.c.id, departments.c.parent_id))
    return below(((str(row.id), row.parent_id) for row in rows), roots)


def departments_above(conn: Connection, department_id: str | None) -> list[str]:
    """The department and every department above it, nearest first: the departments whose
    shares reach its members (seed 002 §2.2.5, a share with a department covers the ones below)."""
    if not department_id:
        return []
    rows = conn.execute(select(departments.c.id, departments.c.parent_id))
    parents = {str(row.id): row.parent_id for row in rows}
    chain: list[str] = []
    current: str | None = department_id
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return chain


def managed_departments(conn: Connection, viewer: Actor) -> set[str]:
    """Departments a manager manages: those naming them as manager, else their own,
    with every department below."""
    if not viewer.is_manager:
        return set()
    roots = [
        str(row.id)
        for row in conn.execute(select(departments.c.id, departments.c.manager_ids))
        if viewer.person_id in (row.manager_ids or [])
    ]
    if not roots and viewer.department_id:
        roots = [viewer.department_id]
    return subtree(conn, roots)


def managed_people(conn: Connection, viewer: Actor) -> set[str]:
    """People whose customers the viewer may see and manage (R-4)."""
    depts = managed_departments(conn, viewer)
    if not depts:
        return set()
    rows = conn.execute(select(people.c.id).where(people.c.department_id.in_(depts)))
    return {str(r) for r in rows.scalars()}


def visible_people(conn: Connection, viewer: Actor) -> set[str] | None:
    """Whose facts, targets, reports and log entries the viewer reads (R-4, R-7): everybody's
    (None) for admins and auditors; a manager's subtree and their own; else their own."""
    if viewer.sees_everything:
        return None
    return {viewer.person_id} | (managed_people(conn, viewer) if viewer.is_manager else set())


def manages(engine: Engine, viewer: Actor, person_id: str | None) -> bool:
    """Admins manage everybody; a manager manages the people of their subtree."""
    if "admin" in viewer.roles:
        return True
    if person_id is None or not viewer.is_manager:
        return False
    with engine.connect() as conn:
        return person_id in managed_people(conn, viewer)


def current_settings(conn: Connection) -> dict[str, Any]:
    row = conn.execute(select(settings.c.rules, settings.c.dictionaries)).first()
    if row is None:
        return {"rules": dict(DEFAULT_RULES), "dictionaries": dict(DEFAULT_DICTIONARIES)}
    return {"rules": row.rules, "dictionaries": row.dictionaries}
