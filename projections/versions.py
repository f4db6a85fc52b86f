"""Read-model rows as they were: the version tables behind the reports as of a past moment.

A version table keeps one row per state of a record's reported columns, valid from the
recorded time (`timestamp`) of the event that made it until the recorded time of the next
event that changed them. The current state's row is open (`valid_to` NULL) and keyed by the
record's id itself, so a batch reads the rows it will close by key, all at once (a `preload`
by the record id); closing one writes it again under `<record id>:<since>`, `since` being the
version of the event that made it. The projection writes a version as it writes the live row,
in the same batch and transaction, so a rebuild builds the versions too.

The state at a moment T is the rows with `valid_from <= T` and `valid_to` NULL or after T
(`readmodels.reports.past`). Two events of a record with one timestamp leave an empty
interval, which no moment selects."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table

from projections.writer import Writer
from readmodels.customers import utc


def _close(w: Writer, table: Table, current: dict[str, Any], at: datetime) -> None:
    w.put(table, **{**current, "vid": f"{current['vid']}:{current['since']}", "valid_to": at})


def close_version(w: Writer, table: Table, record_id: str, at: datetime) -> None:
    """The record's current version ends at `at` (a deletion, say); no new one begins."""
    current = w.get(table, record_id)
    if current is not None:
        _close(w, table, current, at)
        w.remove(table, record_id)


def record_version(w: Writer, table: Table, record_id: str, version: int, at: datetime,
                   **values: Any) -> None:
    """The record's state from `at` on is `values` (`version`: the event's): its current
    version, if any, closes at `at`. The same event writing twice replaces its own version.
    Unchanged values write nothing."""
    current = w.get(table, record_id)
    if current is not None:
        if current["since"] == version:
            w.set(table, (record_id,), **values)
            return
        if all(_same(current[name], value) for name, value in values.items()):
            return
        _close(w, table, current, at)
    w.put(table, vid=record_id, since=version, valid_from=at, valid_to=None, **values)


def _same(stored: Any, value: Any) -> bool:
    """SQLite hands datetimes back without their offset (UTC)."""
    if isinstance(stored, datetime) and isinstance(value, datetime):
        return utc(stored) == utc(value)
    return bool(stored == value)
