"""The core of the projector: each projection version's tracking position, reading the next
events (each decoded once for every projection), and applying a batch of them to one version
in the caller's transaction together with the move of its position."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any
from uuid import uuid4

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from projections.definition import Projection
from projections.faults import MovedOn, Undecodable
from projections.source import EventSource, read_notifications
from projections.writer import Writer
from readmodels.tables import projection_state

Progress = Callable[[int, int], None]
# A version of a projection as a batch finds it: (build version, position).
Targets = dict[str, tuple[int, int]]
Decoded = list[tuple[Any, Any]]  # (notification, its event or Undecodable)


class ProjectorCore:
    """The state a projector keeps and the batch step every other part of it builds on."""

    def __init__(self, store: EventSource, projections: Iterable[Projection], batch: int = 500) -> None:
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

    def head(self) -> int:
        """The position of the last event stored."""
        return self.store.recorder.max_notification_id() or 0

    # ---- tracking positions -------------------------------------------------------------------

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

    # ---- reading ------------------------------------------------------------------------------

    def _read(self, start: int, limit: int, targets: Targets,
              stop: int | None = None) -> tuple[list[Any], Decoded]:
        """The next events after `start`, and those some of the projections handle, decoded once."""
        notifications = read_notifications(self.store, start + 1, limit, stop)
        wanted = [self.projections[name] for name in targets]
        events = [(n, self._decode(n)) for n in notifications if any(n.topic in p.handlers for p in wanted)]
        return notifications, events

    def _decode(self, notification: Any) -> Any:
        try:
            return self.store.mapper.to_domain_event(notification)
        except Exception as error:  # parked by each projection that handles the topic
            return Undecodable(error)

    # ---- applying -----------------------------------------------------------------------------

    def _apply(self, conn: Connection, name: str, version: int, events: Decoded, last: int) -> None:
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
