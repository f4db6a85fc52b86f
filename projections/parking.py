"""Parking poison events: a batch that fails for a reason retrying does not cure is applied
again one event per transaction, and the events that still fail are recorded with their
error and skipped, so one bad event never stops a projection for good."""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from projections.batches import Decoded, ProjectorCore
from projections.faults import MovedOn, transient
from readmodels.tables import projection_parked, projection_state

log = logging.getLogger("crm.projections")


class Parking(ProjectorCore):
    """Applying a batch so that what fails for good is parked, and the parked events."""

    def _advance(self, name: str, version: int, events: Decoded, last: int) -> None:
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
