"""The event store: an `eventsourcing` application over SQLAlchemy (SQLite or PostgreSQL)."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import JSONTranscoder, Transcoding
from sqlalchemy import create_engine
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from aggregates.organisation import Salesperson
from aggregates.product import ProductStock

T = TypeVar("T")
log = logging.getLogger("crm.store")


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class EventStore(Application):
    """All aggregates of the CRM live in one application, so one `save` can
    commit several of them atomically (customer + salesperson + name index)."""

    name = "crm"
    # Aggregates whose histories grow without end get a snapshot every so many events, so
    # loading one reads the snapshot and the events after it, not the whole history.
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Salesperson: 100, ProductStock: 100}

    def _take_snapshots(self, processing_event: Any) -> None:
        """Snapshots are taken after the events committed: a failure to take one must not
        make a stored command look failed (and be sent again). The next one will do."""
        try:
            super()._take_snapshots(processing_event)
        except Exception:
            log.exception("could not take a snapshot; the events are stored all the same")

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    @property
    def engine(self) -> Engine:
        engine = self.recorder.datastore.engine  # type: ignore[attr-defined]
        assert isinstance(engine, Engine)
        return engine

    def find(self, aggregate_id: UUID, kind: type[T]) -> T | None:
        try:
            aggregate: Any = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, kind) else None

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0


def _pooled(store: EventStore, pool_size: int, max_overflow: int) -> None:
    """Give the store a PostgreSQL engine whose pool holds `pool_size` connections open.
    The persistence module makes its engine with SQLAlchemy's default pool (5 kept, 10
    more opened and closed per use), so a process serving more requests at once than that
    opened a new server connection for each of them: a backend fork and cold catalog
    caches per request. The datastore reads its engine and session maker on every use."""
    datastore: Any = store.recorder.datastore  # type: ignore[attr-defined]
    default = datastore.engine
    engine = create_engine(default.url, pool_size=pool_size, max_overflow=max_overflow)
    datastore.engine, datastore.session_maker = engine, sessionmaker(bind=engine, autoflush=True)
    default.dispose()


def open_store(database_url: str, pool_size: int = 5, max_overflow: int = 10) -> EventStore:
    env: dict[str, Any] = {
        "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
        "SQLALCHEMY_URL": database_url,
        "CREATE_TABLE": "y",
        # Keep loaded aggregates; each later load reads only the events stored since (from any
        # process) and hands out a copy. A command then costs one query per aggregate, not a
        # replay of its history.
        "AGGREGATE_CACHE_MAXSIZE": "20000",
        "AGGREGATE_CACHE_FASTFORWARD": "y",
    }
    store = EventStore(env=env)
    if store.engine.dialect.name == "sqlite":
        # Wait for the write lock instead of failing at once when the projector writes.
        @sa_event.listens_for(store.engine, "connect")
        def _busy_timeout(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA busy_timeout = 30000")
            # Write-ahead logging: readers and the one writer no longer block each other.
            dbapi_connection.execute("PRAGMA journal_mode = WAL")

        store.engine.dispose()
    elif store.engine.dialect.name == "postgresql":
        _pooled(store, pool_size, max_overflow)
        # The engine is made by the persistence module, which takes no engine options. Batch
        # the executemany statements that SQLAlchemy does not send as one multi-row INSERT
        # (the projections' upserts): pages of rows per round trip instead of one row each.
        from sqlalchemy.dialects.postgresql.psycopg2 import EXECUTEMANY_VALUES_PLUS_BATCH

        dialect: Any = store.engine.dialect
        dialect.executemany_mode = EXECUTEMANY_VALUES_PLUS_BATCH
        dialect.executemany_batch_page_size = 500
        dialect.supports_sane_multi_rowcount = False
    return store
