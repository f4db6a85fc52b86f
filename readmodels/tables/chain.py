"""The tamper-evident log's tables: a hash chain over the stored events in store order and one
over the operation log's entries in id order, each with its head and its seals.

Physical as they stand (in `state_metadata`), never a projection's: a rebuild of the read
models neither drops nor refills them, so an edit made to the store after an event was
chained shows as a link that no longer matches, instead of being laundered by a rebuild.
Rows are only ever added; nothing in the service updates or deletes one (the head row moves).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Integer, String, Table

from readmodels.tables.state import state_metadata

# One row per chain ("events", "oplog"): how far it runs and its last link. A writer moves it
# only from the position it read (a conditional update), so two writers cannot fork the chain.
chain_heads = Table(
    "crm_chain_heads",
    state_metadata,
    Column("chain", String(16), primary_key=True),
    Column("position", BigInteger, nullable=False),
    # sha256 in hex of the last link; 64 zeros before the first.
    Column("link", String(64), nullable=False),
    Column("moved_at", Float, nullable=False),
)

# link(n) = sha256(link(n-1), position, originator id and version, topic, stored state).
event_links = Table(
    "crm_chain_events",
    state_metadata,
    Column("position", BigInteger, primary_key=True),
    Column("link", String(64), nullable=False),
)

# link(n) = sha256(link(n-1), every column of the entry with id n, as stored).
oplog_links = Table(
    "crm_chain_oplog",
    state_metadata,
    Column("position", BigInteger, primary_key=True),
    Column("link", String(64), nullable=False),
)

# HMAC-SHA256 under a key derived from the service's secret key over (chain, number, position,
# link, sealed_at, the previous seal's mac): the seals chain too, so one removed shows.
chain_seals = Table(
    "crm_chain_seals",
    state_metadata,
    Column("chain", String(16), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("link", String(64), nullable=False),
    Column("sealed_at", Float, nullable=False),
    Column("previous", String(64), nullable=False),
    Column("mac", String(64), nullable=False),
    # Which key made it (an HMAC of a fixed label under it): a store verified with another key
    # (a backup restored without its key file) says so instead of calling every seal forged.
    Column("key_id", String(16), nullable=False),
)
