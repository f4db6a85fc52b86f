"""The organisation projection's tables (`Projection("organisation")`): people,
departments and the settings (rules and dictionaries).
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Integer, String, Table

from aggregates import bounds
from readmodels.tables.base import metadata

people = Table(
    "rm_people",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(bounds.SHORT_TEXT), nullable=False),
    Column("username", String(bounds.USERNAME), nullable=False),
    Column("department_id", String(36), index=True),
    Column("roles", JSON, nullable=False),
    Column("position", String(bounds.SHORT_TEXT)),
    Column("mobile", String(bounds.PHONE)),
    Column("gender", String(bounds.GENDER)),
    Column("active", Boolean, nullable=False),
    Column("is_salesperson", Boolean, nullable=False, default=False),
    Column("salesperson_id", String(36), index=True),
    Column("max_customers", Integer),
    Column("max_follow_days", Integer),
    Column("held_customers", Integer, nullable=False, default=0),
)

departments = Table(
    "rm_departments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(bounds.SHORT_TEXT), nullable=False),
    Column("parent_id", String(36)),
    Column("manager_ids", JSON, nullable=False),
)

settings = Table(
    "rm_settings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("rules", JSON, nullable=False),
    Column("dictionaries", JSON, nullable=False),
)
