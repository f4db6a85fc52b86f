"""`Idempotency-Key` on every command: a phone on a weak network may send a visit or a payment
again, not knowing whether the first one arrived. With the same key the repeat gets the first
answer again — status, headers and body — and the command does not run twice.

How it works, per person (the signed-in principal; a request without a valid session is not
remembered, its route answers 401) and key:

- The first request inserts a *pending* row (`crm_idempotency_keys`, shared by every API
  process through the database); an insert that finds the row there tells a repeat it is one.
  The first runs the command, keeps the answer in the row, and only then sends it, so a client
  that saw any answer gets that answer on a retry.
- A repeat of a finished request answers the kept answer, marked `Idempotent-Replayed: true`.
  A repeat of a running one waits for it (polling, at most `WAIT_SECONDS`), then answers as it
  did, or 409 `idempotency_in_progress` when it is still running.
- The same key with another request (method, path, query, media type or body differ) is
  refused with 422 `idempotency_key_reused`: a key names one request.
- Only answers that are the command's decision on the request are kept: 2xx, and the 4xx
  refusals of the request or of the domain rules (400, 404, 409, 413, 415, 422, ...). Answers
  about the caller (401 who, 403 may they: roles and owners change, 429 the throttle), 5xx and
  503 (try again) free the key, so a retry runs the command.
- A key is kept for `KEEP` (24 hours by the service's clock) from its first use; after that
  it is forgotten and a repeat runs again. Rows past their day are deleted lazily.
- A pending row whose run started more than `TAKEOVER` ago is taken over by a repeat (its
  process died), which runs the command.

A pure ASGI middleware: it sits inside the body limit (an oversized body is refused before it
is read here) and inside the operation log, which records a replay like any other request,
with `op_replayed` set in the request state. Requests that hand out credentials (sign-in, a
password change, which answers a new token, stream tickets) are not commands in this sense:
their answers are never kept, and the header is ignored there."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
from python_multipart.multipart import MultipartParser, parse_options_header
from sqlalchemy import and_, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aggregates.errors import E_
from api.deps import current_session
from api.errors import ApiError, error_response
from api.limits import replaying
from commands.bootstrap import Service
from readmodels.i18n import negotiate, t
from readmodels.tables.idempotency import idempotency_keys as keys

log = logging.getLogger("crm.idempotency")

HEADER = b"idempotency-key"
REPLAYED = b"idempotent-replayed"
COMMAND_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Under the API prefix: requests whose answer is a credential. Never kept (a token at rest in
# a table is a token anyone reading it can use); their header is ignored.
NOT_COMMANDS = ("/auth/token", "/auth/refresh", "/me/password", "/stream/tickets")
KEY_MAX = 255
KEEP = timedelta(hours=24)
TAKEOVER = timedelta(minutes=10)
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.05
# Answers larger than this are sent as they come and not kept (a retry runs again); command
# answers are small JSON documents, far below it.
ANSWER_LIMIT = 4 * 1024 * 1024
# Answers about the caller, not the command's decision on the request.
NOT_KEPT = {401, 403, 407, 408, 429}
# Headers a kept answer does not repeat: they are the moment's, not the answer's.
MOMENTARY = {b"date", b"server", b"set-cookie"}
SWEEP_EVERY_SECONDS = 60.0

MSG_FORMAT = E_("the Idempotency-Key header must be 1 to {max} printable ASCII characters")
MSG_SEVERAL = E_("send one Idempotency-Key header, not several")
MSG_REUSED = E_("this Idempotency-Key was used for a different request; use a new key for a new request")
MSG_RUNNING = E_("the request with this Idempotency-Key is still running; try again shortly")


@dataclass(frozen=True)
class Kept:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


@dataclass(frozen=True)
class Outcome:
    """What a claim found: `run` (this request runs the command), `kept` (answer it again),
    `reused` (the key names another request), `pending` (another run has it) or `gone` (the
    row a repeat waited on was let go)."""

    kind: str
    kept: Kept | None = None


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class KeptAnswers:
    """The rows of `crm_idempotency_keys`: claim a key, keep its answer, or let it go."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert

    def claim(self, person_id: str, key: str, fingerprint: str, now: datetime, owner: str,
              insert: bool = True) -> Outcome:
        """Insert the pending row, or find what holds the key. `insert=False` only looks (a
        repeat waiting for a run), and answers `gone` when the row is not there any more."""
        now = _utc(now)
        for _ in range(8):  # each round ends in an answer unless the row changed under it
            if insert:
                with self.engine.begin() as conn:
                    inserted = conn.execute(self._insert(keys).values(
                        person_id=person_id, key=key, fingerprint=fingerprint, created_at=now, claimed_at=now,
                        owner=owner).on_conflict_do_nothing(index_elements=["person_id", "key"])).rowcount
                if inserted == 1:
                    return Outcome("run")
            with self.engine.connect() as conn:
                row = conn.execute(select(keys).where(keys.c.person_id == person_id, keys.c.key == key)).first()
            if row is None:  # let go a moment ago
                if not insert:
                    return Outcome("gone")
                continue
            same = and_(keys.c.person_id == person_id, keys.c.key == key, keys.c.owner == row.owner)
            if _utc(row.created_at) <= now - KEEP:
                with self.engine.begin() as conn:  # past its day: forgotten
                    conn.execute(delete(keys).where(same))
                continue
            if row.fingerprint != fingerprint:
                return Outcome("reused")
            if row.status is not None:
                headers = [(name.encode("latin-1"), value.encode("latin-1"))
                           for name, value in json.loads(row.headers or "[]")]
                return Outcome("kept", Kept(int(row.status), headers, bytes(row.body or b"")))
            if _utc(row.claimed_at) <= now - TAKEOVER:
                with self.engine.begin() as conn:  # its run died: take it over
                    taken = conn.execute(update(keys).where(same, keys.c.status.is_(None))
                                         .values(owner=owner, claimed_at=now)).rowcount
                if taken == 1:
                    return Outcome("run")
                continue
            return Outcome("pending")
        return Outcome("pending")

    def keep(self, person_id: str, key: str, owner: str, answer: Kept) -> None:
        headers = json.dumps([(n.decode("latin-1"), v.decode("latin-1")) for n, v in answer.headers])
        with self.engine.begin() as conn:
            done = conn.execute(update(keys).where(keys.c.person_id == person_id, keys.c.key == key,
                                                   keys.c.owner == owner)
                                .values(status=answer.status, headers=headers, body=answer.body)).rowcount
        if done != 1:
            log.warning("the answer for an idempotency key was not kept: another run took the key over")

    def release(self, person_id: str, key: str, owner: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(keys).where(keys.c.person_id == person_id, keys.c.key == key,
                                            keys.c.owner == owner))

    def sweep(self, now: datetime) -> int:
        """Forget every key past its day."""
        with self.engine.begin() as conn:
            return int(conn.execute(delete(keys).where(keys.c.created_at <= _utc(now) - KEEP)).rowcount or 0)


# ---- the request ----------------------------------------------------------------------------


def key_problem(values: list[bytes]) -> str | None:
    """Why the header's values are not one acceptable key (a message id), or None."""
    if len(values) > 1:
        return MSG_SEVERAL
    value = values[0]
    if not 1 <= len(value) <= KEY_MAX or any(not 0x20 <= byte <= 0x7E for byte in value):
        return MSG_FORMAT
    return None


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return (token.strip() or None) if scheme.lower() == "bearer" else None
    return None


def _header(scope: Scope, name: bytes) -> bytes:
    return next((v for k, v in scope.get("headers", []) if k.lower() == name), b"")


def _feed(digest: Any, *parts: bytes) -> None:
    """Each part with its length in front, so no two different sequences hash alike."""
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)


def fingerprint(scope: Scope, body: bytes) -> str:
    """The request as it matters to its command: method, path, query, media type and body. A
    multipart body is read part by part (names, file names, types, contents), since a client
    that sends a form again makes a new boundary for it; any other body counts byte for byte."""
    digest = hashlib.sha256()
    media, params = parse_options_header(_header(scope, b"content-type"))
    media = media.strip().lower()
    _feed(digest, scope["method"].encode(), scope["path"].encode("utf-8", "surrogatepass"),
          scope.get("query_string", b""), media)
    parts = _multipart_digest(body, params.get(b"boundary")) if media == b"multipart/form-data" else None
    if parts is None:
        _feed(digest, b"raw", body)
    else:
        _feed(digest, b"parts", parts)
    return digest.hexdigest()


def _multipart_digest(body: bytes, boundary: bytes | None) -> bytes | None:
    """A digest of a multipart body's parts in order, boundary left out; None when it cannot be
    read as multipart (it is then compared byte for byte, and the route refuses it)."""
    if not boundary:
        return None
    digest = hashlib.sha256()
    current: dict[str, Any] = {}

    def begin() -> None:
        current.update(headers=[], field=b"", value=b"", data=hashlib.sha256(), size=0)

    def header_field(data: bytes, start: int, end: int) -> None:
        current["field"] += data[start:end]

    def header_value(data: bytes, start: int, end: int) -> None:
        current["value"] += data[start:end]

    def header_end() -> None:
        current["headers"].append((current["field"].strip().lower(), current["value"].strip()))
        current["field"], current["value"] = b"", b""

    def part_data(data: bytes, start: int, end: int) -> None:
        current["data"].update(data[start:end])
        current["size"] += end - start

    def end() -> None:
        for name, value in sorted(current["headers"]):
            _feed(digest, b"h", name, value)
        _feed(digest, b"d", str(current["size"]).encode(), current["data"].digest())

    parser = MultipartParser(boundary, {  # type: ignore[arg-type]
        "on_part_begin": begin, "on_header_field": header_field, "on_header_value": header_value,
        "on_header_end": header_end, "on_part_data": part_data, "on_part_end": end})
    try:
        parser.write(body)
        parser.finalize()
    except ValueError:  # a malformed multipart: every python-multipart error is a ValueError
        return None
    return digest.digest()


# ---- the middleware ---------------------------------------------------------------------


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, service: Service, prefix: str) -> None:
        self.app = app
        self.service = service
        self.prefix = prefix
        self.answers = KeptAnswers(service.store.engine)
        self._next_sweep = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        values = [v for k, v in scope.get("headers", []) if k.lower() == HEADER] if scope["type"] == "http" else []
        if (not values or scope["method"] not in COMMAND_METHODS or not path.startswith(self.prefix)
                or path[len(self.prefix):].rstrip("/") in NOT_COMMANDS):
            await self.app(scope, receive, send)
            return
        locale = negotiate(_header(scope, b"accept-language").decode("latin-1") or None)
        problem = key_problem(values)
        if problem is not None:
            await _refuse(scope, receive, send, 422, "validation_error",
                          t(problem, domain="errors", locale=locale, max=KEY_MAX), field="Idempotency-Key",
                          details={"max_length": KEY_MAX})
            return
        token = bearer_token(scope)
        if token is None:  # anonymous: nothing to remember it by; the route answers 401
            await self.app(scope, receive, send)
            return
        try:
            session = await run_in_threadpool(current_session, self.service, token)
        except ApiError:
            await self.app(scope, receive, send)
            return
        except DBAPIError as error:
            await _unavailable_or_raise(error, scope, receive, send, locale)
            return
        person_id, key = session.viewer.person_id, values[0].decode("ascii")

        body, disconnected = await _read_body(receive)
        if disconnected:
            return
        fingerprinted = await run_in_threadpool(fingerprint, scope, body)
        await self._sweep()
        owner = uuid.uuid4().hex
        try:
            found = await self._turn(person_id, key, fingerprinted, owner)
        except DBAPIError as error:
            await _unavailable_or_raise(error, scope, receive, send, locale)
            return
        if found.kind == "kept" and found.kept is not None:
            scope.setdefault("state", {})["op_replayed"] = True
            await _send_kept(send, found.kept)
        elif found.kind == "reused":
            await _refuse(scope, receive, send, 422, "idempotency_key_reused",
                          t(MSG_REUSED, domain="errors", locale=locale), field="Idempotency-Key")
        elif found.kind == "pending":
            await _refuse(scope, receive, send, 409, "idempotency_in_progress",
                          t(MSG_RUNNING, domain="errors", locale=locale), field="Idempotency-Key",
                          headers={"Retry-After": "1"})
        else:
            await self._run(scope, replaying(body, receive), send, person_id, key, owner)

    async def _turn(self, person_id: str, key: str, fingerprinted: str, owner: str) -> Outcome:
        """Claim the key, or wait (at most WAIT_SECONDS) while another run holds it: `run`, `kept`,
        `reused`, or `pending` when the other run is still going at the end of the wait."""
        deadline, insert = time.monotonic() + WAIT_SECONDS, True
        while True:
            found = await run_in_threadpool(self.answers.claim, person_id, key, fingerprinted,
                                            self.service.deps.clock.now(), owner, insert)
            if found.kind == "gone":  # the run let the key go (its answer is not kept): run it here
                insert = True
                continue
            if found.kind != "pending" or time.monotonic() >= deadline:
                return found
            insert = False  # wait for the run, reading only
            await anyio.sleep(POLL_SECONDS)

    async def _run(self, scope: Scope, receive: Receive, send: Send, person_id: str, key: str, owner: str) -> None:
        """Run the command, keep its answer if it is one to keep, then send it."""
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0
        passing = False  # the answer is not kept: messages go straight through
        settled = False  # the row holds the answer, or was let go

        async def settle(answer: Kept | None) -> None:
            nonlocal settled
            settled = True
            with anyio.CancelScope(shield=True):
                try:
                    if answer is None:
                        await run_in_threadpool(self.answers.release, person_id, key, owner)
                    else:
                        await run_in_threadpool(self.answers.keep, person_id, key, owner, answer)
                except Exception:  # the answer still goes out; an unkept key is only forgotten
                    log.exception("could not keep or let go of an idempotency key")

        async def buffered(message: Message) -> None:
            nonlocal start, size, passing
            if passing:
                await send(message)
                return
            if message["type"] == "http.response.start":
                start = message
                if not _kept_status(int(message["status"])):
                    passing = True
                    await settle(None)
                    await send(message)
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = bool(message.get("more_body", False))
            if size > ANSWER_LIMIT:
                passing = True
                await settle(None)
                await send(start)
                await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": more})
                return
            if more:
                return
            whole = b"".join(chunks)
            headers = [(bytes(n).lower(), bytes(v)) for n, v in start.get("headers", [])]
            await settle(Kept(int(start["status"]), [(n, v) for n, v in headers if n not in MOMENTARY], whole))
            await send(start)
            await send({"type": "http.response.body", "body": whole, "more_body": False})

        try:
            await self.app(scope, receive, buffered)
        finally:
            if not settled:  # failed, or ended without a whole answer: the key is free again
                await settle(None)

    async def _sweep(self) -> None:
        """Now and then, forget the keys past their day (lazily: on the way of a keyed request)."""
        if time.monotonic() < self._next_sweep:
            return
        self._next_sweep = time.monotonic() + SWEEP_EVERY_SECONDS
        try:
            await run_in_threadpool(self.answers.sweep, self.service.deps.clock.now())
        except Exception:
            log.exception("could not forget old idempotency keys")


# ---- the OpenAPI document ------------------------------------------------------------------

PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "Makes a retry safe: the same key from the same person within 24 hours answers the first "
                   "answer again (marked `Idempotent-Replayed: true`) without running the command again. "
                   "The same key with another request: 422 `idempotency_key_reused`; while the first is "
                   "still running: 409 `idempotency_in_progress`.",
    "schema": {"type": "string", "minLength": 1, "maxLength": KEY_MAX, "pattern": "^[ -~]+$"},
}


def document(openapi: dict[str, Any], prefix: str = "/api/v1") -> dict[str, Any]:
    """Name the header on every command of an OpenAPI document (in place; returned too)."""
    for path, operations in (openapi.get("paths") or {}).items():
        if not path.startswith(prefix) or path[len(prefix):].rstrip("/") in NOT_COMMANDS:
            continue
        for method, operation in operations.items():
            if method.upper() not in COMMAND_METHODS or not isinstance(operation, dict):
                continue
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("in") == "header" and str(p.get("name", "")).lower() == "idempotency-key"
                       for p in parameters if isinstance(p, dict)):
                parameters.append(dict(PARAMETER))
    return openapi


def _kept_status(status: int) -> bool:
    return 200 <= status < 300 or (400 <= status < 500 and status not in NOT_KEPT)


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    chunks, more = [], True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"", True
        chunks.append(message.get("body", b""))
        more = bool(message.get("more_body", False))
    return b"".join(chunks), False




async def _unavailable_or_raise(error: DBAPIError, scope: Scope, receive: Receive, send: Send,
                               locale: str) -> None:
    """The database went away while the key was looked up: 503, as the routes answer it
    (api/errors.py), since here, outside the routes, their handlers do not reach. Any other
    database error is a fault of ours, raised as one."""
    if not isinstance(error, OperationalError | InterfaceError) and not error.connection_invalidated:
        raise error
    log.warning("database unavailable for an idempotency key: %s", error)
    await _refuse(scope, receive, send, 503, "unavailable",
                  t(E_("the database is not available; try again"), domain="errors", locale=locale),
                  headers={"Retry-After": "1"})


async def _send_kept(send: Send, kept: Kept) -> None:
    await send({"type": "http.response.start", "status": kept.status,
                "headers": [*kept.headers, (REPLAYED, b"true")]})
    await send({"type": "http.response.body", "body": kept.body, "more_body": False})


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str,
                  field: str | None = None, details: dict[str, Any] | None = None,
                  headers: dict[str, str] | None = None) -> None:
    await error_response(status, code, message, field, details, headers)(scope, receive, send)
