"""The MetaData of the versioned read-model tables.

Every table in `metadata` is a projection's logical table: readers query it by this name,
which is a view over the physical table of the projection's live version (`rm_customers` →
`rm_customers_v3`). The tables that are physical as they stand live in `state_metadata`
(readmodels.tables.state).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table

metadata = MetaData()


def version_table(name: str, key: str, *columns: Any) -> Table:
    """A table of a record's states as they were (reports as of a past moment): one row per
    state, valid from the recorded time of the event that made it until that of the next one
    that changed its columns (open: NULL). The current version's key `vid` is the record's id
    (`key`), so a batch reads the versions to close by key; a closed one's is
    `<record id>:<since>`, `since` being the version of the event that made it."""
    return Table(
        name,
        metadata,
        Column("vid", String(48), primary_key=True),
        Column("since", Integer, nullable=False),
        Column(key, String(36), nullable=False),
        Column("valid_from", DateTime(timezone=True), nullable=False),
        Column("valid_to", DateTime(timezone=True)),
        *columns,
        Index(f"{name}_from_idx", "valid_from", "valid_to"),
        Index(f"{name}_to_idx", "valid_to"),
    )
