"""The targets projection's tables (`Projection("targets")`): targets and work reports."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, DateTime, Index, Integer, String, Table, Text

from aggregates import bounds
from readmodels.tables.base import metadata
from readmodels.types import Money

targets = Table(
    "rm_targets",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("person_id", String(36), nullable=False, index=True),
    Column("period", String(bounds.PERIOD_NAME), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("new_customers", Integer, nullable=False),
    Column("visits", Integer, nullable=False),
    Column("deal_amount", Money(), nullable=False),
    Column("collected_amount", Money(), nullable=False),
    Column("cancelled", Boolean, nullable=False),
    Column("set_by", String(36), nullable=False),
    Column("approved_by", String(36)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
)

work_reports = Table(
    "rm_work_reports",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("person_id", String(36), nullable=False, index=True),
    Column("kind", String(10), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("new_customers", Integer, nullable=False),
    Column("visits", Integer, nullable=False),
    Column("deals", Integer, nullable=False),
    Column("deal_amount", Money(), nullable=False),
    Column("collected_amount", Money(), nullable=False),
    Column("summary", Text, nullable=False),
    Column("plan", Text, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("revised_at", DateTime(timezone=True), nullable=False),
    Index("rm_work_reports_kind_idx", "kind", "starts_on"),
)
