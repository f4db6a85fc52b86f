"""The projection runner: read events after the tracked position, apply a batch, commit
rows and position in one transaction; rebuild a projection into its next version while
readers keep reading the live one, then switch in one transaction (O-1)."""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from uuid import uuid4

from eventsourcing.utils import get_topic
from sqlalchemy import MetaData, Table, delete, func, inspect, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.schema import CreateTable
from sqlalchemy.sql.elements import quoted_name

from commands.adapters.store import EventStore
from projections.writer import Writer
from readmodels.tables import projection_builds, projection_parked, projection_state, state_metadata

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


class ProjectionBusy(Exception):
    """A build of this projection (a rebuild, or a check's scratch build) runs elsewhere."""

    def __init__(self, name: str) -> None:
        super().__init__(f"a build of {name} is running")
        self.name = name


class MovedOn(Exception):
    """Another runner moved the projection on while this one was working: its batch stands."""


class Undecodable:
    """An event the store holds but cannot be turned back into its class (a removed class, a
    failed upcast): every projection that handles its topic parks it."""

    def __init__(self, error: Exception) -> None:
        self.error = error


def transient(error: BaseException) -> bool:
    """Whether retrying can cure the failure: the database unreachable or restarting, a lock
    or statement timeout, a serialisation failure or deadlock. Such failures wait and retry;
    everything else (a value a column cannot hold, a handler's bug on one event) is parked.
    A schema problem (a missing table or column) waits too: it is the deployment's, not the
    event's, and parking every event behind it would be wrong."""
    if isinstance(error, OperationalError | InterfaceError | PoolTimeout):
        return True
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        code = getattr(error.orig, "pgcode", None) or ""
        if isinstance(error, ProgrammingError):
            return code[:2] == "42"  # an undefined table or column (SQLite says so as OperationalError)
        return code[:2] in ("08", "40", "53", "55", "57", "58")
    return False


LEASE_SECONDS = 120.0
# Events after which a catch-up refreshes the planner's statistics (PostgreSQL).
ANALYZE_AFTER = 100_000


class Projector:
    """Runs projections against one event store. Events a projection ignores still
    advance its position. Each projection's batch commits in its own transaction with
    its position, which moves only from the position the batch started at, so two
    runners never apply an event twice (on SQLite as on PostgreSQL, where the state row is
    also locked); a projection whose handler fails stops alone, the others go on. Builds
    of new versions hold a lease, so two of them never run for one projection at once."""

    def __init__(self, store: EventStore, projections: Iterable[Projection], batch: int = 500) -> None:
        self.store = store
        self.projections = {p.name: p for p in projections}
        self.batch = batch
        # A rebuild has the whole store to read: bigger batches, fewer transactions.
        self.rebuild_batch = max(batch, 2000)
        self._lock = threading.Lock()
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:8]}"

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
                new = version is None
                if version is None:
                    version = 1
                    conn.execute(projection_state.insert().values(
                        name=projection.name, version=version, position=0, live=True))
                existing = set(inspect(conn).get_table_names())
                missing = [t for t in projection.tables_of(version).values() if t.name not in existing]
                for table in missing:
                    table.create(conn)
                for table in projection.tables_of(version).values():
                    for index in table.indexes:  # indexes a release added
                        index.create(conn, checkfirst=True)
                self._point_views(conn, projection, version, replace=bool(missing) and not new)
            # A table the live version lacked (added in a release), or columns that differ:
            # build the new shape from the events.
            if (missing and not new) or self._schema_changed(projection, version):
                changed.append(projection.name)
        while changed:
            log.warning("read models %s changed shape; rebuilding them", ", ".join(changed))
            try:
                self.rebuild_all(changed)
                return
            except ProjectionBusy:
                # Another process (an API or a worker starting too) is building them.
                time.sleep(2)
                changed = [p for p in changed if self._schema_changed(self.projections[p], self.versions()[p])]

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

    def _live(self) -> dict[str, tuple[int, int]]:
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(projection_state.c.name, projection_state.c.version, projection_state.c.position)
                .where(projection_state.c.live.is_(True), projection_state.c.name.in_(self.names)))
            return {row.name: (int(row.version), int(row.position)) for row in rows}

    def positions(self) -> dict[str, int]:
        found = {name: position for name, (_, position) in self._live().items()}
        return {name: found.get(name, 0) for name in self.names}

    def versions(self) -> dict[str, int]:
        with self.store.engine.connect() as conn:
            return {name: self._live_version(conn, name) or 0 for name in self.names}

    # ---- catching up ------------------------------------------------------------------------

    def catch_up(self) -> int:
        """Run every projection's live version to the head; the lowest position reached.
        One read of each batch serves every projection, each event decoded once. A
        projection whose handler fails is logged and left at its position; the others
        go on."""
        with self._lock:
            failed: set[str] = set()
            first: int | None = None
            while True:
                live = {n: v for n, v in self._live().items() if n not in failed}
                if not live:
                    break
                start = min(position for _, position in live.values())
                first = start if first is None else first
                notifications, events = self._read(start, self.batch, live)
                if not notifications:
                    break
                last = int(notifications[-1].id)
                progressed = False
                for name, (version, position) in live.items():
                    if position >= last:
                        continue
                    try:
                        self._advance(name, version, events, last)
                        progressed = True
                    except MovedOn:
                        progressed = True
                    except Exception:  # a transient fault: this projection waits, the others go on
                        log.exception("projection %s failed after position %d; it waits there", name, position)
                        failed.add(name)
                        # The others may be a batch or more ahead of it: read on from theirs.
                        progressed = True
                if len(notifications) < self.batch or not progressed:
                    break
            reached = min(self.positions().values(), default=0)
            if first is not None and reached - first >= ANALYZE_AFTER:
                # A long catch-up (a restored or imported store) grew the tables by orders of
                # magnitude; the planner needs to know before the next request.
                for name, (version, _) in self._live().items():
                    self._analyze(self.projections[name], version)
            return reached

    def _read(self, start: int, limit: int, targets: dict[str, tuple[int, int]],
              stop: int | None = None) -> tuple[list[Any], list[tuple[Any, Any]]]:
        """The next events after `start`, and those some of the projections handle, decoded once."""
        notifications = list(self.store.recorder.select_notifications(start=start + 1, limit=limit, stop=stop))
        wanted = [self.projections[name] for name in targets]
        events = [(n, self._decode(n)) for n in notifications if any(n.topic in p.handlers for p in wanted)]
        return notifications, events

    def _decode(self, notification: Any) -> Any:
        try:
            return self.store.mapper.to_domain_event(notification)
        except Exception as error:  # parked by each projection that handles the topic
            return Undecodable(error)

    def _advance(self, name: str, version: int, events: list[tuple[Any, Any]], last: int) -> None:
        """Apply a batch to one projection's version in its own transaction. When an event in
        it fails for a reason retrying does not cure, the batch is applied again one event per
        transaction, and the events that fail are parked: recorded with the error, skipped,
        and the position moves on. A transient failure is raised (the caller retries later)."""
        try:
            with self.store.engine.begin() as conn:
                self._apply(conn, name, version, events, last)
            return
        except MovedOn:
            raise
        except Exception as error:
            if transient(error):
                raise
        projection = self.projections[name]
        for notification, event in events:
            if notification.topic not in projection.handlers:
                continue
            try:
                with self.store.engine.begin() as conn:
                    self._apply(conn, name, version, [(notification, event)], int(notification.id))
            except MovedOn:
                raise
            except Exception as error:
                if transient(error):
                    raise
                with self.store.engine.begin() as conn:
                    self._park(conn, name, version, notification, error)
        with self.store.engine.begin() as conn:
            self._apply(conn, name, version, [], last)

    def _park(self, conn: Connection, name: str, version: int, notification: Any, error: Exception) -> None:
        """Record one event a projection could not apply and move the position past it, if
        the position has not passed it already (another runner may have parked it)."""
        position = self._locked_position(conn, name, version)
        if position >= notification.id:
            return
        reason = f"{type(error).__name__}: {error}".replace("\x00", "\\x00")[:2000]
        log.error("projection %s parked the event at position %d (%s): %s", name, notification.id,
                  notification.topic, reason)
        conn.execute(projection_parked.insert().values(
            name=name, version=version, position=int(notification.id), topic=notification.topic[:255],
            originator_id=str(notification.originator_id), originator_version=int(notification.originator_version),
            error=reason, parked_at=time.time()))
        conn.execute(update(projection_state)
                     .where(projection_state.c.name == name, projection_state.c.version == version)
                     .values(position=int(notification.id)))

    @staticmethod
    def _locked_position(conn: Connection, name: str, version: int) -> int:
        """The version's position, its state row locked for the transaction; MovedOn when the
        version is gone (switched and dropped by another runner)."""
        position = conn.execute(
            select(projection_state.c.position)
            .where(projection_state.c.name == name, projection_state.c.version == version).with_for_update()
        ).scalar()
        if position is None:
            raise MovedOn(name)
        return int(position)

    def parked(self, live_only: bool = True) -> dict[str, list[dict[str, Any]]]:
        """The events each projection's live version has parked, oldest first."""
        query = select(projection_parked).order_by(projection_parked.c.position)
        with self.store.engine.connect() as conn:
            if live_only:
                live = {name: version for name, (version, _) in self._live().items()}
                rows = [r for r in conn.execute(query).mappings() if live.get(r["name"]) == r["version"]]
            else:
                rows = list(conn.execute(query).mappings())
        found: dict[str, list[dict[str, Any]]] = {name: [] for name in self.names}
        for row in rows:
            if row["name"] in found:
                found[row["name"]].append(dict(row))
        return found

    def _apply(self, conn: Connection, name: str, version: int, events: list[tuple[Any, Any]], last: int) -> None:
        """Apply the events after the version's position, up to `last`, and move its position
        there, in the caller's transaction; MovedOn if another runner got there first."""
        position = self._locked_position(conn, name, version)
        if position >= last:
            return
        projection = self.projections[name]
        writer = Writer(conn, projection.tables_of(version))
        mine = [(n, e) for n, e in events if n.id > position and n.topic in projection.handlers]
        self._preload(writer, projection, [(n.topic, e) for n, e in mine if not isinstance(e, Undecodable)])
        for notification, event in mine:
            if isinstance(event, Undecodable):
                raise event.error
            projection.handlers[notification.topic](writer, event)
        writer.flush()
        moved = conn.execute(
            update(projection_state)
            .where(projection_state.c.name == name, projection_state.c.version == version,
                   projection_state.c.position == position)
            .values(position=last))
        if moved.rowcount != 1:
            raise MovedOn(name)  # the transaction rolls back: this runner's rows go with it

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

    # ---- building new versions: rebuilds and checks -------------------------------------------

    def _build(self, versions: dict[str, int], until: int | None, progress: Progress) -> int:
        """Fill the given new versions from position 0 to `until` (the head when None), one
        transaction per batch for all of them; the position reached."""
        position = 0
        while until is None or position < until:
            targets = {name: (version, position) for name, version in versions.items()}
            notifications, events = self._read(position, self.rebuild_batch, targets, stop=until)
            if not notifications:
                break
            last = int(notifications[-1].id)
            try:
                with self.store.engine.begin() as conn:
                    for name, version in versions.items():
                        self._apply(conn, name, version, events, last)
            except Exception as error:
                if transient(error) or isinstance(error, MovedOn):
                    raise
                # One event no projection of the build can hold: each goes on its own and parks
                # what it cannot apply, as the live projections do, so a rebuild equals them.
                for name, version in versions.items():
                    self._advance(name, version, events, last)
            position = last
            self._renew(list(versions))
            progress(position, until or self.store.head())
            if until is None and len(notifications) < self.rebuild_batch:
                break
        return position

    def rebuild(self, name: str, progress: Progress | None = None) -> int:
        """Rebuild one projection (see `rebuild_all`); returns its new version."""
        return self.rebuild_all([name], progress)[name]

    def rebuild_all(self, names: Iterable[str] | None = None, progress: Progress | None = None) -> dict[str, int]:
        """Build the next version of each projection from position 0 in one pass over the
        events, while readers read the live versions; then switch each one's views to its
        new version in one transaction and drop the old version. Returns the new versions.
        ProjectionBusy when a build of one of them runs elsewhere."""
        chosen = list(names or self.names)
        report = progress or (lambda position, head: None)
        self._take_lease(chosen)
        try:
            versions = {name: self._start_version(self.projections[name]) for name in chosen}
            position = self._build(versions, None, report)
            for name in chosen:
                self._create_indexes(self.projections[name], versions[name])
                self._analyze(self.projections[name], versions[name])
                old = self._switch_parking(self.projections[name], versions[name], position)
                if old is not None:
                    with self.store.engine.begin() as conn:
                        conn.execute(delete(projection_state).where(
                            projection_state.c.name == name, projection_state.c.version == old))
                        conn.execute(delete(projection_parked).where(
                            projection_parked.c.name == name, projection_parked.c.version == old))
                        for table in self.projections[name].tables_of(old).values():
                            table.drop(conn, checkfirst=True)
        finally:
            self._release_lease(chosen)
        report(min(self.positions().values(), default=0), self.store.head())
        return versions

    def verify(self, progress: Progress | None = None) -> dict[str, list[str]]:
        """Build every projection afresh into scratch tables and compare them, table by
        table, with the live ones (O-1). Returns the differences per projection
        (none: they are equal). The scratch versions are dropped afterwards."""
        report = progress or (lambda position, head: None)
        self.catch_up()
        live = self.positions()
        self._take_lease(self.names)
        scratch: dict[str, int] = {}
        try:
            scratch = {name: self._start_version(self.projections[name]) for name in self.names}
            self._build(scratch, max(live.values(), default=0), report)
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
                    conn.execute(delete(projection_parked).where(
                        projection_parked.c.name == name, projection_parked.c.version == version))
                    for table in self.projections[name].tables_of(version).values():
                        table.drop(conn, checkfirst=True)
            self._release_lease(self.names)

    # ---- the build lease ----------------------------------------------------------------------

    def building(self, name: str) -> bool:
        """Whether a build of the projection holds a live lease (here or elsewhere)."""
        with self.store.engine.connect() as conn:
            beat = conn.execute(select(projection_builds.c.heartbeat)
                                .where(projection_builds.c.name == name)).scalar()
        return beat is not None and time.time() - beat < LEASE_SECONDS

    def _take_lease(self, names: list[str]) -> None:
        taken: list[str] = []
        try:
            for name in names:
                with self.store.engine.begin() as conn:
                    beat = conn.execute(select(projection_builds.c.heartbeat)
                                        .where(projection_builds.c.name == name).with_for_update()).scalar()
                    now = time.time()
                    if beat is None:
                        conn.execute(projection_builds.insert().values(name=name, owner=self.owner, heartbeat=now))
                    elif now - beat < LEASE_SECONDS:
                        raise ProjectionBusy(name)
                    else:  # a build that stopped without letting go
                        moved = conn.execute(update(projection_builds).where(
                            projection_builds.c.name == name, projection_builds.c.heartbeat == beat)
                            .values(owner=self.owner, heartbeat=now))
                        if moved.rowcount != 1:
                            raise ProjectionBusy(name)
                taken.append(name)
        except (ProjectionBusy, IntegrityError):
            self._release_lease(taken)
            raise ProjectionBusy(names[len(taken)]) from None

    def _renew(self, names: list[str]) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(update(projection_builds).where(
                projection_builds.c.name.in_(names), projection_builds.c.owner == self.owner)
                .values(heartbeat=time.time()))

    def _release_lease(self, names: list[str]) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(delete(projection_builds).where(
                projection_builds.c.name.in_(names), projection_builds.c.owner == self.owner))

    def _start_version(self, projection: Projection) -> int:
        """A new, empty version for a build (under the lease): what an earlier build left
        behind is dropped first."""
        with self.store.engine.begin() as conn:
            leftovers = conn.execute(
                select(projection_state.c.version).where(
                    projection_state.c.name == projection.name, projection_state.c.live.is_(False))
            ).scalars().all()
            conn.execute(delete(projection_state).where(
                projection_state.c.name == projection.name, projection_state.c.live.is_(False)))
            if leftovers:
                conn.execute(delete(projection_parked).where(
                    projection_parked.c.name == projection.name, projection_parked.c.version.in_(leftovers)))
            for old in leftovers:  # a build that stopped half-way
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

    def _analyze(self, projection: Projection, version: int) -> None:
        """Statistics for tables just built or filled, on PostgreSQL: without them the planner takes
        100,000 customers for a few hundred and scans where an index would serve (seen in
        B3: the pool page 37 ms instead of 2.5 ms). Autovacuum would get there in its own
        time, if it is on. VACUUM also marks the pages all-visible for index-only scans."""
        engine = self.store.engine
        if engine.dialect.name != "postgresql":
            return
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")  # VACUUM runs outside a transaction
            for table in projection.tables_of(version).values():
                conn.execute(text(f'VACUUM (ANALYZE) "{table.name}"'))

    def _switch_parking(self, projection: Projection, version: int, position: int) -> int | None:
        """Switch to the new version; when an event committed since the build cannot be
        applied inside the switch, park it outside (where one event per transaction can
        fail alone) and switch again."""
        for _ in range(5):
            try:
                return self._switch(projection, version, position)
            except Exception as error:
                if transient(error) or isinstance(error, MovedOn):
                    raise
            head = self.store.head()
            _, events = self._read(position, max(1, head - position), {projection.name: (version, position)},
                                   stop=head)
            self._advance(projection.name, version, events, head)
            position = head
        return self._switch(projection, version, position)

    def _switch(self, projection: Projection, version: int, position: int) -> int | None:
        with self._lock, self.store.engine.begin() as conn:
            live = conn.execute(
                select(projection_state.c.version)
                .where(projection_state.c.name == projection.name, projection_state.c.live.is_(True))
                .with_for_update()
            ).scalar()
            # Events committed since the last batch go in before the switch, inside it.
            while True:
                notifications, events = self._read(position, self.batch, {projection.name: (version, position)})
                if not notifications:
                    break
                last = int(notifications[-1].id)
                self._apply(conn, projection.name, version, events, last)
                position = last
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
