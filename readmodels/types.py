"""Exact decimals in any database: stored as scaled integers (cents, ten-thousandths),
so SQLite keeps them exact too and sums stay exact."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy.types import TypeDecorator

from aggregates import bounds


class Scaled(TypeDecorator[Decimal]):
    impl = BigInteger
    cache_ok = True

    def __init__(self, places: int) -> None:
        super().__init__()
        self.places = places
        self.factor = Decimal(10) ** places
        self.quantum = Decimal(1).scaleb(-places)

    def process_bind_param(self, value: Any, dialect: Any) -> int | None:
        if value is None:
            return None
        scaled = int((Decimal(value) * self.factor).to_integral_value())
        if abs(scaled) > bounds.INT64_MAX:
            # The domain's bounds keep every event below this; a projection parks what does not fit.
            raise ValueError(f"{value} does not fit a {self.places}-place column")
        return scaled

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) / self.factor).quantize(self.quantum)


def Money() -> Scaled:  # noqa: N802 - reads like a column type
    return Scaled(2)


def Quantity() -> Scaled:  # noqa: N802
    return Scaled(4)


# The largest decimal an event may carry must fit the column with the most places, with
# room for sums of a hundred such values at least (see aggregates/bounds.py).
if bounds.ANY_DECIMAL_MAX * Decimal(10) ** 4 * 100 > bounds.INT64_MAX:
    raise RuntimeError("aggregates.bounds.ANY_DECIMAL_MAX does not fit the read-model columns")
