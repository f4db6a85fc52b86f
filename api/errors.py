"""One place that turns refusals into the error shape of API.md; never a 500 for bad input."""

from __future__ import annotations

import logging
import unicodedata
from string import Formatter
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
from aggregates.errors import E_, fill
from readmodels.i18n import gettext, t

log = logging.getLogger("crm.api")

STATUS = {"invalid": 422, "conflict": 409, "forbidden": 403, "not_found": 404, "unsupported": 415,
          "too_large": 413}
HTTP_CODES = {
    400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    422: "validation_error", 429: "too_many_attempts", 503: "unavailable",
}


class ApiError(Exception):
    """An error raised at the edge (authentication, lag) with its status and code. Its message
    is a template of the `errors` catalogue and the values that fill it, as a `DomainError`'s."""

    def __init__(self, status: int, code: str, template: str, field: str | None = None,
                 details: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
                 **params: Any) -> None:
        if field is not None and "{field}" in template:
            params.setdefault("field", field)
        message = fill(template, params)
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.template, self.params = template, params
        self.field, self.details, self.headers = field, details or {}, headers


def localised(error: DomainError | ApiError) -> str:
    """A refusal's message in the current locale (the request's, else the business locale)."""
    try:
        return t(error.template, domain="errors", **error.params)
    except (KeyError, IndexError, ValueError):
        return error.message  # a template whose braces are not placeholders: the English as built


def localised_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A stored refusal (an import row's: `code`, `message`, and its `template` and `params` where
    kept) with its message in the current locale, and without the template and parameters."""
    shown = {k: v for k, v in entry.items() if k not in ("template", "params")}
    template = entry.get("template") or entry.get("message")
    if isinstance(template, str):
        stored = entry.get("params")
        params: dict[str, Any] = stored if isinstance(stored, dict) else {}
        try:
            shown["message"] = t(template, domain="errors", **params)
        except (KeyError, IndexError, ValueError):
            pass  # a stored message that does not fit its template: shown as stored
    return shown


def error_response(status: int, code: str, message: str, field: str | None = None,
                   details: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "field": field, "details": details or {}}}
    return JSONResponse(status_code=status, content=body, headers=headers)


# Pydantic's error types a request commonly meets, each with the message id it is shown by,
# filled from the error's `ctx`. The ids are pydantic's English (without its plural endings);
# a locale whose catalogue lacks one shows pydantic's own text, so English stays pydantic's.
VALIDATION_MESSAGES = {
    "missing": E_("Field required"),
    "extra_forbidden": E_("Extra inputs are not permitted"),
    "json_invalid": E_("Invalid JSON: {error}"),
    "json_type": E_("JSON input should be string, bytes or bytearray"),
    "model_type": E_("Input should be a valid dictionary or instance of {class_name}"),
    "model_attributes_type": E_("Input should be a valid dictionary or object to extract fields from"),
    "dict_type": E_("Input should be a valid dictionary"),
    "list_type": E_("Input should be a valid list"),
    "none_required": E_("Input should be None"),
    "string_type": E_("Input should be a valid string"),
    "string_unicode": E_("Input should be a valid string, unable to parse raw data as a unicode string"),
    "string_too_short": E_("String should have at least {min_length} characters"),
    "string_too_long": E_("String should have at most {max_length} characters"),
    "string_pattern_mismatch": E_("String should match pattern '{pattern}'"),
    "too_short": E_("{field_type} should have at least {min_length} items after validation, not {actual_length}"),
    "too_long": E_("{field_type} should have at most {max_length} items after validation, not {actual_length}"),
    "greater_than": E_("Input should be greater than {gt}"),
    "greater_than_equal": E_("Input should be greater than or equal to {ge}"),
    "less_than": E_("Input should be less than {lt}"),
    "less_than_equal": E_("Input should be less than or equal to {le}"),
    "multiple_of": E_("Input should be a multiple of {multiple_of}"),
    "finite_number": E_("Input should be a finite number"),
    "bool_type": E_("Input should be a valid boolean"),
    "bool_parsing": E_("Input should be a valid boolean, unable to interpret input"),
    "int_type": E_("Input should be a valid integer"),
    "int_parsing": E_("Input should be a valid integer, unable to parse string as an integer"),
    "int_parsing_size": E_("Unable to parse input string as an integer, exceeded maximum size"),
    "int_from_float": E_("Input should be a valid integer, got a number with a fractional part"),
    "float_type": E_("Input should be a valid number"),
    "float_parsing": E_("Input should be a valid number, unable to parse string as a number"),
    "decimal_type": E_("Decimal input should be an integer, float, string or Decimal object"),
    "decimal_parsing": E_("Input should be a valid decimal"),
    "decimal_max_digits": E_("Decimal input should have no more than {max_digits} digits in total"),
    "decimal_max_places": E_("Decimal input should have no more than {decimal_places} decimal places"),
    "decimal_whole_digits": E_("Decimal input should have no more than {whole_digits} digits before the decimal "
                               "point"),
    "date_type": E_("Input should be a valid date"),
    "date_parsing": E_("Input should be a valid date in the format YYYY-MM-DD, {error}"),
    "date_from_datetime_parsing": E_("Input should be a valid date or datetime, {error}"),
    "date_from_datetime_inexact": E_("Datetimes provided to dates should have zero time - e.g. be exact dates"),
    "datetime_type": E_("Input should be a valid datetime"),
    "datetime_parsing": E_("Input should be a valid datetime, {error}"),
    "datetime_from_date_parsing": E_("Input should be a valid datetime or date, {error}"),
    "time_type": E_("Input should be a valid time"),
    "time_parsing": E_("Input should be in a valid time format, {error}"),
    "timezone_aware": E_("Input should have timezone info"),
    "timezone_naive": E_("Input should not have timezone info"),
    "uuid_type": E_("UUID input should be a string, bytes or UUID object"),
    "uuid_parsing": E_("Input should be a valid UUID, {error}"),
    "enum": E_("Input should be {expected}"),
    "literal_error": E_("Input should be {expected}"),
    "value_error": E_("Value error, {error}"),
    "assertion_error": E_("Assertion failed, {error}"),
    "union_tag_invalid": E_("Input tag '{tag}' found using {discriminator} does not match any of the expected "
                            "tags: {expected_tags}"),
}

# Starlette's texts for the HTTP errors no route raises itself (an unknown path, a wrong method).
HTTP_MESSAGES = (
    E_("Bad Request"), E_("Unauthorized"), E_("Not authenticated"), E_("Forbidden"), E_("Not Found"),
    E_("Method Not Allowed"), E_("Not Acceptable"), E_("Conflict"), E_("Request Entity Too Large"),
    E_("Content Too Large"), E_("Unsupported Media Type"), E_("Unprocessable Entity"),
    E_("Unprocessable Content"), E_("Too Many Requests"), E_("Internal Server Error"), E_("Service Unavailable"),
)


class InvalidValue(ValueError):
    """A value a request schema's validator refuses, with its message as a template and the values
    that fill it: pydantic keeps the exception in the error's `ctx`, so the edge can translate it."""

    def __init__(self, template: str, **params: Any) -> None:
        super().__init__(fill(template, params))
        self.template, self.params = template, params


def _translated(message_id: str, **params: Any) -> str | None:
    """The message in the current locale, or None when its catalogue does not translate it."""
    if gettext(message_id, domain="errors") == message_id:
        return None
    return t(message_id, domain="errors", **params)


def validation_message(error: Any) -> str:
    """One pydantic error's message in the current locale: through the catalogue by its type and
    context; pydantic's own text where the type is not listed or the locale lacks the message."""
    raw = str(error.get("msg", "")) if isinstance(error, dict) else str(error)
    if not isinstance(error, dict):
        return raw
    message_id = VALIDATION_MESSAGES.get(str(error.get("type")))
    if message_id is None:
        return raw
    # A bound of a float field is a float (`le=90` gives 90.0); shown as pydantic shows it, 90.
    ctx = {key: int(value) if isinstance(value, float) and value.is_integer() else value
           for key, value in (error.get("ctx") or {}).items()}
    cause = ctx.get("error")
    if isinstance(cause, InvalidValue):
        ctx["error"] = t(cause.template, domain="errors", **cause.params)
    elif isinstance(cause, BaseException):
        ctx["error"] = gettext(str(cause), domain="errors")
    if any(name and name not in ctx for _, name, _, _ in Formatter().parse(message_id)):
        return raw  # pydantic did not give a value the message names
    try:
        return _translated(message_id, **ctx) or raw
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        return raw


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return error_response(STATUS.get(exc.kind, 422), exc.code, localised(exc), exc.field, exc.details)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, localised(exc), exc.field, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path", "header")]
        # `msg` stays pydantic's text, as before; `message` beside it is the same in the reader's locale.
        details = {"errors": [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg")), "type": str(e.get("type")),
             "message": validation_message(e)}
            for e in errors
        ]}
        message = validation_message(first) if errors else t(E_("invalid request"), domain="errors")
        return error_response(422, "validation_error", message, ".".join(location) or None, details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "error")
        return error_response(exc.status_code, code, gettext(str(exc.detail), domain="errors"),
                              headers=getattr(exc, "headers", None))

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
    return error_response(503, "unavailable", t(E_("the database is not available; try again"), domain="errors"),
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
        message = t(E_("{field} contains a control character (U+{codepoint:04X})"), domain="errors",
                    field=field, codepoint=ord(ch))
        response = error_response(422, "control_character", message, field)
        await response(scope, receive, send)
