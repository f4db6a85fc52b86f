"""Building new versions of projections from position 0 while readers keep reading the live
ones (O-1): a rebuild, which then switches the views to the new version in one transaction
and drops the old one; and a check, which compares a scratch build with the live tables."""

from __future__ import annotations

import gc
import hashlib
import logging
import time
from collections.abc import Iterable

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.schema import CreateTable

from projections.batches import Decoded, Progress
from projections.catchup import CatchingUp
from projections.definition import Projection
from projections.faults import MovedOn, Undecodable, transient
from projections.fingerprints import forget_fingerprints, record_fingerprint
from projections.lease import BuildLease
from projections.memory import MemoryRows
from projections.physical import analyze, point_views
from projections.writer import NeedsConnection, Writer
from readmodels.tables import projection_parked, projection_rebuilds, projection_state

log = logging.getLogger("crm.projections")
# A build renews its lease this often (a lease lapses after LEASE_SECONDS without renewal).
RENEW_SECONDS = 10.0


class Rebuilding(CatchingUp, BuildLease):
    """Rebuilds and checks: new versions built under the lease."""

    def rebuild(self, name: str, progress: Progress | None = None) -> int:
        """Rebuild one projection (see `rebuild_all`); returns its new version."""
        return self.rebuild_all([name], progress)[name]

    def rebuild_all(self, names: Iterable[str] | None = None, progress: Progress | None = None) -> dict[str, int]:
        """Build the next version of each projection from position 0 in one pass over the
        events, while readers read the live versions; then switch each one's views to its
        new version in one transaction and drop the old version. Returns the new versions.
        ProjectionBusy when a build of one of them runs elsewhere."""
        chosen = list(names or self.names)
        told = progress or (lambda position, head: None)
        self._take_lease(chosen)
        record = RebuildRecord(self.store.engine, chosen)
        try:
            versions = {name: self._start_version(self.projections[name]) for name in chosen}
            record.start(versions, self.head())

            def report(position: int, head: int) -> None:
                record.reached(position, head)
                told(position, head)

            position = self._build(versions, None, report)
            record.phase("switching", position)
            for name in chosen:
                projection = self.projections[name]
                self._create_indexes(projection, versions[name])
                analyze(self.store.engine, list(projection.tables_of(versions[name]).values()))
                old = self._switch_parking(projection, versions[name], position)
                if old is not None:
                    with self.store.engine.begin() as conn:
                        self._drop_version(conn, projection, old)
            record.finish("done")
        except BaseException as error:
            record.finish("failed", f"{type(error).__name__}: {error}"[:1000])
            raise
        finally:
            self._release_lease(chosen)
        report(min(self.positions().values(), default=0), self.head())
        return versions

    def rebuilds(self) -> dict[str, dict[str, object]]:
        """The latest rebuild of each projection that has had one, as it was last recorded
        (`RebuildRecord`): version, phase, position, head, started_at, updated_at,
        finished_at, outcome, error; times in seconds since the epoch."""
        with self.store.engine.connect() as conn:
            return {row["name"]: dict(row) for row in conn.execute(select(projection_rebuilds)).mappings()}

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
                        now = _contents(conn, projection.tables_of(versions[name])[table.name])
                        fresh = _contents(conn, projection.tables_of(scratch[name])[table.name])
                        if now != fresh:
                            problems.append(f"{table.name}: {now[0]} rows live, {fresh[0]} rebuilt; they differ")
            return found
        finally:
            with self.store.engine.begin() as conn:
                for name, version in scratch.items():
                    self._drop_version(conn, self.projections[name], version)
            self._release_lease(self.names)

    def _build(self, versions: dict[str, int], until: int | None, progress: Progress) -> int:
        """Fill the given new versions from position 0 to `until` (the head when None); the
        position reached. Each version's rows are kept in memory to the end and written then
        (projections/memory.py); a version whose rows the database refuses at the end, or
        whose handlers need a connection, is built again the classic way, batch by batch."""
        held: dict[str, MemoryRows] = {
            name: MemoryRows(self.projections[name].tables_of(version)) for name, version in versions.items()}
        classic: set[str] = set()
        position = 0
        renewed = time.monotonic()
        try:
            while until is None or position < until:
                targets = {name: (version, position) for name, version in versions.items() if name in held}
                if not targets:
                    break
                notifications, events = self._read(position, self.rebuild_batch, targets, stop=until)
                if not notifications:
                    break
                for name in list(held):
                    try:
                        self._apply_held(self.projections[name], held[name], events)
                    except NeedsConnection:
                        log.warning("projection %s is built batch by batch: a handler needs a connection", name)
                        del held[name]
                        classic.add(name)
                position = int(notifications[-1].id)
                if time.monotonic() - renewed > RENEW_SECONDS:
                    self._renew(list(versions))
                    renewed = time.monotonic()
                progress(position, until or self.head())
                if until is None and len(notifications) < self.rebuild_batch:
                    break
                # The rows held so far live to the end of the build: the garbage collector is
                # told to leave them be, instead of walking millions of them again and again.
                gc.freeze()
        finally:
            gc.unfreeze()
        for name in list(held):
            self._renew(list(versions))
            try:
                with self.store.engine.begin() as conn:
                    self._write_held(conn, name, versions[name], held.pop(name), position)
            except Exception as error:
                if transient(error) or isinstance(error, MovedOn):
                    raise
                log.warning("projection %s is built again batch by batch: the database refused a row of "
                            "its build in memory (%s: %s)", name, type(error).__name__, str(error)[:500])
                classic.add(name)
        if classic:
            reached = self._build_in_batches({name: versions[name] for name in classic}, until, progress)
            position = min(position, reached) if position else reached
        return position

    def _apply_held(self, projection: Projection, rows: MemoryRows, events: Decoded) -> None:
        """Apply a batch to a build in memory; when an event in it fails, the batch is applied
        again one event at a time and the events that fail are parked (written at the end)."""
        mine = [(n, e) for n, e in events if n.topic in projection.handlers]
        if not mine:
            return
        try:
            _run_held(projection, rows, mine)
            return
        except NeedsConnection:
            raise
        except Exception:  # each event on its own below; the batch left no trace
            pass
        for notification, event in mine:
            try:
                _run_held(projection, rows, [(notification, event)])
            except NeedsConnection:
                raise
            except Exception as error:
                rows.parked.append((notification, error))

    def _write_held(self, conn: Connection, name: str, version: int, rows: MemoryRows, position: int) -> None:
        """Write a build held in memory, its parked events and its position, in one transaction."""
        self._locked_position(conn, name, version)
        rows.write(conn)
        for notification, error in rows.parked:
            self._park(conn, name, version, notification, error)
        moved = conn.execute(update(projection_state)
                             .where(projection_state.c.name == name, projection_state.c.version == version)
                             .values(position=position))
        if moved.rowcount != 1:
            raise MovedOn(name)

    def _build_in_batches(self, versions: dict[str, int], until: int | None, progress: Progress) -> int:
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
            progress(position, until or self.head())
            if until is None and len(notifications) < self.rebuild_batch:
                break
        return position

    def _start_version(self, projection: Projection) -> int:
        """A new, empty version for a build (under the lease), with the fingerprint of the code
        building it: what an earlier build left behind is dropped first."""
        with self.store.engine.begin() as conn:
            leftovers = conn.execute(
                select(projection_state.c.version).where(
                    projection_state.c.name == projection.name, projection_state.c.live.is_(False))
            ).scalars().all()
            for old in leftovers:  # a build that stopped half-way
                self._drop_version(conn, projection, old)
            highest = conn.execute(
                select(func.max(projection_state.c.version)).where(projection_state.c.name == projection.name)
            ).scalar() or 0
            version = int(max([highest, *leftovers])) + 1
            conn.execute(projection_state.insert().values(
                name=projection.name, version=version, position=0, live=False))
            record_fingerprint(conn, projection.name, version, projection.fingerprint)
            for table in projection.tables_of(version).values():
                table.drop(conn, checkfirst=True)
                # Without its secondary indexes: they are made once the rows are in (faster
                # than keeping them up to date row by row), before the switch.
                conn.execute(CreateTable(table))
        return version

    @staticmethod
    def _drop_version(conn: Connection, projection: Projection, version: int) -> None:
        """A version no longer wanted (replaced, scratch, or left half-built): its state,
        parked events, fingerprint and tables."""
        conn.execute(delete(projection_state).where(
            projection_state.c.name == projection.name, projection_state.c.version == version))
        conn.execute(delete(projection_parked).where(
            projection_parked.c.name == projection.name, projection_parked.c.version == version))
        forget_fingerprints(conn, projection.name, [version])
        for table in projection.tables_of(version).values():
            table.drop(conn, checkfirst=True)

    def _create_indexes(self, projection: Projection, version: int) -> None:
        with self.store.engine.begin() as conn:
            for table in projection.tables_of(version).values():
                for index in table.indexes:
                    index.create(conn, checkfirst=True)

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
            head = self.head()
            _, events = self._read(position, max(1, head - position), {projection.name: (version, position)},
                                   stop=head)
            self._advance(projection.name, version, events, head)
            position = head
        return self._switch(projection, version, position)

    def _switch(self, projection: Projection, version: int, position: int) -> int | None:
        """Make `version` the live one, its views pointed at its tables; the version it replaced."""
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
            point_views(conn, projection.tables, version, replace=True)
        return int(live) if live is not None else None


class RebuildRecord:
    """The row per projection in `projection_rebuilds` a rebuild keeps up to date as it goes:
    `reading` with the position read to (written at most every `EVERY` seconds, so the
    build's pace is not the database's), `switching` while it indexes and switches, then
    `done` or `failed`. A record that cannot be written never stops the build."""

    EVERY = 0.5

    def __init__(self, engine: Engine, names: list[str]) -> None:
        self.engine = engine
        self.names = names
        self.written = 0.0
        self.started = False

    def _write(self, **values: object) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(update(projection_rebuilds).where(projection_rebuilds.c.name.in_(self.names))
                             .values(updated_at=time.time(), **values))
        except Exception:  # the record is for people; the build goes on without it
            log.warning("could not record the progress of rebuilding %s", ", ".join(self.names), exc_info=True)

    def start(self, versions: dict[str, int], head: int) -> None:
        now = time.time()
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(projection_rebuilds).where(projection_rebuilds.c.name.in_(self.names)))
                conn.execute(projection_rebuilds.insert(), [
                    {"name": name, "version": version, "phase": "reading", "position": 0, "head": head,
                     "started_at": now, "updated_at": now} for name, version in versions.items()])
            self.started = True
        except Exception:
            log.warning("could not record the start of rebuilding %s", ", ".join(self.names), exc_info=True)

    def reached(self, position: int, head: int) -> None:
        if self.started and time.monotonic() - self.written >= self.EVERY:
            self.written = time.monotonic()
            self._write(position=position, head=head)

    def phase(self, phase: str, position: int) -> None:
        if self.started:
            self._write(phase=phase, position=position)

    def finish(self, outcome: str, error: str | None = None) -> None:
        if self.started:
            self._write(phase=outcome, outcome=outcome, error=error, finished_at=time.time())


def _contents(conn: Connection, table: Table) -> tuple[int, int]:
    """Rows and an order-free digest of their contents, read in chunks."""
    count, digest = 0, 0
    result = conn.execution_options(yield_per=5000).execute(select(table))
    for row in result:
        count += 1
        digest = (digest + int.from_bytes(hashlib.blake2b(repr(tuple(row)).encode(), digest_size=8).digest(),
                                          "big")) % (1 << 64)
    return count, digest


def _run_held(projection: Projection, rows: MemoryRows, events: Decoded) -> None:
    """Run the handlers of a batch against a build in memory; merged into it only if all succeed."""
    writer = Writer(None, rows.tables, base=rows)
    for notification, event in events:
        if isinstance(event, Undecodable):
            raise event.error
        projection.handlers[notification.topic](writer, event)
    writer.flush()
