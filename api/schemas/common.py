"""What every part of the HTTP contract shares: the input types (ASCII decimals, dates in the
business range, ids, bounded names and reasons), the `Strict` base of request bodies, the
error shape, pages, and the small answers (`Created`, `Done`, `Pending`, `Reason`).

How the schema modules are built (after the FastAPI full-stack template's models): the fields a
family's classes share are declared once, in an `XBase` (or, where one class has a field in the
middle that the other lacks, in a few field groups), and `XCreate` / `XUpdate` / `XPublic` derive
from it. A base declares every field optional, as a change sends it; a class that requires a
field, or gives it another default, declares it again with the same annotated type (the limits
live in the type), and pydantic keeps the field where the base put it. Answers (`...Out`) derive
from a request's base only where their fields are the request's (`Rules`, `Dictionaries`); the
others have no limits and fields of their own (a target's figures and its attainment share the
generic `Figures` of targets.py). Order matters (it is the order of the OpenAPI properties, of
`required` and of validation errors): pydantic takes the fields of the bases from the last base
to the first, then the class's own, so field groups are listed last first.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from aggregates import bounds
from api.errors import InvalidValue

T = TypeVar("T")

_ASCII_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)", re.ASCII)


def ascii_decimal(value: Any) -> Any:
    """Amounts are ASCII decimal strings (or JSON numbers): full-width or Arabic-Indic digits,
    exponents, NaN and infinities are refused, though Python's Decimal would read them."""
    if isinstance(value, str) and not _ASCII_DECIMAL.fullmatch(value):
        raise InvalidValue("must be a decimal number written with the digits 0-9")
    if isinstance(value, float) and value != value:
        raise InvalidValue("must be a finite decimal number")
    return value


def _in_business_range(value: date) -> date:
    as_date = value.date() if isinstance(value, datetime) else value
    if not bounds.DATE_MIN <= as_date <= bounds.DATE_MAX:
        raise InvalidValue("must lie between the years {min_year} and {max_year}", min_year=bounds.DATE_MIN.year,
                           max_year=bounds.DATE_MAX.year)
    return value


# Dates and moments a request may carry (the domain's range: see aggregates/bounds.py).
BizDate = Annotated[date, AfterValidator(_in_business_range)]
BizDateTime = Annotated[datetime, AfterValidator(_in_business_range)]

Name = Field(min_length=1, max_length=200)

# Amounts and quantities: ASCII decimals within the domain's bounds.
MoneyIn = Annotated[Decimal, BeforeValidator(ascii_decimal), Field(gt=0, le=bounds.MONEY_MAX, decimal_places=2)]
QuantityIn = Annotated[
    Decimal, BeforeValidator(ascii_decimal), Field(gt=0, le=bounds.QUANTITY_MAX, decimal_places=4)]
UnitCostIn = Annotated[
    Decimal, BeforeValidator(ascii_decimal), Field(gt=0, le=bounds.UNIT_COST_MAX, decimal_places=4)]
AmountIn = Annotated[Decimal, BeforeValidator(ascii_decimal), Field(ge=0, le=bounds.MONEY_MAX, decimal_places=2)]
CountIn = Annotated[int, Field(ge=0, le=1_000_000)]
Id = Annotated[str, Field(min_length=1, max_length=64)]

# Texts with their limits, for fields that more than one class declares.
Label = Annotated[str, Field(min_length=1, max_length=bounds.SHORT_TEXT)]  # a name, a warehouse, a type
ShortText = Annotated[str, Field(max_length=bounds.SHORT_TEXT)]
ReasonText = Annotated[str, Field(max_length=bounds.REASON)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None = None
    details: dict[str, Any] = {}


class ErrorResponse(BaseModel):
    error: ErrorBody


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int
    # Keyset paging: send it back as `after=` for the rows after this page (null on the last).
    next: str | None = Field(default=None, description="the cursor of the next page, for `after`; "
                             "null on the last page")


class Created(BaseModel):
    id: str
    position: int


class Done(BaseModel):
    position: int


class Pending(BaseModel):
    """202: the command waits for approval."""

    approval_id: str
    status: Literal["pending"] = "pending"
    position: int


class Reason(Strict):
    reason: ReasonText = ""
