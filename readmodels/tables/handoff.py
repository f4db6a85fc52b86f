"""The handoff projection's tables (`Projection("handoff")`): the requests from sales to the
warehouse (seed 000 §5.6.1–§5.6.3), their lines with what is done, and each delivery, return
or exchange that carried one out. And two tables of the inbox projection (`Projection("inbox")`):
`handoff_keepers`, who is a warehouse keeper, so a new request reaches every one of them, and
`handoff_notices`, what its notifications about a request say.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, Integer, String, Table

from aggregates import bounds
from readmodels.tables.base import metadata
from readmodels.types import Money, Quantity

handoff_requests = Table(
    "rm_handoff_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("number", String(32), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("contract_id", String(36), nullable=False, index=True),
    Column("contract_number", String(bounds.CONTRACT_NUMBER), nullable=False),
    Column("customer_id", String(36), nullable=False),
    Column("delivery_id", String(36)),
    Column("requester_id", String(36), nullable=False, index=True),
    Column("note", String(bounds.REASON), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("approved_by", String(36)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("cancelled_by", String(36)),
    Column("cancel_reason", String(bounds.REASON)),
)

handoff_lines = Table(
    "rm_handoff_lines",
    metadata,
    Column("request_id", String(36), primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("product_id", String(36), nullable=False),
    Column("quantity", Quantity(), nullable=False),
    Column("done", Quantity(), nullable=False),
    Column("warehouse", String(bounds.SHORT_TEXT)),
    Column("from_warehouse", String(bounds.SHORT_TEXT)),
    Column("replacement_product_id", String(36)),
    Column("unit_price", Money()),
)

# One row per delivery, return or exchange that carried out a request.
handoff_done = Table(
    "rm_handoff_done",
    metadata,
    Column("done_id", String(36), primary_key=True),
    Column("request_id", String(36), nullable=False, index=True),
    Column("done_at", DateTime(timezone=True), nullable=False),
    Column("actor_id", String(36), nullable=False),
    Column("lines", JSON, nullable=False),  # [{line, quantity}] as decimal strings
)

# The inbox projection's: people and whether they are active warehouse keepers now.
handoff_keepers = Table(
    "rm_handoff_keepers",
    metadata,
    Column("person_id", String(36), primary_key=True),
    Column("keeper", Boolean, nullable=False),
    Column("active", Boolean, nullable=False),
)

# The inbox projection's: what its notifications about a request say (its number, kind,
# requester, customer and contract).
handoff_notices = Table(
    "rm_handoff_notices",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("number", String(32), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("requester_id", String(36), nullable=False),
    Column("customer_id", String(36), nullable=False),
    Column("contract_number", String(bounds.CONTRACT_NUMBER), nullable=False),
)
