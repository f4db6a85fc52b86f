"""The projection runner: read events after the tracked position, apply a batch, commit
rows and position in one transaction; rebuild a projection into its next version while
readers keep reading the live one, then switch in one transaction (O-1)."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import MetaData, Table, delete, func, inspect, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateTable
from sqlalchemy.sql.elements import quoted_name

from commands.store import EventStore
from projections.writer import Writer
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


class Projection:
    """A named read model: its tables and the handlers for the events it cares about."""

    def __init__(self, name: str, tables: list[Table]) -> None:
        self.name = name
        self.tables = tables
        self.handlers: dict[str, Handler] = {}
        self.preloads: dict[str, list[tuple[str, str | None, Callable[[Any], Any]]]] = {}
        self._versions: dict[int, dict[str, Table]] = {}

    def preload(self, table: Table, key: Callable[[Any], Any], *event_classes: type,
                column: str | None = None) -> None:
        """Before a batch, read the rows of `table` that these events will touch, by its
        one-column primary key or by `column` (for `select_by`), in one query per batch
        instead of one per event."""
        for cls in event_classes:
            self.preloads.setdefault(get_topic(cls), []).append((table.name, column, key))

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
        # A rebuild has the whole store to read: bigger batches, fewer transactions.
        self.rebuild_batch = max(batch, 2000)
        self._lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        return list(self.projections)

    # ---- set-up and status ----------------------------------------------------------------

    def setup(self) -> None:
        state_metadata.create_all(self.store.engine)
        changed = []
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
                changed.append(projection.name)
        if changed:
            # The code's tables differ from the live versions': build the new shape from the events.
            log.warning("read models %s changed shape; rebuilding them", ", ".join(changed))
            self.rebuild_all(changed)

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
        """Run every projection's live version to the head; the lowest position reached.
        One pass over the events serves every projection, each event decoded once; the
        state rows are locked for each batch, so two runners never apply an event twice."""
        with self._lock:
            while True:
                with self.store.engine.begin() as conn:
                    rows = conn.execute(
                        select(projection_state.c.name, projection_state.c.version, projection_state.c.position)
                        .where(projection_state.c.live.is_(True), projection_state.c.name.in_(self.names))
                        .order_by(projection_state.c.name).with_for_update()
                    ).all()
                    targets = {row.name: (int(row.version), int(row.position)) for row in rows}
                    reached, count = self._apply_batch(conn, targets)
                if count < self.batch:
                    return reached

    def _apply_batch(self, conn: Connection, targets: dict[str, tuple[int, int]],
                     batch: int | None = None) -> tuple[int, int]:
        """Apply the next batch of events to the given projections (name → version, position)
        and move their positions, in the caller's transaction. Returns the lowest position
        now reached and how many events were read."""
        if not targets:
            return 0, 0
        start = min(position for _, position in targets.values())
        notifications = self.store.recorder.select_notifications(start=start + 1, limit=batch or self.batch)
        if not notifications:
            return start, 0
        writers = {name: Writer(conn, self.projections[name].tables_of(version))
                   for name, (version, _) in targets.items()}
        wanted = {name: self.projections[name] for name in targets}
        # Decode each event once, and only if some projection handles it.
        events = [(n, self.store.mapper.to_domain_event(n)) for n in notifications
                  if any(n.topic in p.handlers for p in wanted.values())]
        for name, projection in wanted.items():
            self._preload(writers[name], projection, [(n.topic, e) for n, e in events if n.id > targets[name][1]])
        for notification, event in events:
            for name, projection in wanted.items():
                handler = projection.handlers.get(notification.topic)
                if handler is not None and notification.id > targets[name][1]:
                    handler(writers[name], event)
        last = int(notifications[-1].id)
        for name, (version, position) in targets.items():
            writers[name].flush()
            conn.execute(update(projection_state)
                         .where(projection_state.c.name == name, projection_state.c.version == version)
                         .values(position=max(position, last)))
        return last, len(notifications)

    @staticmethod
    def _preload(writer: Writer, projection: Projection, events: list[tuple[str, Any]]) -> None:
        keys: dict[tuple[str, str | None], set[Any]] = {}
        for topic, event in events:
            for table_name, column, key in projection.preloads.get(topic, []):
                value = key(event)
                if value is not None:
                    keys.setdefault((table_name, column), set()).add(value)
        for (table_name, column), values in keys.items():
            table = getattr(writer, table_name.removeprefix("rm_"))
            if column is None:
                writer.preload(table, [(v,) for v in values])
            else:
                writer.preload_where(table, column, list(values))

    # ---- rebuilding ---------------------------------------------------------------------------

    def rebuild(self, name: str, progress: Progress | None = None) -> int:
        """Rebuild one projection (see `rebuild_all`); returns its new version."""
        return self.rebuild_all([name], progress)[name]

    def rebuild_all(self, names: Iterable[str] | None = None, progress: Progress | None = None) -> dict[str, int]:
        """Build the next version of each projection from position 0 in one pass over the
        events, while readers read the live versions; then switch each one's views to its
        new version in one transaction and drop the old version. Returns the new versions."""
        chosen = list(names or self.names)
        report = progress or (lambda position, head: None)
        versions = {name: self._start_version(self.projections[name]) for name in chosen}
        position = 0
        while True:
            with self.store.engine.begin() as conn:
                position, count = self._apply_batch(conn, {n: (versions[n], position) for n in chosen},
                                                    self.rebuild_batch)
            report(position, self.store.head())
            if count < self.rebuild_batch:
                break
        for name in chosen:
            self._create_indexes(self.projections[name], versions[name])
            old = self._switch(self.projections[name], versions[name], position)
            if old is not None:
                with self.store.engine.begin() as conn:
                    conn.execute(delete(projection_state).where(
                        projection_state.c.name == name, projection_state.c.version == old))
                    for table in self.projections[name].tables_of(old).values():
                        table.drop(conn, checkfirst=True)
        report(min(self.positions().values(), default=0), self.store.head())
        return versions

    def verify(self, progress: Progress | None = None) -> dict[str, list[str]]:
        """Build every projection afresh into scratch tables and compare them, table by
        table, with the live ones (O-1, issue 9). Returns the differences per projection
        (none: they are equal). The scratch versions are dropped afterwards."""
        report = progress or (lambda position, head: None)
        self.catch_up()
        live = self.positions()
        scratch = {name: self._start_version(self.projections[name]) for name in self.names}
        try:
            position = 0
            target = max(live.values(), default=0)
            while position < target:
                with self.store.engine.begin() as conn:
                    targets = {n: (scratch[n], position) for n in self.names}
                    reached, count = self._apply_batch(conn, targets, min(self.rebuild_batch, target - position))
                report(reached, target)
                if count == 0:
                    break
                position = reached
            moved = self.positions() != live
            versions = self.versions()
            found: dict[str, list[str]] = {}
            with self.store.engine.connect() as conn:
                for name in self.names:
                    problems = found.setdefault(name, [])
                    if moved:
                        problems.append("the live read models moved during the check; run it on a quiet store")
                    projection = self.projections[name]
                    for table in projection.tables:
                        now = _fingerprint(conn, projection.tables_of(versions[name])[table.name])
                        fresh = _fingerprint(conn, projection.tables_of(scratch[name])[table.name])
                        if now != fresh:
                            problems.append(f"{table.name}: {now[0]} rows live, {fresh[0]} rebuilt; they differ")
            return found
        finally:
            with self.store.engine.begin() as conn:
                for name, version in scratch.items():
                    conn.execute(delete(projection_state).where(
                        projection_state.c.name == name, projection_state.c.version == version))
                    for table in self.projections[name].tables_of(version).values():
                        table.drop(conn, checkfirst=True)

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
                # Without its secondary indexes: they are made once the rows are in (faster
                # than keeping them up to date row by row), before the switch.
                conn.execute(CreateTable(table))
        return version

    def _create_indexes(self, projection: Projection, version: int) -> None:
        with self.store.engine.begin() as conn:
            for table in projection.tables_of(version).values():
                for index in table.indexes:
                    index.create(conn, checkfirst=True)

    def _switch(self, projection: Projection, version: int, position: int) -> int | None:
        with self._lock, self.store.engine.begin() as conn:
            live = conn.execute(
                select(projection_state.c.version)
                .where(projection_state.c.name == projection.name, projection_state.c.live.is_(True))
                .with_for_update()
            ).scalar()
            # Events committed since the last batch go in before the switch, inside it.
            while True:
                position, count = self._apply_batch(conn, {projection.name: (version, position)})
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


def _fingerprint(conn: Connection, table: Table) -> tuple[int, int]:
    """Rows and an order-free digest of their contents, read in chunks."""
    count, digest = 0, 0
    result = conn.execution_options(yield_per=5000).execute(select(table))
    for row in result:
        count += 1
        digest = (digest + int.from_bytes(hashlib.blake2b(repr(tuple(row)).encode(), digest_size=8).digest(),
                                          "big")) % (1 << 64)
    return count, digest


def _view_names(conn: Connection) -> list[str]:
    return list(inspect(conn).get_view_names())
