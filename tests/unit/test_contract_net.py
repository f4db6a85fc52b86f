"""The net amount of a deal (D-2, D-3 as amended): returns lower it, exchanges for a
differently priced replacement move it; invoices, payments and red-letter invoices are
bounded by it; a return beyond what is left to collect leaves a credit. Through the
Contract aggregate's methods only."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

from aggregates.base import Conflict, Invalid
from aggregates.contract import Contract
from tests.unit.helpers import ctx, refused

ON = date(2026, 11, 1)
D = Decimal


def contract(**lines: tuple[str, str]) -> Contract:
    """A contract with `product=(quantity, unit price)` lines."""
    c = Contract.sign(ctx(), id=uuid4(), customer_id="c1", number="HT-9", name="合同", signed_on=ON, amount=None,
                      lines=[{"product_id": p, "quantity": D(q), "unit_price": D(price)}
                             for p, (q, price) in lines.items()], salesperson_id="alice")
    c.collect_events()
    return c


def goods(product: str, qty: str, warehouse: str = "W") -> dict[str, Any]:
    return {"product_id": product, "warehouse": warehouse, "quantity": D(qty), "unit_cost": D("1.0000")}


def swap(product: str, qty: str, out_product: str | None = None, unit_price: str | None = None,
         back: str = "W", out: str = "W") -> dict[str, Any]:
    return {"product_id": product, "quantity": D(qty), "back_warehouse": back, "back_cost": D("1.0000"),
            "out_product_id": out_product or product, "out_warehouse": out, "out_cost": D("2.0000"),
            "unit_price": None if unit_price is None else D(unit_price)}


def test_the_issues_example_a_return_lowers_what_is_owed() -> None:
    # 465,000 = 3 × 155,000; 150,000 collected, then one unit worth 155,000 comes back.
    c = contract(p=("3", "155000.00"))
    c.deliver(ctx(), "d1", ON, [goods("p", "3")])
    c.receive_payment(ctx(), "pay1", D("150000.00"), ON)

    value = c.take_back(ctx(), "r1", "d1", ON, [goods("p", "1")])

    assert value == D("155000.00")
    assert (c.amount, c.returned_amount, c.net_amount) == (D("465000.00"), D("155000.00"), D("310000.00"))
    assert (c.outstanding, c.credit) == (D("160000.00"), D("0"))
    with refused(Conflict, "over_collected", outstanding="160000.00"):
        c.receive_payment(ctx(), "pay2", D("160000.01"), ON)
    c.receive_payment(ctx(), "pay2", D("160000.00"), ON)
    assert c.outstanding == D("0")


def test_a_return_beyond_what_is_left_to_collect_leaves_a_credit() -> None:
    c = contract(p=("2", "100.00"))
    c.deliver(ctx(), "d1", ON, [goods("p", "2")])
    c.receive_payment(ctx(), "pay", D("150.00"), ON)

    c.take_back(ctx(), "r1", "d1", ON, [goods("p", "1")])

    assert (c.net_amount, c.outstanding, c.credit) == (D("100.00"), D("0"), D("50.00"))
    with refused(Conflict, "over_collected", outstanding="0"):
        c.receive_payment(ctx(), "pay2", D("0.01"), ON)


def test_invoicing_cannot_exceed_the_net_amount_and_a_red_letter_note_reverses_it() -> None:
    c = contract(p=("4", "25.00"))
    c.deliver(ctx(), "d1", ON, [goods("p", "4")])
    c.invoice(ctx(), D("100.00"), ON)
    c.take_back(ctx(), "r1", "d1", ON, [goods("p", "1")])  # net 75, invoiced 100

    with refused(Conflict, "over_invoiced", remaining="0"):
        c.invoice(ctx(), D("0.01"), ON)
    with refused(Conflict, "over_credited", invoiced="100.00"):
        c.credit_invoice(ctx(), D("100.01"), ON, "退货冲红")
    c.collect_events()
    c.credit_invoice(ctx(), D("25.00"), ON, "退货冲红")

    [event] = c.collect_events()
    assert isinstance(event, Contract.InvoiceCredited)
    assert (event.amount, event.credited_on, event.reason) == (D("25.00"), ON, "退货冲红")
    assert c.invoiced == D("75.00")
    with refused(Conflict, "over_invoiced", remaining="0.00"):
        c.invoice(ctx(), D("0.01"), ON)


def test_a_red_letter_note_reason_is_bounded_like_any_text() -> None:
    c = contract(p=("1", "10.00"))
    c.invoice(ctx(), D("10.00"), ON)
    with refused(Invalid, "control_character", field="reason"):
        c.credit_invoice(ctx(), D("1.00"), ON, "冲红\x00")


def test_an_exchange_for_a_dearer_product_raises_the_deal_and_moves_the_order() -> None:
    c = contract(a=("5", "100.00"))
    c.deliver(ctx(), "d1", ON, [goods("a", "5")])
    c.collect_events()

    difference = c.exchange(ctx(), "x1", "d1", ON, [swap("a", "2", out_product="b", unit_price="130.00")])

    assert difference == D("60.00")  # 2 × 130 − 2 × 100
    [event] = c.collect_events()
    assert isinstance(event, Contract.Exchanged)
    assert event.price_difference == D("60.00")
    assert (event.lines[0]["back_amount"], event.lines[0]["out_amount"]) == (D("200.00"), D("260.00"))
    assert (c.net_amount, c.exchange_difference) == (D("560.00"), D("60.00"))
    assert c.ordered() == {"a": D("3"), "b": D("2")}
    assert c.delivered_net() == {"a": D("3"), "b": D("2")}
    with refused(Conflict, "over_delivered"):
        c.check_delivery([goods("b", "1")])
    # The replacement comes back at the price it went out at.
    assert c.take_back(ctx(), "r1", "x1", ON, [goods("b", "1")]) == D("130.00")
    assert c.net_amount == D("430.00")


def test_an_exchange_for_a_cheaper_product_lowers_the_deal() -> None:
    c = contract(a=("1", "100.00"))
    c.deliver(ctx(), "d1", ON, [goods("a", "1")])
    assert c.exchange(ctx(), "x1", "d1", ON, [swap("a", "1", out_product="b", unit_price="80.00")]) == D("-20.00")
    assert c.net_amount == D("80.00")


def test_like_for_like_costs_nothing_and_a_replacement_not_on_the_contract_needs_a_price() -> None:
    c = contract(a=("2", "100.00"), b=("1", "50.00"))
    c.deliver(ctx(), "d1", ON, [goods("a", "2")])
    assert c.exchange(ctx(), "x1", "d1", ON, [swap("a", "1")]) == D("0.00")
    assert c.exchange(ctx(), "x2", "d1", ON, [swap("a", "1", out_product="b")]) == D("-50.00")  # b's line price
    c2 = contract(a=("1", "100.00"))
    c2.deliver(ctx(), "d1", ON, [goods("a", "1")])
    with refused(Invalid, "validation_error", field="lines.0.unit_price"):
        c2.exchange(ctx(), "x1", "d1", ON, [swap("a", "1", out_product="z")])


def test_the_delivery_line_goods_come_back_from_is_named_when_there_are_two() -> None:
    c = contract(a=("3", "10.00"))
    c.deliver(ctx(), "d1", ON, [goods("a", "2", "总仓"), goods("a", "1", "苏州仓")])

    with refused(Invalid, "ambiguous_delivery_line", field="lines.0.warehouse", candidates=[
            {"product_id": "a", "warehouse": "总仓", "returnable": "2"},
            {"product_id": "a", "warehouse": "苏州仓", "returnable": "1"}]):
        c.delivery_line_for("d1", "a", None, "lines.0.warehouse")
    assert c.delivery_line_for("d1", "a", "苏州仓", "f") == "苏州仓"
    with refused(Invalid, "unknown_delivery_line", field="f"):
        c.delivery_line_for("d1", "a", "北京仓", "f")
    with refused(Invalid, "unknown_delivery_line", field="f", candidates=[]):
        c.delivery_line_for("d1", "zz", None, "f")


def test_an_exchange_beyond_the_money_bound_is_refused() -> None:
    c = contract(a=("1", "1.00"))
    c.deliver(ctx(), "d1", ON, [goods("a", "1")])
    with refused(Invalid, "out_of_range"):
        c.exchange(ctx(), "x1", "d1", ON, [swap("a", "1", out_product="b", unit_price="999999999999999.99")])
