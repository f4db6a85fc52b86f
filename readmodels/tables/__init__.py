"""Table definitions of the read models and of projection tracking, one module per
projection that owns them; this package re-exports every table, so
`from readmodels.tables import customers` works for all of them.

Read models live in the same database as the event store, so a projection's rows and
its tracking position commit in one transaction.

The tables in `metadata` are what readers query. Each is a view over the physical table of
the projection's live version (`rm_customers` → `rm_customers_v3`), so a rebuild can fill
the next version while readers keep reading, then switch the views in one transaction.
The tables in `state_metadata` are physical as they stand.

- `base`: `metadata`, the MetaData of the versioned read-model tables
- `state`: the projector's own state and `state_metadata`
- `customer`: the customers projection (customers, contacts, shares, visits)
- `organisation`: the organisation projection (people, departments, settings)
- `sales`: the sales projection (contracts, invoices, payments, goods moves, problems)
- `catalogue`: the products projection (products, price history, stock)
- `stats`: the stats projection (facts and pre-aggregated figures)
- `planning`: the targets projection (targets, work reports)
- `inbox`: the inbox projection (approvals, notifications), and notification reads
- `handoff`: the handoff projection (requests to the warehouse, their lines, what carried them
  out), and the inbox's table of warehouse keepers
- `stream`: the live-update stream's single-use tickets (in `state_metadata`)
- `staff`: the inbox's tables of people, departments and who holds which customer (for the
  notice to managers when someone holding customers is deactivated)
"""

from __future__ import annotations

from readmodels.tables.base import metadata
from readmodels.tables.catalogue import price_history, products, stock
from readmodels.tables.chain import chain_heads, chain_seals, event_links, oplog_links
from readmodels.tables.customer import (
    customer_contacts,
    customer_department_shares,
    customer_shares,
    customer_versions,
    customers,
    visits,
)
from readmodels.tables.handoff import (
    handoff_done,
    handoff_keepers,
    handoff_lines,
    handoff_notices,
    handoff_requests,
)
from readmodels.tables.idempotency import idempotency_keys
from readmodels.tables.inbox import (
    approvals,
    inbox_customers,
    inbox_problems,
    notification_reads,
    notifications,
)
from readmodels.tables.organisation import departments, people, settings
from readmodels.tables.planning import targets, work_reports
from readmodels.tables.sales import (
    contract_lines,
    contracts,
    credit_notes,
    goods_moves,
    invoices,
    payments,
    problems,
    product_versions,
    stock_versions,
)
from readmodels.tables.staff import staff_departments, staff_holdings, staff_people
from readmodels.tables.state import (
    projection_builds,
    projection_parked,
    projection_rebuilds,
    projection_state,
    state_metadata,
)
from readmodels.tables.stats import (
    agg_customers_now,
    agg_deals_region,
    agg_new_customers,
    agg_person_month,
    agg_product_month,
    agg_returns_region,
    agg_visits_customer,
    agg_visits_customer_total,
    agg_visits_region,
    fact_claims,
    fact_deal_adjustments,
    fact_deals,
    fact_deliveries,
    fact_exchanges,
    fact_info_changes,
    fact_new_customers,
    fact_payments,
    fact_transfers,
    fact_visits,
    stat_contracts,
    stat_customer_versions,
    stat_customers,
    stat_person_day,
    stat_settings,
)
from readmodels.tables.stream import stream_tickets

__all__ = [
    "metadata",
    "state_metadata",
    # the projector's state
    "projection_state",
    "projection_builds",
    "projection_parked",
    "projection_rebuilds",
    # customers
    "customers",
    "customer_contacts",
    "customer_shares",
    "customer_department_shares",
    "visits",
    "customer_versions",
    # organisation
    "people",
    "departments",
    "settings",
    # sales
    "contracts",
    "contract_lines",
    "invoices",
    "credit_notes",
    "payments",
    "goods_moves",
    "problems",
    # products
    "products",
    "price_history",
    "stock",
    "stock_versions",
    "product_versions",
    # stats
    "stat_customers",
    "stat_contracts",
    "stat_settings",
    "fact_new_customers",
    "fact_visits",
    "fact_deals",
    "fact_deal_adjustments",
    "fact_payments",
    "fact_claims",
    "fact_transfers",
    "fact_info_changes",
    "fact_deliveries",
    "fact_exchanges",
    "stat_person_day",
    "agg_person_month",
    "agg_visits_customer",
    "agg_visits_customer_total",
    "agg_visits_region",
    "agg_new_customers",
    "agg_deals_region",
    "agg_customers_now",
    "agg_product_month",
    "agg_returns_region",
    "stat_customer_versions",
    # targets
    "targets",
    "work_reports",
    # inbox
    "approvals",
    "inbox_customers",
    "inbox_problems",
    "notifications",
    "notification_reads",
    # the hand-off to the warehouse
    "handoff_requests",
    "handoff_lines",
    "handoff_done",
    "handoff_keepers",
    "handoff_notices",
    # the live-update stream's tickets
    "stream_tickets",
    # the inbox's view of the organisation and of holdings
    "staff_people",
    "staff_departments",
    "staff_holdings",
    # the answers kept for Idempotency-Key
    "idempotency_keys",
    # the tamper-evident log: the hash chains and their seals
    "chain_heads",
    "event_links",
    "oplog_links",
    "chain_seals",
]
