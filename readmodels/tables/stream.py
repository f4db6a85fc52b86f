"""The tickets of the live-update stream: short-lived and single-use, so a browser's
EventSource, which cannot send a header, opens the stream without the access token in its URL.

Not a projection's table (in `state_metadata`, physical as it stands, made at start with the
projector's state under the schema lock): every API process issues and redeems tickets here, so
a ticket issued by one process opens the stream on another. Only the ticket's sha256 is kept.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String, Table

from readmodels.tables.state import state_metadata

stream_tickets = Table(
    "crm_stream_tickets",
    state_metadata,
    # sha256 of the ticket, in hex: a copy of the table opens no stream.
    Column("ticket_hash", String(64), primary_key=True),
    Column("person_id", String(36), nullable=False),
    # The access token it was issued with: its id (`jti`), session version and expiry; the
    # stream ends with that session.
    Column("token_id", String(64), nullable=False),
    Column("session_version", Integer, nullable=False),
    Column("token_expires_at", DateTime(timezone=True), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
    # Set once, by the one request that redeems it.
    Column("used_at", DateTime(timezone=True)),
)
