"""Cross-origin frontends (CORS): browsers on the origins of CRM_CORS_ORIGINS may call the API;
no others. Without the setting the middleware is not installed at all, so no answer carries a
CORS header and a preflight is refused as any OPTIONS request is (405).

Bearer tokens travel in `Authorization`, never in cookies, so credentials are not allowed
(`Access-Control-Allow-Credentials` is never sent)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Message, Send

from commands.config import Config, allowed_origins

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# What the frontends send beyond the headers every browser may send (Accept, Accept-Language,
# Content-Language, a plain Content-Type).
REQUEST_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "X-Min-Position", "X-Wait-Seconds",
                   "Last-Event-ID")
# What a script may read of an answer beyond the simple headers.
EXPOSED_HEADERS = ("Content-Disposition", "ETag", "Idempotent-Replayed", "Location", "Retry-After",
                   "WWW-Authenticate", "X-Position", "X-Rows-Total", "X-Truncated")
PREFLIGHT_CACHE_SECONDS = 600


class NamedOrigins(CORSMiddleware):
    """Starlette's CORS middleware, except that an answer to an origin not on the list carries
    no CORS header at all (Starlette would still name the exposed headers), only `Vary:
    Origin`, so caches keep the answers per origin apart."""

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        origin = request_headers.get("origin")
        if message["type"] == "http.response.start" and origin is not None and not self.is_allowed_origin(origin):
            vary = [value for name, value in message.get("headers", []) if name.lower() == b"vary"]
            if not any(b"origin" in value.lower() for value in vary):
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"vary", b"Origin")]
            await send(message)
            return
        await super().send(message, send, request_headers)


def cors_options(config: Config) -> dict[str, Any] | None:
    """The middleware's settings, or None when no origin is allowed."""
    origins = allowed_origins(config.cors_origins)
    if not origins:
        return None
    return {"allow_origins": list(origins), "allow_methods": list(METHODS), "allow_headers": list(REQUEST_HEADERS),
            "expose_headers": list(EXPOSED_HEADERS), "allow_credentials": False,
            "max_age": PREFLIGHT_CACHE_SECONDS}


def install(app: FastAPI, config: Config) -> None:
    """Add the CORS middleware, outermost, when CRM_CORS_ORIGINS names origins."""
    options = cors_options(config)
    if options is not None:
        app.add_middleware(NamedOrigins, **options)
