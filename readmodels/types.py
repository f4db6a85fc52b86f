"""Exact decimals in any database: stored as scaled integers (cents, ten-thousandths),
so SQLite keeps them exact too and sums stay exact."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy.types import TypeDecorator


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
        return int((Decimal(value) * self.factor).to_integral_value())

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) / self.factor).quantize(self.quantum)


def Money() -> Scaled:  # noqa: N802 - reads like a column type
    return Scaled(2)


def Quantity() -> Scaled:  # noqa: N802
    return Scaled(4)
