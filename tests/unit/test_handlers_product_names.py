"""G-1 through `handle` with the fakes: a product with the name and spec of another is refused
(409 `duplicate_product`), on creation and on a rename; a renamed product frees its old pair;
a product stored before pairs were reserved takes its own on its first change."""

from __future__ import annotations

from uuid import uuid4

import pytest

from aggregates.product import Product
from aggregates.product_names import ProductName
from commands import messages as m
from commands.actor import Actor
from commands.base import context, save
from tests.unit.fakes import World


@pytest.fixture
def keeper(w: World) -> Actor:
    return w.person("keeper", ["warehouse"])


def test_a_second_product_of_one_name_and_spec_is_refused(w: World, keeper: Actor) -> None:
    first = w.do(m.CreateProduct(name="服务器", spec="R740", unit="台"), keeper).ids
    drawn = len(w.sequences.calls)
    for name, spec in (("服务器", "R740"), (" 服务器", "r740 "), ("服务器", "Ｒ７４０"), ("服\u200b务器", "R740")):
        refused = w.refused(m.CreateProduct(name=name, spec=spec, unit="套"), keeper)
        assert (refused.code, refused.field, refused.details) == (
            "duplicate_product", "name", {"code": first["code"], "product_id": first["id"]})
    assert len(w.sequences.calls) == drawn  # no code drawn for a refusal
    # Another spec, or the same spec of another name, is another product.
    other = w.do(m.CreateProduct(name="服务器", spec="R750"), keeper).ids
    w.do(m.CreateProduct(name="存储", spec="R740"), keeper)
    w.do(m.CreateProduct(name="软件授权"), keeper)
    assert w.refused(m.CreateProduct(name="软件授权", spec=""), keeper).code == "duplicate_product"
    assert w.find(ProductName.id_for("服务器", "R750"), ProductName).product_id == other["id"]


def test_a_rename_onto_another_products_pair_is_refused_and_a_rename_frees_the_old_pair(
        w: World, keeper: Actor) -> None:
    server = w.do(m.CreateProduct(name="服务器", spec="R740"), keeper).ids["id"]
    switch = w.do(m.CreateProduct(name="交换机", spec="S5720"), keeper).ids["id"]
    refused = w.refused(m.ChangeProduct(switch, {"name": "服务器", "spec": "R740"}), keeper)
    assert (refused.code, refused.details["product_id"]) == ("duplicate_product", server)
    assert w.refused(m.ChangeProduct(switch, {"name": "服务器 ", "spec": "r740"}), keeper).code == "duplicate_product"
    assert w.find(switch, Product).name == "交换机"  # nothing changed
    # Half a rename: the spec alone onto the other pair.
    w.do(m.ChangeProduct(switch, {"name": "服务器"}), keeper)
    assert w.refused(m.ChangeProduct(switch, {"spec": "R740"}), keeper).code == "duplicate_product"
    # The server moves to R750: R740 is free for the switch, and the server holds R750.
    w.do(m.ChangeProduct(server, {"spec": "R750"}), keeper)
    w.do(m.ChangeProduct(switch, {"spec": "R740"}), keeper)
    assert w.find(ProductName.id_for("服务器", "R740"), ProductName).product_id == switch
    assert w.find(ProductName.id_for("服务器", "R750"), ProductName).product_id == server
    assert w.find(ProductName.id_for("交换机", "S5720"), ProductName).product_id is None
    # A change of case only, or of another field, keeps the pair.
    w.do(m.ChangeProduct(server, {"name": "服务器", "unit": "台", "enabled": False}), keeper)
    created = w.do(m.CreateProduct(name="交换机", spec="S5720"), keeper).ids["id"]  # freed, so taken again
    assert w.find(ProductName.id_for("交换机", "S5720"), ProductName).product_id == created
    # A disabled product keeps its pair.
    assert w.refused(m.CreateProduct(name="服务器", spec="R750"), keeper).code == "duplicate_product"


def test_a_product_from_before_reservations_takes_its_pair_on_its_first_change(w: World, keeper: Actor) -> None:
    legacy = Product.create(context(w.deps, keeper), id=uuid4(), code="P000900", name="旧产品", spec="V1",
                            unit="台")
    save(w.deps, legacy)
    assert w.store.find(ProductName.id_for("旧产品", "V1"), ProductName) is None
    w.do(m.ChangeProduct(str(legacy.id), {"unit": "套"}), keeper)
    assert w.find(ProductName.id_for("旧产品", "V1"), ProductName).product_id == str(legacy.id)
    assert w.refused(m.CreateProduct(name="旧产品", spec="V1"), keeper).code == "duplicate_product"
