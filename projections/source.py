"""What the projector needs of an event store, as an interface: the event store of the write
side provides it, and so can a test's fake or another application."""

from __future__ import annotations

from typing import Any, Protocol

from eventsourcing.persistence import ApplicationRecorder, Mapper
from sqlalchemy.engine import Engine


class EventSource(Protocol):
    """The notifications after a position and the head (the library's `ApplicationRecorder`:
    `select_notifications`, `max_notification_id`), their decoding (its `Mapper`), and the
    engine of the database the read models are written to, beside the events."""

    @property
    def recorder(self) -> ApplicationRecorder: ...

    @property
    def mapper(self) -> Mapper[Any]: ...

    @property
    def engine(self) -> Engine: ...
