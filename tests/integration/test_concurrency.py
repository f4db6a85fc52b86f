"""N-2: unique names (C-2), one owner per customer (C-5) and the cap (P-3) hold when many
requests arrive at once. Threads share one service, as the workers of one API process do."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from commands import messages as m
from commands.actor import Actor
from commands.adapters.clock import ManualClock
from commands.base import Result
from commands.bootstrap import Service, bootstrap
from commands.config import Config
from commands.handlers import handle
from readmodels.tables import customers
from tests.conftest import SYSTEM, run_together


@pytest.fixture
def service(database_url: str, clock: ManualClock) -> Iterator[Service]:
    # Projections are caught up once at the end, so the threads race on the write path only.
    svc = bootstrap(Config(database_url=database_url, mode="distributed"), clock=clock)
    yield svc
    svc.close()


def salespeople(service: Service, count: int, max_customers: int | None = None) -> list[Actor]:
    dept = handle(m.CreateDepartment(name="并发部"), SYSTEM, service.deps).ids["id"]
    people = []
    for i in range(count):
        pid = handle(
            m.CreatePerson(name=f"S{i}", username=f"s{i}", password="password123", roles=["sales"],
                           department_id=dept, max_customers=max_customers),
            SYSTEM, service.deps,
        ).ids["id"]
        people.append(Actor(pid, f"S{i}", frozenset({"sales"}), dept))
    return people


def pool_customers(service: Service, registrant: Actor, count: int) -> list[str]:
    return [
        handle(m.RegisterCustomer(name=f"公海客户{i}", to_pool=True), registrant, service.deps)
        .ids["id"]
        for i in range(count)
    ]


def test_simultaneous_registrations_of_one_name_create_exactly_one(service: Service) -> None:
    [person] = salespeople(service, 1, max_customers=100)
    results = run_together(
        50, lambda i: handle(m.RegisterCustomer(name=" 同名 科技\u3000"), person, service.deps)
    )
    created = [r for r in results if isinstance(r, Result)]
    assert len(created) == 1
    assert Counter(r for r in results if isinstance(r, str)) == {"duplicate_name": 49}
    service.projector.catch_up()
    with service.store.engine.connect() as conn:
        rows = conn.execute(select(customers.c.id, customers.c.name)).all()
    assert [(r.id, r.name) for r in rows] == [(created[0].ids["id"], "同名 科技")]


def test_simultaneous_claims_of_one_customer_give_one_owner(service: Service) -> None:
    people = salespeople(service, 50)
    [target] = pool_customers(service, people[0], 1)
    results = run_together(50, lambda i: handle(m.ClaimCustomer(target), people[i], service.deps))
    winners = [people[i].person_id for i, r in enumerate(results) if isinstance(r, Result)]
    assert len(winners) == 1
    # Once another holds it, the customer is hidden from the others: 404, as if it did not exist.
    assert Counter(r for r in results if isinstance(r, str)) == {"not_found": 49}
    service.projector.catch_up()
    with service.store.engine.connect() as conn:
        owner = conn.execute(select(customers.c.owner_id).where(customers.c.id == target)).scalar_one()
    assert owner == winners[0]


def test_cap_holds_when_one_salesperson_claims_from_many_threads(service: Service) -> None:
    [registrant, greedy] = salespeople(service, 2, max_customers=5)
    targets = pool_customers(service, registrant, 20)
    results = run_together(20, lambda i: handle(m.ClaimCustomer(targets[i]), greedy, service.deps))
    assert sum(isinstance(r, Result) for r in results) == 5
    assert Counter(r for r in results if isinstance(r, str)) == {"cap_reached": 15}
    service.projector.catch_up()
    with service.store.engine.connect() as conn:
        owned = conn.execute(select(customers.c.id).where(customers.c.owner_id == greedy.person_id)).all()
    assert len(owned) == 5


def test_simultaneous_overlapping_targets_leave_exactly_one(service: Service) -> None:
    """T-2 under concurrency: 20 managers' requests for overlapping periods of one person."""
    from datetime import date, timedelta

    from readmodels.tables import targets

    [person] = salespeople(service, 1)
    boss = SYSTEM
    results = run_together(20, lambda i: handle(m.SetTarget(
        person_id=person.person_id, period=f"期{i}", start=date(2026, 11, 1) + timedelta(days=i),
        end=date(2026, 11, 25) + timedelta(days=i), figures={"visits": i}), boss, service.deps))
    # Applied at once (an admin sets it): never filed for approval.
    assert sum(isinstance(r, Result) and not r.pending for r in results) == 1
    assert Counter(r for r in results if isinstance(r, str)) == {"overlapping_period": 19}
    service.projector.catch_up()
    with service.store.engine.connect() as conn:
        assert len(conn.execute(select(targets.c.id)).all()) == 1


@pytest.mark.postgres
def test_each_process_keeps_its_configured_connections_open(pg_url: str, clock: ManualClock) -> None:
    # The persistence module's engine kept 5 connections and opened one per use beyond that;
    # the store's engine keeps CRM_DB_POOL_SIZE open and closes only the overflow.
    svc = bootstrap(Config(database_url=pg_url, mode="distributed", db_pool_size=3, db_max_overflow=2),
                    clock=clock)
    try:
        engine = svc.store.engine
        held = [engine.connect() for _ in range(5)]
        assert engine.pool.checkedout() == 5
        for conn in held:
            conn.close()
        assert engine.pool.checkedin() == 3
        # Writes and reads of the event store go through the resized engine.
        [person] = salespeople(svc, 1, max_customers=10)
        made = run_together(4, lambda i: handle(m.RegisterCustomer(name=f"连接{i}"), person, svc.deps).ids["id"])
        assert all(isinstance(made_id, str) for made_id in made)
        svc.projector.catch_up()
        with engine.connect() as conn:
            names = set(conn.execute(select(customers.c.name).where(customers.c.id.in_(made))).scalars())
        assert names == {f"连接{i}" for i in range(4)}
    finally:
        svc.close()
