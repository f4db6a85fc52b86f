"""People, departments and settings read models."""

from __future__ import annotations

from typing import Any

from aggregates.organisation import Department, Person, Salesperson
from aggregates.settings import Settings
from projections.definition import Projection
from projections.writer import Writer
from readmodels.tables import departments, people, settings

organisation = Projection("organisation", [people, departments, settings], version=1)
organisation.preload(people, lambda e: str(e.originator_id), Salesperson.LimitsChanged, Salesperson.CustomerTaken,
                     Salesperson.CustomerLeft, column="salesperson_id")


@organisation.on(Person.Created)
def person_created(w: Writer, e: Person.Created) -> None:
    w.put(w.people, id=str(e.originator_id), name=e.name, username=e.username, department_id=e.department_id,
          roles=list(e.roles), position=e.position, mobile=e.mobile, gender=e.gender, active=True,
          is_salesperson=False, held_customers=0)


@organisation.on(Person.Changed)
def person_changed(w: Writer, e: Person.Changed) -> None:
    w.set(w.people, (str(e.originator_id),), **{c["field"]: c["new"] for c in e.changes})


@organisation.on(Salesperson.Created)
def salesperson_created(w: Writer, e: Salesperson.Created) -> None:
    w.set(w.people, (e.person_id,), is_salesperson=True, salesperson_id=str(e.originator_id),
          max_customers=e.max_customers, max_follow_days=e.max_follow_days)


def _profile_holder(w: Writer, e: Any) -> dict[str, Any] | None:
    found = w.select_by(w.people, salesperson_id=str(e.originator_id))
    return found[0] if found else None


@organisation.on(Salesperson.LimitsChanged)
def salesperson_limits(w: Writer, e: Salesperson.LimitsChanged) -> None:
    person = _profile_holder(w, e)
    if person is not None:
        w.set(w.people, (person["id"],), max_customers=e.max_customers, max_follow_days=e.max_follow_days)


@organisation.on(Salesperson.CustomerTaken, Salesperson.CustomerLeft)
def held_changed(w: Writer, e: Any) -> None:
    person = _profile_holder(w, e)
    if person is not None:
        step = 1 if isinstance(e, Salesperson.CustomerTaken) else -1
        w.set(w.people, (person["id"],), held_customers=person["held_customers"] + step)


@organisation.on(Department.Created)
def department_created(w: Writer, e: Department.Created) -> None:
    w.put(w.departments, id=str(e.originator_id), name=e.name, parent_id=e.parent_id,
          manager_ids=list(e.manager_ids))


@organisation.on(Department.Changed)
def department_changed(w: Writer, e: Department.Changed) -> None:
    w.set(w.departments, (str(e.originator_id),), **e.changes)


@organisation.on(Settings.Created, Settings.Changed)
def settings_changed(w: Writer, e: Any) -> None:
    w.remove(w.settings, 1)
    w.put(w.settings, id=1, rules=e.rules, dictionaries=e.dictionaries)
