"""G-1: one product per name and spec, on the index aggregate: which names and specs are the
same, reserving, taking and freeing a pair, and the derived id that stored reservations keep
for ever (O-2)."""

from __future__ import annotations

from uuid import UUID

import pytest

from aggregates.base import Conflict
from aggregates.product_names import ProductName, product_key
from tests.unit.helpers import ctx


@pytest.mark.parametrize(("a", "b"), [
    (("服务器", "R740"), ("服务器", "R740")),
    (("服务器", "R740"), (" 服务器 ", "r740")),  # trimmed, case-folded
    (("服务器", "R740"), ("服务器", "Ｒ７４０")),  # full-width as half-width
    (("服务器", "R740"), ("服\u200b务器", "R740\ufeff")),  # invisible code points dropped
    (("Cisco  交换机", "S 5720"), ("cisco 交换机", "s\u30005720")),  # white space collapsed
    (("软件授权", None), ("软件授权", "")),  # no spec and an empty one
    (("软件授权", None), ("软件授权", "  ")),
])
def test_the_same_name_and_spec(a: tuple[str, str | None], b: tuple[str, str | None]) -> None:
    assert product_key(*a) == product_key(*b)
    assert ProductName.id_for(*a) == ProductName.id_for(*b)


@pytest.mark.parametrize(("a", "b"), [
    (("服务器", "R740"), ("服务器", "R750")),
    (("服务器", "R740"), ("服务器R740", None)),
    (("a / b", "c"), ("a", "b / c")),  # no split of name and spec collides
    (("a", "b c"), ("a b", "c")),
    (("服务器", None), ("服务器", "标准版")),
])
def test_different_names_or_specs(a: tuple[str, str | None], b: tuple[str, str | None]) -> None:
    assert ProductName.id_for(*a) != ProductName.id_for(*b)


def test_the_derived_id_never_changes() -> None:
    assert ProductName.id_for("服务器", "R740") == UUID("761783fd-60db-5759-83aa-9a17f634042f")


def test_a_pair_is_held_by_one_product_at_a_time() -> None:
    index = ProductName.reserve(ctx(), "服务器", "R740", "p1", "P000001")
    index.collect_events()
    assert (index.product_id, index.code) == ("p1", "P000001")
    index.take(ctx(), "p1", "P000001")  # its holder again: nothing to record
    assert index.collect_events() == []
    with pytest.raises(Conflict) as caught:
        index.take(ctx(), "p2", "P000002")
    assert (caught.value.code, caught.value.field, caught.value.details) == (
        "duplicate_product", "name", {"code": "P000001", "product_id": "p1"})
    index.free(ctx(), "p2")  # only the holder frees it
    assert index.collect_events() == [] and index.product_id == "p1"
    index.free(ctx(), "p1")
    assert [type(e).__name__ for e in index.collect_events()] == ["Freed"]
    assert (index.product_id, index.code) == (None, None)
    index.take(ctx(), "p2", "P000002")
    assert [type(e).__name__ for e in index.collect_events()] == ["Retaken"]
    assert (index.product_id, index.code) == ("p2", "P000002")
