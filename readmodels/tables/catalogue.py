"""The products projection's tables (`Projection("products")`, the catalogue): products,
their price history, and stock per warehouse.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, DateTime, Integer, String, Table

from aggregates import bounds
from readmodels.tables.base import metadata
from readmodels.types import Money, Quantity

products = Table(
    "rm_products",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("code", String(16), nullable=False, unique=True),
    Column("name", String(bounds.PRODUCT_NAME), nullable=False),
    Column("spec", String(bounds.PRODUCT_SPEC)),
    Column("unit", String(bounds.PRODUCT_UNIT)),
    Column("enabled", Boolean, nullable=False),
    Column("price", Money()),
    Column("priced_on", Date),
)

price_history = Table(
    "rm_price_history",
    metadata,
    Column("product_id", String(36), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("old_price", Money()),
    Column("price", Money(), nullable=False),
    Column("priced_on", Date, nullable=False),
    Column("reason", String(bounds.REASON)),
    Column("actor_id", String(36), nullable=False),
    Column("approved_by", String(36)),
    Column("at", DateTime(timezone=True), nullable=False),
)

stock = Table(
    "rm_stock",
    metadata,
    Column("stock_id", String(36), nullable=False, unique=True),
    Column("product_id", String(36), primary_key=True),
    Column("warehouse", String(bounds.SHORT_TEXT), primary_key=True),
    Column("quantity", Quantity(), nullable=False),
    Column("unit_cost", Quantity(), nullable=False),
    Column("value", Money(), nullable=False),
)
