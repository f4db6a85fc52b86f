"""The event store: an `eventsourcing` application over SQLAlchemy (SQLite or PostgreSQL),
and the persistence factory that gives it an engine made for the CRM's load."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import JSONTranscoder, Recording, StoredEvent, Transcoding
from eventsourcing.utils import Environment, get_topic, strtobool
from eventsourcing_sqlalchemy.datastore import SQLAlchemyDatastore
from eventsourcing_sqlalchemy.factory import SQLAlchemyFactory
from eventsourcing_sqlalchemy.recorders import SQLAlchemyAggregateRecorder, SQLAlchemyApplicationRecorder
from sqlalchemy import Integer, Select, bindparam, select
from sqlalchemy import event as sa_event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

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


def engine_options(database_url: str, pool_size: int, max_overflow: int) -> dict[str, Any]:
    """The `create_engine` options of the store's engine."""
    url = make_url(database_url)
    # Room for every statement shape the service compiles: the reports, lists, searches and
    # commands of a busy process passed SQLAlchemy's 500 (a demo store's sweep of the reports
    # and lists alone made 331) and the least recent were compiled again on each call (B3).
    options: dict[str, Any] = {"query_cache_size": 4000}
    if url.get_backend_name() != "postgresql":
        return options
    # A pool that keeps `pool_size` connections open: with SQLAlchemy's default (5 kept, 10
    # more opened and closed per use) a process serving more requests at once than that opened
    # a server connection for each of them, a backend fork and cold catalog caches per request.
    options.update(pool_size=pool_size, max_overflow=max_overflow)
    # The service's statements are short: a parallel plan paid ~17 ms of worker start-up for
    # 3.4 ms of work (Q-1 for a director, B3), and JIT compiling is never repaid at this size.
    options["connect_args"] = {"options": "-c max_parallel_workers_per_gather=0 -c jit=off"}
    if url.get_driver_name() == "psycopg2":
        from sqlalchemy.dialects.postgresql.psycopg2 import EXECUTEMANY_VALUES_PLUS_BATCH

        # Batch the executemany statements SQLAlchemy does not send as one multi-row INSERT
        # (the projections' upserts and updates): pages of 500 rows per round trip, not one row
        # each. In this mode the dialect sets `supports_sane_multi_rowcount` to False itself:
        # psycopg2 reports no reliable row count for a batched executemany.
        options.update(executemany_mode=EXECUTEMANY_VALUES_PLUS_BATCH, executemany_batch_page_size=500)
    return options


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Run on every new SQLite connection of the store's engine."""
    # Wait for the write lock instead of failing at once when the projector writes.
    dbapi_connection.execute("PRAGMA busy_timeout = 30000")
    # Write-ahead logging: readers and the one writer no longer block each other.
    dbapi_connection.execute("PRAGMA journal_mode = WAL")


class StoreDatastore(SQLAlchemyDatastore):
    """The library's datastore (its sessions, its SQLite write lock), its engine made with the
    store's options and, on SQLite, the pragmas on each connection from the first one."""

    def __init__(self, url: str, pool_size: int, max_overflow: int, autoflush: bool = True) -> None:
        super().__init__(url=url, autoflush=autoflush, **engine_options(url, pool_size, max_overflow))
        if isinstance(self.engine, Engine) and self.engine.dialect.name == "sqlite":
            # Before any connection is made: the engine connects lazily.
            sa_event.listen(self.engine, "connect", _sqlite_pragmas)


class PreparedReads(SQLAlchemyAggregateRecorder):
    """The library's `select_events` with its statements built once: the library builds an ORM
    query on every call, and every load of an aggregate (a fast-forward from the cache, a
    snapshot and the events after it) makes one or two; building the query and its cache key
    was a tenth of an API process's interpreter time under load. The statements are the
    library's (same table, filters, order and limit) as Core selects with bound parameters,
    one per combination of the arguments, run in the library's transaction."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepared: dict[tuple[bool, bool, bool, bool], Select[Any]] = {}

    def _statement(self, gt: bool, lte: bool, desc: bool, limit: bool) -> Select[Any]:
        key = (gt, lte, desc, limit)
        found = self._prepared.get(key)
        if found is None:
            table = self.events_record_cls.__table__
            version = table.c.originator_version
            found = select(table.c.originator_id, version, table.c.topic, table.c.state).where(
                table.c.originator_id == bindparam("originator_id"))
            if gt:
                found = found.where(version > bindparam("gt"))
            if lte:
                found = found.where(version <= bindparam("lte"))
            found = found.order_by(version.desc() if desc else version)
            if limit:
                found = found.limit(bindparam("limit", type_=Integer))
            self._prepared[key] = found
        return found

    def select_events(self, originator_id: UUID | str, gt: int | None = None, lte: int | None = None,
                      desc: bool = False, limit: int | None = None) -> list[StoredEvent]:
        statement = self._statement(gt is not None, lte is not None, desc, limit is not None)
        params = {"originator_id": originator_id, "gt": gt, "lte": lte, "limit": limit}
        with self.transaction(commit=False) as session:
            rows = session.connection().execute(statement, params).all()
        return [StoredEvent(originator_id=r[0], originator_version=r[1], topic=r[2],
                            state=bytes(r[3]) if isinstance(r[3], memoryview) else r[3]) for r in rows]


class SnapshotRecorder(PreparedReads):
    """The snapshots' recorder: the library's, with the prepared reads."""


class StoreRecorder(PreparedReads, SQLAlchemyApplicationRecorder):
    """The library's recorder, appending on PostgreSQL in one round trip: the table lock, the
    rows and the notification go to the server as one statement string, so the lock that
    orders the positions is held for the server's insert and the commit, not for the client's
    turns in between. In a process serving many requests at once each of those turns waits
    for the interpreter; the library's way (the lock, then the ORM's flush, then the notify,
    each answered before the next is sent) held the lock across three of them. The rows, the
    positions and the notification are the same; SQLite (one writer at a time) keeps the
    library's way."""

    def _insert_stored_events(self, session: Session, stored_events: Sequence[StoredEvent],
                              **kwargs: Any) -> Sequence[int]:
        engine = self.datastore.engine
        if engine is None or engine.dialect.name != "postgresql" or not stored_events:
            return super()._insert_stored_events(session, stored_events, **kwargs)
        import psycopg2
        from psycopg2.extras import execute_values

        table = self.events_record_cls.__table__.fullname
        statement = (f"LOCK TABLE {table} IN EXCLUSIVE MODE; NOTIFY {self.channel_name}; "
                     f"INSERT INTO {table} (originator_id, originator_version, topic, state) VALUES %s "
                     "RETURNING id")
        rows = [(str(e.originator_id), e.originator_version, e.topic, e.state) for e in stored_events]
        cursor = session.connection().connection.cursor()
        try:
            # One page for any command's events: the prefix is sent once, ids come back in order.
            ids = execute_values(cursor, statement, rows, template="(%s::uuid, %s, %s, %s)",
                                 page_size=len(rows), fetch=True)
        except psycopg2.Error as error:
            # As SQLAlchemy would have raised it, so that the library's transaction turns a
            # version taken meanwhile into its IntegrityError (the optimistic check).
            raise sa_exc.DBAPIError.instance(statement, None, error, psycopg2.Error) from error
        finally:
            cursor.close()
        return [int(row[0]) for row in ids]


class StoreFactory(SQLAlchemyFactory):
    """eventsourcing-sqlalchemy's factory (same recorders, tables and transcoder) whose
    recorders share a `StoreDatastore`. The library's factory makes its datastore from
    SQLALCHEMY_URL with SQLAlchemy's default engine options and has no setting for others;
    so the URL is given to this factory as STORE_URL, which the library's part does not
    read: the datastore it makes has no engine and no recorder ever sees it."""

    aggregate_recorder_class = SnapshotRecorder
    application_recorder_class = StoreRecorder
    STORE_URL = "STORE_URL"
    STORE_POOL_SIZE = "STORE_POOL_SIZE"
    STORE_MAX_OVERFLOW = "STORE_MAX_OVERFLOW"

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        url = self.env.get(self.STORE_URL)
        if not url:
            raise ValueError(f"{type(self).__name__} needs the database URL in {self.STORE_URL}")
        self.datastore = StoreDatastore(
            url,
            pool_size=int(self.env.get(self.STORE_POOL_SIZE) or 5),
            max_overflow=int(self.env.get(self.STORE_MAX_OVERFLOW) or 10),
            autoflush=bool(strtobool(self.env.get(self.SQLALCHEMY_AUTOFLUSH) or "True")),
        )


class EventStore(Application[UUID]):
    """All aggregates of the CRM live in one application, so one `save` can
    commit several of them atomically (customer + salesperson + name index)."""

    name = "crm"
    # The snapshot store exists; the snapshots are taken by `save` below, not by the library
    # (its `snapshotting_intervals` stay empty).
    is_snapshotting_enabled = True
    # Aggregates whose histories grow without end get a snapshot every so many events, so
    # loading one reads the snapshot and the events after it, not the whole history.
    snapshot_intervals: ClassVar[dict[type[Any], int]] = {Salesperson: 100, ProductStock: 100}

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[Any]]:
        recordings = super().save(*objs, **kwargs)
        self._snapshot_long_histories(objs, recordings)
        return recordings

    def _snapshot_long_histories(self, objs: Iterable[Any], recordings: list[Recording[Any]]) -> None:
        """Snapshots are taken after the events committed: a failure to take one must not
        make a stored command look failed (and be sent again). The next one will do."""
        kinds = {obj.id: type(obj) for obj in objs if type(obj) in self.snapshot_intervals}
        for recording in recordings:
            event = recording.domain_event
            kind = kinds.get(event.originator_id)
            if kind is None or event.originator_version % self.snapshot_intervals[kind]:
                continue
            try:
                self.take_snapshot(event.originator_id, version=event.originator_version)
            except Exception:
                log.exception("could not take a snapshot of %s %s at version %d; the events are stored "
                              "all the same", kind.__name__, event.originator_id, event.originator_version)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    @property
    def engine(self) -> Engine:
        factory = self.factory
        assert isinstance(factory, StoreFactory)
        engine = factory.datastore.engine
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


def open_store(database_url: str, pool_size: int = 5, max_overflow: int = 10) -> EventStore:
    env: dict[str, Any] = {
        "PERSISTENCE_MODULE": get_topic(StoreFactory),
        StoreFactory.STORE_URL: database_url,
        StoreFactory.STORE_POOL_SIZE: str(pool_size),
        StoreFactory.STORE_MAX_OVERFLOW: str(max_overflow),
        "CREATE_TABLE": "y",
        # Keep loaded aggregates; each later load reads only the events stored since (from any
        # process) and hands out a copy. A command then costs one query per aggregate, not a
        # replay of its history.
        "AGGREGATE_CACHE_MAXSIZE": "20000",
        "AGGREGATE_CACHE_FASTFORWARD": "y",
    }
    return EventStore(env=env)
