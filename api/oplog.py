"""The operation log (H-5, R-8): one ASGI middleware records every command that reaches the
API — accepted, refused (401, 403, 404, 409, 413, 422) or failed — with the actor, the time,
the operation (named by its command, `api/oplog_names.py`, with its method and route
beside the name), its target, the outcome and the error code; every export, which the routes
mark with `request.state.op_export`; and every other request under the API that is refused
or fails, reads and refused exports among them. Text is stored as the database can hold it.
Entries are chained and sealed like the events (projections/chain.py)."""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

import jwt
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import bindparam, text
from starlette.concurrency import run_in_threadpool
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.oplog_names import operation_name
from commands.adapters.infra import operation_log
from commands.bootstrap import Service

log = logging.getLogger("crm.oplog")
COMMAND_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
BODY_LIMIT = 65536
TARGET_KEYS = ("id", "approval_id", "visit_id", "delivery_id", "return_id", "exchange_id", "import_id")
# What no text column stores: NUL (PostgreSQL refuses it) and lone surrogates (not UTF-8).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: Any, limit: int) -> str | None:
    """The text as the log's columns can hold it: unstorable characters become U+FFFD, and
    at most `limit` characters are kept."""
    if value is None:
        return None
    return UNSTORABLE.sub("\ufffd", str(value))[:limit]


def outcome_of(status: int) -> str:
    if status < 400:
        return "accepted"
    return "refused" if status < 500 and status != 503 else "failed"


class OperationLogMiddleware:
    def __init__(self, app: ASGIApp, service: Service, prefix: str) -> None:
        self.app = app
        self.service = service
        self.prefix = prefix
        # (pattern, methods, template, endpoint) of every route, made on first need.
        self._routes: list[tuple[re.Pattern[str], set[str], str, Any]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = 500
        body = bytearray()
        json_body = False

        async def capture(message: Message) -> None:
            nonlocal status, json_body
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = {k.lower(): v for k, v in message.get("headers", [])}
                json_body = headers.get(b"content-type", b"").startswith(b"application/json")
            elif message["type"] == "http.response.body" and json_body and len(body) < BODY_LIMIT:
                body.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            # Commands, reads that take data out of the system (exports, which the routes
            # mark), and every request refused or failed are recorded.
            exported = bool((scope.get("state") or {}).get("op_export"))
            if scope["method"] in COMMAND_METHODS or exported or status >= 400:
                await self._record(scope, status, bytes(body) if json_body else b"", started, exported)

    async def _record(self, scope: Scope, status: int, body: bytes, started: float,
                      exported: bool = False) -> None:
        try:
            entry = self._entry(scope, status, body, started, exported)
            await run_in_threadpool(self._write, entry)
        except Exception:  # the log must never break the command it records
            log.exception("could not write the operation log")

    def _entry(self, scope: Scope, status: int, body: bytes, started: float,
               exported: bool = False) -> dict[str, Any]:
        state = scope.get("state") or {}
        route = scope.get("route")
        endpoint = getattr(route, "endpoint", None)
        template = getattr(route, "path", None)
        if template is None:
            # Refused before routing (too large, bad parameters): the route it was meant for.
            template, endpoint = self._match(scope)
        if not template.startswith(self.prefix):
            template = self.prefix + template
        route_text = f"{scope['method']} {template}"
        try:
            answer = json.loads(body) if body else {}
        except ValueError:
            answer = {}
        error = answer.get("error") if isinstance(answer, dict) else None
        target = state.get("op_target") or _target(scope.get("path_params") or {}, answer)
        return {
            "at": self.service.deps.clock.now(),
            "actor_id": storable(state.get("op_actor") or self._actor(scope), 36),
            "method": storable(scope["method"], 10),
            "operation": storable(operation_name(route_text, endpoint, exported), 200),
            "route": storable(route_text, 200),
            "path": storable(scope["path"], 500),
            "target_id": storable(target, 200) if target else None,
            "status": status,
            "outcome": outcome_of(status),
            "error_code": storable(error.get("code"), 64) if isinstance(error, dict) else None,
            "message": storable(error.get("message"), 500) if isinstance(error, dict) else None,
            "position": answer.get("position") if isinstance(answer, dict) and
            isinstance(answer.get("position"), int) else None,
            "duration_ms": int((time.monotonic() - started) * 1000),
        }

    def _match(self, scope: Scope) -> tuple[str, Any]:
        """The template and function of the route the request's method and path match, or
        the path itself and None when none does."""
        if self._routes is None:
            self._routes = [
                (compile_path(context.path_format)[0], set(context.original_route.methods or ()),
                 context.path_format, context.original_route.endpoint)
                for context in iter_route_contexts(getattr(scope.get("app"), "routes", []))
                if isinstance(context.original_route, APIRoute) and context.path_format]
        for pattern, methods, template, endpoint in self._routes:
            if scope["method"] in methods and pattern.match(scope["path"]):
                return template, endpoint
        return scope["path"], None

    def _actor(self, scope: Scope) -> str | None:
        """The token's person, if the token is genuine (expired or not: the attempt is theirs)."""
        for name, value in scope.get("headers", []):
            if name.lower() == b"authorization" and value[:7].lower() == b"bearer ":
                try:
                    claims = jwt.decode(value[7:].decode("latin-1"), self.service.config.secret_key,
                                        algorithms=["HS256"], options={"verify_exp": False})
                except jwt.PyJWTError:
                    return None
                subject = claims.get("sub")
                return str(subject)[:36] if subject else None
        return None

    def _write(self, entry: dict[str, Any]) -> None:
        with self.service.store.engine.begin() as conn:
            if conn.dialect.name != "postgresql":
                conn.execute(operation_log.insert().values(**entry))
                return
            # Entries commit in the order of their ids, one at a time (SQLite has one writer
            # anyway): the log's hash chain (projections/chain.py) then never passes an id that
            # a slower request is still to commit. Reads are not blocked. The lock and the
            # insert go as one statement string, so the lock is not held while this thread
            # waits for the interpreter between them.
            columns = sorted(entry)
            conn.execute(text(
                f"LOCK TABLE {operation_log.name} IN SHARE ROW EXCLUSIVE MODE; "
                f"INSERT INTO {operation_log.name} ({', '.join(columns)}) "
                f"VALUES ({', '.join(':' + c for c in columns)})"
            ).bindparams(*(bindparam(c, type_=operation_log.c[c].type) for c in columns)), entry)


def _target(path_params: dict[str, Any], answer: Any) -> str | None:
    if path_params:
        return "/".join(str(v) for v in path_params.values())
    if isinstance(answer, dict):
        for key in TARGET_KEYS:
            if isinstance(answer.get(key), str):
                return str(answer[key])
    return None
