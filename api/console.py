"""The console: the web front end built from `console/` (Vue 3, Element Plus, Vite) into
`api/console_dist`, served at `/` with every asset from the service, so it works with no
internet. It is a client of the public API like any other frontend: the page and its
scripts are static files, and everything they show comes from `/api/v1`.

The page carries a Content-Security-Policy that allows scripts from the service only (no
inline script, no eval), connections to the service only, and images from the service or
the browser's own `blob:`/`data:` (a photo being chosen); styles may be inline, as the
component library positions its popups with style attributes. A service whose console was
not built answers `/` with 503 `console_not_built` and how to build it."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.types import Scope

DIST = Path(__file__).with_name("console_dist")
CSP = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:", "font-src 'self' data:", "connect-src 'self'", "object-src 'none'",
    "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'",
))
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # The page names the current build's assets: always ask for it again.
    "Cache-Control": "no-cache",
}


IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"}


class _Assets(StaticFiles):
    """The built assets: their names carry their content's hash, so they never change, and
    the scripts and styles go gzipped to a browser that takes it (compressed once per file
    and process, at the highest level)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._gzipped: dict[str, bytes] = {}

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code != 200:
            return response
        accepts = Headers(scope=scope).get("accept-encoding", "")
        if isinstance(response, FileResponse) and path.endswith((".js", ".css")) and "gzip" in accepts:
            body = self._gzipped.get(path)
            if body is None:
                body = gzip.compress(Path(response.path).read_bytes(), compresslevel=9, mtime=0)
                self._gzipped[path] = body
            return Response(body, media_type=response.media_type,
                            headers={**IMMUTABLE, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
        response.headers.update(IMMUTABLE)
        return response


def install(app: FastAPI, dist: Path = DIST) -> None:
    """`/` serves the console's page and `/assets/` its scripts and styles."""
    app.mount("/assets", _Assets(directory=str(dist / "assets"), check_dir=False), name="console-assets")

    @app.get("/", include_in_schema=False)
    def console(request: Request) -> Response:
        page = dist / "index.html"
        if not page.is_file():
            return JSONResponse(status_code=503, content={"error": {
                "code": "console_not_built", "field": None, "details": {},
                "message": "the console is not built: run `make console` (npm ci and vite build in console/)"}})
        return FileResponse(page, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)
