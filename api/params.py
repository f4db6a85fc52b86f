"""What every route's query parameters share: one page-size limit for every list and report,
the keyset cursors (`after` in, `next` out), and the check that refuses a query parameter the
route does not declare (a misspelt `form=` for `from=` would otherwise be silently ignored and
answer a different question).

Cursors are opaque to clients: base64url of compact JSON (the list, the sort, the last row's
key values), then a dot and a truncated HMAC-SHA256 of it under a key derived from the
service's secret, so a cursor changed by hand, cut short, from another list or for another sort
is 422 `invalid_cursor` rather than a page of something else. They hold no more than the row
keys the list shows, and stay valid across restarts and API processes sharing the secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.errors import ApiError
from commands.bootstrap import Service

# One limit for every list and report page: the largest any of them took before (reports and
# the operation log), so no request that was accepted is refused now.
MAX_PAGE_SIZE = 500
MAX_PAGE = 100_000
MAX_CURSOR = 2048
SIGNATURE_BYTES = 16

PageNo = Annotated[int, Query(ge=1, le=MAX_PAGE, description="the page, from 1 (offset paging)")]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"rows per page, 1 to {MAX_PAGE_SIZE}")]
After = Annotated[str | None, Query(
    max_length=MAX_CURSOR,
    description="keyset paging: the `next` of the previous page; the rows after it, in the same sort")]


def _key(service: Service) -> bytes:
    return hashlib.sha256(b"crm list cursor\x00" + service.config.secret_key.encode()).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def next_cursor(service: Service, listing: str, sort: str, values: list[Any] | None) -> str | None:
    """The cursor after a page whose last row has these key values; None on the last page."""
    if values is None:
        return None
    payload = json.dumps([listing, sort, values], separators=(",", ":"), ensure_ascii=False).encode()
    signature = hmac.new(_key(service), payload, hashlib.sha256).digest()[:SIGNATURE_BYTES]
    return f"{_b64(payload)}.{_b64(signature)}"


def invalid_cursor() -> ApiError:
    return ApiError(422, "invalid_cursor", "the cursor is not one this list gave for this sort", field="after")


def read_cursor(service: Service, listing: str, sort: str, after: str | None, page: int = 1) -> list[Any] | None:
    """The key values a cursor holds, checked to come from this service, this list and this sort."""
    if after is None:
        return None
    if page != 1:
        raise ApiError(422, "conflicting_parameters", "page and after cannot be combined: after starts "
                       "from the row it names", field="page")
    body, dot, tail = after.partition(".")
    try:
        if not dot or not body or not tail:
            raise ValueError
        payload, signature = _unb64(body), _unb64(tail)
    except (ValueError, binascii.Error):
        raise invalid_cursor() from None
    expected = hmac.new(_key(service), payload, hashlib.sha256).digest()[:SIGNATURE_BYTES]
    if not hmac.compare_digest(signature, expected):
        raise invalid_cursor()
    try:
        found_listing, found_sort, values = json.loads(payload)
    except (ValueError, TypeError):
        raise invalid_cursor() from None
    if found_listing != listing or found_sort != sort or not isinstance(values, list):
        raise invalid_cursor()
    return values


# ---- unknown query parameters -------------------------------------------------------------------


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def declared_query(route: APIRoute) -> frozenset[str]:
    """The query parameters a route takes: those of its function and all its dependencies, and
    those its OpenAPI extra declares for a route that reads them by hand. Worked out once per
    route and kept on it (routes compare by value, so they cannot key a cache)."""
    known: frozenset[str] | None = getattr(route, "_declared_query", None)
    if known is None:
        names = _query_names(route.dependant)
        for param in (route.openapi_extra or {}).get("parameters", []):
            if isinstance(param, dict) and param.get("in") == "query" and isinstance(param.get("name"), str):
                names.add(param["name"])
        known = frozenset(names)
        route._declared_query = known  # type: ignore[attr-defined]
    return known


E = TypeVar("E", bound=Callable[..., Any])


def forwards_query(endpoint: E) -> E:
    """Marks a route whose query string is not its own: a report's page hands its query string
    to the report it draws, whose route checks every parameter (the page shows the refusal)."""
    endpoint.forwards_query = True  # type: ignore[attr-defined]
    return endpoint


def known_parameters(request: Request) -> None:
    """An app-wide dependency: 422 `unknown_parameter` naming the first query parameter the
    matched route does not declare. It runs before the route's own dependencies, so an
    unknown parameter is refused before anything is read or written."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or getattr(route.endpoint, "forwards_query", False):
        return
    allowed = declared_query(route)
    for name in request.query_params:
        if name not in allowed:
            raise ApiError(422, "unknown_parameter", "this query parameter is not one the operation takes",
                           field=name, details={"allowed": sorted(allowed)})
