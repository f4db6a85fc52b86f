"""Products (G-1, G-3) and stock per product and warehouse at moving-average cost (G-2, G-4..G-6)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from aggregates import bounds
from aggregates.base import Conflict, Context, CrmAggregate, Invalid, derived_id
from aggregates.money import money, unit_cost


def average_cost(value: Decimal, quantity: Decimal, previous: Decimal) -> Decimal:
    """G-2: the moving-average unit cost, value ÷ quantity at 4 places (half up); with
    nothing on hand the previous one stays."""
    return unit_cost(value / quantity) if quantity else previous


class Product(CrmAggregate):
    """A product with its code, description and tax-inclusive price history."""

    TEXT_LIMITS: ClassVar[dict[str, int]] = {
        "name": bounds.PRODUCT_NAME, "spec": bounds.PRODUCT_SPEC, "unit": bounds.PRODUCT_UNIT,
        "changes.name": bounds.PRODUCT_NAME, "changes.spec": bounds.PRODUCT_SPEC,
        "changes.unit": bounds.PRODUCT_UNIT, "reason": bounds.REASON,
    }

    code: str
    name: str
    spec: str | None
    unit: str | None
    enabled: bool
    price: Decimal | None
    priced_on: date | None

    def __init__(self) -> None:
        """Empty: the Created event's apply() sets the state."""

    class Created(CrmAggregate.Created):
        code: str
        name: str
        spec: str | None
        unit: str | None

        def apply(self, p: Product) -> None:
            p.code, p.name, p.spec, p.unit = self.code, self.name, self.spec, self.unit
            p.enabled = True
            p.price = None
            p.priced_on = None

    class Changed(CrmAggregate.Event):
        changes: dict[str, Any]

        def apply(self, p: Product) -> None:
            for field, value in self.changes.items():
                setattr(p, field, value)

    class PriceChanged(CrmAggregate.Event):
        old_price: Decimal | None
        price: Decimal
        priced_on: date
        reason: str
        approved_by: str | None

        def apply(self, p: Product) -> None:
            p.price = self.price
            p.priced_on = self.priced_on

    @classmethod
    def create(cls, ctx: Context, *, id: UUID, code: str, name: str, spec: str | None,
               unit: str | None) -> Product:
        if not name.strip():
            raise Invalid("validation_error", "name is required", field="name")
        return cls._create_by(ctx, cls.Created, id=id, code=code, name=name.strip(), spec=spec, unit=unit)

    def change(self, ctx: Context, changes: dict[str, Any]) -> None:
        if "name" in changes and not (changes["name"] or "").strip():
            raise Invalid("validation_error", "name is required", field="name")
        if changes.get("enabled", True) is None:
            raise Invalid("validation_error", "enabled must be true or false", field="enabled")
        effective = {k: v for k, v in changes.items() if getattr(self, k) != v}
        if effective:
            self._record(ctx, self.Changed, changes=effective)

    def change_price(self, ctx: Context, price: Decimal, priced_on: date, reason: str,
                     approved_by: str | None = None) -> None:
        """G-3: a new tax-inclusive unit price from a date on."""
        new = money(price)
        if new <= 0:
            raise Invalid("validation_error", "the price must be greater than 0", field="price")
        if new == self.price:
            raise Invalid("no_change", "that is the current price", field="price")
        bounds.amount(new, "price", bounds.MONEY_MAX)
        self._record(ctx, self.PriceChanged, old_price=self.price, price=new, priced_on=priced_on,
                     reason=reason, approved_by=approved_by)


class ProductStock(CrmAggregate):
    """Stock of one product in one warehouse, accounted on its own (按仓库独立核算):
    quantity, moving-average unit cost and inventory value."""

    TEXT_LIMITS: ClassVar[dict[str, int]] = {"warehouse": bounds.SHORT_TEXT, "kind": 20}

    product_id: str
    warehouse: str
    quantity: Decimal
    unit_cost: Decimal
    value: Decimal

    def __init__(self) -> None:
        """Empty: the Created event's apply() sets the state."""

    @staticmethod
    def id_for(product_id: str, warehouse: str) -> UUID:
        return derived_id("stock", f"{product_id}:{warehouse}")

    class Opened(CrmAggregate.Created):
        product_id: str
        warehouse: str

        def apply(self, s: ProductStock) -> None:
            s.product_id, s.warehouse = self.product_id, self.warehouse
            s.quantity, s.unit_cost, s.value = Decimal("0"), Decimal("0.0000"), Decimal("0.00")

    class Received(CrmAggregate.Event):
        """Goods in: a stock-in at its cost, or goods back from a customer at the cost they left with."""

        quantity: Decimal
        unit_cost: Decimal
        value: Decimal
        kind: str
        ref: dict[str, Any]

        def apply(self, s: ProductStock) -> None:
            s.quantity += self.quantity
            s.value += self.value
            s.unit_cost = average_cost(s.value, s.quantity, s.unit_cost)

    class Issued(CrmAggregate.Event):
        """Goods out at the current average cost."""

        quantity: Decimal
        unit_cost: Decimal
        value: Decimal
        kind: str
        ref: dict[str, Any]

        def apply(self, s: ProductStock) -> None:
            s.quantity -= self.quantity
            s.value -= self.value

    @classmethod
    def open(cls, ctx: Context, product_id: str, warehouse: str) -> ProductStock:
        return cls._create_by(ctx, cls.Opened, id=cls.id_for(product_id, warehouse),
                              product_id=product_id, warehouse=warehouse)

    def receive(self, ctx: Context, qty: Decimal, cost: Decimal, kind: str, ref: dict[str, Any]) -> None:
        bounds.amount(qty, "quantity", bounds.QUANTITY_MAX)
        bounds.amount(cost, "unit_cost", bounds.UNIT_COST_MAX)
        value = money(qty * cost)
        bounds.within(self.quantity + qty, "quantity", bounds.STOCK_QUANTITY_MAX)
        # The warehouse's stock value, which the unit cost raises by quantity × cost.
        bounds.within(self.value + value, "unit_cost", bounds.TOTAL_MAX)
        self._record(ctx, self.Received, quantity=qty, unit_cost=unit_cost(cost), value=value,
                     kind=kind, ref=ref)

    def issue(self, ctx: Context, qty: Decimal, kind: str, ref: dict[str, Any]) -> Decimal:
        """Take goods out at the moving-average cost; never below zero. Returns the unit cost."""
        if qty > self.quantity:
            raise Conflict(
                "insufficient_stock",
                "{warehouse} holds {quantity} of this product, {qty} asked",
                field="quantity",
                details={"product_id": self.product_id, "warehouse": self.warehouse,
                         "available": str(self.quantity), "requested": str(qty)}, warehouse=self.warehouse,
                         quantity=self.quantity, qty=qty,
            )
        # The last units take the remaining value, so no rounding cents stay behind.
        value = self.value if qty == self.quantity else money(qty * self.unit_cost)
        self._record(ctx, self.Issued, quantity=qty, unit_cost=self.unit_cost, value=value, kind=kind, ref=ref)
        return self.unit_cost
