"""G-1: a product's name and spec are taken by one product at a time (409 `duplicate_product`).
The index aggregates returned here are saved in the same save as the product."""

from __future__ import annotations

from aggregates.base import Context
from aggregates.product import Product
from aggregates.product_names import ProductName, duplicate_product
from commands.base import Deps


def check_product_name_free(deps: Deps, name: str, spec: str | None, product_id: str | None = None) -> None:
    """Refuse a name and spec another product holds; cheap enough to ask before a code is drawn."""
    index = deps.store.find(ProductName.id_for(name, spec), ProductName)
    if index is not None and index.product_id not in (None, product_id):
        raise duplicate_product(index.code, index.product_id)


def take_product_name(deps: Deps, ctx: Context, product: Product) -> ProductName:
    """Reserve the product's name and spec for it. Two simultaneous creations of one pair
    both reserve the same index id: the second save fails, and its retry is refused here."""
    product_id = str(product.id)
    index = deps.store.find(ProductName.id_for(product.name, product.spec), ProductName)
    if index is None:
        return ProductName.reserve(ctx, product.name, product.spec, product_id, product.code)
    index.take(ctx, product_id, product.code)
    return index


def move_product_name(deps: Deps, ctx: Context, product: Product, old_name: str,
                      old_spec: str | None) -> list[ProductName]:
    """After `product.change`: a new name or spec is taken (refused when another product holds
    it) and the old pair freed, in the product's save. A product from before names were
    reserved takes its pair on its first change."""
    if ProductName.id_for(product.name, product.spec) == ProductName.id_for(old_name, old_spec):
        index = deps.store.find(ProductName.id_for(product.name, product.spec), ProductName)
        return [take_product_name(deps, ctx, product)] if index is None else []
    taken = take_product_name(deps, ctx, product)
    old = deps.store.find(ProductName.id_for(old_name, old_spec), ProductName)
    if old is not None:
        old.free(ctx, str(product.id))
    return [taken] + ([old] if old is not None else [])
