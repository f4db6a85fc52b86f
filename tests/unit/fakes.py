"""Fakes of the write side's ports, and a `World` that wires them with an in-memory event
store, for handler tests without a database (as cosmicpython tests its handlers with a
FakeUnitOfWork). Not a test module: the handler tests import it.

Every fake subclasses the port it stands in for (commands/ports.py), keeps its state in
memory and records what it was asked, so a test can say what the handler told the world.
The organisation is built from the Person and Department aggregates in the store itself,
read afresh at each question: who manages whom is what the events say now.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from aggregates.base import DomainError
from aggregates.customer import Customer
from aggregates.names import skeleton_key
from aggregates.organisation import Department, Person, Salesperson
from aggregates.settings import SETTINGS_ID, Settings
from commands import messages as m
from commands import ports
from commands.actor import Actor
from commands.adapters.store import EventStore
from commands.base import Deps
from commands.handlers import handle
from commands.organisation import ensure_settings

T = TypeVar("T")

# Monday 2 November 2026, 09:00 in Shanghai.
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
SYSTEM = Actor("system", "system", frozenset({"admin"}), None)
PASSWORD = "password123"


# ---- the fakes ---------------------------------------------------------------------------------


class FakeClock(ports.Clock):
    """Stands still until moved, but never hands out one moment twice (events of one
    aggregate keep their order)."""

    def __init__(self, start: datetime = T0) -> None:
        self._now = start

    def now(self) -> datetime:
        self._now += timedelta(microseconds=1)
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)


class FakeSequences(ports.Sequences):
    """One counter per name, shared by `take` and `next` as the real ones are. `before_take`
    runs (once) before the next `take`: another writer getting there in mid-command."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}
        self.calls: list[tuple[str, str, int]] = []
        self.before_take: Callable[[], Any] | None = None

    def take(self, name: str) -> int:
        if self.before_take is not None:
            meanwhile, self.before_take = self.before_take, None
            meanwhile()
        self.calls.append(("take", name, 1))
        self.values[name] = self.values.get(name, 0) + 1
        return self.values[name]

    def next(self, name: str, count: int = 1) -> int:
        self.calls.append(("next", name, count))
        self.values[name] = self.values.get(name, 0) + count
        return self.values[name]


class FakeBlobs(ports.Blobs):
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.puts: list[str] = []

    def put(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        self.files[sha256] = bytes(data)
        self.puts.append(sha256)
        return sha256

    def get(self, sha256: str) -> bytes | None:
        return self.files.get(sha256)


class UniqueViolation(Exception):
    """What a database says when a second login takes a username (the real adapter's
    IntegrityError carries "UNIQUE constraint failed" or "duplicate key ... unique")."""


class FakeCredentials(ports.Credentials):
    """Logins in a dict (no hashing: the tests are about the handlers). `register` saves the
    person's aggregates in the store, as the real adapter does in its transaction. Set
    `fail_next` to make the next `register` raise (a database error in mid-flight)."""

    def __init__(self) -> None:
        self.logins: dict[str, tuple[str, str]] = {}  # casefolded username → (person id, password)
        self.passwords_set: list[tuple[str, str]] = []
        self.sessions_ended: list[str] = []
        self.ended_tokens: list[str] = []
        self.session_versions: dict[str, int] = {}
        self.fail_next: Exception | None = None

    def register(self, store: Any, aggregates: Sequence[Any], person_id: str, username: str,
                 password: str, at: datetime) -> int:
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        key = username.strip().casefold()
        if key in self.logins:
            raise UniqueViolation("UNIQUE constraint failed: crm_credentials.username")
        recordings = store.save(*aggregates)
        self.logins[key] = (person_id, password)
        return int(recordings[-1].notification.id)

    def set_password(self, person_id: str, password: str, at: datetime) -> None:
        self.passwords_set.append((person_id, password))
        for key, (pid, _old) in list(self.logins.items()):
            if pid == person_id:
                self.logins[key] = (pid, password)

    def change_own_password(self, person_id: str, old: str, new: str, at: datetime) -> bool:
        for key, (pid, current) in list(self.logins.items()):
            if pid == person_id and current == old:
                self.logins[key] = (pid, new)
                return True
        return False

    def verify(self, username: str, password: str) -> str | None:
        found = self.logins.get(username.strip().casefold())
        return found[0] if found is not None and found[1] == password else None

    def end_sessions(self, person_id: str, at: datetime) -> None:
        self.sessions_ended.append(person_id)
        self.session_versions[person_id] = self.session_versions.get(person_id, 0) + 1

    def end_session(self, token_id: str, person_id: str, expires_at: datetime, now: datetime) -> None:
        self.ended_tokens.append(token_id)

    def session_version(self, conn: Any, person_id: str) -> int:
        return self.session_versions.get(person_id, 0)

    def session_state(self, conn: Any, person_id: str, token_id: str) -> tuple[int, bool]:
        return self.session_version(conn, person_id), token_id in self.ended_tokens


class FakeThrottle(ports.SignInThrottle):
    """Doubling delays per username and address after the first failure."""

    def __init__(self) -> None:
        self.failures: dict[tuple[str, str], int] = {}
        self.blocked_until: dict[tuple[str, str], datetime] = {}
        self.attempts: dict[int, tuple[str, str]] = {}

    def delay(self, failures: int) -> timedelta:
        return timedelta(0) if failures <= 1 else timedelta(seconds=min(2 ** (failures - 1), 900))

    def attempt(self, username: str, address: str, now: datetime) -> ports.Attempt:
        key = (username.casefold(), address)
        until = self.blocked_until.get(key)
        if until is not None and now < until:
            return ports.Attempt(None, until)
        attempt_id = len(self.attempts) + 1
        self.attempts[attempt_id] = key
        return ports.Attempt(attempt_id)

    def failed(self, attempt: ports.Attempt, now: datetime) -> None:
        key = self.attempts[attempt.id or 0]
        self.failures[key] = self.failures.get(key, 0) + 1
        self.blocked_until[key] = now + self.delay(self.failures[key])

    def succeeded(self, attempt: ports.Attempt) -> None:
        key = self.attempts[attempt.id or 0]
        self.failures.pop(key, None)
        self.blocked_until.pop(key, None)

    def forget(self, attempt: ports.Attempt) -> None:
        self.attempts.pop(attempt.id or 0, None)


class FakeOrganisation(ports.Organisation):
    """The department tree and the people as the store has them now. It knows which ids
    are people and departments from `know_person` / `know_department` (the `World` tells it
    of every one it creates); their state is read from the store at each question."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.person_ids: list[str] = []
        self.department_ids: list[str] = []
        self.asked_approvers: list[str] = []

    def know_person(self, person_id: str) -> None:
        if person_id not in self.person_ids:
            self.person_ids.append(person_id)

    def know_department(self, department_id: str) -> None:
        if department_id not in self.department_ids:
            self.department_ids.append(department_id)

    def _people(self) -> dict[str, Person]:
        found = {pid: self.store.find(UUID(pid), Person) for pid in self.person_ids}
        return {pid: p for pid, p in found.items() if p is not None}

    def _departments(self) -> dict[str, Department]:
        found = {did: self.store.find(UUID(did), Department) for did in self.department_ids}
        return {did: d for did, d in found.items() if d is not None}

    def subtree(self, department_ids: Sequence[str]) -> set[str]:
        departments = self._departments()
        found: set[str] = set()
        todo = list(department_ids)
        while todo:
            current = todo.pop()
            if current in found:
                continue
            found.add(current)
            todo += [did for did, d in departments.items() if d.parent_id == current]
        return found

    def managed_people(self, actor: Actor) -> set[str]:
        if not actor.is_manager:
            return set()
        roots = [did for did, d in self._departments().items() if actor.person_id in d.manager_ids]
        if not roots and actor.department_id:
            roots = [actor.department_id]
        within = self.subtree(roots) if roots else set()
        return {pid for pid, p in self._people().items() if p.department_id in within}

    def manages(self, actor: Actor, person_id: str | None) -> bool:
        if "admin" in actor.roles:
            return True
        if person_id is None or not actor.is_manager:
            return False
        return person_id in self.managed_people(actor)

    def actor_of(self, person_id: str) -> Actor | None:
        person = self._people().get(person_id)
        return None if person is None else as_actor(person_id, person)

    def approvers_for(self, requester: Actor) -> list[str]:
        self.asked_approvers.append(requester.person_id)
        people = self._people()
        managers = {pid for pid, p in people.items() if "manager" in p.roles
                    and requester.person_id in self.managed_people(as_actor(pid, p))}
        if managers:
            return sorted(managers - {requester.person_id})
        return sorted(pid for pid, p in people.items() if "admin" in p.roles and pid != requester.person_id)


ZERO_FIGURES: dict[str, Any] = {"new_customers": 0, "visits": 0, "deal_amount": Decimal("0.00"),
                                "collected_amount": Decimal("0.00")}


class FakePoolCandidates(ports.PoolCandidates):
    """Answers whatever the test put in `ids`: a hint, right or wrong."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.calls: list[tuple[datetime, int, int]] = []

    def due(self, now: datetime, default_follow_days: int, warning_days: int) -> list[str]:
        self.calls.append((now, default_follow_days, warning_days))
        return list(self.ids)


class FakeTargetFigures(ports.TargetFigures):
    def __init__(self) -> None:
        self.figures: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[list[str], date, date]] = []

    def of(self, person_ids: list[str], start: date, end: date) -> dict[str, dict[str, Any]]:
        self.calls.append((list(person_ids), start, end))
        return {pid: dict(self.figures.get(pid, ZERO_FIGURES)) for pid in person_ids}


class FakeLegacyNames(ports.LegacyNames):
    """Customers registered before skeletons were reserved, by skeleton key. `meanwhile`, when
    set, runs at every question: another writer at work while a command decides."""

    def __init__(self) -> None:
        self.holders: dict[str, tuple[str, str]] = {}  # skeleton key → (customer id, number)
        self.asked: list[tuple[str, str | None]] = []
        self.meanwhile: Callable[[], Any] | None = None

    def add(self, name: str, number: str, customer_id: str = "legacy") -> None:
        self.holders[skeleton_key(name)] = (customer_id, number)

    def holder(self, skeleton_key: str, except_id: str | None) -> str | None:
        if self.meanwhile is not None:
            self.meanwhile()
        self.asked.append((skeleton_key, except_id))
        found = self.holders.get(skeleton_key)
        if found is None or found[0] == except_id:
            return None
        return found[1]


class FakeImportLog(ports.ImportLog):
    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}

    def keep(self, record: dict[str, Any]) -> None:
        self.records[record["id"]] = dict(record)

    def load(self, import_id: str) -> dict[str, Any] | None:
        found = self.records.get(import_id)
        return None if found is None else dict(found)


# ---- wiring ------------------------------------------------------------------------------------


def in_memory_store() -> EventStore:
    """The event store on the library's in-memory (POPO) recorder, whatever the process
    environment or the class's defaults name (the prefixed key wins in eventsourcing)."""
    return EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo",
                           "CRM_PERSISTENCE_MODULE": "eventsourcing.popo"})


def as_actor(person_id: str, person: Person) -> Actor:
    return Actor(person_id, person.name, frozenset(person.roles), person.department_id)


@dataclass
class Team:
    """One department with a manager and two salespeople (at most `cap` customers each)."""

    dept: str
    boss: Actor
    alice: Actor
    bob: Actor


@dataclass
class World:
    """Deps with the in-memory store and the fakes, default settings and an admin; helpers
    for the givens (people, departments, customers) through `handle` only."""

    clock: FakeClock = field(default_factory=FakeClock)
    store: EventStore = field(default_factory=in_memory_store)
    credentials: FakeCredentials = field(default_factory=FakeCredentials)
    sequences: FakeSequences = field(default_factory=FakeSequences)
    blobs: FakeBlobs = field(default_factory=FakeBlobs)
    throttle: FakeThrottle = field(default_factory=FakeThrottle)
    pool_candidates: FakePoolCandidates = field(default_factory=FakePoolCandidates)
    target_figures: FakeTargetFigures = field(default_factory=FakeTargetFigures)
    legacy_names: FakeLegacyNames = field(default_factory=FakeLegacyNames)
    imports: FakeImportLog = field(default_factory=FakeImportLog)
    commits: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.organisation = FakeOrganisation(self.store)
        self.deps = Deps(
            store=self.store, clock=self.clock, credentials=self.credentials, sequences=self.sequences,
            blobs=self.blobs, throttle=self.throttle, organisation=self.organisation,
            pool_candidates=self.pool_candidates, target_figures=self.target_figures,
            legacy_names=self.legacy_names, imports=self.imports, after_commit=self.commits.append,
        )
        ensure_settings(self.deps)
        self.root = self.person("root", ["admin"], name="管理员", by=SYSTEM)

    # ---- when ----

    def do(self, command: m.Command, actor: Actor) -> Any:
        """`handle`, telling the organisation of the people and departments it creates."""
        done = handle(command, actor, self.deps)
        if isinstance(command, m.CreatePerson):
            self.organisation.know_person(done.ids["id"])
        elif isinstance(command, m.CreateDepartment):
            self.organisation.know_department(done.ids["id"])
        return done

    def refused(self, command: m.Command, actor: Actor) -> DomainError:
        """The refusal of the command; fails when it is carried out. Nothing may be stored
        by a refused command: the head of the store stays where it was."""
        head = self.store.head()
        try:
            self.do(command, actor)
        except DomainError as error:
            assert self.store.head() == head, f"{error.code} refused, yet events were stored"
            return error
        raise AssertionError(f"{type(command).__name__} was carried out, a refusal was expected")

    # ---- given ----

    def department(self, name: str, parent: str | None = None, managers: Iterable[str] = ()) -> str:
        done = self.do(m.CreateDepartment(name=name, parent_id=parent, manager_ids=list(managers)), self.root)
        return str(done.ids["id"])

    def person(self, username: str, roles: list[str], *, department: str | None = None, name: str | None = None,
               by: Actor | None = None, **limits: Any) -> Actor:
        done = self.do(m.CreatePerson(name=name or username.title(), username=username, password=PASSWORD,
                                      roles=roles, department_id=department, **limits), by or self.root)
        return self.actor(done.ids["id"])

    def actor(self, person_id: str) -> Actor:
        person = self.store.find(UUID(person_id), Person)
        assert person is not None
        return as_actor(person_id, person)

    def team(self, cap: int | None = 5, name: str = "华东销售部") -> Team:
        dept = self.department(name)
        boss = self.person(f"boss{len(self.organisation.department_ids)}", ["manager"], department=dept)
        alice = self.person(f"alice{len(self.organisation.department_ids)}", ["sales"], department=dept,
                            max_customers=cap)
        bob = self.person(f"bob{len(self.organisation.department_ids)}", ["sales"], department=dept,
                          max_customers=cap)
        return Team(dept, boss, alice, bob)

    def customer(self, actor: Actor, name: str, **fields: Any) -> str:
        return str(self.do(m.RegisterCustomer(name=name, **fields), actor).ids["id"])

    def rules(self, **rules: Any) -> None:
        self.do(m.ChangeSettings(rules=rules, dictionaries={}), self.root)

    def dictionaries(self, **dictionaries: Any) -> None:
        self.do(m.ChangeSettings(rules={}, dictionaries=dictionaries), self.root)

    # ---- then ----

    def find(self, aggregate_id: str | UUID, kind: type[T]) -> T:
        found = self.store.find(UUID(str(aggregate_id)), kind)
        assert found is not None, f"no {kind.__name__} {aggregate_id}"
        return found

    def customer_state(self, customer_id: str) -> Customer:
        return self.find(customer_id, Customer)

    def profile(self, actor: Actor | str) -> Salesperson:
        person_id = actor if isinstance(actor, str) else actor.person_id
        return self.find(Salesperson.id_for(person_id), Salesperson)

    def settings(self) -> Settings:
        return self.find(SETTINGS_ID, Settings)

    def events(self, aggregate_id: str | UUID) -> list[Any]:
        return list(self.store.repository.event_store.get(UUID(str(aggregate_id))))

    def event_types(self, aggregate_id: str | UUID) -> list[str]:
        return [type(e).__name__ for e in self.events(aggregate_id)]
