"""AP-2 under concurrency, on PostgreSQL with threads sharing one service: approvals racing
against one price never overwrite each other (exactly one applies, the others are
`stale_request`), and an approval racing a manager's direct change never lands on a price
other than the one it was asked against. Every approved price change's old price is the
price its request was made against."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from aggregates.approval import Approval
from aggregates.product import Product
from commands import messages as m
from commands.actor import Actor
from commands.adapters.clock import ManualClock
from commands.base import Result
from commands.bootstrap import Service, bootstrap
from commands.config import Config
from commands.handlers import handle
from tests.conftest import SYSTEM, run_together

pytestmark = pytest.mark.postgres


@pytest.fixture
def service(pg_url: str, clock: ManualClock) -> Iterator[Service]:
    svc = bootstrap(Config(database_url=pg_url, mode="distributed"), clock=clock)
    yield svc
    svc.close()


def person(service: Service, username: str, roles: list[str], dept: str) -> Actor:
    made = handle(m.CreatePerson(name=username, username=username, password="password123", roles=roles,
                                 department_id=dept), SYSTEM, service.deps).ids["id"]
    return Actor(made, username, frozenset(roles), dept)


def team(service: Service, requesters: int) -> tuple[Actor, list[Actor]]:
    dept = handle(m.CreateDepartment(name="定价部"), SYSTEM, service.deps).ids["id"]
    boss = person(service, "boss", ["manager"], dept)
    handle(m.ChangeDepartment(dept, {"manager_ids": [boss.person_id]}), SYSTEM, service.deps)
    people = [person(service, f"keeper{i}", ["warehouse"], dept) for i in range(requesters)]
    service.projector.catch_up()
    return boss, people


def product_at(service: Service, boss: Actor, price: str) -> str:
    product = str(handle(m.CreateProduct(name="服务器", spec="R740"), boss, service.deps).ids["id"])
    handle(m.ChangePrice(product, Decimal(price)), boss, service.deps)
    return product


def ask(service: Service, who: Actor, product: str, price: str) -> str:
    done = handle(m.ChangePrice(product, Decimal(price)), who, service.deps)
    assert done.pending is True
    return str(done.ids["approval_id"])


def price_changes(service: Service, product: str) -> list[Any]:
    return [e for e in service.store.events.get(UUID(product)) if isinstance(e, Product.PriceChanged)]


def status(service: Service, approval_id: str) -> str:
    found = service.store.find(UUID(approval_id), Approval)
    assert found is not None
    return found.status


def assert_every_approved_change_met_its_base(service: Service, product: str) -> None:
    for change in price_changes(service, product):
        if change.approved_by is not None:
            assert change.old_price == Decimal("150000.00"), change  # the price every request was asked against


@pytest.mark.parametrize("round_", range(3))
def test_two_approvals_racing_against_one_price_apply_exactly_one(service: Service, round_: int) -> None:
    boss, (keeper, other) = team(service, 2)
    product = product_at(service, boss, "150000.00")
    asks = [ask(service, keeper, product, "160000.00"), ask(service, other, product, "170000.00")]
    approvers = [boss, SYSTEM]  # the manager and an admin, at the same moment
    results = run_together(2, lambda i: handle(m.ApproveRequest(asks[i], comment="同意"), approvers[i], service.deps))
    assert sum(isinstance(r, Result) for r in results) == 1, results
    assert [r for r in results if isinstance(r, str)] == ["stale_request"]
    winner = next(i for i, r in enumerate(results) if isinstance(r, Result))
    current = service.store.find(UUID(product), Product)
    assert current is not None and current.price == Decimal(("160000.00", "170000.00")[winner])
    assert [status(service, a) for a in asks] == ["approved" if i == winner else "pending" for i in range(2)]
    assert len(price_changes(service, product)) == 2  # the manager's first price and the winner's
    assert_every_approved_change_met_its_base(service, product)


def test_many_approvals_against_one_price_apply_exactly_one(service: Service) -> None:
    boss, keepers = team(service, 8)
    product = product_at(service, boss, "150000.00")
    asks = [ask(service, k, product, f"{160000 + i}.00") for i, k in enumerate(keepers)]
    results = run_together(8, lambda i: handle(m.ApproveRequest(asks[i]), boss, service.deps))
    assert sum(isinstance(r, Result) for r in results) == 1
    assert Counter(r for r in results if isinstance(r, str)) == {"stale_request": 7}
    assert_every_approved_change_met_its_base(service, product)


@pytest.mark.parametrize("round_", range(3))
def test_an_approval_racing_a_direct_change_never_overwrites_it(service: Service, round_: int) -> None:
    """The keeper asks 160,000; at the same moment the manager sets 155,000 and another manager
    approves the request. Whichever commits first, the manager's 155,000 is the last word."""
    boss, (keeper,) = team(service, 1)
    product = product_at(service, boss, "150000.00")
    asked = ask(service, keeper, product, "160000.00")
    work = [lambda: handle(m.ApproveRequest(asked), SYSTEM, service.deps),
            lambda: handle(m.ChangePrice(product, Decimal("155000.00"), reason="市场价"), boss, service.deps)]
    approved, direct = run_together(2, lambda i: work[i]())
    assert isinstance(direct, Result) and not direct.pending
    current = service.store.find(UUID(product), Product)
    assert current is not None and current.price == Decimal("155000.00")
    if isinstance(approved, Result):  # the approval committed first; the manager's change came after
        assert [c.price for c in price_changes(service, product)] == [
            Decimal("150000.00"), Decimal("160000.00"), Decimal("155000.00")]
    else:
        assert approved == "stale_request" and status(service, asked) == "pending"
    assert_every_approved_change_met_its_base(service, product)
