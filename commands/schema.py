"""One process at a time creates the schema at start (the event store's tables, the infra
tables, the projections' tables and views). On PostgreSQL `CREATE TABLE IF NOT EXISTS` and
SQLAlchemy's `checkfirst` are not safe against another session doing the same a moment
before (`UniqueViolation ... pg_type_typname_nsp_index`), so every process that starts takes
a session-level advisory lock on a connection of its own for the whole schema creation; the
others wait for it, then find everything there. A process that finds a read model changed
shape rebuilds it before it lets go (`Projector.setup`); the others wait for it, as they
would wait for its build lease without the lock. SQLite needs no lock: the embedded mode is
one process."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

log = logging.getLogger("crm.schema")

# The advisory lock's key (a bigint, per database): the ASCII bytes of "crm:schm".
SCHEMA_LOCK_KEY = int.from_bytes(b"crm:schm", "big")


@contextmanager
def schema_lock(database_url: str) -> Iterator[None]:
    """Hold the schema lock for the body (PostgreSQL; nothing to hold elsewhere). The lock
    is the session's, on a connection outside the store's pool and in autocommit mode, so no
    transaction stays open while it is held; closing the connection lets go of it even if
    unlocking fails. Waiting has no time limit: a process waits while another one creates
    the schema, or rebuilds read models that changed shape, and does not fail."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        yield
        return
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            # Timeouts the role or database may set would make a waiting process fail, or
            # (idle_session_timeout, PostgreSQL 14+) end the holder's idle session early.
            conn.execute(text("SET lock_timeout = 0"))
            conn.execute(text("SET statement_timeout = 0"))
            if (conn.dialect.server_version_info or (0,)) >= (14,):
                conn.execute(text("SET idle_session_timeout = 0"))
            key = {"key": SCHEMA_LOCK_KEY}
            if not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar():
                log.info("another process is creating the schema; waiting for it")
                conn.execute(text("SELECT pg_advisory_lock(:key)"), key)
            try:
                yield
            finally:
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), key)
                except Exception:  # a lost connection has let go of the lock already
                    log.warning("could not release the schema lock", exc_info=True)
    finally:
        engine.dispose()
