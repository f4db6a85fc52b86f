"""Request size limits (N-1): a body larger than its limit is refused with 413 `too_large`
before any route reads it, whether it says its length or streams."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aggregates.errors import E_
from readmodels.i18n import t

JSON_LIMIT = 1024 * 1024
UPLOAD_LIMIT = 25 * 1024 * 1024


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands on a body read already, whole, then what the client sends next
    (its disconnect): for middleware that must read the body before the route does."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, json_limit: int = JSON_LIMIT, upload_limit: int = UPLOAD_LIMIT) -> None:
        self.app = app
        self.json_limit = json_limit
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        multipart = headers.get(b"content-type", b"").startswith(b"multipart/form-data")
        limit = self.upload_limit if multipart else self.json_limit
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        # Read the body here, no further than the limit, and hand it on whole.
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(send, limit)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        await self.app(scope, replaying(b"".join(chunks), receive), send)


async def _too_large(send: Send, limit: int) -> None:
    message = t(E_("the request body is larger than {limit} bytes"), domain="errors", limit=limit)
    body = json.dumps({"error": {"code": "too_large", "message": message,
                                 "field": None, "details": {"max_bytes": limit}}}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
