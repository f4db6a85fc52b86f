"""The sales projection's tables (`Projection("sales")`): contracts and their lines,
invoices and credit notes, payments, the goods moved for contracts, and after-sales problems.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Integer, String, Table, Text

from aggregates import bounds
from readmodels.tables.base import metadata, version_table
from readmodels.types import Money, Quantity

contracts = Table(
    "rm_contracts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("customer_id", String(36), nullable=False, index=True),
    Column("number", String(bounds.CONTRACT_NUMBER), nullable=False),
    Column("name", String(bounds.CONTRACT_NAME), nullable=False),
    Column("signed_on", Date, nullable=False),
    Column("amount", Money(), nullable=False),
    Column("salesperson_id", String(36), index=True),
    # Invoiced less the credit notes (红字发票) that reversed part of it.
    Column("invoiced", Money(), nullable=False),
    Column("credited_amount", Money(), nullable=False),
    Column("collected", Money(), nullable=False),
    # The net amount (D-2, D-3 as amended) is amount − returned_amount + exchange_difference.
    Column("returned_amount", Money(), nullable=False),
    Column("exchange_difference", Money(), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
)

# A line per product on the deal as it stands: `quantity` (ordered) = signed_quantity −
# returned + exchanged (a return shrinks the deal; an exchange for another product moves the
# quantity to the replacement, whose line it adds); `amount` is the line's money as it stands,
# so the lines add up to the net amount; `delivered` is net of what came back.
contract_lines = Table(
    "rm_contract_lines",
    metadata,
    Column("contract_id", String(36), primary_key=True),
    Column("product_id", String(36), primary_key=True),
    Column("quantity", Quantity(), nullable=False),
    Column("unit_price", Money(), nullable=False),
    Column("amount", Money(), nullable=False),
    Column("delivered", Quantity(), nullable=False),
    Column("returned", Quantity(), nullable=False),
    Column("signed_quantity", Quantity(), nullable=False),
    Column("exchanged", Quantity(), nullable=False),
)

invoices = Table(
    "rm_invoices",
    metadata,
    Column("invoice_id", String(36), primary_key=True),
    Column("contract_id", String(36), nullable=False, index=True),
    Column("customer_id", String(36), nullable=False),
    Column("amount", Money(), nullable=False),
    Column("invoiced_on", Date, nullable=False),
    Column("actor_id", String(36), nullable=False),
)

# Red-letter invoices (红字发票, 冲红): invoicing reversed, after a return say.
credit_notes = Table(
    "rm_credit_notes",
    metadata,
    Column("credit_note_id", String(36), primary_key=True),
    Column("contract_id", String(36), nullable=False, index=True),
    Column("customer_id", String(36), nullable=False),
    Column("amount", Money(), nullable=False),
    Column("credited_on", Date, nullable=False),
    Column("reason", String(bounds.REASON)),
    Column("actor_id", String(36), nullable=False),
)

payments = Table(
    "rm_payments",
    metadata,
    Column("payment_id", String(36), primary_key=True),
    Column("customer_id", String(36), nullable=False, index=True),
    Column("contract_id", String(36), index=True),
    Column("amount", Money(), nullable=False),
    Column("received_on", Date, nullable=False),
    Column("salesperson_id", String(36)),
    Column("actor_id", String(36), nullable=False),
)

# One row per line of goods moved for a contract: out on delivery, back on return,
# back and out again on exchange.
goods_moves = Table(
    "rm_goods_moves",
    metadata,
    Column("ref_id", String(36), primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("contract_id", String(36), nullable=False, index=True),
    Column("delivery_id", String(36), nullable=False),
    Column("product_id", String(36), nullable=False),
    Column("warehouse", String(bounds.SHORT_TEXT), nullable=False),
    Column("quantity", Quantity(), nullable=False),
    Column("unit_cost", Quantity(), nullable=False),
    Column("amount", Money()),
    Column("moved_on", Date, nullable=False),
)

problems = Table(
    "rm_problems",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("customer_id", String(36), nullable=False, index=True),
    Column("type", String(bounds.SHORT_TEXT), nullable=False),
    Column("description", Text, nullable=False),
    Column("responsible_id", String(36), nullable=False, index=True),
    Column("reported_by", String(36), nullable=False),
    Column("reported_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False),
    Column("resolution", Text),
    Column("resolved_at", DateTime(timezone=True)),
)

# Tables of the products projection (`Projection("products")`, beside `rm_stock` and
# `rm_products` in `catalogue`): stock and products as they were, for S-19 as of a past moment.
# One row per state (see `version_table`).
stock_versions = version_table(
    "rm_stock_versions",
    "stock_id",
    Column("product_id", String(36), nullable=False),
    Column("warehouse", String(bounds.SHORT_TEXT), nullable=False),
    Column("quantity", Quantity(), nullable=False),
    Column("unit_cost", Quantity(), nullable=False),
    Column("value", Money(), nullable=False),
)

product_versions = version_table(
    "rm_product_versions",
    "id",
    Column("code", String(16), nullable=False),
    Column("name", String(bounds.PRODUCT_NAME), nullable=False),
)
