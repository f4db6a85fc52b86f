"""N-2 for the batch actions (seed 002: 全选): batches running at the same time, from threads
sharing one service, never take a salesperson past their cap (P-3) or their daily claim limit
(C-5), never give a customer two owners, and report each customer's real outcome. Each
customer of a batch is its own atomic save, so the batches interleave customer by customer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from aggregates.organisation import Salesperson
from commands import messages as m
from commands.actor import Actor
from commands.adapters.clock import ManualClock
from commands.bootstrap import Service, bootstrap
from commands.config import Config
from commands.customers import BatchItem
from commands.handlers import handle
from readmodels.tables import customers
from tests.conftest import SYSTEM, run_together


@pytest.fixture
def service(database_url: str, clock: ManualClock) -> Iterator[Service]:
    # Projections are caught up once at the end, so the threads race on the write path only.
    svc = bootstrap(Config(database_url=database_url, mode="distributed"), clock=clock)
    yield svc
    svc.close()


def salespeople(service: Service, count: int, max_customers: int | None) -> tuple[str, list[Actor]]:
    dept = handle(m.CreateDepartment(name="批量部"), SYSTEM, service.deps).ids["id"]
    people = []
    for i in range(count):
        pid = handle(m.CreatePerson(name=f"B{i}", username=f"b{i}", password="password123", roles=["sales"],
                                    department_id=dept, max_customers=max_customers), SYSTEM, service.deps).ids["id"]
        people.append(Actor(pid, f"B{i}", frozenset({"sales"}), dept))
    return dept, people


def pool_customers(service: Service, count: int, prefix: str = "批量公海") -> list[str]:
    return [handle(m.RegisterCustomer(name=f"{prefix}{i}", to_pool=True), SYSTEM, service.deps).ids["id"]
            for i in range(count)]


def outcomes(results: list[object]) -> Counter[str]:
    """How the customers of every batch came out: `ok`, or the refusal's code."""
    counted: Counter[str] = Counter()
    for result in results:
        items: list[BatchItem] = result.ids["results"]  # type: ignore[attr-defined]
        counted.update(i.error.code if i.error else i.status for i in items)
    return counted


def owners(service: Service, ids: list[str]) -> dict[str, str | None]:
    service.projector.catch_up()
    with service.store.engine.connect() as conn:
        return dict(conn.execute(select(customers.c.id, customers.c.owner_id).where(customers.c.id.in_(ids))).all())


def test_two_batch_claims_against_one_cap_never_pass_it(service: Service) -> None:
    _, [greedy] = salespeople(service, 1, max_customers=5)
    targets = pool_customers(service, 16)
    halves = [targets[0::2], targets[1::2]]
    results = run_together(2, lambda i: handle(m.ClaimCustomers(halves[i]), greedy, service.deps))
    assert outcomes(results) == {"ok": 5, "cap_reached": 11}
    held = [cid for cid, owner in owners(service, targets).items() if owner == greedy.person_id]
    assert len(held) == 5
    profile = service.deps.store.find(Salesperson.id_for(greedy.person_id), Salesperson)
    assert profile is not None and sorted(profile.held) == sorted(held)


def test_batch_claims_and_single_claims_together_keep_the_daily_limit(service: Service) -> None:
    handle(m.ChangeSettings(rules={"daily_claim_limit": 4}, dictionaries={}), SYSTEM, service.deps)
    _, [person] = salespeople(service, 1, max_customers=100)
    targets = pool_customers(service, 12)
    work = [m.ClaimCustomers(targets[0:4]), m.ClaimCustomers(targets[4:8]),
            *[m.ClaimCustomer(cid) for cid in targets[8:12]]]
    results = run_together(len(work), lambda i: handle(work[i], person, service.deps))
    batch_outcomes = outcomes(results[:2])
    singles = Counter("ok" if not isinstance(r, str) else r for r in results[2:])
    assert batch_outcomes["ok"] + singles["ok"] == 4
    assert batch_outcomes["daily_claim_limit"] + singles["daily_claim_limit"] == 8
    assert sum(owner == person.person_id for owner in owners(service, targets).values()) == 4


def test_overlapping_batch_claims_give_each_customer_one_owner(service: Service) -> None:
    _, people = salespeople(service, 4, max_customers=100)
    targets = pool_customers(service, 10)
    results = run_together(4, lambda i: handle(m.ClaimCustomers(targets), people[i], service.deps))
    # Once someone holds a customer, it is hidden from the others (404), as a single claim.
    assert outcomes(results) == {"ok": 10, "not_found": 30}
    claimed = owners(service, targets)
    assert all(owner is not None for owner in claimed.values())
    for i, result in enumerate(results):
        won = {item.customer_id for item in result.ids["results"] if item.status == "ok"}  # type: ignore[attr-defined]
        assert won == {cid for cid, owner in claimed.items() if owner == people[i].person_id}


def test_batch_transfers_to_one_receiver_stop_at_their_cap(service: Service) -> None:
    dept, people = salespeople(service, 3, max_customers=100)
    receiver_id = handle(m.CreatePerson(name="接收人", username="taker", password="password123", roles=["sales"],
                                        department_id=dept, max_customers=3), SYSTEM, service.deps).ids["id"]
    handed = {}
    for giver in people[:2]:
        handed[giver.person_id] = [
            handle(m.RegisterCustomer(name=f"{giver.name}的客户{j}"), giver, service.deps).ids["id"] for j in range(4)]
    givers = people[:2]
    results = run_together(2, lambda i: handle(m.TransferCustomers(handed[givers[i].person_id], receiver_id, "交接"),
                                               givers[i], service.deps))
    assert outcomes(results) == {"ok": 3, "cap_reached": 5}
    everything = [cid for ids in handed.values() for cid in ids]
    assert sum(owner == receiver_id for owner in owners(service, everything).values()) == 3
