"""Customer names (C-2): the key that makes two names the same, the display form, the
look-alike skeleton, and the index aggregates that let one customer at a time hold a name."""

from __future__ import annotations

import pytest

from aggregates.base import Conflict
from aggregates.names import (
    CustomerName,
    NameSkeleton,
    clean_name,
    duplicate_name,
    normalise_name,
    skeleton,
    skeleton_key,
)
from tests.unit.helpers import ctx, event_names, refused


@pytest.mark.parametrize(("name", "key"), [
    ("  ABC   Trading\t Co ", "abc trading co"),
    ("ＡＢＣ　Ｔｒａｄｉｎｇ", "abc trading"),
    ("Stra\u00dfe", "strasse"),
    ("华为\u200b技术", "华为技术"),
    ("华为\u2800技术", "华为 技术"),
    ("\ufeff华为\u00ad", "华为"),
])
def test_the_name_key_ignores_case_width_spacing_and_invisible_characters(name: str, key: str) -> None:
    assert normalise_name(name) == key


@pytest.mark.parametrize(("name", "shown"), [
    ("  ABC   Trading ", "ABC Trading"),
    ("ＡＢＣ　Trading", "ABC Trading"),
    ("华为\u200b\u2800技术", "华为 技术"),
])
def test_the_display_form_keeps_case_and_drops_the_rest(name: str, shown: str) -> None:
    assert clean_name(name) == shown


def test_different_names_have_different_keys() -> None:
    assert normalise_name("ABC Trading") != normalise_name("ABC Trade")
    assert CustomerName.id_for("ABC Trading") != CustomerName.id_for("ABC Trade")


def test_look_alike_names_share_a_skeleton_and_its_key() -> None:
    latin, cyrillic = "Acme", "Аcmе"  # Cyrillic А and е
    assert latin != cyrillic and normalise_name(latin) != normalise_name(cyrillic)

    assert skeleton(latin) == skeleton(cyrillic)
    assert skeleton_key(latin) == skeleton_key(cyrillic) and len(skeleton_key(latin)) == 40
    assert NameSkeleton.id_for(latin) == NameSkeleton.id_for(cyrillic) != CustomerName.id_for(latin)
    assert skeleton("0rbit") == skeleton("Orbit") and skeleton("Orbit") != skeleton("Orbits")


def test_a_pair_of_characters_that_only_name_each_other_maps_both_ways_to_one() -> None:
    assert skeleton("\u0131") == skeleton("i")  # dotless i and i


def test_a_reserved_name_is_held_by_its_customer() -> None:
    index = CustomerName.reserve(ctx(), "  ABC Trading ", "c1", "KH1")

    assert (index.customer_id, index.number, index.id) == ("c1", "KH1", CustomerName.id_for("abc trading"))
    [event] = index.collect_events()
    assert event.key == "abc trading"


def test_a_rename_that_changes_only_case_or_width_keeps_the_customers_own_name() -> None:
    index = CustomerName.reserve(ctx(), "ABC Trading", "c1", "KH1")
    look_alike = NameSkeleton.reserve(ctx(), "ABC Trading", "c1", "KH1")
    index.collect_events()

    for renamed in ("abc trading", "ＡＢＣ Ｔｒａｄｉｎｇ", " ABC  TRADING"):
        assert CustomerName.id_for(renamed) == index.id
        assert NameSkeleton.id_for(renamed) == look_alike.id
        index.retake(ctx(), "c1", "KH1")
        look_alike.retake(ctx(), "c1", "KH1")

    assert index.customer_id == look_alike.customer_id == "c1"
    assert clean_name("ＡＢＣ Ｔｒａｄｉｎｇ") == "ABC Trading" != clean_name(" ABC  TRADING")


def test_a_name_held_by_another_customer_is_refused_with_its_number() -> None:
    index = CustomerName.reserve(ctx(), "华为", "c1", "KH1")
    with refused(Conflict, "duplicate_name", field="name", number="KH1"):
        index.retake(ctx(), "c2", "KH2")
    assert index.customer_id == "c1"


def test_a_look_alike_held_by_another_customer_is_refused_as_confusable() -> None:
    index = NameSkeleton.reserve(ctx(), "Acme", "c1", "KH1")
    [event] = index.collect_events()
    assert event.key == skeleton_key("Acme")

    with refused(Conflict, "duplicate_name", field="name", number="KH1", reason="confusable"):
        index.retake(ctx(), "c2", "KH2")


def test_a_freed_name_can_be_taken_by_another_customer() -> None:
    index = CustomerName.reserve(ctx(), "华为", "c1", "KH1")
    index.collect_events()

    index.free(ctx())
    index.free(ctx())  # freeing a free name records nothing

    assert (index.customer_id, index.number) == (None, None)
    assert event_names(index) == ["Freed"]
    index.retake(ctx(), "c2", "KH2")
    assert (index.customer_id, index.number) == ("c2", "KH2")


def test_a_freed_look_alike_can_be_taken_by_another_customer() -> None:
    index = NameSkeleton.reserve(ctx(), "Acme", "c1", "KH1")
    index.free(ctx())

    index.retake(ctx(), "c2", "KH2")

    assert (index.customer_id, index.number) == ("c2", "KH2")


def test_the_duplicate_error_names_the_holder() -> None:
    plain, confusable = duplicate_name("KH1"), duplicate_name("KH2", confusable=True)

    assert (plain.code, plain.field, plain.details, plain.kind) == ("duplicate_name", "name", {"number": "KH1"},
                                                                    "conflict")
    assert confusable.details == {"number": "KH2", "reason": "confusable"}
    assert "KH1" in plain.message and "KH2" in confusable.message


def test_a_skeleton_is_the_names_prototype_characters_and_nothing_else() -> None:
    assert skeleton("Acme") == "acrne"  # UTS #39: "m" looks like "rn"
    assert skeleton("华为") == "华为"
    assert skeleton_key("Acme") != skeleton_key("Acne") != skeleton_key("")
