"""Sales handlers through `handle` with fakes (D-1..D-5, G-1..G-7): contracts and their
numbers and amounts, invoices, payments, products and prices, stock at moving-average cost,
deliveries, returns, exchanges and problem reports — with the bounds of aggregates/bounds.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from aggregates import bounds
from aggregates.contract import Contract
from aggregates.customer import Customer
from aggregates.problem import ProblemReport
from aggregates.product import Product, ProductStock
from commands import messages as m
from commands.actor import Actor
from tests.unit.fakes import Team, World

D = Decimal


@dataclass
class Shop:
    team: Team
    keeper: Actor
    customer: str
    product: str


@pytest.fixture
def shop(w: World) -> Shop:
    w.dictionaries(warehouses=["W1", "W2"])
    team = w.team()
    keeper = w.person("keeper", ["warehouse"], department=team.dept)
    customer = w.customer(team.alice, "采购方", region="华东")
    product = w.do(m.CreateProduct(name="服务器", spec="R740", unit="台"), keeper).ids["id"]
    return Shop(team, keeper, customer, product)


def sign(w: World, shop: Shop, number: str = "HT-1", who: Actor | None = None, **kw: Any) -> str:
    if "lines" not in kw and "amount" not in kw:
        kw["lines"] = [{"product_id": shop.product, "quantity": "8", "unit_price": "250.00"}]
    return str(w.do(m.SignContract(shop.customer, number=number, name="合同", **kw), who or shop.team.alice).ids["id"])


def stock_in(w: World, shop: Shop, warehouse: str, quantity: str, cost: str) -> None:
    w.do(m.StockIn(shop.product, warehouse, D(quantity), D(cost)), shop.keeper)


def stock(w: World, shop: Shop, warehouse: str) -> ProductStock:
    return w.find(ProductStock.id_for(shop.product, warehouse), ProductStock)


# ---- contracts (D-1) ---------------------------------------------------------------------------


def test_signing_makes_the_customer_dealt_and_frees_a_place(w: World, shop: Shop) -> None:
    alice = shop.team.alice
    assert w.profile(alice).held == [shop.customer]
    cid = sign(w, shop, signed_on=date(2026, 11, 1))
    contract = w.find(cid, Contract)
    assert (contract.amount, contract.salesperson_id, contract.signed_on) == (
        D("2000.00"), alice.person_id, date(2026, 11, 1))
    assert contract.lines == [{"product_id": shop.product, "quantity": D("8.0000"), "unit_price": D("250.00"),
                               "amount": D("2000.00")}]
    customer = w.customer_state(shop.customer)
    assert (customer.status, customer.deal_total) == ("dealt", D("2000.00"))
    assert w.profile(alice).held == []  # P-3: dealt customers do not count
    second = sign(w, shop, "HT-2", amount=D("10"))
    assert w.find(second, Contract).signed_on == date(2026, 11, 2)  # today in Shanghai
    assert w.customer_state(shop.customer).deal_total == D("2010.00")


@pytest.mark.parametrize("again", ["HT-1", "ht-1", " HT-1 ", "H T-1", "HT-\t1"])
def test_a_contract_number_is_taken_once(w: World, shop: Shop, again: str) -> None:
    sign(w, shop, "HT-1")
    refused = w.refused(m.SignContract(shop.customer, number=again, name="重复", amount=D("10")), shop.team.alice)
    assert (refused.code, refused.field) == ("duplicate_contract_number", "number")
    assert w.customer_state(shop.customer).deal_total == D("2000.00")


@pytest.mark.parametrize(("amount", "code"), [
    ("0", "validation_error"), ("-1", "validation_error"), ("1.001", "validation_error"),
    ("NaN", "validation_error"), ("Infinity", "validation_error"), ("sNaN", "validation_error"),
    ("abc", "validation_error"),
    ("10000000000.00", "out_of_range"), ("99999999999999999999", "out_of_range"),
])
def test_contract_amounts_out_of_bounds_are_refused(w: World, shop: Shop, amount: str, code: str) -> None:
    refused = w.refused(m.SignContract(shop.customer, number="HT-X", name="合同", amount=amount),  # type: ignore[arg-type]
                        shop.team.alice)
    assert (refused.code, refused.field) == (code, "amount")


@pytest.mark.parametrize("command", ["contract", "invoice", "payment", "stock_in", "price"])
def test_huge_amounts_are_refused_not_crashed_on(w: World, shop: Shop, command: str) -> None:
    huge = D("1e26")
    cid = sign(w, shop) if command == "invoice" else ""
    made = {
        "contract": lambda: m.SignContract(shop.customer, number="HT-H", name="合同", amount=huge),
        "invoice": lambda: m.InvoiceContract(cid, huge),
        "payment": lambda: m.RecordPayment(shop.customer, huge),
        "stock_in": lambda: m.StockIn(shop.product, "W1", D("1e24"), D("1")),
        "price": lambda: m.ChangePrice(shop.product, huge),
    }[command]()
    refused = w.refused(made, shop.team.boss)
    assert refused.code in ("validation_error", "out_of_range")


def test_the_largest_contract_amount_is_accepted(w: World, shop: Shop) -> None:
    cid = sign(w, shop, "HT-MAX", amount=bounds.MONEY_MAX)
    assert w.find(cid, Contract).amount == D("9999999999.99")


def test_lines_add_up_to_the_amount(w: World, shop: Shop) -> None:
    line = {"product_id": shop.product, "quantity": "3", "unit_price": "9.99"}
    refused = w.refused(m.SignContract(shop.customer, number="HT-L", name="合同", amount=D("5"), lines=[line]),
                        shop.team.alice)
    assert (refused.code, refused.details) == ("amount_mismatch", {"lines_total": "29.97"})
    assert w.refused(m.SignContract(shop.customer, number="HT-L", name="合同", lines=[line, line]),
                     shop.team.alice).field == "lines"  # one line per product
    unknown = {**line, "product_id": str(uuid4())}
    refused = w.refused(m.SignContract(shop.customer, number="HT-L", name="合同", lines=[line, unknown]),
                        shop.team.alice)
    assert (refused.code, refused.field) == ("unknown_product", "lines.1.product_id")
    for bad, field in (({**line, "quantity": "0.00001"}, "lines.0.quantity"),
                       ({**line, "unit_price": "0"}, "lines.0.unit_price")):
        assert w.refused(m.SignContract(shop.customer, number="HT-L", name="合同", lines=[bad]),
                         shop.team.alice).field == field
    huge = {**line, "quantity": "99999999.9999", "unit_price": "9999999999.99"}
    assert w.refused(m.SignContract(shop.customer, number="HT-L", name="合同", lines=[huge]),
                     shop.team.alice).code == "out_of_range"
    cid = w.do(m.SignContract(shop.customer, number="HT-L", name="合同", amount=D("29.97"), lines=[line]),
               shop.team.alice).ids["id"]
    assert w.find(cid, Contract).amount == D("29.97")


def test_contract_texts_are_bounded(w: World, shop: Shop) -> None:
    for number, name, code in (("", "合同", "validation_error"), ("HT-N", "", "validation_error"),
                               ("HT-N", "合" * 201, "too_long"), ("H" * 65, "合同", "too_long"),
                               ("HT-N", "合\x07同", "control_character")):
        refused = w.refused(m.SignContract(shop.customer, number=number, name=name, amount=D("1")), shop.team.alice)
        assert refused.code == code, (number[:5], name[:5])
    refused = w.refused(m.SignContract(shop.customer, number="HT-D", name="合同", amount=D("1"),
                                       signed_on=date(2200, 1, 1)), shop.team.alice)
    assert (refused.code, refused.field) == ("date_out_of_range", "signed_on")


def test_who_signs_for_a_customer(w: World, shop: Shop) -> None:
    team = shop.team
    w.do(m.ChangeShares(shop.customer, add=[team.bob.person_id]), team.boss)
    assert w.refused(m.SignContract(shop.customer, number="HT-S", name="合同", amount=D("1")),
                     team.bob).code == "not_owner"  # a sharee sees, but does not sell
    assert w.refused(m.SignContract(shop.customer, number="HT-S", name="合同", amount=D("1")),
                     shop.keeper).code == "not_found"
    cid = sign(w, shop, "HT-S", who=team.boss, amount=D("1"))
    assert w.find(cid, Contract).salesperson_id == team.alice.person_id  # the owner's deal
    pool = w.customer(team.alice, "公海客户", to_pool=True)
    assert w.refused(m.SignContract(pool, number="HT-P", name="合同", amount=D("1")), team.alice).code == "not_owner"
    assert w.refused(m.SignContract(pool, number="HT-P", name="合同", amount=D("1")), w.root).code == "in_pool"
    assert w.refused(m.SignContract(str(uuid4()), number="HT-P", name="合同", amount=D("1")),
                     team.alice).code == "not_found"


def test_a_dealt_customer_keeps_its_status(w: World, shop: Shop) -> None:
    w.rules(approval_required=[])
    sign(w, shop)
    assert w.refused(m.ChangeCustomerInfo(shop.customer, {"status": "following"}), shop.team.alice).code == "dealt"


# ---- invoices and payments (D-2, D-3, D-5) ----------------------------------------------------


def test_invoices_never_exceed_the_contract(w: World, shop: Shop) -> None:
    cid = sign(w, shop)
    w.do(m.InvoiceContract(cid, D("1500.00")), shop.team.alice)
    refused = w.refused(m.InvoiceContract(cid, D("500.01")), shop.team.alice)
    assert (refused.code, refused.details) == ("over_invoiced", {"remaining": "500.00"})
    w.do(m.InvoiceContract(cid, D("500.00"), invoiced_on=date(2026, 11, 3)), shop.team.boss)
    assert w.find(cid, Contract).invoiced == D("2000.00")
    assert w.customer_state(shop.customer).invoiced_total == D("2000.00")
    assert w.refused(m.InvoiceContract(cid, D("0.01")), shop.team.alice).code == "over_invoiced"


def test_invoice_refusals(w: World, shop: Shop) -> None:
    cid = sign(w, shop)
    for amount in ("0", "-5", "1.001", "NaN"):
        assert w.refused(m.InvoiceContract(cid, D(amount)), shop.team.alice).code == "validation_error"
    assert w.refused(m.InvoiceContract(str(uuid4()), D("1")), shop.team.alice).code == "not_found"
    assert w.refused(m.InvoiceContract(cid, D("1")), shop.team.bob).code == "not_found"  # hidden from bob
    w.do(m.ChangeShares(shop.customer, add=[shop.team.bob.person_id]), shop.team.boss)
    assert w.refused(m.InvoiceContract(cid, D("1")), shop.team.bob).code == "not_owner"
    assert w.refused(m.InvoiceContract(cid, D("1"), invoiced_on=date(1899, 1, 1)),
                     shop.team.alice).code == "date_out_of_range"


def test_payments_never_exceed_the_outstanding_amount(w: World, shop: Shop) -> None:
    cid = sign(w, shop)
    w.do(m.RecordPayment(shop.customer, D("1200.00"), contract_id=cid), shop.team.alice)
    refused = w.refused(m.RecordPayment(shop.customer, D("800.01"), contract_id=cid), shop.team.alice)
    assert (refused.code, refused.details) == ("over_collected", {"outstanding": "800.00"})
    w.do(m.RecordPayment(shop.customer, D("800.00"), contract_id=cid), shop.team.alice)
    assert (w.find(cid, Contract).collected, w.customer_state(shop.customer).collected_total) == (
        D("2000.00"), D("2000.00"))


def test_a_payment_is_credited_to_the_contracts_salesperson_a_prepayment_to_the_owner(w: World, shop: Shop) -> None:
    team = shop.team
    cid = sign(w, shop)
    w.do(m.TransferCustomer(shop.customer, team.bob.person_id), team.alice)
    w.do(m.RecordPayment(shop.customer, D("100.00"), contract_id=cid), team.bob)
    w.do(m.RecordPayment(shop.customer, D("50.00"), received_on=date(2026, 10, 1)), team.bob)  # a prepayment
    paid = [e for e in w.events(shop.customer) if isinstance(e, Customer.PaymentRecorded)]
    assert [(p.contract_id, p.amount, p.salesperson_id) for p in paid] == [
        (cid, D("100.00"), team.alice.person_id), (None, D("50.00"), team.bob.person_id)]
    assert paid[1].received_on == date(2026, 10, 1)
    assert w.customer_state(shop.customer).collected_total == D("150.00")


def test_payment_refusals(w: World, shop: Shop) -> None:
    cid = sign(w, shop)
    other = w.customer(shop.team.alice, "另一个客户")
    refused = w.refused(m.RecordPayment(other, D("1"), contract_id=cid), shop.team.alice)
    assert (refused.code, refused.field) == ("wrong_customer", "contract_id")
    assert w.refused(m.RecordPayment(shop.customer, D("1"), contract_id=str(uuid4())),
                     shop.team.alice).code == "not_found"
    refused = w.refused(m.RecordPayment(shop.customer, D("10000000000.00")), shop.team.alice)
    assert (refused.code, refused.field) == ("out_of_range", "amount")
    w.do(m.RecordPayment(shop.customer, bounds.MONEY_MAX), shop.team.alice)
    assert w.refused(m.RecordPayment(shop.customer, D("1"), contract_id=cid), shop.keeper).code == "not_found"


# ---- products and prices (G-1, G-3) ------------------------------------------------------------


def test_products_are_numbered_from_the_sequence(w: World, shop: Shop) -> None:
    second = w.do(m.CreateProduct(name="交换机"), shop.keeper).ids
    assert w.find(shop.product, Product).code == "P000001"
    assert second["code"] == "P000002" == w.find(second["id"], Product).code
    assert [c for c in w.sequences.calls if c[1] == "product"] == [("next", "product", 1)] * 2
    assert w.refused(m.CreateProduct(name="  "), shop.keeper).code == "validation_error"
    assert w.refused(m.CreateProduct(name="x", unit="u" * 21), shop.keeper).code == "too_long"


def test_product_changes_and_prices(w: World, shop: Shop) -> None:
    w.do(m.ChangeProduct(shop.product, {"spec": "R750", "name": "服务器二代"}), shop.keeper)
    product = w.find(shop.product, Product)
    assert (product.spec, product.name) == ("R750", "服务器二代")
    assert w.refused(m.ChangeProduct(shop.product, {"name": ""}), shop.keeper).code == "validation_error"
    assert w.refused(m.ChangeProduct(shop.product, {"enabled": None}), shop.keeper).code == "validation_error"
    assert w.refused(m.ChangeProduct(str(uuid4()), {"spec": "x"}), shop.keeper).code == "unknown_product"
    w.do(m.ChangePrice(shop.product, D("999.00"), reason="首次定价"), shop.team.boss)
    product = w.find(shop.product, Product)
    assert (product.price, product.priced_on) == (D("999.00"), date(2026, 11, 2))
    assert w.refused(m.ChangePrice(shop.product, D("999")), shop.team.boss).code == "no_change"
    assert w.refused(m.ChangePrice(shop.product, D("-1")), shop.team.boss).code == "validation_error"
    assert w.refused(m.ChangePrice(shop.product, D("10000000000")), shop.team.boss).code == "out_of_range"


# ---- stock, deliveries, returns, exchanges (G-2, G-4..G-6) -------------------------------------


def test_stock_in_moves_the_average_cost(w: World, shop: Shop) -> None:
    stock_in(w, shop, "W1", "10", "100.00")
    stock_in(w, shop, "W1", "10", "130.00")
    stock_in(w, shop, "W2", "5", "150")
    w1, w2 = stock(w, shop, "W1"), stock(w, shop, "W2")
    assert (w1.quantity, w1.unit_cost, w1.value) == (D("20"), D("115.0000"), D("2300.00"))
    assert (w2.quantity, w2.unit_cost, w2.value) == (D("5"), D("150.0000"), D("750.00"))


def test_stock_in_refusals(w: World, shop: Shop) -> None:
    product = shop.product
    refused = w.refused(m.StockIn(product, "火星仓", D("1"), D("1")), shop.keeper)
    assert (refused.code, refused.field) == ("unknown_value", "warehouse")
    assert w.refused(m.StockIn(product, "W1", D("-1"), D("1")), shop.keeper).field == "quantity"
    assert w.refused(m.StockIn(product, "W1", D("1.00001"), D("1")), shop.keeper).field == "quantity"
    assert w.refused(m.StockIn(product, "W1", D("1"), D("1.123456")), shop.keeper).field == "unit_cost"
    assert w.refused(m.StockIn(product, "W1", D("100000000"), D("1")), shop.keeper).code == "out_of_range"
    assert w.refused(m.StockIn(str(uuid4()), "W1", D("1"), D("1")), shop.keeper).code == "unknown_product"
    w.do(m.ChangeProduct(product, {"enabled": False}), shop.keeper)
    assert w.refused(m.StockIn(product, "W1", D("1"), D("1")), shop.keeper).code == "product_disabled"


def test_the_stock_value_of_a_warehouse_stays_within_its_bound(w: World, shop: Shop) -> None:
    stock_in(w, shop, "W1", "99999999.9999", "9999.9999")  # worth 999,999,989,999.00
    refused = w.refused(m.StockIn(shop.product, "W1", D("1"), D("10001")), shop.keeper)
    assert (refused.code, refused.field) == ("out_of_range", "unit_cost")
    stock_in(w, shop, "W1", "1", "10000.99")  # exactly at TOTAL_MAX
    assert stock(w, shop, "W1").value == bounds.TOTAL_MAX


def test_deliveries_leave_at_the_average_cost(w: World, shop: Shop) -> None:
    stock_in(w, shop, "W1", "10", "100.00")
    stock_in(w, shop, "W1", "10", "130.00")
    cid = sign(w, shop)
    done = w.do(m.Deliver(cid, [{"product_id": shop.product, "warehouse": "W1", "quantity": "5"}]), shop.keeper)
    contract = w.find(cid, Contract)
    assert contract.deliveries[done.ids["delivery_id"]] == [
        {"product_id": shop.product, "warehouse": "W1", "quantity": D("5.0000"), "unit_cost": D("115.0000")}]
    w1 = stock(w, shop, "W1")
    assert (w1.quantity, w1.value, w1.unit_cost) == (D("15"), D("1725.00"), D("115.0000"))


def test_deliveries_never_exceed_the_contract_or_the_stock(w: World, shop: Shop) -> None:
    cid = sign(w, shop)
    line = {"product_id": shop.product, "warehouse": "W1", "quantity": "1"}
    refused = w.refused(m.Deliver(cid, [line]), shop.keeper)
    assert (refused.code, refused.details["available"]) == ("insufficient_stock", "0")
    stock_in(w, shop, "W1", "3", "10")
    stock_in(w, shop, "W2", "10", "10")
    refused = w.refused(m.Deliver(cid, [{**line, "quantity": "4"}]), shop.keeper)
    assert (refused.code, refused.details["available"], refused.details["requested"]) == (
        "insufficient_stock", "3.0000", "4.0000")
    # Two lines of one warehouse: the stock is checked on their sum, and nothing moves when it fails.
    refused = w.refused(m.Deliver(cid, [{**line, "quantity": "2"}, {**line, "quantity": "2"}]), shop.keeper)
    assert refused.code == "insufficient_stock"
    assert stock(w, shop, "W1").quantity == D("3")
    w.do(m.Deliver(cid, [{**line, "quantity": "3"}, {**line, "warehouse": "W2", "quantity": "4"}]), shop.keeper)
    refused = w.refused(m.Deliver(cid, [{**line, "warehouse": "W2", "quantity": "1.0001"}]), shop.keeper)
    assert (refused.code, refused.details["remaining"]) == ("over_delivered", "1.0000")
    other = w.do(m.CreateProduct(name="未订购"), shop.keeper).ids["id"]
    refused = w.refused(m.Deliver(cid, [{"product_id": other, "warehouse": "W2", "quantity": "1"}]), shop.keeper)
    assert (refused.code, refused.details["remaining"]) == ("over_delivered", "0")


def test_delivery_line_refusals(w: World, shop: Shop) -> None:
    cid = sign(w, shop)
    assert w.refused(m.Deliver(cid, []), shop.keeper).field == "lines"
    refused = w.refused(m.Deliver(cid, [{"product_id": shop.product, "quantity": "1"}]), shop.keeper)
    assert (refused.code, refused.field) == ("validation_error", "lines.0.warehouse")
    refused = w.refused(m.Deliver(cid, [{"product_id": shop.product, "warehouse": "W9", "quantity": "1"}]),
                        shop.keeper)
    assert (refused.code, refused.field) == ("unknown_value", "lines.0.warehouse")
    assert w.refused(m.Deliver(str(uuid4()), [{"product_id": shop.product, "warehouse": "W1", "quantity": "1"}]),
                     shop.keeper).code == "not_found"


def test_the_last_units_take_the_remaining_value(w: World, shop: Shop) -> None:
    stock_in(w, shop, "W1", "3", "0.3333")  # 3 × 0.3333 = 0.9999: 1.00 in the warehouse
    cid = sign(w, shop)
    line = {"product_id": shop.product, "warehouse": "W1", "quantity": "1"}
    w.do(m.Deliver(cid, [line]), shop.keeper)
    assert stock(w, shop, "W1").value == D("0.67")
    w.do(m.Deliver(cid, [{**line, "quantity": "2"}]), shop.keeper)
    w1 = stock(w, shop, "W1")
    assert (w1.quantity, w1.value) == (D("0"), D("0.00"))  # no cent left behind


def test_returns_come_back_at_the_delivery_cost(w: World, shop: Shop) -> None:
    stock_in(w, shop, "W1", "10", "100.00")
    cid = sign(w, shop)
    delivery = w.do(m.Deliver(cid, [{"product_id": shop.product, "warehouse": "W1", "quantity": "5"}]),
                    shop.keeper).ids["delivery_id"]
    stock_in(w, shop, "W1", "5", "160.00")  # the average moves to 130 meanwhile
    w.do(m.ReturnGoods(cid, delivery, [{"product_id": shop.product, "quantity": "2"}]), shop.keeper)
    [back] = [e for e in w.events(cid) if isinstance(e, Contract.Returned)]
    assert back.lines == [{"product_id": shop.product, "warehouse": "W1", "quantity": D("2.0000"),
                           "unit_cost": D("100.0000"), "amount": D("500.00")}]  # 2 × the contract's 250
    w1 = stock(w, shop, "W1")
    assert (w1.quantity, w1.value, w1.unit_cost) == (D("12"), D("1500.00"), D("125.0000"))
    refused = w.refused(m.ReturnGoods(cid, delivery, [{"product_id": shop.product, "quantity": "3.0001"}]),
                        shop.keeper)
    assert (refused.code, refused.details["returnable"]) == ("over_returned", "3.0000")
    refused = w.refused(m.ReturnGoods(cid, "nope", [{"product_id": shop.product, "quantity": "1"}]), shop.keeper)
    assert (refused.code, refused.field) == ("unknown_delivery", "delivery_id")
    refused = w.refused(m.ReturnGoods(cid, delivery, [{"product_id": shop.product, "warehouse": "W2",
                                                       "quantity": "1"}]), shop.keeper)
    assert (refused.code, refused.details["candidates"]) == (
        "unknown_delivery_line", [{"product_id": shop.product, "warehouse": "W1", "returnable": "3.0000"}])


def test_a_return_from_a_delivery_of_two_warehouses_names_the_warehouse(w: World, shop: Shop) -> None:
    stock_in(w, shop, "W1", "2", "10")
    stock_in(w, shop, "W2", "2", "20")
    cid = sign(w, shop)
    delivery = w.do(m.Deliver(cid, [{"product_id": shop.product, "warehouse": "W1", "quantity": "2"},
                                    {"product_id": shop.product, "warehouse": "W2", "quantity": "2"}]),
                    shop.keeper).ids["delivery_id"]
    refused = w.refused(m.ReturnGoods(cid, delivery, [{"product_id": shop.product, "quantity": "1"}]), shop.keeper)
    assert (refused.code, refused.field) == ("ambiguous_delivery_line", "lines.0.warehouse")
    assert [c["warehouse"] for c in refused.details["candidates"]] == ["W1", "W2"]
    w.do(m.ReturnGoods(cid, delivery, [{"product_id": shop.product, "warehouse": "W2", "quantity": "1"}]),
         shop.keeper)
    assert (stock(w, shop, "W2").quantity, stock(w, shop, "W2").value) == (D("1"), D("20.00"))


def test_an_exchange_takes_back_at_delivery_cost_and_sends_at_the_current_average(w: World, shop: Shop) -> None:
    stock_in(w, shop, "W1", "10", "100")
    cid = sign(w, shop)
    delivery = w.do(m.Deliver(cid, [{"product_id": shop.product, "warehouse": "W1", "quantity": "5"}]),
                    shop.keeper).ids["delivery_id"]
    line = {"product_id": shop.product, "warehouse": "W2", "quantity": "1"}
    refused = w.refused(m.ExchangeGoods(cid, delivery, [line]), shop.keeper)
    assert refused.code == "insufficient_stock"
    assert stock(w, shop, "W1").quantity == D("5")  # the goods did not come back either
    stock_in(w, shop, "W2", "4", "150")
    done = w.do(m.ExchangeGoods(cid, delivery, [line]), shop.keeper)
    [swap] = [e for e in w.events(cid) if isinstance(e, Contract.Exchanged)]
    assert swap.lines == [{"product_id": shop.product, "quantity": D("1.0000"), "back_warehouse": "W1",
                           "back_cost": D("100.0000"), "out_product_id": shop.product, "out_warehouse": "W2",
                           "out_cost": D("150.0000"), "unit_price": D("250.00"), "back_amount": D("250.00"),
                           "out_amount": D("250.00")}]
    assert swap.price_difference == 0  # like for like, at the contract's price
    assert swap.exchange_id == done.ids["exchange_id"]
    assert (stock(w, shop, "W1").quantity, stock(w, shop, "W2").quantity) == (D("6"), D("3"))
    contract = w.find(cid, Contract)
    assert contract.delivered_net() == {shop.product: D("5.0000")}  # the customer holds as many as before
    assert w.refused(m.ExchangeGoods(cid, delivery, [{**line, "quantity": "5"}]), shop.keeper).code == "over_returned"


# ---- problem reports (G-7) ---------------------------------------------------------------------


def test_problem_reports_are_resolved_by_the_responsible_or_their_manager(w: World, shop: Shop) -> None:
    team = shop.team
    report = m.ReportProblem(shop.customer, "质量问题", "屏幕有坏点", shop.keeper.person_id)
    pid = w.do(report, team.alice).ids["id"]
    assert w.find(pid, ProblemReport).status == "open"
    assert w.refused(m.ResolveProblem(pid, "x"), team.alice).code == "forbidden"
    assert w.refused(m.ResolveProblem(pid, "   "), shop.keeper).code == "validation_error"
    w.do(m.ResolveProblem(pid, "已更换屏幕"), shop.keeper)
    problem = w.find(pid, ProblemReport)
    assert (problem.status, problem.resolution) == ("resolved", "已更换屏幕")
    assert w.refused(m.ResolveProblem(pid, "again"), shop.keeper).code == "already_resolved"
    second = w.do(report, team.alice).ids["id"]
    w.do(m.ResolveProblem(second, "经理处理"), team.boss)  # the keeper is in the boss's department
    assert w.refused(m.ResolveProblem(str(uuid4()), "x"), team.boss).code == "not_found"


def test_problem_report_refusals(w: World, shop: Shop) -> None:
    team = shop.team
    refused = w.refused(m.ReportProblem(shop.customer, "外星问题", "x", shop.keeper.person_id), team.alice)
    assert (refused.code, refused.field) == ("unknown_value", "type")
    refused = w.refused(m.ReportProblem(shop.customer, "质量问题", "x", str(uuid4())), team.alice)
    assert (refused.code, refused.field) == ("unknown_person", "responsible_id")
    assert w.refused(m.ReportProblem(shop.customer, "质量问题", " ", shop.keeper.person_id),
                     team.alice).code == "validation_error"
    assert w.refused(m.ReportProblem(shop.customer, "质量问题", "x", shop.keeper.person_id),
                     team.bob).code == "not_found"  # bob does not see the customer
    # A warehouse keeper reports on any customer.
    w.do(m.ReportProblem(shop.customer, "物流问题", "包装破损", team.alice.person_id), shop.keeper)
