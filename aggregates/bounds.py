"""The bounds of what an event may carry, in one place.

An accepted command is forever: a value the read side cannot hold would stop a projection
for good. So the aggregates refuse, before any event is recorded, money, quantities and
dates beyond these bounds, and text that is too long once normalised or that carries
control characters. The API's schemas and the read-model columns take their limits from
here too, so the three cannot drift apart (`readmodels.types` checks at import that the
largest total fits its column).
"""

from __future__ import annotations

import math
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from aggregates.errors import Invalid

# ---- money and quantities ---------------------------------------------------------------------

# One amount: a contract line's price and amount, a contract, an invoice, a payment, a list
# price, a target figure (just under 10 billion yuan).
MONEY_MAX = Decimal("9999999999.99")
# A quantity on one line, one stock-in or one move (just under 100 million units).
QUANTITY_MAX = Decimal("99999999.9999")
# A unit cost or unit price.
UNIT_COST_MAX = Decimal("9999999999.9999")
# Running totals that amounts feed: a customer's deal, invoiced and collected totals, a
# contract's invoiced, collected and returned amounts, a warehouse's stock value.
TOTAL_MAX = Decimal("999999999999.99")
# Units on hand per product and warehouse.
STOCK_QUANTITY_MAX = Decimal("9999999999.9999")

# Read models keep decimals as scaled 64-bit integers; sums over many rows must fit too. With
# totals under 10^12 at four places (10^16) there is room for over 900 of them at the bound,
# and for over 9 million amounts at MONEY_MAX, before a signed 64-bit sum overflows.
INT64_MAX = 2**63 - 1

# ---- counts and spans of time in the rules ------------------------------------------------------

# A count a person or a rule sets: a target's new customers or visits, a customer limit.
COUNT_MAX = 1_000_000
# A span in days a rule or a person's limit sets (follow days, warning, re-claim cooldown): ten
# years. Larger ones are refused; one recorded before the bound is read as this (`days`).
DAYS_MAX = 3650
# The late-entry span in hours (ten years as well).
HOURS_MAX = DAYS_MAX * 24

# ---- dates ----------------------------------------------------------------------------------------

# Business dates and moments (signing, invoicing, receipt, delivery, visits, periods).
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2199, 12, 31)

# ---- text -----------------------------------------------------------------------------------------

# Lengths in characters of the stored (normalised) form; the read-model columns are these sizes.
CUSTOMER_NAME = 200
SHORT_TEXT = 100  # types, sources, regions, stages, contact names and titles, warehouses, person names
BUILDING = 200
ADDRESS = 500
PHONE = 50
GENDER = 20
USERNAME = 64
CONTRACT_NUMBER = 64
CONTRACT_NAME = 200
PRODUCT_NAME = 200
PRODUCT_SPEC = 200
PRODUCT_UNIT = 20
REASON = 500
COMMENT = 1000
NOTES = 5000
PERIOD_NAME = 100


def _control(ch: str, multiline: bool) -> bool:
    if multiline and ch in "\t\n":
        return False
    if ch == "\r" and multiline:
        return False
    category = unicodedata.category(ch)
    # Cc: C0 and C1 controls (NUL among them); Cs: lone surrogates, which no database stores.
    return category in ("Cc", "Cs") or ch in "\u2028\u2029"


def text(value: Any, field: str, limit: int, *, multiline: bool = False, required: bool = False) -> Any:
    """Check one text field: no control characters (tab and newline only where `multiline`),
    at most `limit` characters once normalised (NFKC), as the read side stores it. Returns
    the value unchanged; None passes unless required."""
    if value is None:
        if required:
            raise Invalid("validation_error", "{field} is required", field=field)
        return None
    if not isinstance(value, str):
        raise Invalid("validation_error", "{field} must be text", field=field)
    for ch in value:
        if _control(ch, multiline):
            raise Invalid("control_character", "{field} contains a control character (U+{codepoint:04X})",
                          field=field, codepoint=ord(ch))
    if len(value) > limit or len(unicodedata.normalize("NFKC", value)) > limit:
        raise Invalid("too_long", "{field} is longer than {limit} characters once normalised",
                      field=field, details={"limit": limit}, limit=limit)
    if required and not value.strip():
        raise Invalid("validation_error", "{field} is required", field=field)
    return value


def amount(value: Decimal, field: str, limit: Decimal = MONEY_MAX) -> Decimal:
    """A decimal within ±limit (the sign is checked elsewhere)."""
    if not value.is_finite() or abs(value) > limit:
        raise Invalid("out_of_range", "{field} exceeds {limit}", field=field, details={"limit": str(limit)},
                      limit=limit)
    return value


def days(value: int, limit: int = DAYS_MAX) -> int:
    """A span from the rules as the rules apply it: a value recorded before the bound existed
    is read as the bound, so that no date arithmetic on it overflows."""
    return max(0, min(int(value), limit))


def at_most(value: int, field: str, limit: int) -> int:
    """A whole number (already checked to be one) no greater than `limit`."""
    if value > limit:
        raise Invalid("out_of_range", "{field} exceeds {limit}", field=field, details={"limit": limit},
                      limit=limit)
    return value


def day(value: date | datetime | None, field: str) -> Any:
    """A business date or moment within DATE_MIN..DATE_MAX."""
    if value is None:
        return None
    as_date = value.date() if isinstance(value, datetime) else value
    if not DATE_MIN <= as_date <= DATE_MAX:
        raise Invalid("date_out_of_range", "{field} must lie between {min_year} and {max_year}",
                      field=field, details={"min": DATE_MIN.isoformat(), "max": DATE_MAX.isoformat()},
                      min_year=DATE_MIN.year, max_year=DATE_MAX.year)
    return value


# ---- the backstop on every event ---------------------------------------------------------------------

# Keys of event data that hold free text, where tab and newline are allowed.
FREE_TEXT_KEYS = frozenset({"notes", "note", "reason", "comment", "description", "resolution", "summary", "plan"})
# A text in an event whose key has no limit of its own is at most this long (a notes field).
ANY_TEXT_MAX = NOTES
# No decimal in an event exceeds the largest total: at four places it fits a 64-bit column.
ANY_DECIMAL_MAX = TOTAL_MAX

Limits = dict[str, int]


def check_event_data(data: dict[str, Any], limits: Limits) -> None:
    """Refuse event data the read side could not hold, whichever aggregate records it: a
    control character, a text longer than its key's limit in `limits` (by dotted path, such
    as "contacts.name", or by key), a decimal beyond ANY_DECIMAL_MAX, a date outside the
    business range, a float that is not finite. The field is named by its key."""
    for key, value in data.items():
        _check(value, key, key, key in FREE_TEXT_KEYS, limits)


def _check(value: Any, field: str, path: str, multiline: bool, limits: Limits) -> None:
    if isinstance(value, str):
        text(value, field, limits.get(path, limits.get(field, ANY_TEXT_MAX)), multiline=multiline)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, Decimal):
        amount(value, field, ANY_DECIMAL_MAX)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise Invalid("validation_error", "{field} must be a finite number", field=field)
    elif isinstance(value, date):
        day(value, field)
    elif isinstance(value, dict):
        if isinstance(value.get("field"), str) and "new" in value:
            # A field change {field, old, new}: the old value was accepted before; check the new.
            name = value["field"]
            _check(value["new"], name, name, name in FREE_TEXT_KEYS, limits)
            return
        for key, item in value.items():
            name = key if isinstance(key, str) else field
            _check(item, name, f"{path}.{name}", multiline or name in FREE_TEXT_KEYS, limits)
    elif isinstance(value, list | tuple):
        for item in value:
            _check(item, field, path, multiline, limits)


def within(total: Decimal, field: str, limit: Decimal = TOTAL_MAX) -> Decimal:
    """A running total that an amount would raise: refused beyond the limit."""
    if total > limit:
        raise Invalid("out_of_range", "this would take {field} beyond {limit}", field=field,
                      details={"limit": str(limit)}, limit=limit)
    return total
