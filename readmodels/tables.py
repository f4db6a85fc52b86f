"""Table definitions of the read models and of projection tracking.

Read models live in the same database as the event store, so a projection's rows and
its tracking position commit in one transaction.

The tables below are what readers query. Each is a view over the physical table of the
projection's live version (`rm_customers` → `rm_customers_v3`), so a rebuild can fill the
next version while readers keep reading, then switch the views in one transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from aggregates import bounds
from readmodels.types import Money, Quantity

metadata = MetaData()
# Tables that are physical as they stand (not versioned read models).
state_metadata = MetaData()

projection_state = Table(
    "projection_state",
    state_metadata,
    Column("name", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("position", BigInteger, nullable=False),
    # The one live version per projection is what readers see; others are being built.
    Column("live", Boolean, nullable=False),
)

# Who is building a new version of a projection (a rebuild, a check): one at a time.
projection_builds = Table(
    "projection_builds",
    state_metadata,
    Column("name", String(64), primary_key=True),
    Column("owner", String(100), nullable=False),
    Column("heartbeat", Float, nullable=False),
)

# Events a projection could not apply for a reason retrying does not cure: recorded per
# version with the error, skipped, and applied again by a rebuild once the cause is fixed.
projection_parked = Table(
    "projection_parked",
    state_metadata,
    Column("name", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("topic", String(255), nullable=False),
    Column("originator_id", String(36), nullable=False),
    Column("originator_version", Integer, nullable=False),
    Column("error", Text, nullable=False),
    Column("parked_at", Float, nullable=False),
)

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
    Index("rm_customers_owner_idx", "owner_id", "created_at"),
    Index("rm_customers_name_key_idx", "name_key"),
    Index("rm_customers_pool_idx", "in_pool", "created_at"),
    Index("rm_customers_created_idx", "created_at"),
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
)

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

# ---- sales, stock, after-sales --------------------------------------------------------------

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
    Column("invoiced", Money(), nullable=False),
    Column("collected", Money(), nullable=False),
    Column("returned_amount", Money(), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
)

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

# ---- facts and aggregates for statistics, targets and work reports (D-5, SPEC §10) ------------
# Each fact carries the person it is credited to, its business day (with year and month for
# grouping), and the customer's region, type and source as they were when it happened. The
# `rm_agg_*` tables are the same facts pre-aggregated for the statistical reports; in their
# keys an empty string stands for "not set", since key columns cannot be NULL.

stat_customers = Table(
    "rm_stat_customers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("number", String(32), nullable=False),
    Column("name", String(bounds.CUSTOMER_NAME), nullable=False),
    Column("region", String(bounds.SHORT_TEXT)),
    Column("type", String(bounds.SHORT_TEXT)),
    Column("source", String(bounds.SHORT_TEXT)),
    Column("status", String(20), nullable=False),
    Column("stage", String(bounds.SHORT_TEXT)),
    Column("owner_id", String(36)),
    Column("deleted", Boolean, nullable=False),
)

stat_contracts = Table(
    "rm_stat_contracts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("customer_id", String(36), nullable=False),
    Column("number", String(bounds.CONTRACT_NUMBER), nullable=False),
    Column("name", String(bounds.CONTRACT_NAME), nullable=False),
    Column("salesperson_id", String(36)),
)

stat_settings = Table(
    "rm_stat_settings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("timezone", String(64), nullable=False),
)


def _fact(name: str, key: str, *columns: Column[Any]) -> Table:
    """A fact table: its key, the credited person, the business day with its year and month."""
    return Table(
        name, metadata, Column(key, String(80), primary_key=True), *columns,
        Column("person_id", String(36)),
        Column("day", Date, nullable=False),
        Column("year", Integer, nullable=False),
        Column("month", Integer, nullable=False),
        Index(f"{name}_person_idx", "person_id", "day"),
        Index(f"{name}_period_idx", "year", "month"),
    )


fact_new_customers = _fact(
    "rm_fact_new_customers", "customer_id",
    Column("region", String(bounds.SHORT_TEXT)), Column("type", String(bounds.SHORT_TEXT)),
    Column("source", String(bounds.SHORT_TEXT)),
)
fact_visits = _fact(
    "rm_fact_visits", "visit_id",
    Column("customer_id", String(36), nullable=False),
    Column("visited_at", DateTime(timezone=True), nullable=False),
    Column("region", String(bounds.SHORT_TEXT)),
    Column("address", String(bounds.ADDRESS)), Column("lat", Float), Column("lng", Float),
    Column("late_entry", Boolean, nullable=False),
)
fact_deals = _fact(
    "rm_fact_deals", "contract_id",
    Column("customer_id", String(36), nullable=False),
    Column("amount", Money(), nullable=False),
    Column("region", String(bounds.SHORT_TEXT)), Column("type", String(bounds.SHORT_TEXT)),
    Column("source", String(bounds.SHORT_TEXT)),
)
fact_payments = _fact(
    "rm_fact_payments", "payment_id",
    Column("customer_id", String(36), nullable=False),
    Column("contract_id", String(36)),
    Column("amount", Money(), nullable=False),
    Column("region", String(bounds.SHORT_TEXT)),
)
fact_claims = _fact(
    "rm_fact_claims", "id",
    Column("customer_id", String(36), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("region", String(bounds.SHORT_TEXT)), Column("type", String(bounds.SHORT_TEXT)),
)
fact_transfers = _fact(
    "rm_fact_transfers", "id",
    Column("customer_id", String(36), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("from_id", String(36), index=True),
    Column("to_id", String(36), nullable=False, index=True),
    Column("type", String(bounds.SHORT_TEXT)),
    Column("reason", String(bounds.REASON)),
)
fact_info_changes = _fact(
    "rm_fact_info_changes", "id",
    Column("customer_id", String(36), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("description", Text, nullable=False),
    Column("approved_by", String(36)),
)
fact_deliveries = _fact(
    "rm_fact_deliveries", "delivery_id",
    Column("contract_id", String(36), nullable=False),
    Column("customer_id", String(36), nullable=False),
    Column("quantity", Quantity(), nullable=False),
)
fact_exchanges = _fact(
    "rm_fact_exchanges", "exchange_id",
    Column("contract_id", String(36), nullable=False),
    Column("customer_id", String(36), nullable=False),
    Column("quantity", Quantity(), nullable=False),
)

# Pre-aggregated: one row per person and business day (targets, work reports).
stat_person_day = Table(
    "rm_stat_person_day",
    metadata,
    Column("person_id", String(36), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("new_customers", Integer, nullable=False),
    Column("visits", Integer, nullable=False),
    Column("deals", Integer, nullable=False),
    Column("deal_amount", Money(), nullable=False),
    Column("collected_amount", Money(), nullable=False),
)

agg_person_month = Table(
    "rm_agg_person_month",
    metadata,
    Column("person_id", String(36), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("month", Integer, primary_key=True),
    Column("new_customers", Integer, nullable=False),
    Column("visits", Integer, nullable=False),
    Column("deals", Integer, nullable=False),
    Column("deal_amount", Money(), nullable=False),
    Column("collected_amount", Money(), nullable=False),
)

agg_visits_customer = Table(
    "rm_agg_visits_customer",
    metadata,
    Column("customer_id", String(36), primary_key=True),
    Column("person_id", String(36), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("visits", Integer, nullable=False),
    Column("last_visit_on", Date, nullable=False),
    Index("rm_agg_visits_customer_year_idx", "year", "person_id"),
)

# The same, all visitors together: what admins and auditors read (S-1) without grouping.
agg_visits_customer_total = Table(
    "rm_agg_visits_customer_total",
    metadata,
    Column("customer_id", String(36), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("visits", Integer, nullable=False),
    Column("last_visit_on", Date, nullable=False),
    Index("rm_agg_visits_customer_total_idx", "year", "visits"),
)

agg_visits_region = Table(
    "rm_agg_visits_region",
    metadata,
    Column("region", String(bounds.SHORT_TEXT), primary_key=True),
    Column("person_id", String(36), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("month", Integer, primary_key=True),
    Column("visits", Integer, nullable=False),
    Column("last_visit_on", Date, nullable=False),
)

agg_new_customers = Table(
    "rm_agg_new_customers",
    metadata,
    Column("person_id", String(36), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("month", Integer, primary_key=True),
    Column("region", String(bounds.SHORT_TEXT), primary_key=True),
    Column("type", String(bounds.SHORT_TEXT), primary_key=True),
    Column("customers", Integer, nullable=False),
)

agg_deals_region = Table(
    "rm_agg_deals_region",
    metadata,
    Column("region", String(bounds.SHORT_TEXT), primary_key=True),
    Column("person_id", String(36), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("deals", Integer, nullable=False),
    Column("deal_amount", Money(), nullable=False),
)

# Current customers (pool included, deleted excluded) by owner and the fields S-12..S-16 count.
agg_customers_now = Table(
    "rm_agg_customers_now",
    metadata,
    Column("owner_id", String(36), primary_key=True),
    Column("status", String(20), primary_key=True),
    Column("stage", String(bounds.SHORT_TEXT), primary_key=True),
    Column("type", String(bounds.SHORT_TEXT), primary_key=True),
    Column("source", String(bounds.SHORT_TEXT), primary_key=True),
    Column("customers", Integer, nullable=False),
)

agg_product_month = Table(
    "rm_agg_product_month",
    metadata,
    Column("product_id", String(36), primary_key=True),
    Column("person_id", String(36), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("month", Integer, primary_key=True),
    Column("quantity", Quantity(), nullable=False),
    Column("amount", Money(), nullable=False),
)

agg_returns_region = Table(
    "rm_agg_returns_region",
    metadata,
    Column("region", String(bounds.SHORT_TEXT), primary_key=True),
    Column("person_id", String(36), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("month", Integer, primary_key=True),
    Column("quantity", Quantity(), nullable=False),
    Column("amount", Money(), nullable=False),
)

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

# ---- approvals and the inbox -----------------------------------------------------------------

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
    Column("text", String(500), nullable=False),
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
