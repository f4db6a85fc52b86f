"""People, departments and settings read models."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from aggregates.organisation import Department, Person, Salesperson
from aggregates.settings import Settings
from projections.base import Projection, Writer
from readmodels.tables import departments, people, settings

organisation = Projection("organisation", [people, departments, settings])


@organisation.on(Person.Created)
def person_created(w: Writer, e: Person.Created) -> None:
    w.conn.execute(
        w.people.insert().values(
            id=str(e.originator_id), name=e.name, username=e.username,
            department_id=e.department_id, roles=list(e.roles), position=e.position,
            mobile=e.mobile, gender=e.gender, active=True, is_salesperson=False,
            held_customers=0,
        )
    )


@organisation.on(Person.Changed)
def person_changed(w: Writer, e: Person.Changed) -> None:
    values = {c["field"]: c["new"] for c in e.changes}
    w.conn.execute(update(w.people).where(w.people.c.id == str(e.originator_id)).values(**values))


@organisation.on(Salesperson.Created)
def salesperson_created(w: Writer, e: Salesperson.Created) -> None:
    w.conn.execute(
        update(w.people)
        .where(w.people.c.id == e.person_id)
        .values(
            is_salesperson=True, salesperson_id=str(e.originator_id),
            max_customers=e.max_customers, max_follow_days=e.max_follow_days,
        )
    )


@organisation.on(Salesperson.LimitsChanged)
def salesperson_limits(w: Writer, e: Salesperson.LimitsChanged) -> None:
    w.conn.execute(
        update(w.people)
        .where(w.people.c.salesperson_id == str(e.originator_id))
        .values(max_customers=e.max_customers, max_follow_days=e.max_follow_days)
    )


@organisation.on(Salesperson.CustomerTaken, Salesperson.CustomerLeft)
def held_changed(w: Writer, e: Any) -> None:
    step = 1 if isinstance(e, Salesperson.CustomerTaken) else -1
    w.conn.execute(
        update(w.people)
        .where(w.people.c.salesperson_id == str(e.originator_id))
        .values(held_customers=w.people.c.held_customers + step)
    )


@organisation.on(Department.Created)
def department_created(w: Writer, e: Department.Created) -> None:
    w.conn.execute(
        w.departments.insert().values(
            id=str(e.originator_id), name=e.name, parent_id=e.parent_id,
            manager_ids=list(e.manager_ids),
        )
    )


@organisation.on(Department.Changed)
def department_changed(w: Writer, e: Department.Changed) -> None:
    w.conn.execute(
        update(w.departments).where(w.departments.c.id == str(e.originator_id)).values(**e.changes)
    )


@organisation.on(Settings.Created, Settings.Changed)
def settings_changed(w: Writer, e: Any) -> None:
    w.conn.execute(w.settings.delete())
    w.conn.execute(w.settings.insert().values(id=1, rules=e.rules, dictionaries=e.dictionaries))
