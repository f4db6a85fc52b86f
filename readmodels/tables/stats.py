"""The stats projection's tables (`Projection("stats")`): facts for statistics, targets and
work reports (D-5, SPEC §10), and the same facts pre-aggregated for the statistical reports.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Column, Date, DateTime, Float, Index, Integer, String, Table, Text

from aggregates import bounds
from readmodels.tables.base import metadata, version_table
from readmodels.types import Money, Quantity

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
    Column("signed_on", Date, nullable=False),
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
    # Seed 000 §2: how far from the customer the photo was taken.
    Column("far_from_customer", Boolean, nullable=False, default=False),
    Column("distance_m", Integer), Column("distance_check", String(32), nullable=False, default="unchecked"),
)
fact_deals = _fact(
    "rm_fact_deals", "contract_id",
    Column("customer_id", String(36), nullable=False),
    Column("amount", Money(), nullable=False),
    Column("region", String(bounds.SHORT_TEXT)), Column("type", String(bounds.SHORT_TEXT)),
    Column("source", String(bounds.SHORT_TEXT)),
)
# A return (negative) or an exchange's price difference (signed) on a deal, on the day it
# happened, for the contract's salesperson, in the customer's region then (D-2, D-3 as amended):
# the deal amounts of S-6..S-11, Q-6 and T-4 are net of them.
fact_deal_adjustments = _fact(
    "rm_fact_deal_adjustments", "adjustment_id",
    Column("contract_id", String(36), nullable=False, index=True),
    Column("customer_id", String(36), nullable=False),
    Column("kind", String(20), nullable=False),
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

# Pre-aggregated: one row per person and business day (targets, work reports). Deal
# amounts here and in the `rm_agg_*` tables are net: a return or an exchange's price
# difference counts in its own period, so a month's figure may be negative.
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

# Per product and month: the deal lines by deal date, less returns and plus or minus
# exchanges (the returned product out, the replacement in) in the month they happened (S-17).
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

# The current-customer counts as they were (S-12..S-16 as of a past moment): one row per
# state of a customer's counted keys (those of `rm_agg_customers_now`, "" for not set) while
# it was not deleted (see `version_table`).
stat_customer_versions = version_table(
    "rm_stat_customer_versions",
    "customer_id",
    Column("owner_id", String(36), nullable=False),
    Column("status", String(20), nullable=False),
    Column("stage", String(bounds.SHORT_TEXT), nullable=False),
    Column("type", String(bounds.SHORT_TEXT), nullable=False),
    Column("source", String(bounds.SHORT_TEXT), nullable=False),
)
