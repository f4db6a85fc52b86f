"""Exact decimals (G-8) and the bounds of what an event may carry: amounts, dates, text, and
the backstop every event's data goes through before it is recorded."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from aggregates import bounds
from aggregates.base import Invalid
from aggregates.money import CENT, TEN_THOUSANDTH, money, positive, quantity, unit_cost
from tests.unit.helpers import refused

D = Decimal


# ---- money ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "cents"), [("1.005", "1.01"), ("1.004", "1.00"), ("-1.005", "-1.01"),
                                              (2, "2.00"), ("0.125", "0.13")])
def test_money_is_kept_to_the_cent_half_up(value: Any, cents: str) -> None:
    assert str(money(value)) == cents


@pytest.mark.parametrize(("value", "kept"), [("1.00005", "1.0001"), ("1.00004", "1.0000"), ("0.00125", "0.0013")])
def test_unit_costs_and_quantities_are_kept_to_four_places_half_up(value: str, kept: str) -> None:
    assert str(unit_cost(value)) == kept == str(quantity(value))


@pytest.mark.parametrize(("value", "expected"), [("1.5", "1.50"), (3, "3.00"), ("0.01", "0.01"), (D("7.10"), "7.10")])
def test_a_positive_amount_is_kept_to_the_cent(value: Any, expected: str) -> None:
    assert str(positive(value, "amount")) == expected


@pytest.mark.parametrize("value", ["-1", "-0.01", "0", "0.00", "-0"])
def test_a_negative_or_zero_amount_reaching_positive_is_refused(value: str) -> None:
    with refused(Invalid, "validation_error", field="amount"):
        positive(value, "amount")


@pytest.mark.parametrize("value", ["1.005", "0.001", "12.345"])
def test_a_three_decimal_amount_reaching_positive_is_refused(value: str) -> None:
    with pytest.raises(Invalid) as caught:
        positive(value, "amount")
    assert (caught.value.code, caught.value.field) == ("validation_error", "amount")
    assert "2 decimal places" in caught.value.message


def test_positive_quantities_take_four_places_and_no_more() -> None:
    assert str(positive("1.2345", "quantity", TEN_THOUSANDTH)) == "1.2345"
    assert str(positive("2", "quantity", TEN_THOUSANDTH)) == "2.0000"
    with pytest.raises(Invalid) as caught:
        positive("1.23456", "quantity", TEN_THOUSANDTH)
    assert caught.value.field == "quantity" and "4 decimal places" in caught.value.message
    assert positive("1.23", "amount", CENT) == D("1.23")


@pytest.mark.parametrize("value", ["abc", "", "1,5", None, "NaN", "Infinity", "-Infinity", "sNaN"])
def test_what_is_no_finite_number_is_refused(value: Any) -> None:
    with refused(Invalid, "validation_error", field="price"):
        positive(value, "price")


# ---- amounts and running totals ------------------------------------------------------------------


def test_an_amount_lies_within_plus_or_minus_its_limit() -> None:
    assert bounds.amount(bounds.MONEY_MAX, "amount") == bounds.MONEY_MAX
    assert bounds.amount(-bounds.MONEY_MAX, "amount") == -bounds.MONEY_MAX
    with refused(Invalid, "out_of_range", field="amount", limit=str(bounds.MONEY_MAX)):
        bounds.amount(bounds.MONEY_MAX + D("0.01"), "amount")
    with refused(Invalid, "out_of_range", field="qty", limit="5"):
        bounds.amount(D("-5.0001"), "qty", D("5"))
    with refused(Invalid, "out_of_range"):
        bounds.amount(D("NaN"), "amount")


def test_a_running_total_may_reach_its_limit_but_not_pass_it() -> None:
    assert bounds.within(bounds.TOTAL_MAX, "amount") == bounds.TOTAL_MAX
    with refused(Invalid, "out_of_range", field="amount", limit=str(bounds.TOTAL_MAX)):
        bounds.within(bounds.TOTAL_MAX + D("0.01"), "amount")
    assert bounds.within(D("5"), "quantity", D("5")) == D("5")
    with refused(Invalid, "out_of_range", field="quantity"):
        bounds.within(D("5.0001"), "quantity", D("5"))


# ---- dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [date(1900, 1, 1), date(2199, 12, 31), datetime(2026, 11, 1, 23, 59), None])
def test_business_dates_lie_between_1900_and_2199(value: date | None) -> None:
    assert bounds.day(value, "signed_on") == value


@pytest.mark.parametrize("value", [date(1899, 12, 31), date(2200, 1, 1), datetime(2200, 1, 1, 0, 0)])
def test_dates_outside_the_business_range_are_refused(value: date) -> None:
    with refused(Invalid, "date_out_of_range", field="signed_on", min="1900-01-01", max="2199-12-31"):
        bounds.day(value, "signed_on")


# ---- text ----------------------------------------------------------------------------------------


def test_text_may_be_as_long_as_its_limit_once_normalised() -> None:
    assert bounds.text("a" * 5, "name", 5) == "a" * 5
    with refused(Invalid, "too_long", field="name", limit=5):
        bounds.text("a" * 6, "name", 5)
    with refused(Invalid, "too_long", field="name"):
        bounds.text("\ufdfa", "name", 5)  # one character that NFKC spells out in 18


def test_text_carries_no_control_characters() -> None:
    for ch in ("\x00", "\x1b", "\x7f", "\x85", "\u2028", "\u2029", "\ud800"):
        with refused(Invalid, "control_character", field="name"):
            bounds.text(f"a{ch}b", "name", 50)


def test_only_multiline_text_takes_tab_and_newlines() -> None:
    for ch in ("\t", "\n", "\r"):
        assert bounds.text(f"a{ch}b", "notes", 50, multiline=True) == f"a{ch}b"
        with refused(Invalid, "control_character", field="name"):
            bounds.text(f"a{ch}b", "name", 50)
    with refused(Invalid, "control_character"):
        bounds.text("a\x00b", "notes", 50, multiline=True)


def test_required_text_is_neither_missing_nor_blank_and_other_text_may_be_missing() -> None:
    assert bounds.text(None, "name", 5) is None
    with refused(Invalid, "validation_error", field="name"):
        bounds.text(None, "name", 5, required=True)
    with refused(Invalid, "validation_error", field="name"):
        bounds.text("  ", "name", 5, required=True)
    assert bounds.text(" x ", "name", 5, required=True) == " x "


def test_text_is_text() -> None:
    with refused(Invalid, "validation_error", field="name"):
        bounds.text(5, "name", 5)


# ---- the backstop on every event -----------------------------------------------------------------


def test_event_data_within_its_bounds_passes() -> None:
    bounds.check_event_data({"name": "华为", "amount": bounds.TOTAL_MAX, "on": date(2026, 1, 1), "ok": True,
                             "none": None, "lat": 1.5, "n": 3, "notes": "a\nb"}, {"name": 10})


def test_event_text_is_checked_against_its_keys_limit_or_the_general_one() -> None:
    with refused(Invalid, "too_long", field="name", limit=3):
        bounds.check_event_data({"name": "abcd"}, {"name": 3})
    bounds.check_event_data({"other": "x" * bounds.ANY_TEXT_MAX}, {"name": 3})
    with refused(Invalid, "too_long", field="other", limit=bounds.ANY_TEXT_MAX):
        bounds.check_event_data({"other": "x" * (bounds.ANY_TEXT_MAX + 1)}, {})


def test_nested_event_text_is_checked_by_its_dotted_path_before_its_key() -> None:
    limits = {"contacts.name": 2, "name": 10}
    with refused(Invalid, "too_long", field="name", limit=2):
        bounds.check_event_data({"contacts": [{"name": "abc"}]}, limits)
    bounds.check_event_data({"owner": {"name": "abcdefghij"}}, limits)
    with refused(Invalid, "too_long", field="name", limit=10):
        bounds.check_event_data({"owner": {"name": "abcdefghijk"}}, limits)
    with refused(Invalid, "too_long", field="tags"):
        bounds.check_event_data({"tags": ["ok", "abc"]}, {"tags": 2})
    with refused(Invalid, "too_long", field="tags"):
        bounds.check_event_data({"tags": ("ok", "abc")}, {"tags": 2})


def test_free_text_keys_take_newlines_wherever_they_are_nested() -> None:
    bounds.check_event_data({"reason": "a\nb", "lines": [{"comment": "c\td"}], "x": {"note": "e\nf"}}, {})
    with refused(Invalid, "control_character", field="name"):
        bounds.check_event_data({"lines": [{"name": "a\nb"}]}, {})
    with refused(Invalid, "control_character", field="title"):
        bounds.check_event_data({"notes": {"title": "a\x00b"}}, {})
    bounds.check_event_data({"notes": {"title": "a\nb"}}, {})


def test_a_field_change_checks_its_new_value_by_the_fields_own_limit() -> None:
    limits = {"name": 3}
    bounds.check_event_data({"changes": [{"field": "name", "old": "toolong", "new": "abc"}]}, limits)
    with refused(Invalid, "too_long", field="name", limit=3):
        bounds.check_event_data({"changes": [{"field": "name", "old": "a", "new": "abcd"}]}, limits)
    bounds.check_event_data({"changes": [{"field": "notes", "old": None, "new": "a\nb"}]}, {})
    with refused(Invalid, "control_character", field="region"):
        bounds.check_event_data({"changes": [{"field": "region", "old": None, "new": "a\nb"}]}, {})


def test_event_decimals_dates_and_floats_are_bounded() -> None:
    with refused(Invalid, "out_of_range", field="amount"):
        bounds.check_event_data({"amount": bounds.ANY_DECIMAL_MAX + D("0.01")}, {})
    with refused(Invalid, "out_of_range", field="quantity"):
        bounds.check_event_data({"lines": [{"quantity": -bounds.ANY_DECIMAL_MAX - 1}]}, {})
    with refused(Invalid, "date_out_of_range", field="signed_on"):
        bounds.check_event_data({"signed_on": date(1800, 1, 1)}, {})
    with refused(Invalid, "date_out_of_range", field="at"):
        bounds.check_event_data({"at": datetime(2300, 1, 1)}, {})
    for bad in (float("inf"), float("-inf"), float("nan")):
        with refused(Invalid, "validation_error", field="lat"):
            bounds.check_event_data({"lat": bad}, {})


def test_keys_that_are_not_text_name_the_field_they_lie_in() -> None:
    with refused(Invalid, "too_long", field="figures"):
        bounds.check_event_data({"figures": {1: "abc"}}, {"figures": 2})


def test_a_dict_that_merely_has_a_field_key_is_checked_as_any_other() -> None:
    bounds.check_event_data({"sort": {"field": "name", "direction": "asc"}}, {})
    with refused(Invalid, "control_character", field="direction"):
        bounds.check_event_data({"sort": {"field": "name", "direction": "a\x00"}}, {})


def test_a_changed_lists_new_value_is_checked_by_the_fields_dotted_paths() -> None:
    limits = {"contacts.name": 2, "name": 10}
    change = {"field": "contacts", "old": [], "new": [{"name": "abc"}]}
    with refused(Invalid, "too_long", field="name", limit=2):
        bounds.check_event_data({"changes": [change]}, limits)


def test_free_text_lists_take_newlines() -> None:
    bounds.check_event_data({"notes": ["a\nb", "c"]}, {})
    with refused(Invalid, "control_character", field="tags"):
        bounds.check_event_data({"tags": ["a\nb"]}, {})
