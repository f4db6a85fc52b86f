"""Live updates: a Server-Sent Events stream that tells a client when the read models advance and
which records it may see changed (kinds and ids only), with the position to read them at
(`X-Min-Position`).

A browser's EventSource sends no header, so the stream is opened with a short-lived,
single-use ticket (`POST /stream/tickets`, signed in as every route), never with the access
token in the URL. Tickets live in the database, so one process issues what another redeems.

Each process runs one poller (`Hub`) while it has streams open: every CRM_STREAM_POLL_SECONDS it
reads the read models' position (the lowest of the projections' tracked positions, the one
`X-Min-Position` waits for) from the database, which all processes share in the distributed
mode, and the records the events up to there changed from the event store's notification log;
it hands them to every open stream, which keeps those its viewer may see. A change is thus
announced only once every read model has applied it. A stream that missed batches (a slow
client, a poller restarted) reads what it missed itself, from its own last position.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sse_starlette.sse import EventSourceResponse, ServerSentEvent

from aggregates.errors import E_
from api.deps import CurrentSession, ServiceDep, person_from_events
from api.errors import ApiError
from api.schemas.stream import StreamChange, StreamChanges, StreamEnd, StreamPosition, StreamTicket
from commands.actor import Actor
from commands.bootstrap import Service
from readmodels.org import get_person
from readmodels.stream import (
    Change,
    Ticket,
    TicketRefused,
    issue_ticket,
    read_changes,
    redeem_ticket,
    visible,
)

log = logging.getLogger("crm.stream")
router = APIRouter(tags=["stream"])

# A stream that would have to read more events than this to catch up is sent `reset` instead
# (reload what you show, then follow the stream again).
BACKLOG = 1000
# Batches an open stream may have waiting; when it falls further behind it drops the oldest
# and reads what it missed from its own position.
QUEUE = 64
TICKET_REFUSALS = {  # message ids of the `errors` catalogue
    "invalid_ticket": E_("the ticket is not valid"),
    "ticket_used": E_("the ticket has been used already; ask for a new one"),
    "ticket_expired": E_("the ticket has expired; ask for a new one"),
}
EXAMPLE = ('id: 1234\nevent: change\ndata: {"position": 1234, "changes": '
           '[{"kind": "customer", "id": "7f0c…"}]}\n\n')


# ---- the poller, one per process ----------------------------------------------------------------

@dataclass(frozen=True)
class Batch:
    """The read models went from `start` to `end`; `changes` between them, or None when the
    poller did not read them (too many, or its first look): each stream reads its own."""

    start: int
    end: int
    changes: list[Change] | None


@dataclass(eq=False)
class Subscriber:
    queue: asyncio.Queue[Batch] = field(default_factory=lambda: asyncio.Queue(QUEUE))

    def put(self, batch: Batch) -> None:
        if self.queue.full():
            self.queue.get_nowait()  # the stream notices the gap and reads it itself
        self.queue.put_nowait(batch)


class Hub:
    """Polls the read models' position for the streams open in this process and fans the
    changes out to them; runs while at least one stream is open."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.subscribers: set[Subscriber] = set()
        self.task: asyncio.Task[None] | None = None

    def subscribe(self) -> Subscriber:
        subscriber = Subscriber()
        self.subscribers.add(subscriber)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run(), name="crm-stream-hub")
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    async def _run(self) -> None:
        seen: int | None = None
        every = max(0.05, self.service.config.stream_poll_seconds)
        while self.subscribers:
            try:
                now = await asyncio.to_thread(read_model_position, self.service)
                if seen is None or now > seen:
                    changes = None
                    if seen is not None and now - seen <= BACKLOG:
                        changes = await asyncio.to_thread(read_changes, self.service.store, seen, now)
                    batch = Batch(now if seen is None else seen, now, changes)
                    seen = now
                    for subscriber in list(self.subscribers):
                        subscriber.put(batch)
            except Exception:  # the database may be away for a moment; the next round retries
                log.warning("the stream's poll failed", exc_info=True)
            await asyncio.sleep(every)


def hub_of(request: Request) -> Hub:
    hub: Hub | None = getattr(request.app.state, "stream_hub", None)
    if hub is None:
        hub = Hub(request.app.state.service)
        request.app.state.stream_hub = hub
    return hub


def read_model_position(service: Service) -> int:
    """The position every read model has applied: what `X-Min-Position` waits for."""
    return min(service.projector.positions().values(), default=0)


# ---- the routes ---------------------------------------------------------------------------------

@router.post("/stream/tickets", response_model=StreamTicket, status_code=status.HTTP_201_CREATED)
def stream_ticket(service: ServiceDep, session: CurrentSession) -> StreamTicket:
    """A ticket that opens one live-update stream (`GET /stream?ticket=…`) as you, once, within
    CRM_STREAM_TICKET_SECONDS (60 s by default). The stream lasts as long as this session."""
    viewer = session.viewer
    with service.store.engine.connect() as conn:
        version = service.deps.credentials.session_version(conn, viewer.person_id)
    ticket, expires_at = issue_ticket(
        service.store.engine, viewer.person_id, session.token_id, version, session.expires_at,
        service.deps.clock.now(), timedelta(seconds=service.config.stream_ticket_seconds))
    return StreamTicket(ticket=ticket, expires_at=expires_at)


@router.get(
    "/stream", response_class=Response,
    responses={200: {"description": "the event stream (text/event-stream): `ready`, `change`, `ping`, "
                     "`reset` and `end` events, each with the position as its `id`",
                     "content": {"text/event-stream": {"schema": {"type": "string"}, "example": EXAMPLE}}}})
async def stream(
    request: Request, service: ServiceDep,
    ticket: Annotated[str | None, Query(max_length=1000,
                                        description="from POST /stream/tickets; used once")] = None,
    last_event_id: Annotated[str | None, Query(
        max_length=40, description="resume after this position (for a new EventSource, which sends no "
        "Last-Event-ID header); the header wins")] = None,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID", max_length=40)] = None,
) -> Response:
    """Server-Sent Events: when the read models advance, a `change` event names the records you
    may see that changed (kind and id), with the position (`id:` and `data.position`) to read
    them at with `X-Min-Position`. Resumes after `Last-Event-ID`; a `reset` event when that is
    too far behind. Opened with a ticket, never the access token."""
    if "access_token" in request.query_params or "token" in request.query_params:
        raise ApiError(400, "token_in_url", "never put the access token in a URL; open the stream with a "
                       "ticket from POST /api/v1/stream/tickets", field="access_token")
    if not ticket:
        raise ApiError(401, "ticket_required", "open the stream with a ticket from POST /api/v1/stream/tickets",
                       field="ticket")
    viewer, session = await run_in_threadpool(open_session, service, ticket)
    resume = last_event_id_header if last_event_id_header is not None else last_event_id
    return EventSourceResponse(
        events(request, service, viewer, session, resume), ping=600, sep="\n",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def open_session(service: Service, ticket: str) -> tuple[Actor, Ticket]:
    """Redeem the ticket and fix the stream's viewer as the person stands now."""
    try:
        redeemed = redeem_ticket(service.store.engine, ticket, service.deps.clock.now())
    except TicketRefused as refused:
        raise ApiError(401, refused.code, TICKET_REFUSALS[refused.code], field="ticket") from None
    ended = session_problem(service, redeemed)
    if ended is not None:
        raise ApiError(401, ended, "this session has ended; sign in again", field="ticket")
    with service.store.engine.connect() as conn:
        row = get_person(conn, redeemed.person_id)
    person = dict(row) if row is not None else person_from_events(service, redeemed.person_id)
    assert person is not None  # session_problem checked it
    viewer = Actor(person_id=person["id"], name=person["name"], roles=frozenset(person["roles"] or []),
                   department_id=person["department_id"])
    return viewer, redeemed


def session_problem(service: Service, redeemed: Ticket) -> str | None:
    """Why the ticket's session no longer holds (an error code), or None while it does."""
    if redeemed.token_expires_at <= datetime.now(UTC):
        return "token_expired"
    with service.store.engine.connect() as conn:
        row = get_person(conn, redeemed.person_id)
        version, revoked = service.deps.credentials.session_state(conn, redeemed.person_id, redeemed.token_id)
    person = dict(row) if row is not None else person_from_events(service, redeemed.person_id)
    if person is None or not person["active"]:
        return "invalid_token"
    if revoked or version != redeemed.session_version:
        return "session_ended"
    return None


def _event(kind: str, position: int, data: Any) -> ServerSentEvent:
    return ServerSentEvent(data=json.dumps(data.model_dump(exclude_none=True), ensure_ascii=False),
                           event=kind, id=str(position))


async def events(request: Request, service: Service, viewer: Actor, session: Ticket,
                 resume: str | None) -> AsyncIterator[ServerSentEvent]:
    hub = hub_of(request)
    subscriber = hub.subscribe()
    ping_every = max(0.05, service.config.stream_ping_seconds)

    def shown(changes: list[Change]) -> list[Change]:
        with service.store.engine.connect() as conn:
            return visible(conn, viewer, changes)

    async def told(start: int, end: int, changes: list[Change] | None) -> ServerSentEvent | None:
        """The event for the changes after `start` up to `end`: a `change` naming those the
        viewer sees (None when there is none), or a `reset` when they are too many to read."""
        if changes is None:
            if end - start > BACKLOG:
                return _event("reset", end, StreamPosition(position=end, reason="too_far_behind"))
            changes = await asyncio.to_thread(read_changes, service.store, start, end)
        mine = await asyncio.to_thread(shown, [c for c in changes if c.position > start]) if changes else []
        if not mine:
            return None
        return _event("change", end, StreamChanges(position=end, changes=[
            StreamChange(kind=c.kind, id=c.id) for c in mine]))

    try:
        now = await asyncio.to_thread(read_model_position, service)
        cursor = now
        after = _position(resume)
        if resume is not None:
            head = await asyncio.to_thread(service.store.head)
            if after is None or after > head:
                yield _event("reset", now, StreamPosition(position=now, reason="unknown_position"))
            elif after < now:
                first = await told(after, now, None)
                if first is not None:
                    yield first
            else:
                cursor = after  # this process's read models trail the client's last position
        yield _event("ready", cursor, StreamPosition(position=cursor))
        last_ping = time.monotonic()
        while True:
            wait = ping_every - (time.monotonic() - last_ping)
            try:
                batch = await asyncio.wait_for(subscriber.queue.get(), timeout=max(wait, 0.01))
            except TimeoutError:
                ended = await asyncio.to_thread(session_problem, service, session)
                if ended is not None:
                    yield _event("end", cursor, StreamEnd(code=ended))
                    return
                yield _event("ping", cursor, StreamPosition(position=cursor))
                last_ping = time.monotonic()
                continue
            if batch.end <= cursor:
                continue
            gap = batch.changes is None or batch.start > cursor
            event = await told(cursor, batch.end, None if gap else batch.changes)
            if event is not None:
                yield event
            cursor = batch.end
    finally:
        hub.unsubscribe(subscriber)


def _position(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        return None
    return int(value)
