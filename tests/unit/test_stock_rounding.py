"""G-2, G-8: goods out are valued at the moving-average cost rounded to the cent half up, like
every other amount (not the banker's rounding of a bare quantize)."""

from __future__ import annotations

from decimal import Decimal

from aggregates.product import ProductStock
from tests.unit.helpers import ctx


def test_an_issue_is_valued_half_up() -> None:
    stock = ProductStock.open(ctx(), "p1", "W")
    stock.receive(ctx(), Decimal("2"), Decimal("0.0250"), "stock_in", {})
    assert (stock.value, stock.unit_cost) == (Decimal("0.05"), Decimal("0.0250"))

    stock.issue(ctx(), Decimal("1"), "delivery", {})

    assert stock.value == Decimal("0.02")  # 0.025 out, rounded half up to 0.03
    stock.issue(ctx(), Decimal("1"), "delivery", {})
    assert (stock.quantity, stock.value) == (Decimal("0"), Decimal("0.00"))  # the last unit takes the rest
