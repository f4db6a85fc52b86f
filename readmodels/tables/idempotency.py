"""The answers kept for `Idempotency-Key` (api/idempotency.py): one row per person and key,
shared by every API process through the database.

Not a read model and not an event: a retry's memory of what the service answered, which
may be forgotten (after a day) without losing anything of the domain. So it lives in
`state_metadata`, physical as it stands, created at start under the schema lock like the
projector's own tables.

A row is first *pending* (`status` NULL): the request that inserted it is running its
command, and `owner` names that run, so a run that took it over after a crash is not
overwritten by the one it replaced. Then it holds the answer: status, headers, body.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, LargeBinary, PrimaryKeyConstraint, String, Table, Text

from readmodels.tables.state import state_metadata

idempotency_keys = Table(
    "crm_idempotency_keys",
    state_metadata,
    Column("person_id", String(36), nullable=False),
    # 1–255 printable ASCII characters, as the client sent it.
    Column("key", String(255), nullable=False),
    # sha256 of the request as it matters: method, path, query, media type and body.
    Column("fingerprint", String(64), nullable=False),
    # When the key was first seen (the day it is kept runs from here), and when the run that
    # owns a pending row started (a run found pending too long is taken over).
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("owner", String(32), nullable=False),
    # The answer; NULL while pending.
    Column("status", Integer),
    Column("headers", Text),
    Column("body", LargeBinary),
    PrimaryKeyConstraint("person_id", "key", name="pk_crm_idempotency_keys"),
)
