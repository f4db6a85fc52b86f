"""Sales and stock through the command layer: the moving-average worked example (G-2,
G-4, G-5), limits that are never exceeded (D-2, D-3, G-4, G-5), stock under concurrency."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from aggregates.base import DomainError
from aggregates.customer import Customer
from aggregates.organisation import Salesperson
from aggregates.product import ProductStock
from commands import messages as m
from commands import sales as sc
from commands.actor import Actor
from commands.adapters.clock import ManualClock
from commands.base import load_customer
from commands.bootstrap import Service, bootstrap
from commands.config import Config
from commands.handlers import handle
from tests.conftest import SYSTEM, run_together


@pytest.fixture
def shop(service: Service) -> dict[str, object]:
    deps = service.deps
    handle(m.ChangeSettings(rules={}, dictionaries={"warehouses": ["W1", "W2"]}), SYSTEM, deps)
    dept = handle(m.CreateDepartment(name="销售部"), SYSTEM, deps).ids["id"]
    pid = handle(m.CreatePerson(name="张伟", username="zhang", password="password123",
                                roles=["sales"], department_id=dept, max_customers=1), SYSTEM, deps).ids["id"]
    seller = Actor(pid, "张伟", frozenset({"sales"}), dept)
    keeper_id = handle(m.CreatePerson(name="库管", username="keeper", password="password123",
                                      roles=["warehouse"], department_id=dept), SYSTEM, deps).ids["id"]
    keeper = Actor(keeper_id, "库管", frozenset({"warehouse"}), dept)
    customer = handle(m.RegisterCustomer(name="成交客户"), seller, deps).ids["id"]
    product = handle(m.CreateProduct(name="服务器", spec="R740", unit="台"), keeper, deps).ids["id"]
    return {"seller": seller, "keeper": keeper, "customer": customer, "product": product}


def stock(service: Service, product: str, warehouse: str = "W1") -> ProductStock:
    found = service.store.find(ProductStock.id_for(product, warehouse), ProductStock)
    assert found is not None
    return found


def contract_for(service: Service, shop: dict, quantity: str = "10", price: str = "200.00", number: str = "HT-1") -> str:
    return handle(m.SignContract(
        customer_id=shop["customer"], number=number, name="服务器采购",
        lines=[{"product_id": shop["product"], "quantity": quantity, "unit_price": price}]), shop["seller"],
        service.deps).ids["id"]


def test_moving_average_worked_example(service: Service, shop: dict) -> None:
    deps, product, keeper = service.deps, shop["product"], shop["keeper"]
    handle(m.StockIn(product_id=product, warehouse="W1", quantity=Decimal("10"), cost=Decimal("100.00")), keeper, deps)
    handle(m.StockIn(product_id=product, warehouse="W1", quantity=Decimal("10"), cost=Decimal("130.00")), keeper, deps)
    s = stock(service, product)
    assert (s.quantity, s.unit_cost, s.value) == (Decimal("20"), Decimal("115.0000"), Decimal("2300.00"))
    contract_id = contract_for(service, shop)
    delivery = handle(m.Deliver(contract_id=contract_id,
                                lines=[{"product_id": product, "warehouse": "W1", "quantity": "5"}]),
                      keeper, deps).ids["delivery_id"]
    s = stock(service, product)
    assert (s.quantity, s.value) == (Decimal("15"), Decimal("1725.00"))
    handle(m.ReturnGoods(contract_id=contract_id, delivery_id=delivery, lines=[{"product_id": product, "quantity": "2"}]),
           keeper, deps)
    s = stock(service, product)
    assert (s.quantity, s.unit_cost, s.value) == (Decimal("17"), Decimal("115.0000"), Decimal("1955.00"))
    for value in (s.quantity, s.unit_cost, s.value):
        assert isinstance(value, Decimal)


def test_a_deal_makes_the_customer_dealt_and_frees_a_place(service: Service, shop: dict) -> None:
    deps = service.deps
    profile = service.store.find(Salesperson.id_for(shop["seller"].person_id), Salesperson)
    assert profile is not None and profile.held == [shop["customer"]]
    with pytest.raises(DomainError) as full:
        handle(m.RegisterCustomer(name="第二个客户"), shop["seller"], deps)
    assert full.value.code == "cap_reached"
    contract_id = contract_for(service, shop)
    customer = load_customer(deps, shop["customer"])
    assert isinstance(customer, Customer) and customer.status == "dealt" and customer.deal_total == Decimal("2000.00")
    assert handle(m.RegisterCustomer(name="第二个客户"), shop["seller"], deps).ids["id"]
    with pytest.raises(DomainError) as duplicate:
        contract_for(service, shop, number=" HT-1 ")
    assert duplicate.value.code == "duplicate_contract_number"
    assert sc.load_contract(deps, contract_id).salesperson_id == shop["seller"].person_id


def test_limits_are_never_exceeded(service: Service, shop: dict) -> None:
    deps, product, keeper, seller = service.deps, shop["product"], shop["keeper"], shop["seller"]
    handle(m.StockIn(product_id=product, warehouse="W1", quantity=Decimal("100"), cost=Decimal("50")), keeper, deps)
    contract_id = contract_for(service, shop, quantity="10", price="100.00")  # 1000.00

    def refused(call: object) -> str:
        with pytest.raises(DomainError) as error:
            call()  # type: ignore[operator]
        return str(error.value.code)

    def invoice(amount: str) -> object:
        return handle(m.InvoiceContract(contract_id=contract_id, amount=Decimal(amount)), seller, deps)

    def pay(amount: str, contract: str | None = contract_id) -> object:
        return handle(m.RecordPayment(customer_id=shop["customer"], amount=Decimal(amount), contract_id=contract),
                      seller, deps)

    def deliver(quantity: str) -> Any:
        return handle(m.Deliver(contract_id=contract_id, lines=[{**line, "quantity": quantity}]), keeper, deps)

    def give_back(quantity: str) -> object:
        return handle(m.ReturnGoods(contract_id=contract_id, delivery_id=first,
                                    lines=[{"product_id": product, "quantity": quantity}]), keeper, deps)

    invoice("600.00")
    assert refused(lambda: invoice("400.01")) == "over_invoiced"
    invoice("400.00")
    pay("999.99")
    assert refused(lambda: pay("0.02")) == "over_collected"
    pay("50.00", None)  # a prepayment has no ceiling
    line = {"product_id": product, "warehouse": "W1"}
    first = deliver("6").ids["delivery_id"]
    assert refused(lambda: deliver("5")) == "over_delivered"
    deliver("4")
    give_back("4")
    assert refused(lambda: give_back("3")) == "over_returned"
    # A return shrinks the deal: nothing more is left to deliver, the net amount is 600.00, and
    # what was collected beyond it is the customer's credit; no more may be collected or invoiced.
    assert refused(lambda: deliver("0.0001")) == "over_delivered"
    assert refused(lambda: pay("0.01")) == "over_collected"
    assert refused(lambda: invoice("0.01")) == "over_invoiced"
    contract = sc.load_contract(deps, contract_id)
    assert (contract.net_amount, contract.outstanding, contract.credit) == (
        Decimal("600.00"), Decimal("0"), Decimal("399.99"))
    customer = load_customer(deps, shop["customer"])
    assert (customer.deal_total, customer.invoiced_total, customer.collected_total) == (
        Decimal("600.00"), Decimal("1000.00"), Decimal("1049.99"))
    assert (customer.view()["receivable"], customer.credit) == (Decimal("0.00"), Decimal("449.99"))
    assert stock(service, product).quantity == Decimal("94")


def test_exchange_brings_back_at_delivery_cost_and_sends_out_at_average(service: Service, shop: dict) -> None:
    deps, product, keeper = service.deps, shop["product"], shop["keeper"]
    handle(m.StockIn(product_id=product, warehouse="W1", quantity=Decimal("10"), cost=Decimal("100")), keeper, deps)
    handle(m.StockIn(product_id=product, warehouse="W2", quantity=Decimal("10"), cost=Decimal("160")), keeper, deps)
    contract_id = contract_for(service, shop, quantity="5")
    delivery = handle(m.Deliver(contract_id=contract_id,
                                lines=[{"product_id": product, "warehouse": "W1", "quantity": "3"}]),
                      keeper, deps).ids["delivery_id"]
    handle(m.ExchangeGoods(contract_id=contract_id, delivery_id=delivery,
                           lines=[{"product_id": product, "quantity": "2", "warehouse": "W2"}]), keeper, deps)
    w1, w2 = stock(service, product, "W1"), stock(service, product, "W2")
    assert (w1.quantity, w1.value) == (Decimal("9"), Decimal("900.00"))
    assert (w2.quantity, w2.value, w2.unit_cost) == (Decimal("8"), Decimal("1280.00"), Decimal("160.0000"))
    contract = sc.load_contract(deps, contract_id)
    assert contract.delivered_net() == {product: Decimal("3")}


@pytest.fixture
def fast_service(database_url: str, clock: ManualClock) -> Iterator[Service]:
    svc = bootstrap(Config(database_url=database_url, mode="distributed"), clock=clock)
    yield svc
    svc.close()


def test_simultaneous_deliveries_never_take_stock_below_zero(fast_service: Service) -> None:
    service = fast_service
    deps = service.deps
    handle(m.ChangeSettings(rules={}, dictionaries={"warehouses": ["W1"]}), SYSTEM, deps)
    pid = handle(m.CreatePerson(name="S", username="s", password="password123", roles=["sales"],
                                max_customers=5), SYSTEM, deps).ids["id"]
    seller = Actor(pid, "S", frozenset({"sales"}), None)
    customer = handle(m.RegisterCustomer(name="并发交付客户"), seller, deps).ids["id"]
    product = handle(m.CreateProduct(name="U盘", unit="个"), SYSTEM, deps).ids["id"]
    handle(m.StockIn(product_id=product, warehouse="W1", quantity=Decimal("10"), cost=Decimal("20")), SYSTEM, deps)
    contract_id = handle(m.SignContract(
        customer_id=customer, number="HT-C", name="批量", lines=[
            {"product_id": product, "quantity": "100", "unit_price": "30"}]), seller, deps).ids["id"]
    line = [{"product_id": product, "warehouse": "W1", "quantity": "1"}]
    results = run_together(50, lambda i: handle(m.Deliver(contract_id=contract_id, lines=line), SYSTEM, deps))
    assert sum(not isinstance(r, str) for r in results) == 10
    assert Counter(r for r in results if isinstance(r, str)) == {"insufficient_stock": 40}
    s = stock(service, product)
    assert (s.quantity, s.value) == (Decimal("0"), Decimal("0.00"))
    assert sc.load_contract(deps, contract_id).delivered_net() == {product: Decimal("10")}


def test_simultaneous_deals_with_one_contract_number_create_one_contract(fast_service: Service) -> None:
    service = fast_service
    deps = service.deps
    pid = handle(m.CreatePerson(name="S", username="s", password="password123", roles=["sales"],
                                max_customers=50), SYSTEM, deps).ids["id"]
    seller = Actor(pid, "S", frozenset({"sales"}), None)
    customers = [handle(m.RegisterCustomer(name=f"客户{i}"), seller, deps).ids["id"] for i in range(20)]
    results = run_together(20, lambda i: handle(m.SignContract(
        customer_id=customers[i], number="HT-SAME", name="同号", amount=Decimal("10")), seller, deps))
    assert sum(not isinstance(r, str) for r in results) == 1
    assert Counter(r for r in results if isinstance(r, str)) == {"duplicate_contract_number": 19}
