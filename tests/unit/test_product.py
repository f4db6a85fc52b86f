"""Products and their prices (G-1, G-3), and stock per product and warehouse at its
moving-average cost (G-2, G-4): given a product or a stock, when a command, then its state
and events or the refusal."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from aggregates import bounds
from aggregates.base import Conflict, Invalid
from aggregates.product import Product, ProductStock, average_cost
from tests.unit.helpers import ctx, refused

D = Decimal
ON = date(2026, 11, 1)


def product(name: str = "路由器") -> Product:
    p = Product.create(ctx(), id=uuid4(), code="P-1", name=name, spec="AX3000", unit="台")
    p.collect_events()
    return p


def stock(*receipts: tuple[str, str]) -> ProductStock:
    s = ProductStock.open(ctx(), "p1", "总仓")
    for qty, cost in receipts:
        s.receive(ctx(), D(qty), D(cost), "stock_in", {})
    s.collect_events()
    return s


# ---- products --------------------------------------------------------------------------------------


def test_a_new_product_is_enabled_and_unpriced() -> None:
    given = uuid4()
    p = Product.create(ctx(), id=given, code="P-1", name="  路由器 ", spec="AX3000", unit="台")

    assert (p.id, p.code, p.name, p.spec, p.unit, p.enabled, p.price, p.priced_on) == (
        given, "P-1", "路由器", "AX3000", "台", True, None, None)
    assert Product.create(ctx(), id=uuid4(), code="P-2", name="线", spec=None, unit=None).spec is None


@pytest.mark.parametrize("name", ["", "  "])
def test_a_product_needs_a_name(name: str) -> None:
    with refused(Invalid, "validation_error", field="name"):
        Product.create(ctx(), id=uuid4(), code="P-1", name=name, spec=None, unit=None)


def test_a_product_change_records_only_what_changes() -> None:
    p = product()

    p.change(ctx(), {"name": "路由器", "spec": "AX6000", "enabled": False})

    assert (p.spec, p.enabled) == ("AX6000", False)
    [event] = p.collect_events()
    assert event.changes == {"spec": "AX6000", "enabled": False}
    p.change(ctx(), {"spec": "AX6000"})
    assert p.collect_events() == []


@pytest.mark.parametrize("name", ["", " ", None])
def test_a_product_keeps_a_name(name: str | None) -> None:
    p = product()
    with refused(Invalid, "validation_error", field="name"):
        p.change(ctx(), {"name": name})
    assert p.name == "路由器"


def test_a_product_is_enabled_or_not_never_neither() -> None:
    p = product()
    with refused(Invalid, "validation_error", field="enabled"):
        p.change(ctx(), {"enabled": None})
    p.change(ctx(), {"enabled": False})
    p.change(ctx(), {"enabled": True})
    assert p.enabled is True


def test_a_price_change_takes_the_price_to_the_cent_from_a_date_on() -> None:
    p = product()

    p.change_price(ctx(), D("99.995"), ON, "新品", approved_by="boss")
    p.change_price(ctx(), D("89"), date(2026, 12, 1), "促销")

    assert (p.price, p.priced_on) == (D("89.00"), date(2026, 12, 1))
    first, second = p.collect_events()
    assert (first.old_price, first.price, first.priced_on, first.reason, first.approved_by) == (
        None, D("100.00"), ON, "新品", "boss")
    assert (second.old_price, second.price, second.approved_by) == (D("100.00"), D("89.00"), None)


@pytest.mark.parametrize("price", ["0.01", "1", "1.00", "0.995"])
def test_any_price_of_a_cent_or_more_is_taken(price: str) -> None:
    p = product()

    p.change_price(ctx(), D(price), ON, "")

    assert p.price == D(price).quantize(D("0.01"))


@pytest.mark.parametrize("price", ["0", "-1", "0.004"])
def test_a_price_is_more_than_nothing(price: str) -> None:
    with refused(Invalid, "validation_error", field="price"):
        product().change_price(ctx(), D(price), ON, "")


def test_the_current_price_is_no_change() -> None:
    p = product()
    p.change_price(ctx(), D("10"), ON, "")
    with refused(Invalid, "no_change", field="price"):
        p.change_price(ctx(), D("10.001"), ON, "")


def test_a_price_stays_within_the_largest_amount() -> None:
    p = product()
    with refused(Invalid, "out_of_range", field="price"):
        p.change_price(ctx(), bounds.MONEY_MAX + D("0.01"), ON, "")
    p.change_price(ctx(), bounds.MONEY_MAX, ON, "")
    assert p.price == bounds.MONEY_MAX


# ---- stock at moving-average cost (G-2) ------------------------------------------------------------


def test_a_stock_is_one_per_product_and_warehouse_and_opens_empty() -> None:
    s = ProductStock.open(ctx(), "p1", "总仓")

    assert s.id == ProductStock.id_for("p1", "总仓") != ProductStock.id_for("p1", "分仓")
    assert ProductStock.id_for("p2", "总仓") != s.id
    assert (s.product_id, s.warehouse, s.quantity, s.unit_cost, s.value) == ("p1", "总仓", 0, 0, 0)


def test_goods_in_raise_quantity_and_value_at_their_cost() -> None:
    s = stock()

    s.receive(ctx(), D("3"), D("2.50005"), "stock_in", {"note": "首批"})

    assert (s.quantity, s.value, s.unit_cost) == (D("3"), D("7.50"), D("2.5000"))
    [event] = s.collect_events()
    assert (event.quantity, event.unit_cost, event.value, event.kind, event.ref) == (
        D("3"), D("2.5001"), D("7.50"), "stock_in", {"note": "首批"})


def test_the_average_cost_moves_with_each_receipt() -> None:
    s = stock(("3", "1.00"))

    s.receive(ctx(), D("1"), D("2.00"), "stock_in", {})

    assert (s.quantity, s.value, s.unit_cost) == (D("4"), D("5.00"), D("1.2500"))


def test_a_moving_average_that_is_not_a_whole_number_is_kept_to_four_places_half_up() -> None:
    s = stock(("1", "1.00"))

    s.receive(ctx(), D("2"), D("0.50"), "stock_in", {})

    assert (s.quantity, s.value, s.unit_cost) == (D("3"), D("2.00"), D("0.6667"))
    s.receive(ctx(), D("3"), D("0.3333"), "stock_in", {})
    assert (s.value, s.unit_cost) == (D("3.00"), D("0.5000"))


def test_with_nothing_on_hand_the_average_stays_what_it_was() -> None:
    assert average_cost(D("0.00"), D("0"), D("1.2345")) == D("1.2345")
    assert average_cost(D("10.00"), D("3"), D("1.2345")) == D("3.3333")
    assert average_cost(D("20.00"), D("3"), D("0")) == D("6.6667")


def test_goods_out_leave_at_the_average_cost() -> None:
    s = stock(("4", "1.25"))

    assert s.issue(ctx(), D("1"), "delivery", {"delivery_id": "d1"}) == D("1.2500")

    assert (s.quantity, s.value, s.unit_cost) == (D("3"), D("3.75"), D("1.2500"))
    [event] = s.collect_events()
    assert (event.quantity, event.unit_cost, event.value, event.kind, event.ref) == (
        D("1"), D("1.2500"), D("1.25"), "delivery", {"delivery_id": "d1"})


def test_issuing_the_last_units_after_an_uneven_average_leaves_no_cents_behind() -> None:
    s = stock(("1", "1.00"), ("1", "1.01"))
    assert (s.value, s.unit_cost) == (D("2.01"), D("1.0050"))
    s.issue(ctx(), D("1"), "delivery", {})
    left = s.value

    s.issue(ctx(), D("1"), "delivery", {})

    first, last = s.collect_events()
    assert last.value == left and first.value + last.value == D("2.01")
    assert (s.quantity, s.value) == (D("0"), D("0.00"))


def test_issuing_everything_at_once_takes_the_whole_value() -> None:
    s = stock(("3", "1.00"), ("4", "1.01"))  # 7.04 for 7: 1.0057 each

    s.issue(ctx(), D("7"), "delivery", {})

    [event] = s.collect_events()
    assert (event.value, s.value, s.quantity) == (D("7.04"), D("0.00"), D("0"))


def test_an_empty_stock_takes_the_cost_of_its_next_receipt() -> None:
    s = stock(("2", "5.00"))
    s.issue(ctx(), D("2"), "delivery", {})

    s.receive(ctx(), D("1"), D("3.00"), "stock_in", {})

    assert (s.quantity, s.value, s.unit_cost) == (D("1"), D("3.00"), D("3.0000"))


def test_no_more_goes_out_than_there_is() -> None:
    s = stock(("2", "1.00"))
    with refused(Conflict, "insufficient_stock", field="quantity", product_id="p1", warehouse="总仓",
                 available="2", requested="2.0001"):
        s.issue(ctx(), D("2.0001"), "delivery", {})
    assert s.quantity == D("2")
    s.issue(ctx(), D("2"), "delivery", {})
    with refused(Conflict, "insufficient_stock", available="0"):
        s.issue(ctx(), D("0.0001"), "delivery", {})


def test_receipts_stay_within_their_bounds() -> None:
    s = stock()
    with refused(Invalid, "out_of_range", field="quantity"):
        s.receive(ctx(), bounds.QUANTITY_MAX + D("0.0001"), D("1"), "stock_in", {})
    with refused(Invalid, "out_of_range", field="unit_cost"):
        s.receive(ctx(), D("1"), bounds.UNIT_COST_MAX + D("0.0001"), "stock_in", {})
    s.receive(ctx(), bounds.QUANTITY_MAX, D("0"), "stock_in", {})
    assert s.quantity == bounds.QUANTITY_MAX


def test_stock_on_hand_never_passes_its_largest_quantity() -> None:
    s = stock()
    for _ in range(100):
        s.receive(ctx(), bounds.QUANTITY_MAX, D("0"), "stock_in", {})
    room = bounds.STOCK_QUANTITY_MAX - s.quantity
    s.receive(ctx(), room, D("0"), "stock_in", {})
    assert s.quantity == bounds.STOCK_QUANTITY_MAX
    with refused(Invalid, "out_of_range", field="quantity"):
        s.receive(ctx(), D("0.0001"), D("0"), "stock_in", {})


def test_the_stock_value_never_passes_the_largest_total() -> None:
    s = stock()
    s.receive(ctx(), D("100"), D("9999999999.9999"), "stock_in", {})  # 999,999,999,999.99
    assert s.value == bounds.TOTAL_MAX
    with refused(Invalid, "out_of_range", field="unit_cost"):
        s.receive(ctx(), D("1"), D("0.01"), "stock_in", {})
