"""What a projection is: a named read model with its tables, the handlers for the events it
cares about, the rows to preload per batch, and the version of its logic whose fingerprint
decides at start-up whether the stored read model must be built again."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Table

from projections.physical import physical_tables
from projections.writer import Writer

Handler = Callable[[Writer, Any], None]
# What a column's type is told by in a fingerprint, where the type has it.
TYPE_DETAILS = ("length", "precision", "scale", "timezone", "places")


def _in_turn(first: Handler, then: Handler) -> Handler:
    def both(w: Writer, e: Any) -> None:
        first(w, e)
        then(w, e)

    return both


class Projection:
    """A named read model: its tables and the handlers for the events it cares about.

    `version` is the version of the handlers' logic. Bump it when the rows the handlers write
    for the same events change: a value computed differently, a bug fixed whose rows are
    wrong in stores that exist, an event type handled now whose past occurrences must show.
    The next start then builds the projection again from the events (readers keep the old
    rows until the new ones are complete). No bump is needed for a change of the tables' shape
    (a table or column added, removed or retyped: the fingerprint shows it), for a new index
    (made at start-up), or for a change that writes the same rows (a refactoring, a speed-up).
    Builds made before versions existed count as version 1."""

    def __init__(self, name: str, tables: list[Table], version: int = 1) -> None:
        if version < 1:
            raise ValueError(f"projection {name}: versions start at 1")
        self.name = name
        self.tables = tables
        self.version = version
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
        """Register a handler of these events. A second handler of an event type runs after
        the first (in the order of registration), so one module may keep several concerns
        apart without one silently replacing the other."""
        def register(handler: Handler) -> Handler:
            for cls in event_classes:
                topic = get_topic(cls)
                earlier = self.handlers.get(topic)
                self.handlers[topic] = handler if earlier is None else _in_turn(earlier, handler)
            return handler

        return register

    def tables_of(self, version: int) -> dict[str, Table]:
        """The physical tables of a build version (not the logic `version`)."""
        if version not in self._versions:
            self._versions[version] = physical_tables(self.tables, version)
        return self._versions[version]

    @property
    def fingerprint(self) -> str:
        """What a build of this projection was made with: the logic version and the shape
        of the tables. A live build whose fingerprint differs is built again."""
        return self.fingerprint_at(self.version)

    def fingerprint_at(self, version: int) -> str:
        shape = [(table.name, [_column(column) for column in table.columns])
                 for table in sorted(self.tables, key=lambda t: t.name)]
        return f"{version}:{hashlib.sha256(repr(shape).encode()).hexdigest()[:24]}"


def _column(column: Any) -> tuple[Any, ...]:
    """A column as its fingerprint sees it: name, kind and details of its type, keys. Built from
    plain values, not SQLAlchemy's reprs, so an upgrade of the library changes no fingerprint."""
    kind = column.type
    details = tuple((name, getattr(kind, name)) for name in TYPE_DETAILS if hasattr(kind, name))
    return column.name, type(kind).__name__, details, bool(column.primary_key), bool(column.nullable)
