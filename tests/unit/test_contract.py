"""Contracts (D-1..D-3, G-4..G-6): signing, invoices and payments never past the amount,
deliveries never past what was ordered, returns and exchanges never past what a delivery
line holds. Through the Contract aggregate's methods only."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from aggregates import bounds
from aggregates.base import Conflict, Invalid
from aggregates.contract import Contract, ContractNumber
from tests.unit.helpers import ctx, refused

SIGNED = date(2026, 11, 1)
D = Decimal


def sign(lines: list[dict[str, Any]] | None = None, amount: Decimal | None = None, **kw: Any) -> Contract:
    args: dict[str, Any] = {"id": uuid4(), "customer_id": "c1", "number": "HT-1", "name": "年度采购",
                            "signed_on": SIGNED, "salesperson_id": "alice"}
    args.update(kw)
    c = Contract.sign(ctx(), amount=amount, lines=lines or [], **args)
    c.collect_events()
    return c


def line(product: str, qty: str, price: str) -> dict[str, Any]:
    return {"product_id": product, "quantity": D(qty), "unit_price": D(price)}


def goods(product: str, qty: str, warehouse: str = "W", cost: str = "1.0000") -> dict[str, Any]:
    return {"product_id": product, "warehouse": warehouse, "quantity": D(qty), "unit_cost": D(cost)}


def ordered(**quantities: str) -> Contract:
    return sign([line(p, q, "10.00") for p, q in quantities.items()])


# ---- signing (D-1) ---------------------------------------------------------------------------------


def test_a_contract_with_lines_is_worth_what_its_lines_add_up_to() -> None:
    c = sign([line("p1", "3", "9.99"), line("p2", "0.5", "3.33")])

    assert c.amount == D("31.64")  # 29.97 + 1.665 rounded half up to 1.67
    assert c.lines == [
        {"product_id": "p1", "quantity": D("3"), "unit_price": D("9.99"), "amount": D("29.97")},
        {"product_id": "p2", "quantity": D("0.5"), "unit_price": D("3.33"), "amount": D("1.67")},
    ]
    assert (c.customer_id, c.number, c.name, c.signed_on, c.salesperson_id) == (
        "c1", "HT-1", "年度采购", SIGNED, "alice")
    assert (c.invoiced, c.collected, c.deliveries, c.returned) == (D("0"), D("0"), {}, {})


def test_a_contract_keeps_the_given_id() -> None:
    given = uuid4()

    assert Contract.sign(ctx(), id=given, customer_id="c1", number="HT-1", name="n", signed_on=SIGNED,
                         amount=D("1"), lines=[], salesperson_id=None).id == given


def test_a_contract_amount_that_matches_its_lines_is_accepted() -> None:
    assert sign([line("p1", "5", "10")], amount=D("50")).amount == D("50.00")


@pytest.mark.parametrize("amount", ["60.00", "49.99", "50.01"])
def test_a_contract_amount_other_than_its_lines_total_is_refused(amount: str) -> None:
    with refused(Invalid, "amount_mismatch", field="amount", lines_total="50.00"):
        sign([line("p1", "5", "10")], amount=D(amount))


def test_a_contract_without_lines_takes_its_amount_to_the_cent() -> None:
    c = sign(amount=D("1234.565"))

    assert c.amount == D("1234.57") and c.lines == []


@pytest.mark.parametrize("amount", [None, D("0"), D("-1")])
def test_a_contract_is_worth_more_than_nothing(amount: Decimal | None) -> None:
    with refused(Invalid, "validation_error", field="amount"):
        sign(amount=amount)


def test_lines_that_add_up_to_nothing_are_refused() -> None:
    with refused(Invalid, "validation_error", field="amount"):
        sign([line("p1", "0", "10")])


def test_one_line_per_product() -> None:
    with refused(Invalid, "validation_error", field="lines"):
        sign([line("p1", "1", "1"), line("p2", "1", "1"), line("p1", "2", "1")])


def test_amounts_quantities_and_prices_stay_within_their_bounds() -> None:
    with refused(Invalid, "out_of_range", field="amount"):
        sign(amount=bounds.MONEY_MAX + D("0.01"))
    assert sign(amount=bounds.MONEY_MAX).amount == bounds.MONEY_MAX
    with refused(Invalid, "out_of_range", field="quantity"):
        sign([line("p1", str(bounds.QUANTITY_MAX + 1), "1")])
    with refused(Invalid, "out_of_range", field="unit_price"):
        sign([line("p1", "1", str(bounds.MONEY_MAX + 1))])
    with refused(Invalid, "out_of_range", field="amount"):
        sign([line("p1", "2", str(bounds.MONEY_MAX))])
    assert sign([line("p1", "1", str(bounds.MONEY_MAX))]).amount == bounds.MONEY_MAX


@pytest.mark.parametrize("number", ["", "   "])
def test_a_contract_needs_a_number(number: str) -> None:
    with refused(Invalid, "validation_error", field="number"):
        sign(amount=D("1"), number=number)


def test_the_number_is_kept_trimmed() -> None:
    assert sign(amount=D("1"), number="  HT-9 ").number == "HT-9"


@pytest.mark.parametrize("name", ["", "  ", "名" * (bounds.CONTRACT_NAME + 1)])
def test_a_contract_needs_a_name_within_its_limit(name: str) -> None:
    with pytest.raises(Invalid) as caught:
        sign(amount=D("1"), name=name)
    assert caught.value.field == "name"


def test_the_signing_date_lies_in_the_business_range() -> None:
    with refused(Invalid, "date_out_of_range", field="signed_on"):
        sign(amount=D("1"), signed_on=date(1899, 12, 31))
    assert sign(amount=D("1"), signed_on=bounds.DATE_MAX).signed_on == bounds.DATE_MAX


def test_a_unit_price_is_read_from_the_line_and_unknown_products_have_none() -> None:
    c = sign([line("p1", "1", "9.50"), line("p2", "1", "3")])

    assert (c.unit_price("p1"), c.unit_price("p2"), c.unit_price("p3")) == (D("9.50"), D("3"), D("0"))


def test_contract_numbers_are_unique_whatever_their_spacing_and_case() -> None:
    index = ContractNumber.reserve(ctx(), "HT 2026-01", "k1")

    [event] = index.collect_events()
    assert (index.contract_id, event.number, event.contract_id) == ("k1", "HT 2026-01", "k1")
    assert ContractNumber.id_for("ht2026-01") == index.id == ContractNumber.id_for(" HT\t2026-01 ")
    assert ContractNumber.id_for("HT 2026-02") != index.id


# ---- invoices and payments (D-2, D-3) ------------------------------------------------------------


def test_invoices_add_up_to_the_contract_amount_and_no_further() -> None:
    c = sign(amount=D("100.00"))

    first = c.invoice(ctx(), D("60.00"), SIGNED)
    second = c.invoice(ctx(), D("40.00"), SIGNED)
    with refused(Conflict, "over_invoiced", field="amount", remaining="0.00"):
        c.invoice(ctx(), D("0.01"), SIGNED)

    assert c.invoiced == D("100.00") and first != second
    one, two = c.collect_events()
    assert (one.invoice_id, one.amount, one.invoiced_on) == (first, D("60.00"), SIGNED)
    assert two.invoice_id == second


def test_an_invoice_over_what_is_left_is_refused_and_says_what_is_left() -> None:
    c = sign(amount=D("100.00"))
    c.invoice(ctx(), D("30.00"), SIGNED)

    with refused(Conflict, "over_invoiced", remaining="70.00"):
        c.invoice(ctx(), D("70.01"), SIGNED)
    assert c.invoiced == D("30.00")


def test_payments_add_up_to_the_contract_amount_and_no_further() -> None:
    c = sign(amount=D("100.00"))

    c.receive_payment(ctx(), "p1", D("99.99"), SIGNED)
    with refused(Conflict, "over_collected", field="amount", outstanding="0.01"):
        c.receive_payment(ctx(), "p2", D("0.02"), SIGNED)
    c.receive_payment(ctx(), "p3", D("0.01"), SIGNED)

    assert c.collected == D("100.00")
    first, last = c.collect_events()
    assert (first.payment_id, first.amount, first.received_on, last.payment_id) == (
        "p1", D("99.99"), SIGNED, "p3")


def test_payments_do_not_wait_for_invoices() -> None:
    c = sign(amount=D("10.00"))

    c.receive_payment(ctx(), "p1", D("10.00"), SIGNED)

    assert (c.invoiced, c.collected) == (D("0"), D("10.00"))


# ---- deliveries (G-4) ------------------------------------------------------------------------------


def test_a_delivery_up_to_what_was_ordered_is_recorded_line_by_line() -> None:
    c = ordered(p1="5", p2="2")

    c.deliver(ctx(), "d1", SIGNED, [goods("p1", "3"), goods("p1", "2", "V"), goods("p2", "2")])

    assert c.delivered_net() == {"p1": D("5"), "p2": D("2")}
    assert c.delivery_lines("d1") == [goods("p1", "3"), goods("p1", "2", "V"), goods("p2", "2")]
    [event] = c.collect_events()
    assert (event.delivery_id, event.delivered_on, len(event.lines)) == ("d1", SIGNED, 3)


def test_a_delivery_past_what_is_left_to_deliver_is_refused_and_says_what_is_left() -> None:
    c = ordered(p1="5")
    c.deliver(ctx(), "d1", SIGNED, [goods("p1", "3")])

    with refused(Conflict, "over_delivered", field="lines", product_id="p1", remaining="2"):
        c.deliver(ctx(), "d2", SIGNED, [goods("p1", "2.0001")])
    c.deliver(ctx(), "d2", SIGNED, [goods("p1", "2")])
    with refused(Conflict, "over_delivered", remaining="0"):
        c.check_delivery([goods("p1", "0.0001")])


def test_a_product_that_was_not_ordered_is_not_delivered() -> None:
    c = ordered(p1="5")
    with refused(Conflict, "over_delivered", product_id="p9", remaining="0"):
        c.check_delivery([goods("p1", "1"), goods("p9", "1")])


def test_delivery_lines_are_a_copy_and_unknown_deliveries_have_none() -> None:
    c = ordered(p1="5")
    c.deliver(ctx(), "d1", SIGNED, [goods("p1", "1")])

    c.delivery_lines("d1")[0]["quantity"] = D("4")

    assert c.delivery_lines("d1")[0]["quantity"] == D("1") and c.delivery_lines("d9") == []


def test_a_delivery_line_keeps_its_cost() -> None:
    c = ordered(p1="5")
    c.deliver(ctx(), "d1", SIGNED, [goods("p1", "1", "W", "2.5000"), goods("p1", "1", "V", "3.0000")])

    assert c.delivery_cost("d1", "p1", "V") == D("3.0000")
    assert c.delivery_cost("d1", "p1", "W") == D("2.5000")
    assert c.delivery_cost("d1", "p2", "W") == c.delivery_cost("d9", "p1", "W") == D("0")


# ---- returns (G-5) ---------------------------------------------------------------------------------


def test_returning_exactly_what_is_left_of_a_delivery_line_is_fine_and_nothing_more() -> None:
    c = ordered(p1="5")
    c.deliver(ctx(), "d1", SIGNED, [goods("p1", "3")])
    c.take_back(ctx(), "r1", "d1", SIGNED, [goods("p1", "1")])

    c.take_back(ctx(), "r2", "d1", SIGNED, [goods("p1", "2")])

    assert c.returnable("d1", "p1", "W") == D("0")
    with refused(Conflict, "over_returned", field="lines", product_id="p1", returnable="0"):
        c.take_back(ctx(), "r3", "d1", SIGNED, [goods("p1", "0.0001")])


def test_a_return_past_the_delivery_line_says_what_can_come_back() -> None:
    c = ordered(p1="5")
    c.deliver(ctx(), "d1", SIGNED, [goods("p1", "3")])

    with refused(Conflict, "over_returned", returnable="3"):
        c.check_return("d1", [goods("p1", "3.5")])
    with refused(Conflict, "over_returned", returnable="0"):
        c.check_return("d1", [goods("p1", "1", "V")])  # nothing of it left warehouse V


def test_a_return_shrinks_the_deal_so_nothing_more_is_left_to_deliver() -> None:
    c = ordered(p1="5", p2="4")
    c.deliver(ctx(), "d1", SIGNED, [goods("p1", "5"), goods("p2", "4")])
    c.collect_events()

    c.take_back(ctx(), "r1", "d1", SIGNED, [goods("p1", "2"), goods("p2", "4")])

    assert c.delivered_net() == {"p1": D("3"), "p2": D("0")}
    assert (c.returnable("d1", "p1", "W"), c.returnable("d1", "p2", "W")) == (D("3"), D("0"))
    [event] = c.collect_events()
    assert (event.return_id, event.delivery_id, event.returned_on, len(event.lines)) == ("r1", "d1", SIGNED, 2)
    assert c.ordered() == {"p1": D("3"), "p2": D("0")}  # the customer no longer buys what came back
    with refused(Conflict, "over_delivered", product_id="p1", remaining="0"):
        c.check_delivery([goods("p1", "1")])


def test_returns_are_counted_per_delivery() -> None:
    c = ordered(p1="5")
    c.deliver(ctx(), "d1", SIGNED, [goods("p1", "2")])
    c.deliver(ctx(), "d2", SIGNED, [goods("p1", "3")])

    c.take_back(ctx(), "r1", "d2", SIGNED, [goods("p1", "3")])

    assert (c.returnable("d1", "p1", "W"), c.returnable("d2", "p1", "W")) == (D("2"), D("0"))
    with refused(Conflict, "over_returned"):
        c.check_return("d1", [goods("p1", "2"), goods("p1", "0.5")])


def test_nothing_can_come_back_from_a_delivery_that_never_was() -> None:
    c = ordered(p1="5")
    c.deliver(ctx(), "d1", SIGNED, [goods("p1", "1")])

    assert c.returnable("d9", "p1", "W") == D("0") == c.returnable("d1", "p2", "W")


def test_a_return_from_an_unknown_delivery_is_refused() -> None:
    c = ordered(p1="5")
    with refused(Invalid, "unknown_delivery", field="delivery_id"):
        c.take_back(ctx(), "r1", "d1", SIGNED, [goods("p1", "1")])


# ---- exchanges (G-6) -------------------------------------------------------------------------------


def swap(product: str, qty: str, back: str = "W", out: str = "W", cost: str = "1.0000") -> dict[str, Any]:
    return {"product_id": product, "quantity": D(qty), "back_warehouse": back, "back_cost": D("1.0000"),
            "out_warehouse": out, "out_cost": D(cost)}


def test_an_exchange_takes_goods_back_and_sends_as_many_out_again() -> None:
    c = ordered(p1="5")
    c.deliver(ctx(), "d1", SIGNED, [goods("p1", "3")])
    c.collect_events()

    c.exchange(ctx(), "x1", "d1", SIGNED, [swap("p1", "2", back="W", out="V", cost="1.5000")])

    assert c.delivered_net() == {"p1": D("3")}
    assert c.returnable("d1", "p1", "W") == D("1")
    assert c.delivery_lines("x1") == [goods("p1", "2", "V", "1.5000")]
    assert c.returnable("x1", "p1", "V") == D("2")
    [event] = c.collect_events()
    assert (event.exchange_id, event.delivery_id, event.exchanged_on) == ("x1", "d1", SIGNED)


def test_an_exchange_is_bounded_by_what_the_delivery_line_holds() -> None:
    c = ordered(p1="5")
    c.deliver(ctx(), "d1", SIGNED, [goods("p1", "3")])
    with refused(Conflict, "over_returned", returnable="3"):
        c.exchange(ctx(), "x1", "d1", SIGNED, [swap("p1", "4")])
    with refused(Conflict, "over_returned", returnable="0"):
        c.exchange(ctx(), "x1", "d1", SIGNED, [swap("p1", "1", back="V")])
    with refused(Invalid, "unknown_delivery"):
        c.exchange(ctx(), "x1", "d9", SIGNED, [swap("p1", "1")])
