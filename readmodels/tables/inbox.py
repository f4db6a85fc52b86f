"""The inbox projection's tables (`Projection("inbox")`): approval requests, notifications
and the customer names their texts mention; and who has read which notification, which is
not a projection's but each reader's own state (in `state_metadata`, not versioned).
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, String, Table, Text

from aggregates import bounds
from readmodels.tables.base import metadata
from readmodels.tables.state import state_metadata

approvals = Table(
    "rm_approvals",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("target_id", String(36), nullable=False),
    Column("summary", String(500), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("requester_id", String(36), nullable=False, index=True),
    Column("approver_ids", JSON, nullable=False),
    Column("status", String(20), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", String(36)),
    Column("decided_at", DateTime(timezone=True)),
    Column("comment", Text),
    # The state the request was made against (AP-2), as plain values; null before bases were kept.
    Column("base", JSON),
)

# The customer names the inbox's texts mention.
inbox_customers = Table(
    "rm_inbox_customers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("number", String(32), nullable=False),
    Column("name", String(bounds.CUSTOMER_NAME), nullable=False),
)

notifications = Table(
    "rm_notifications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("person_id", String(36), nullable=False, index=True),
    Column("kind", String(40), nullable=False),
    # What it says, rendered when read in the reader's locale: a message id of the `crm`
    # catalogue and the values of its placeholders (readmodels.inbox.notification_text).
    Column("message", String(200), nullable=False),
    Column("params", JSON, nullable=False),
    Column("ref_id", String(36)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Whether a person has read a notification is their own mutable state, not a domain event.
notification_reads = Table(
    "crm_notification_reads",
    state_metadata,
    Column("notification_id", String(36), primary_key=True),
    Column("person_id", String(36), nullable=False),
    Column("read_at", DateTime(timezone=True), nullable=False),
)

# Who reported each problem (G-7), so its reporter is told when it is resolved.
inbox_problems = Table(
    "rm_inbox_problems",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("reporter_id", String(36), nullable=False),
    Column("customer_id", String(36), nullable=False),
    Column("kind", String(bounds.SHORT_TEXT), nullable=False),
)
