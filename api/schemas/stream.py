"""Schemas of api/routes/stream.py: the ticket that opens a live-update stream, and the data of
the stream's events (serialised into each event's `data:` line)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class StreamTicket(BaseModel):
    """A single-use ticket for `GET /api/v1/stream?ticket=…`, valid until `expires_at`."""

    ticket: str = Field(description="opaque; pass it once, as the stream's `ticket` query parameter")
    expires_at: datetime


class StreamChange(BaseModel):
    """A record that changed: its kind (customer, contract, product, stock, person, department,
    settings, approval, problem, target, work_report, warehouse_request) and its id (for stock:
    the product's)."""

    kind: str
    id: str


class StreamChanges(BaseModel):
    """The `change` event: the read models have reached `position`, and these records, which
    the viewer may see (or just lost sight of), changed since the previous event."""

    position: int
    changes: list[StreamChange]


class StreamPosition(BaseModel):
    """The `ready`, `ping` and `reset` events: where the read models stand; `reset` gives the
    reason the changes cannot be told (`too_far_behind`, `unknown_position`)."""

    position: int
    reason: str | None = None


class StreamEnd(BaseModel):
    """The `end` event, the last of a stream whose session is over; `code` as in the errors
    (`session_ended`, `token_expired`, `invalid_token`)."""

    code: str
