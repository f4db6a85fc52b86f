"""Time comes from an injectable clock, so tests can travel in time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from threading import Lock

from commands.ports import Clock

__all__ = ["Clock", "ManualClock", "SystemClock"]


class SystemClock(Clock):
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock(Clock):
    """A clock that stands still until moved; for tests and back-fills."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._lock = Lock()

    def now(self) -> datetime:
        with self._lock:
            # Strictly increasing, so events of one aggregate never share a moment.
            self._now += timedelta(microseconds=1)
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment

    def advance(self, **delta: float) -> None:
        with self._lock:
            self._now += timedelta(**delta)
