"""/docs (Swagger UI) and /redoc work without internet: a real server, headless Chromium with
every address but this machine's cut off, and the pages rendering the operations from the
assets the service serves itself. A control page that loads Swagger UI from its CDN stays
blank under the same browser, so the cut is real."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from api.main import create_app
from commands.adapters.clock import ManualClock
from tests.conftest import make_service
from tests.e2e.live_server import OFFLINE, chromium, dump_dom, serve

pytestmark = pytest.mark.xdist_group("processes")


@pytest.fixture
def base(tmp_path: Path, clock: ManualClock) -> Iterator[str]:
    service = make_service(f"sqlite:///{tmp_path}/crm.db", clock, tmp_path / "blobs")
    app = create_app(service, background=False)

    @app.get("/control/cdn-docs", include_in_schema=False)
    def cdn_docs() -> HTMLResponse:
        """FastAPI's own page, which loads Swagger UI from a CDN."""
        return get_swagger_ui_html(openapi_url="/openapi.json", title="control")

    try:
        with serve(app) as url:
            yield url
    finally:
        service.close()


def test_the_pages_name_only_assets_of_the_service(base: str) -> None:
    for page in ("/docs", "/redoc"):
        html = httpx.get(base + page, timeout=60).text
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sources, page
        assert all(s.startswith("/") for s in sources), (page, sources)
        for source in sources:
            asset = httpx.get(base + source, timeout=60)
            assert asset.status_code == 200, source
            assert len(asset.content) > 1000, source
    assert "cdn" in httpx.get(base + "/control/cdn-docs", timeout=60).text


def test_swagger_ui_renders_the_operations_offline(base: str, tmp_path: Path) -> None:
    browser = chromium()
    dom = dump_dom(browser, base + "/docs", tmp_path / "profile", *OFFLINE)
    assert dom.count('class="opblock opblock-') >= 50, dom[:2000]
    assert "/api/v1/customers/{customer_id}/visits" in dom
    assert "customers_claim" in dom  # the operation ids


def test_redoc_renders_the_operations_offline(base: str, tmp_path: Path) -> None:
    browser = chromium()
    dom = dump_dom(browser, base + "/redoc", tmp_path / "profile", *OFFLINE)
    assert "/api/v1/customers/{customer_id}/claim" in dom, dom[:2000]
    assert dom.count("operation/") >= 50
    assert "VisitForm" in dom or "photo" in dom


def test_the_cdn_page_stays_blank_under_the_same_browser(base: str, tmp_path: Path) -> None:
    browser = chromium()
    dom = dump_dom(browser, base + "/control/cdn-docs", tmp_path / "profile", *OFFLINE, budget_ms=10000)
    assert '<div id="swagger-ui">' in dom
    assert "opblock" not in dom
