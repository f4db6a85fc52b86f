"""The customers projection's tables (`Projection("customers")`): the customers
themselves, their contacts, who they are shared with, and their visits.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Float, Index, Integer, String, Table, Text, text

from aggregates import bounds
from readmodels.search import Grams
from readmodels.tables.base import metadata, version_table
from readmodels.types import Money

customers = Table(
    "rm_customers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("name", String(bounds.CUSTOMER_NAME), nullable=False),
    # The name's confusable skeleton (aggregates.names.skeleton_key), for look-alike names (C-2).
    Column("name_key", String(40)),
    Column("type", String(bounds.SHORT_TEXT)),
    Column("source", String(bounds.SHORT_TEXT)),
    Column("region", String(bounds.SHORT_TEXT)),
    Column("address", String(bounds.ADDRESS)),
    Column("building", String(bounds.BUILDING)),
    Column("lat", Float),
    Column("lng", Float),
    Column("status", String(20), nullable=False),
    Column("stage", String(bounds.SHORT_TEXT)),
    Column("owner_id", String(36)),
    Column("owner_since", DateTime(timezone=True)),
    Column("in_pool", Boolean, nullable=False),
    Column("pool_entered_at", DateTime(timezone=True)),
    Column("pool_reason", String(20)),
    Column("registered_by", String(36)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("visit_count", Integer, nullable=False, default=0),
    Column("last_visit_at", DateTime(timezone=True)),
    Column("primary_contact_name", String(bounds.SHORT_TEXT)),
    Column("primary_contact_phone", String(bounds.PHONE)),
    Column("share_count", Integer, nullable=False, default=0),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("deal_total", Money(), nullable=False, default=0),
    Column("invoiced_total", Money(), nullable=False, default=0),
    Column("collected_total", Money(), nullable=False, default=0),
    Column("logo", String(64)),
    # The holding (owner_since) whose owner has been warned of the pool return.
    Column("warned_for", DateTime(timezone=True)),
    Column("version", Integer, nullable=False),
    # What a search finds the customer by (readmodels.search): the grams of its name and number,
    # and those of its contacts' names and phones (matched only where the viewer sees them).
    Column("grams", Grams()),
    Column("contact_grams", Grams()),
    Index("rm_customers_name_key_idx", "name_key"),
    Index("rm_customers_pool_idx", "in_pool", "created_at"),
    Index("rm_customers_created_idx", "created_at"),
    # The pool page (newest first, by region or not) and its count read only this.
    Index("rm_customers_pool_page_idx", "region", "created_at", "number",
          postgresql_where=text("in_pool AND NOT deleted"), sqlite_where=text("in_pool AND NOT deleted")),
    Index("rm_customers_pool_new_idx", "created_at", "number",
          postgresql_where=text("in_pool AND NOT deleted"), sqlite_where=text("in_pool AND NOT deleted")),
    # A manager's or salesperson's scope counted from the index alone (with the filter columns).
    Index("rm_customers_owner_cover_idx", "owner_id", "deleted", "created_at", "number",
          postgresql_include=["type", "status", "stage", "region", "source", "share_count"]),
    Index("rm_customers_grams_idx", "grams", postgresql_using="gin").ddl_if(dialect="postgresql"),
    Index("rm_customers_contact_grams_idx", "contact_grams", postgresql_using="gin").ddl_if(dialect="postgresql"),
)

customer_contacts = Table(
    "rm_customer_contacts",
    metadata,
    Column("customer_id", String(36), primary_key=True),
    Column("contact_id", String(36), primary_key=True),
    Column("name", String(bounds.SHORT_TEXT), nullable=False),
    Column("phone", String(bounds.PHONE)),
    Column("title", String(bounds.SHORT_TEXT)),
    Column("is_primary", Boolean, nullable=False),
    Column("seq", Integer, nullable=False),
)

customer_shares = Table(
    "rm_customer_shares",
    metadata,
    Column("customer_id", String(36), primary_key=True),
    Column("person_id", String(36), primary_key=True),
    Index("rm_customer_shares_person_idx", "person_id"),
)

# Seed 002 §2.2.5: the departments a customer is shared with; their members, and those of the
# departments below, read it for as long as they belong there (decided at reading time).
customer_department_shares = Table(
    "rm_customer_department_shares",
    metadata,
    Column("customer_id", String(36), primary_key=True),
    Column("department_id", String(36), primary_key=True),
    Index("rm_customer_department_shares_department_idx", "department_id"),
)

visits = Table(
    "rm_visits",
    metadata,
    Column("visit_id", String(36), primary_key=True),
    Column("customer_id", String(36), nullable=False, index=True),
    Column("visitor_id", String(36), nullable=False, index=True),
    Column("visited_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("lat", Float),
    Column("lng", Float),
    Column("address", String(bounds.ADDRESS)),
    Column("contact", String(bounds.SHORT_TEXT)),
    Column("stage", String(bounds.SHORT_TEXT)),
    Column("notes", Text),
    Column("late_entry", Boolean, nullable=False),
    Column("photo", String(64)),
    # Seed 000 §2: the region visited, and how far from the customer the photo was taken.
    Column("region", String(bounds.SHORT_TEXT)),
    Column("far_from_customer", Boolean, nullable=False, default=False),
    Column("distance_m", Integer),
    Column("distance_check", String(32), nullable=False, default="unchecked"),
)

# The customers as they were (reports as of a past moment: ): one row per state of a
# customer's reported columns (see `version_table`).
customer_versions = version_table(
    "rm_customer_versions",
    "id",
    Column("number", String(32), nullable=False),
    Column("name", String(bounds.CUSTOMER_NAME), nullable=False),
    Column("type", String(bounds.SHORT_TEXT)),
    Column("source", String(bounds.SHORT_TEXT)),
    Column("region", String(bounds.SHORT_TEXT)),
    Column("address", String(bounds.ADDRESS)),
    Column("building", String(bounds.BUILDING)),
    Column("lat", Float),
    Column("lng", Float),
    Column("status", String(20), nullable=False),
    Column("stage", String(bounds.SHORT_TEXT)),
    Column("owner_id", String(36)),
    Column("visit_count", Integer, nullable=False, default=0),
    Column("primary_contact_name", String(bounds.SHORT_TEXT)),
    Column("primary_contact_phone", String(bounds.PHONE)),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("rm_customer_versions_owner_idx", "owner_id", "valid_from"),
)
