"""Property: for any sequence of commands, the incrementally maintained read models equal
a full rebuild from the events, row for row."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from argon2 import PasswordHasher
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aggregates.base import DomainError
from commands import messages as m
from commands.actor import Actor
from commands.adapters.clock import ManualClock
from commands.base import load_customer
from commands.bootstrap import bootstrap
from commands.config import Config
from commands.handlers import handle
from commands.handlers import run as run_now
from tests.conftest import SYSTEM, read_model_snapshot

REGIONS = ["华北", "华东", "华南"]

person = st.integers(0, 2)
customer = st.integers(0, 5)
operation = st.one_of(
    st.tuples(st.just("register"), person, st.booleans(), st.integers(0, 6)),
    st.tuples(st.just("claim"), customer, person),
    st.tuples(st.just("release"), customer),
    st.tuples(st.just("recall"), customer),
    st.tuples(st.just("share"), customer, person),
    st.tuples(st.just("unshare"), customer, person),
    st.tuples(st.just("transfer"), customer, person),
    st.tuples(st.just("assign"), customer, person),
    st.tuples(st.just("visit"), customer),
    st.tuples(st.just("contact"), customer, st.booleans()),
    st.tuples(st.just("drop_contact"), customer),
    st.tuples(st.just("region"), customer, st.sampled_from(REGIONS)),
    st.tuples(st.just("rename"), customer, st.integers(0, 6)),
    st.tuples(st.just("delete"), customer),
    st.tuples(st.just("limits"), person, st.integers(0, 3)),
    st.tuples(st.just("deal"), customer, st.integers(1, 9)),
    st.tuples(st.just("deliver"), st.integers(1, 3)),
    st.tuples(st.just("take_back"), st.booleans()),
    st.tuples(st.just("pay"), customer, st.integers(1, 9)),
    st.tuples(st.just("sweep"), st.integers(0, 40)),
    st.tuples(st.just("target"), person, st.integers(-20, 20), st.integers(0, 30)),
    st.tuples(st.just("report"), person, st.sampled_from(["daily", "weekly", "monthly"])),
    st.tuples(st.just("timezone"), st.sampled_from(["Asia/Shanghai", "UTC", "America/New_York"])),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operation, min_size=1, max_size=40))
def test_incremental_read_models_equal_a_rebuild(operations: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        clock = ManualClock(datetime(2026, 11, 2, 1, 0, tzinfo=UTC))
        service = bootstrap(Config(database_url=f"sqlite:///{folder}/crm.db"), clock=clock)
        service.deps.credentials.hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        try:
            run(service, operations)
            incremental = read_model_snapshot(service)
            for name in service.projector.names:
                service.projector.rebuild(name)
            assert read_model_snapshot(service) == incremental
        finally:
            service.close()


def run(service: Any, operations: list[tuple[Any, ...]]) -> None:
    deps = service.deps
    dept = handle(m.CreateDepartment(name="部门"), SYSTEM, deps).ids["id"]
    boss_id = handle(m.CreatePerson(name="经理", username="boss", password="password123",
                                    roles=["manager"], department_id=dept), SYSTEM, deps).ids["id"]
    boss = Actor(boss_id, "经理", frozenset({"manager"}), dept)
    people = []
    for i in range(3):
        pid = handle(m.CreatePerson(name=f"S{i}", username=f"s{i}", password="password123",
                                    roles=["sales"], department_id=dept, max_customers=3),
                     SYSTEM, deps).ids["id"]
        people.append(Actor(pid, f"S{i}", frozenset({"sales"}), dept))
    keeper = Actor("keeper", "库管", frozenset({"warehouse", "admin"}), dept)
    product = handle(m.CreateProduct(name="服务器", unit="台"), keeper, deps).ids["id"]
    handle(m.StockIn(product_id=product, warehouse="总仓", quantity=Decimal("20"), cost=Decimal("100.00")),
           keeper, deps)
    customers: list[str] = []
    contracts: list[str] = []
    deliveries: list[tuple[str, str]] = []

    def target(i: int) -> str | None:
        return customers[i % len(customers)] if customers else None

    def owner_of(customer_id: str) -> Actor:
        found = load_customer(deps, customer_id)
        return next((p for p in people if p.person_id == found.owner_id), boss)

    for op in operations:
        kind, *args = op
        try:
            if kind == "register":
                made = handle(m.RegisterCustomer(name=f"客户{args[2]}", to_pool=args[1],
                                                 contacts=[{"name": "甲"}]), people[args[0]], deps)
                customers.append(made.ids["id"])
                continue
            if kind == "limits":
                handle(m.ChangePerson(people[args[0]].person_id,
                                      {"max_customers": args[1], "max_follow_days": 10 + args[1]}),
                       SYSTEM, deps)
                continue
            if kind == "sweep":
                service.deps.clock.advance(days=args[0])
                handle(m.SweepPool(None), boss, deps)
                continue
            if kind == "target":
                start = service.deps.clock.now().date() + timedelta(days=args[1])
                handle(m.SetTarget(person_id=people[args[0]].person_id, period="期", start=start,
                                   end=start + timedelta(days=args[2]), figures={"visits": args[2]}), boss, deps)
                continue
            if kind == "deliver" and contracts:
                done = handle(m.Deliver(contract_id=contracts[-1], lines=[
                    {"product_id": product, "warehouse": "总仓", "quantity": str(args[0])}]), keeper, deps)
                deliveries.append((contracts[-1], done.ids["delivery_id"]))
                continue
            if kind == "take_back" and deliveries:
                contract, delivery = deliveries[-1]
                line = [{"product_id": product, "quantity": "1", "warehouse": "总仓"}]
                if args[0]:
                    handle(m.ReturnGoods(contract_id=contract, delivery_id=delivery, lines=line), keeper, deps)
                else:
                    handle(m.ExchangeGoods(contract_id=contract, delivery_id=delivery, lines=line), keeper, deps)
                continue
            if kind in ("deliver", "take_back"):
                continue
            if kind == "report":
                handle(m.SubmitWorkReport(kind=args[1], day=service.deps.clock.now().date(), summary="总结",
                                          plan="计划"), people[args[0]], deps)
                continue
            if kind == "timezone":
                handle(m.ChangeSettings(rules={"timezone": args[0]}, dictionaries={}), SYSTEM, deps)
                continue
            c = target(args[0])
            if c is None:
                continue
            if kind == "claim":
                handle(m.ClaimCustomer(c), people[args[1]], deps)
            elif kind == "release":
                handle(m.ReturnToPool(c, reason="released"), owner_of(c), deps)
            elif kind == "recall":
                handle(m.ReturnToPool(c, reason="recalled"), boss, deps)
            # Owners' share, contact and info changes apply at once, whatever the approval policy
            # says (`run_now`, not `handle`).
            elif kind == "share":
                run_now(m.ChangeShares(c, add=[people[args[1]].person_id]), owner_of(c), deps)
            elif kind == "unshare":
                run_now(m.ChangeShares(c, remove=[people[args[1]].person_id]), owner_of(c), deps)
            elif kind == "transfer":
                handle(m.TransferCustomer(c, to_person_id=people[args[1]].person_id), owner_of(c), deps)
            elif kind == "assign":
                handle(m.AssignCustomer(c, to_person_id=people[args[1]].person_id), boss, deps)
            elif kind == "visit":
                handle(m.RecordVisit(customer_id=c, stage="需求确认"), owner_of(c), deps)
            elif kind == "contact":
                run_now(m.AddContact(c, contact={"name": "乙", "primary": args[1]}), owner_of(c), deps)
            elif kind == "drop_contact":
                contacts = load_customer(deps, c).contacts
                if contacts:
                    run_now(m.RemoveContact(c, contact_id=contacts[0]["id"]), owner_of(c), deps)
            elif kind == "region":
                run_now(m.ChangeCustomerInfo(c, {"region": args[1]}), owner_of(c), deps)
            elif kind == "rename":
                run_now(m.ChangeCustomerInfo(c, {"name": f"客户{args[1]}"}), owner_of(c), deps)
            elif kind == "delete":
                handle(m.DeleteCustomer(c), boss, deps)
            elif kind == "deal":
                # Odd sizes sell goods by the line; even ones are a plain amount.
                deal = (m.SignContract(customer_id=c, number=f"HT{len(contracts)}", name="合同", lines=[
                            {"product_id": product, "quantity": str(args[1] % 4 + 1), "unit_price": "150.00"}])
                        if args[1] % 2 else
                        m.SignContract(customer_id=c, number=f"HT{len(contracts)}", name="合同",
                                       amount=Decimal(args[1] * 100)))
                contracts.append(handle(deal, owner_of(c), deps).ids["id"])
            elif kind == "pay":
                handle(m.RecordPayment(customer_id=c, amount=Decimal(args[1])), owner_of(c), deps)
        except DomainError:
            pass  # a refused command records nothing; the property holds all the same
