"""Keepers racing on one delivery notice (seed 000 §5.6.1, N-2) on PostgreSQL: however many
carry it out at once, never more is delivered against it than it asks for, and the goods, the
contract and the request agree. Threads share one service, as the workers of one API process do."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from uuid import UUID

import pytest

from aggregates.contract import Contract
from aggregates.delivery_request import DeliveryRequest
from aggregates.product import ProductStock
from commands import messages as m
from commands.actor import Actor
from commands.adapters.clock import ManualClock
from commands.base import Result
from commands.bootstrap import Service, bootstrap
from commands.config import Config
from commands.handlers import handle
from tests.conftest import SYSTEM, run_together

D = Decimal


@pytest.fixture
def service(pg_url: str, clock: ManualClock) -> Iterator[Service]:
    # The projections are left alone, so the threads race on the write path only.
    svc = bootstrap(Config(database_url=pg_url, mode="distributed"), clock=clock)
    yield svc
    svc.close()


def person(service: Service, username: str, roles: list[str], dept: str) -> Actor:
    pid = handle(m.CreatePerson(name=username, username=username, password="password123", roles=roles,
                                department_id=dept), SYSTEM, service.deps).ids["id"]
    return Actor(pid, username, frozenset(roles), dept)


@pytest.mark.postgres
def test_keepers_carrying_out_one_request_at_once_never_exceed_it(service: Service) -> None:
    deps = service.deps
    handle(m.ChangeSettings(rules={}, dictionaries={"warehouses": ["W1", "W2"]}), SYSTEM, deps)
    dept = handle(m.CreateDepartment(name="销售部"), SYSTEM, deps).ids["id"]
    alice = person(service, "alice", ["sales"], dept)
    keepers = [person(service, f"keeper{i}", ["warehouse"], dept) for i in range(8)]
    customer = handle(m.RegisterCustomer(name="采购方"), alice, deps).ids["id"]
    product = handle(m.CreateProduct(name="服务器"), keepers[0], deps).ids["id"]
    for warehouse in ("W1", "W2"):
        handle(m.StockIn(product, warehouse, D("100"), D("10")), keepers[0], deps)
    contract = handle(m.SignContract(customer, number="HT-RACE", name="合同", lines=[
        {"product_id": product, "quantity": "100", "unit_price": "20.00"}]), alice, deps).ids["id"]
    request = handle(m.RequestDelivery(contract, [{"product_id": product, "quantity": "5"}]), alice, deps).ids["id"]

    def carry_out(i: int) -> Result:
        line = {"product_id": product, "warehouse": "W1" if i % 2 else "W2", "quantity": "2"}
        return handle(m.Deliver(contract, [line], request_id=request), keepers[i], deps)  # type: ignore[no-any-return]

    results = run_together(8, carry_out)
    delivered = [r.ids["delivery_id"] for r in results if isinstance(r, Result)]
    assert len(delivered) == 2  # 2 + 2 of 5; a third 2 would pass it
    assert Counter(r for r in results if isinstance(r, str)) == {"over_requested": 6}
    asked = service.store.find(UUID(request), DeliveryRequest)
    assert asked is not None
    assert (asked.status, asked.lines[0]["done"], sorted(asked.done_ids)) == ("partly_done", D(4), sorted(delivered))
    # The last unit, by two keepers at once again: one of them.
    last = run_together(2, lambda i: handle(m.Deliver(contract, [{"product_id": product, "warehouse": "W1",
                                                                  "quantity": "1"}], request_id=request),
                                            keepers[i], deps))
    assert sorted(r if isinstance(r, str) else "ok" for r in last) == ["ok", "request_closed"]
    asked = service.store.find(UUID(request), DeliveryRequest)
    signed = service.store.find(UUID(contract), Contract)
    assert asked is not None and signed is not None
    assert (asked.status, asked.lines[0]["done"]) == ("done", D(5))
    assert signed.delivered_net()[product] == D(5)
    stocks = [service.store.find(ProductStock.id_for(product, w), ProductStock) for w in ("W1", "W2")]
    assert sum((s.quantity for s in stocks if s is not None), D(0)) == D(195)
