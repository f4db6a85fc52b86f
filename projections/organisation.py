"""People, departments and settings read models."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Connection

from aggregates.organisation import Department, Person, Salesperson
from aggregates.settings import Settings
from projections.base import Projection
from readmodels.tables import departments, people, settings

organisation = Projection("organisation")


@organisation.on(Person.Created)
def person_created(conn: Connection, e: Person.Created) -> None:
    conn.execute(
        people.insert().values(
            id=str(e.originator_id), name=e.name, username=e.username,
            department_id=e.department_id, roles=list(e.roles), position=e.position,
            mobile=e.mobile, gender=e.gender, active=True, is_salesperson=False,
            held_customers=0,
        )
    )


@organisation.on(Person.Changed)
def person_changed(conn: Connection, e: Person.Changed) -> None:
    values = {c["field"]: c["new"] for c in e.changes}
    conn.execute(update(people).where(people.c.id == str(e.originator_id)).values(**values))


@organisation.on(Salesperson.Created)
def salesperson_created(conn: Connection, e: Salesperson.Created) -> None:
    conn.execute(
        update(people)
        .where(people.c.id == e.person_id)
        .values(
            is_salesperson=True, salesperson_id=str(e.originator_id),
            max_customers=e.max_customers, max_follow_days=e.max_follow_days,
        )
    )


@organisation.on(Salesperson.LimitsChanged)
def salesperson_limits(conn: Connection, e: Salesperson.LimitsChanged) -> None:
    conn.execute(
        update(people)
        .where(people.c.salesperson_id == str(e.originator_id))
        .values(max_customers=e.max_customers, max_follow_days=e.max_follow_days)
    )


@organisation.on(Salesperson.CustomerTaken, Salesperson.CustomerLeft)
def held_changed(conn: Connection, e: Any) -> None:
    step = 1 if isinstance(e, Salesperson.CustomerTaken) else -1
    conn.execute(
        update(people)
        .where(people.c.salesperson_id == str(e.originator_id))
        .values(held_customers=people.c.held_customers + step)
    )


@organisation.on(Department.Created)
def department_created(conn: Connection, e: Department.Created) -> None:
    conn.execute(
        departments.insert().values(
            id=str(e.originator_id), name=e.name, parent_id=e.parent_id,
            manager_ids=list(e.manager_ids),
        )
    )


@organisation.on(Department.Changed)
def department_changed(conn: Connection, e: Department.Changed) -> None:
    conn.execute(
        update(departments).where(departments.c.id == str(e.originator_id)).values(**e.changes)
    )


@organisation.on(Settings.Created, Settings.Changed)
def settings_changed(conn: Connection, e: Any) -> None:
    conn.execute(settings.delete())
    conn.execute(settings.insert().values(id=1, rules=e.rules, dictionaries=e.dictionaries))
