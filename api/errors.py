"""One place that turns refusals into the error shape of API.md; never a 500 for bad input."""

from __future__ import annotations

import logging
import unicodedata
from typing import Any
from urllib.parse import parse_qsl

from eventsourcing.persistence import InterfaceError as StoreInterfaceError
from eventsourcing.persistence import OperationalError as StoreOperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError as SqlDBAPIError
from sqlalchemy.exc import InterfaceError as SqlInterfaceError
from sqlalchemy.exc import OperationalError as SqlOperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from aggregates.base import DomainError

log = logging.getLogger("crm.api")

STATUS = {"invalid": 422, "conflict": 409, "forbidden": 403, "not_found": 404, "unsupported": 415,
          "too_large": 413}
HTTP_CODES = {
    400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    422: "validation_error", 429: "too_many_attempts", 503: "unavailable",
}


class ApiError(Exception):
    """An error raised at the edge (authentication, lag) with its status and code."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 details: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.field, self.details, self.headers = field, details or {}, headers


def error_response(status: int, code: str, message: str, field: str | None = None,
                   details: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "field": field, "details": details or {}}}
    return JSONResponse(status_code=status, content=body, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return error_response(STATUS.get(exc.kind, 422), exc.code, exc.message, exc.field, exc.details)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.field, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path", "header")]
        details = {"errors": [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg")), "type": str(e.get("type"))}
            for e in errors
        ]}
        return error_response(
            422, "validation_error", str(first.get("msg", "invalid request")),
            ".".join(location) or None, details,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "error")
        return error_response(exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(StoreOperationalError)
    @app.exception_handler(StoreInterfaceError)
    @app.exception_handler(SqlOperationalError)
    @app.exception_handler(SqlInterfaceError)
    async def unavailable(_: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", exc)
        return _unavailable()

    @app.exception_handler(SqlDBAPIError)
    async def database_error(request: Request, exc: SqlDBAPIError) -> JSONResponse:
        """A lost connection (a database restart, say) is an outage: 503, try again. Anything
        else from the database is a fault of ours, and is raised as one."""
        if exc.connection_invalidated:
            log.warning("database connection lost: %s", exc)
            return _unavailable()
        raise exc


def _unavailable() -> JSONResponse:
    return error_response(503, "unavailable", "the database is not available; try again",
                          headers={"Retry-After": "1"})


def _control(text: str) -> str | None:
    """The first control character (Cc: NUL, C0 and C1 controls; Cs: a lone surrogate) in the text."""
    return next((ch for ch in text if unicodedata.category(ch) in ("Cc", "Cs")), None)


def control_character(scope: Scope) -> tuple[str, str] | None:
    """(the parameter, the character) of the first control character in the request's path or
    query parameters, decoded as the routes read them; None when there is none."""
    found = _control(scope.get("path", ""))
    if found is not None:
        return "path", found
    query = scope.get("query_string", b"").decode("latin-1")
    for key, value in parse_qsl(query, keep_blank_values=True):
        found = _control(key) or _control(value)
        if found is not None:
            return (key if _control(key) is None else "query"), found
    return None


class PlainParametersMiddleware:
    """One check for every query parameter and path segment of every route: no control
    characters. They mean nothing in a search, a filter or an id, and PostgreSQL cannot take
    a NUL in a text at all, so they are refused with 422 `control_character` naming the
    parameter, before any route reads them. Bodies are the schemas' and aggregates' to check."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refused = control_character(scope) if scope["type"] == "http" else None
        if refused is None:
            await self.app(scope, receive, send)
            return
        field, ch = refused
        response = error_response(422, "control_character", f"{field} contains a control character "
                                  f"(U+{ord(ch):04X})", field)
        await response(scope, receive, send)
