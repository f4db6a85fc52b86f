"""The MetaData of the versioned read-model tables.

Every table in `metadata` is a projection's logical table: readers query it by this name,
which is a view over the physical table of the projection's live version (`rm_customers` →
`rm_customers_v3`). The tables that are physical as they stand live in `state_metadata`
(readmodels.tables.state).
"""

from __future__ import annotations

from sqlalchemy import MetaData

metadata = MetaData()
