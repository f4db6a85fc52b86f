"""The projection runner: read events after the tracked position, apply a batch,
commit rows and position in one transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from commands.store import EventStore
from readmodels.tables import metadata, projection_tracking

Handler = Callable[[Connection, Any], None]


@dataclass
class Projection:
    """A named read model: the handlers for the events it cares about."""

    name: str
    handlers: dict[str, Handler] = field(default_factory=dict)

    def on(self, *event_classes: type) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            for cls in event_classes:
                self.handlers[get_topic(cls)] = handler
            return handler

        return register


class Projector:
    """Runs projections against one event store. Events a projection ignores still
    advance its position. On PostgreSQL the tracking row is locked for the batch, so
    two runners of one projection never apply the same event twice."""

    def __init__(self, store: EventStore, projections: Iterable[Projection], batch: int = 500) -> None:
        self.store = store
        self.projections = list(projections)
        self.batch = batch
        self._lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.projections]

    def setup(self) -> None:
        metadata.create_all(self.store.engine)
        with self.store.engine.begin() as conn:
            known = set(conn.execute(select(projection_tracking.c.name)).scalars())
            for name in self.names:
                if name not in known:
                    conn.execute(projection_tracking.insert().values(name=name, position=0))

    def positions(self) -> dict[str, int]:
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(projection_tracking.c.name, projection_tracking.c.position))
            found = {name: int(position) for name, position in rows}
        return {name: found.get(name, 0) for name in self.names}

    def catch_up(self) -> int:
        """Run every projection to the head; returns the lowest position reached."""
        with self._lock:
            return min((self._run(p) for p in self.projections), default=0)

    def _run(self, projection: Projection) -> int:
        while True:
            position, processed = self._run_batch(projection)
            if processed < self.batch:
                return position

    def _run_batch(self, projection: Projection) -> tuple[int, int]:
        with self.store.engine.begin() as conn:
            position = conn.execute(
                select(projection_tracking.c.position)
                .where(projection_tracking.c.name == projection.name)
                .with_for_update()
            ).scalar_one()
            notifications = self.store.recorder.select_notifications(
                start=position + 1, limit=self.batch
            )
            if not notifications:
                return int(position), 0
            for notification in notifications:
                handler = projection.handlers.get(notification.topic)
                if handler is not None:
                    handler(conn, self.store.mapper.to_domain_event(notification))
            last = notifications[-1].id
            conn.execute(
                update(projection_tracking)
                .where(projection_tracking.c.name == projection.name)
                .values(position=last)
            )
            return int(last), len(notifications)
