"""Exact decimals (G-8): money to 2 places, unit costs to 4, quantities to 4. Never floats."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from aggregates.errors import Invalid

CENT = Decimal("0.01")
TEN_THOUSANDTH = Decimal("0.0001")


def money(value: Any) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def unit_cost(value: Any) -> Decimal:
    return Decimal(value).quantize(TEN_THOUSANDTH, rounding=ROUND_HALF_UP)


def quantity(value: Any) -> Decimal:
    return Decimal(value).quantize(TEN_THOUSANDTH, rounding=ROUND_HALF_UP)


def positive(value: Any, field: str, places: Decimal = CENT) -> Decimal:
    """A strictly positive decimal with at most the given places, or a 422."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise Invalid("validation_error", "not a decimal number", field=field) from None
    if not number.is_finite() or number <= 0:
        raise Invalid("validation_error", "must be greater than 0", field=field)
    if number.adjusted() >= 20:  # beyond every bound, and beyond what quantizing to places can hold
        raise Invalid("out_of_range", "{field} is far too large", field=field)
    if number != number.quantize(places):
        digits = 2 if places == CENT else 4
        raise Invalid("validation_error", "at most {digits} decimal places", field=field, digits=digits)
    return number.quantize(places)
