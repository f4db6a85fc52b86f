"""The organisation port over the event store: the department tree and the people, kept in
memory and brought up to date from the events stored since the last question, so a write
decision (who manages whom, who approves) never waits for a projection."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from threading import Lock
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEvent
from eventsourcing.utils import get_topic

from aggregates.organisation import Department, Person
from commands import ports
from commands.actor import Actor
from commands.adapters.store import EventStore


def _topics(*kinds: type[Any]) -> list[str]:
    return [
        get_topic(value) for kind in kinds for value in vars(kind).values()
        if isinstance(value, type) and issubclass(value, DomainEvent)
    ]


TOPICS = _topics(Department, Person)
PAGE = 1000


class StoredOrganisation(ports.Organisation):
    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._position = 0
        self._people: dict[str, Person] = {}
        self._departments: dict[str, Department] = {}
        self._lock = Lock()

    def _refresh(self) -> tuple[dict[str, Person], dict[str, Department]]:
        """Read the department and person events stored since the last call (one query when
        none were), and reload those aggregates."""
        with self._lock:
            head = self.store.head()
            changed: set[UUID] = set()
            while self._position < head:
                page = self.store.recorder.select_notifications(
                    self._position, PAGE, stop=head, topics=TOPICS, inclusive_of_start=False)
                changed.update(UUID(str(n.originator_id)) for n in page)
                if len(page) < PAGE:
                    self._position = head
                else:
                    self._position = page[-1].id
            for originator_id in changed:
                found: Any = self.store.find(originator_id, object)
                if isinstance(found, Person):
                    self._people[str(originator_id)] = found
                elif isinstance(found, Department):
                    self._departments[str(originator_id)] = found
            return dict(self._people), dict(self._departments)

    def subtree(self, department_ids: Sequence[str]) -> set[str]:
        _, departments = self._refresh()
        return _subtree(departments, department_ids)

    def managed_people(self, actor: Actor) -> set[str]:
        people, departments = self._refresh()
        return _managed_people(people, departments, actor)

    def manages(self, actor: Actor, person_id: str | None) -> bool:
        if "admin" in actor.roles:
            return True
        if person_id is None or not actor.is_manager:
            return False
        return person_id in self.managed_people(actor)

    def actor_of(self, person_id: str) -> Actor | None:
        people, _ = self._refresh()
        person = people.get(person_id)
        return None if person is None else _actor(person_id, person)

    def approvers_for(self, requester: Actor) -> list[str]:
        people, departments = self._refresh()
        managers = [
            person_id for person_id, person in people.items()
            if "manager" in person.roles
            and requester.person_id in _managed_people(people, departments, _actor(person_id, person))
        ]
        if managers:
            return sorted(set(managers) - {requester.person_id})
        return sorted(person_id for person_id, person in people.items()
                      if "admin" in person.roles and person_id != requester.person_id)


def _actor(person_id: str, person: Person) -> Actor:
    return Actor(person_id, person.name, frozenset(person.roles), person.department_id)


def _subtree(departments: dict[str, Department], roots: Sequence[str]) -> set[str]:
    return below({department_id: d.parent_id for department_id, d in departments.items()}, roots)


def below(parents: Iterable[tuple[str, str | None]] | dict[str, str | None], roots: Sequence[str]) -> set[str]:
    """The given departments and every department below them, from each one's parent."""
    children: dict[str | None, list[str]] = {}
    for department_id, parent_id in (parents.items() if isinstance(parents, dict) else parents):
        children.setdefault(parent_id, []).append(department_id)
    found: set[str] = set()
    stack = list(roots)
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.add(current)
        stack.extend(children.get(current, []))
    return found


def _managed_people(people: dict[str, Person], departments: dict[str, Department], actor: Actor) -> set[str]:
    """Departments naming the actor as a manager, else their own, with every one below; the
    people in them."""
    if not actor.is_manager:
        return set()
    roots = [d_id for d_id, d in departments.items() if actor.person_id in (d.manager_ids or [])]
    if not roots and actor.department_id:
        roots = [actor.department_id]
    within = _subtree(departments, roots)
    if not within:
        return set()
    return {person_id for person_id, person in people.items() if person.department_id in within}
