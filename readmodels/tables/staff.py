"""Tables of the inbox projection (`Projection("inbox")`) that follow the organisation and who
holds which customer, from the events themselves, so that a person deactivated while holding
customers is reported to the managers they had at that moment, in a rebuild as the first time
(people leave: the customers they hold need a new owner).
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, String, Table

from aggregates import bounds
from readmodels.tables.base import metadata

# Every person: name, department, roles and whether active.
staff_people = Table(
    "rm_staff_people",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(bounds.SHORT_TEXT), nullable=False),
    Column("department_id", String(36)),
    Column("roles", JSON, nullable=False),
    Column("active", Boolean, nullable=False),
)

# Every department: its parent and the managers it names.
staff_departments = Table(
    "rm_staff_departments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("parent_id", String(36)),
    Column("manager_ids", JSON, nullable=False),
)

# Every held customer and its owner (pool customers have no row).
staff_holdings = Table(
    "rm_staff_holdings",
    metadata,
    Column("customer_id", String(36), primary_key=True),
    Column("owner_id", String(36), nullable=False, index=True),
)
