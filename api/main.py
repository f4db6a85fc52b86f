"""The FastAPI application: routes under /api/v1, one error shape, read-your-writes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.responses import PlainTextResponse

from api import console, cors, errors, openapi
from api.deps import min_position
from api.idempotency import IdempotencyMiddleware
from api.idempotency import document as document_idempotency
from api.limits import BodyLimitMiddleware
from api.locale import LocaleMiddleware
from api.oplog import OperationLogMiddleware
from api.params import known_parameters
from api.routes import admin, customers, handoff, identity, imports, inbox, reports, sales, stream, targets
from api.schemas import ErrorResponse
from commands.bootstrap import Service, bootstrap
from commands.config import Config

API_PREFIX = "/api/v1"
# Every route may refuse with the error shape of API.md; documented once for all of them.
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text,
             # JSON even where the route's own answer is a file, a page or plain text.
             "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
    for status, text in (
        (400, "a malformed request"), (401, "not signed in, or the token is expired or not valid"),
        (403, "not allowed"), (404, "no such thing, or hidden from you"), (409, "clashes with the current state"),
        (413, "too large"), (415, "not a supported file type"), (422, "not valid"),
        (429, "too many failed sign-ins"), (503, "the database or the read models are not available"))
}


def create_app(service: Service | None = None, *, background: bool = True) -> FastAPI:
    """Build the app around a wired service (a fresh one from the environment if none)."""
    service = service or bootstrap(Config())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if service.embedded and background:
            service.projector.catch_up()
            service.start_background()
        yield

    app = FastAPI(
        title="Sales CRM",
        version="1.0",
        description="Event-sourced sales CRM: customers, pool, people and more. "
        "Every change is an event; lists are projections.",
        lifespan=lifespan,
        # /docs and /redoc are served offline by api/openapi.py; operation ids are the route names.
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=openapi.operation_id,
        dependencies=[Depends(known_parameters), Depends(min_position)],
    )
    app.state.service = service
    errors.install(app)
    # A repeated Idempotency-Key answers the first answer again; inside the body limit and the log.
    app.add_middleware(IdempotencyMiddleware, service=service, prefix=API_PREFIX)
    # An oversized body is refused before any route reads it; the log, outside it, records that too.
    app.add_middleware(BodyLimitMiddleware)
    # Query parameters and paths with control characters are refused before the body is read.
    app.add_middleware(errors.PlainParametersMiddleware)
    app.add_middleware(OperationLogMiddleware, service=service, prefix=API_PREFIX)
    # Outside the log and the early refusals, so every answer, theirs too, is in the reader's language.
    app.add_middleware(LocaleMiddleware, service=service)
    # Outermost: cross-origin frontends of CRM_CORS_ORIGINS only (none by default).
    cors.install(app, service.config)
    for router in (identity.router, customers.router, imports.router, sales.router, targets.router,
                   reports.router, inbox.router, admin.router, handoff.router, stream.router):
        app.include_router(router, prefix=API_PREFIX, responses=ERRORS)
    app.add_api_route("/healthz", admin.healthz, methods=["GET"], include_in_schema=False)
    # The document also names the Idempotency-Key header on every command operation.
    openapi.install(app, also=(document_idempotency,))

    @app.get("/metrics", response_class=PlainTextResponse, include_in_schema=False)
    def metrics() -> str:
        """Prometheus scrape endpoint (no sign-in, as scrapers expect; figures only)."""
        return admin.prometheus_text(service)

    # The web console at "/", a client of the routes above (api/console.py).
    console.install(app)
    return app
