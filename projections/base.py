"""The projection runner: read events after the tracked position, apply a batch, commit
rows and position in one transaction; rebuild a projection into its next version while
readers keep reading the live one, then switch in one transaction (O-1)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import MetaData, Table, case, delete, func, inspect, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import quoted_name

from commands.store import EventStore
from readmodels.tables import projection_state, state_metadata

log = logging.getLogger("crm.projections")

Handler = Callable[["Writer", Any], None]
Progress = Callable[[int, int], None]


def physical_name(table: Table, version: int) -> str:
    return f"{table.name}_v{version}"


def physical_tables(logical: list[Table], version: int) -> dict[str, Table]:
    """The tables of one version: same columns, versioned table and index names."""
    md = MetaData()
    tables = {}
    for table in logical:
        copy = table.to_metadata(md, name=physical_name(table, version))
        for index in copy.indexes:
            # Index names are per schema on PostgreSQL; unnamed ones derive from the table name.
            if isinstance(index.name, str) and not index.name.startswith("ix_"):
                index.name = quoted_name(f"{index.name}_v{version}", None)
        tables[table.name] = copy
    return tables


class Writer:
    """What a handler writes through: the transaction and this version's tables,
    by their logical names without the `rm_` prefix (`w.customers`)."""

    def __init__(self, conn: Connection, tables: dict[str, Table]) -> None:
        self.conn = conn
        self._tables = tables
        # Lives for one batch: handlers keep lookups here (the time zone, say).
        self.cache: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Table:
        try:
            return self._tables["rm_" + name]
        except KeyError:
            raise AttributeError(name) from None


def upsert_add(w: Writer, table: Table, key: dict[str, Any], add: dict[str, Any],
               latest: dict[str, Any] | None = None) -> None:
    """Insert the row, or add the given amounts to the row with that key and keep the later of
    the `latest` values (SQLite and PostgreSQL)."""
    latest = latest or {}
    values = {c.name: 0 for c in table.columns if c.name not in key}
    values.update(add)
    values.update(latest)
    insert = (postgresql.insert if w.conn.dialect.name == "postgresql" else sqlite.insert)(table)
    changes: dict[str, Any] = {name: table.c[name] + insert.excluded[name] for name in add}
    changes.update({name: case((insert.excluded[name] > table.c[name], insert.excluded[name]),
                               else_=table.c[name]) for name in latest})
    w.conn.execute(insert.values(**key, **values).on_conflict_do_update(index_elements=list(key), set_=changes))


class Projection:
    """A named read model: its tables and the handlers for the events it cares about."""

    def __init__(self, name: str, tables: list[Table]) -> None:
        self.name = name
        self.tables = tables
        self.handlers: dict[str, Handler] = {}
        self._versions: dict[int, dict[str, Table]] = {}

    def on(self, *event_classes: type) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            for cls in event_classes:
                self.handlers[get_topic(cls)] = handler
            return handler

        return register

    def tables_of(self, version: int) -> dict[str, Table]:
        if version not in self._versions:
            self._versions[version] = physical_tables(self.tables, version)
        return self._versions[version]


class Projector:
    """Runs projections against one event store. Events a projection ignores still
    advance its position. The projection's state row is locked for each batch (on
    PostgreSQL), so two runners of one projection never apply the same event twice."""

    def __init__(self, store: EventStore, projections: Iterable[Projection], batch: int = 500) -> None:
        self.store = store
        self.projections = {p.name: p for p in projections}
        self.batch = batch
        self._lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        return list(self.projections)

    # ---- set-up and status ----------------------------------------------------------------

    def setup(self) -> None:
        state_metadata.create_all(self.store.engine)
        for projection in self.projections.values():
            with self.store.engine.begin() as conn:
                version = self._live_version(conn, projection.name)
                if version is None:
                    version = 1
                    conn.execute(projection_state.insert().values(
                        name=projection.name, version=version, position=0, live=True))
                tables = projection.tables_of(version)
                for table in tables.values():
                    table.create(conn, checkfirst=True)
                self._point_views(conn, projection, version, replace=False)
            if self._schema_changed(projection, version):
                # The code's tables differ from the live version's: build the new shape from the events.
                log.warning("read model %s changed shape; rebuilding it", projection.name)
                self.rebuild(projection.name)

    def _schema_changed(self, projection: Projection, version: int) -> bool:
        inspector = inspect(self.store.engine)
        for table in projection.tables:
            stored = {c["name"] for c in inspector.get_columns(physical_name(table, version))}
            if stored != {c.name for c in table.columns}:
                return True
        return False

    def _live_version(self, conn: Connection, name: str) -> int | None:
        return conn.execute(
            select(projection_state.c.version).where(
                projection_state.c.name == name, projection_state.c.live.is_(True))
        ).scalar()

    def positions(self) -> dict[str, int]:
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(projection_state.c.name, projection_state.c.position).where(
                    projection_state.c.live.is_(True))
            )
            found = {name: int(position) for name, position in rows}
        return {name: found.get(name, 0) for name in self.names}

    def versions(self) -> dict[str, int]:
        with self.store.engine.connect() as conn:
            return {name: self._live_version(conn, name) or 0 for name in self.names}

    # ---- catching up ------------------------------------------------------------------------

    def catch_up(self) -> int:
        """Run every projection's live version to the head; the lowest position reached."""
        with self._lock:
            return min((self._run_live(p) for p in self.projections.values()), default=0)

    def _run_live(self, projection: Projection) -> int:
        while True:
            with self.store.engine.begin() as conn:
                row = conn.execute(
                    select(projection_state.c.version, projection_state.c.position)
                    .where(projection_state.c.name == projection.name, projection_state.c.live.is_(True))
                    .with_for_update()
                ).one()
                position, count = self._apply_batch(conn, projection, row.version, row.position)
            if count < self.batch:
                return position

    def _apply_batch(
        self, conn: Connection, projection: Projection, version: int, position: int
    ) -> tuple[int, int]:
        """Apply the events after `position` to `version`'s tables and move its position,
        in the caller's transaction."""
        notifications = self.store.recorder.select_notifications(start=position + 1, limit=self.batch)
        if not notifications:
            return int(position), 0
        writer = Writer(conn, projection.tables_of(version))
        for notification in notifications:
            handler = projection.handlers.get(notification.topic)
            if handler is not None:
                handler(writer, self.store.mapper.to_domain_event(notification))
        last = notifications[-1].id
        conn.execute(
            update(projection_state)
            .where(projection_state.c.name == projection.name, projection_state.c.version == version)
            .values(position=last)
        )
        return int(last), len(notifications)

    # ---- rebuilding ---------------------------------------------------------------------------

    def rebuild(self, name: str, progress: Progress | None = None) -> int:
        """Build the next version from position 0 while readers read the live one, then
        switch the views to it in one transaction and drop the old version. Returns the
        new version."""
        projection = self.projections[name]
        report = progress or (lambda position, head: None)
        version = self._start_version(projection)
        position = 0
        while True:
            with self.store.engine.begin() as conn:
                position, count = self._apply_batch(conn, projection, version, position)
            report(position, self.store.head())
            if count < self.batch:
                break
        old = self._switch(projection, version, position)
        report(self.positions()[name], self.store.head())
        if old is not None:
            with self.store.engine.begin() as conn:
                conn.execute(delete(projection_state).where(
                    projection_state.c.name == name, projection_state.c.version == old))
                for table in projection.tables_of(old).values():
                    table.drop(conn, checkfirst=True)
        return version

    def _start_version(self, projection: Projection) -> int:
        with self.store.engine.begin() as conn:
            leftovers = conn.execute(
                select(projection_state.c.version).where(
                    projection_state.c.name == projection.name, projection_state.c.live.is_(False))
            ).scalars().all()
            conn.execute(delete(projection_state).where(
                projection_state.c.name == projection.name, projection_state.c.live.is_(False)))
            for old in leftovers:  # a rebuild that stopped half-way
                for table in projection.tables_of(old).values():
                    table.drop(conn, checkfirst=True)
            highest = conn.execute(
                select(func.max(projection_state.c.version)).where(projection_state.c.name == projection.name)
            ).scalar() or 0
            version = max([highest, *leftovers]) + 1
            conn.execute(projection_state.insert().values(
                name=projection.name, version=version, position=0, live=False))
            for table in projection.tables_of(version).values():
                table.drop(conn, checkfirst=True)
                table.create(conn)
        return version

    def _switch(self, projection: Projection, version: int, position: int) -> int | None:
        with self._lock, self.store.engine.begin() as conn:
            live = conn.execute(
                select(projection_state.c.version)
                .where(projection_state.c.name == projection.name, projection_state.c.live.is_(True))
                .with_for_update()
            ).scalar()
            # Events committed since the last batch go in before the switch, inside it.
            while True:
                position, count = self._apply_batch(conn, projection, version, position)
                if count < self.batch:
                    break
            # State rows first: on SQLite this DML opens the transaction the view DDL joins.
            conn.execute(update(projection_state)
                         .where(projection_state.c.name == projection.name)
                         .values(live=projection_state.c.version == version))
            self._point_views(conn, projection, version, replace=True)
        return int(live) if live is not None else None

    def _point_views(self, conn: Connection, projection: Projection, version: int, *, replace: bool) -> None:
        preparer = conn.dialect.identifier_preparer
        existing = set(_view_names(conn))
        for table in projection.tables:
            view = preparer.quote(table.name)
            if table.name in existing:
                if not replace:
                    continue
                conn.execute(text(f"DROP VIEW {view}"))
            source = preparer.quote(physical_name(table, version))
            conn.execute(text(f"CREATE VIEW {view} AS SELECT * FROM {source}"))


def _view_names(conn: Connection) -> list[str]:
    return list(inspect(conn).get_view_names())
