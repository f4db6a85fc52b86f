"""G-1: one product per name and spec. An index aggregate per normalised (name, spec) pair,
saved in the same save as the product that takes it, so two products of one name and spec
can never both commit (as `CustomerName` keeps customer names unique, C-2)."""

from __future__ import annotations

import json
from typing import ClassVar
from uuid import UUID

from aggregates import bounds
from aggregates.base import Conflict, Context, CrmAggregate, derived_id
from aggregates.names import normalise_name


def product_key(name: str, spec: str | None) -> str:
    """Names and specs compare as customer names do (`normalise_name`: invisible code points
    dropped, full-width as half-width, case-folded, white space collapsed); no spec and an
    empty one are the same. The pair is encoded so no name/spec split can collide."""
    return json.dumps([normalise_name(name), normalise_name(spec or "")], ensure_ascii=False)


def duplicate_product(code: str | None, product_id: str | None) -> Conflict:
    return Conflict("duplicate_product", "a product with this name and spec exists already: {product_code}",
                    field="name", details={"code": code, "product_id": product_id}, product_code=code)


class ProductName(CrmAggregate):
    """The product holding one name and spec; none after it was renamed away."""

    TEXT_LIMITS: ClassVar[dict[str, int]] = {"name": bounds.PRODUCT_NAME, "spec": bounds.PRODUCT_SPEC,
                                             "code": 32}

    product_id: str | None
    code: str | None

    def __init__(self) -> None:
        """Empty: the Created event's apply() sets the state."""

    @staticmethod
    def id_for(name: str, spec: str | None) -> UUID:
        return derived_id("product-name", product_key(name, spec))

    class Reserved(CrmAggregate.Created):
        name: str
        spec: str | None
        product_id: str
        code: str

        def apply(self, index: ProductName) -> None:
            index.product_id, index.code = self.product_id, self.code

    class Retaken(CrmAggregate.Event):
        product_id: str
        code: str

        def apply(self, index: ProductName) -> None:
            index.product_id, index.code = self.product_id, self.code

    class Freed(CrmAggregate.Event):
        def apply(self, index: ProductName) -> None:
            index.product_id, index.code = None, None

    @classmethod
    def reserve(cls, ctx: Context, name: str, spec: str | None, product_id: str, code: str) -> ProductName:
        return cls._create_by(ctx, cls.Reserved, id=cls.id_for(name, spec), name=name, spec=spec,
                              product_id=product_id, code=code)

    def take(self, ctx: Context, product_id: str, code: str) -> None:
        """Taken by `product_id`: refused while another product holds it; nothing to record
        when that product holds it already."""
        if self.product_id == product_id:
            return
        if self.product_id is not None:
            raise duplicate_product(self.code, self.product_id)
        self._record(ctx, self.Retaken, product_id=product_id, code=code)

    def free(self, ctx: Context, product_id: str) -> None:
        """Given up by `product_id` (renamed away); another holder's reservation stays."""
        if self.product_id == product_id:
            self._record(ctx, self.Freed)
