"""The console in a real browser: Playwright driving the machine's Chromium, headless, against
a running service with the demo data. Every request the page makes to anything but the service
is cut off and counted, every browser console error is collected, and each flow keeps a
screenshot at 1280 and 375 px under build/console-screenshots/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from api.console import CSP, DIST
from api.demo import DEMO_PASSWORD, seed_demo
from api.main import create_app
from commands.adapters.clock import SystemClock
from commands.bootstrap import Service, bootstrap
from commands.config import Config
from tests.conftest import REQUIRED
from tests.e2e.live_server import chromium, serve

pytestmark = pytest.mark.xdist_group("processes")

SHOTS = Path(__file__).resolve().parents[2] / "build" / "console-screenshots"
WIDE = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Service]]:
    """The service as `make run` serves it: embedded, the demo data, the console at "/"."""
    if not (DIST / "index.html").is_file():
        message = "the console is not built (make console)"
        pytest.fail(message) if REQUIRED else pytest.skip(message)
    folder = tmp_path_factory.mktemp("console")
    config = Config(database_url=f"sqlite:///{folder}/crm.db", mode="embedded", secret_key="")
    config.blob_dir = str(folder / "blobs")
    service = bootstrap(config, clock=SystemClock())
    assert seed_demo(service)
    try:
        with serve(create_app(service)) as url:
            yield url, service
    finally:
        service.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium(), headless=True,
                                              args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        try:
            yield launched
        finally:
            launched.close()


class Tab:
    """A page of the console with the network cut off except for the service, and what the
    browser said on its console."""

    def __init__(self, browser: Any, base: str, viewport: dict[str, int]) -> None:
        self.base = base
        self.context = browser.new_context(viewport=viewport, locale="zh-CN", service_workers="block")
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("dialog", self._dialog)

    def _route(self, route: Any) -> None:
        if route.request.url.startswith(self.base + "/"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def sign_in(self, username: str) -> None:
        self.page.goto(f"{self.base}/#/login")
        self.page.locator('input[name="username"]').fill(username)
        self.page.locator('input[name="password"]').fill(DEMO_PASSWORD)
        self.page.get_by_role("button", name="登录").click()
        self.page.wait_for_url(re.compile(r"#/dashboard$"))

    def go(self, fragment: str) -> None:
        self.page.goto(f"{self.base}/#{fragment}")

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        width = self.page.viewport_size["width"]
        self.page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()
        # Every page loaded with the network cut off, and said nothing wrong.
        assert self.blocked == [], f"requests beyond the service: {self.blocked}"
        assert self.errors == [], f"browser console errors: {self.errors}"
        assert self.dialogs == [], f"dialogs opened: {self.dialogs}"


@pytest.fixture
def tabs(browser: Any, site: tuple[str, Service]) -> Iterator[Any]:
    opened: list[Tab] = []

    def open_tab(viewport: dict[str, int] = WIDE) -> Tab:
        tab = Tab(browser, site[0], viewport)
        opened.append(tab)
        return tab

    yield open_tab
    for tab in opened:
        tab.close()


def api(base: str, username: str) -> httpx.Client:
    """The public API as another of the person's devices would use it."""
    client = httpx.Client(base_url=f"{base}/api/v1", timeout=30)
    token = client.post("/auth/token", data={"username": username, "password": DEMO_PASSWORD})
    assert token.status_code == 200, token.text
    client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return client


def test_the_page_is_served_with_its_policy_and_small_compressed_assets(site: tuple[str, Service]) -> None:
    base, _ = site
    page = httpx.get(f"{base}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CSP
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP.split("script-src")[1].split(";")[0]
    assert "<script>" not in page.text and "<script type=\"module\" crossorigin src=" in page.text
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', page.text)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    total = 0
    for path in assets:
        answer = httpx.get(f"{base}{path}", headers={"Accept-Encoding": "gzip"})
        assert answer.status_code == 200 and answer.headers["content-encoding"] == "gzip"
        assert "immutable" in answer.headers["cache-control"]
        total += len(answer.content) if "content-length" not in answer.headers else int(answer.headers["content-length"])
    assert 0 < total < 600_000, f"the first page's compressed assets are {total} bytes"
    # The API's own routes are unchanged beside it.
    assert httpx.get(f"{base}/api/v1/me").status_code == 401
    assert httpx.get(f"{base}/assets/nothing-here.js").status_code == 404


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1280", "375"])
def test_a_salesperson_claims_a_pool_customer(tabs: Any, viewport: dict[str, int]) -> None:
    tab = tabs(viewport)
    tab.sign_in("sales2" if viewport is WIDE else "sales3")
    page = tab.page
    assert page.get_by_role("heading", name="业务门户").is_visible()
    tab.go("/customers?scope=pool")
    rows = page.locator('[data-table="customers"] .el-table__body-wrapper tbody tr')
    rows.first.wait_for()
    name = rows.first.locator(".customer-name").inner_text()
    rows.first.get_by_role("button", name="领取").click()
    page.get_by_text(f"已领取 {name}").wait_for()
    tab.go(f"/customers?scope=mine&q={name}")
    mine = page.locator('[data-table="customers"] .customer-name', has_text=name)
    mine.first.wait_for()
    assert page.locator('[data-table="customers"] .customer-name').all_inner_texts() == [name]
    tab.shot("claimed")


def test_the_dashboard_follows_a_deal_without_a_reload(tabs: Any, site: tuple[str, Service]) -> None:
    base, _ = site
    tab = tabs()
    tab.sign_in("sales1")
    deal = tab.page.locator('[data-figure="deal_amount"] [data-role="actual"]')
    deal.wait_for()
    before = deal.inner_text()
    seller = api(base, "sales1")
    customer = seller.get("/customers", params={"scope": "mine", "page_size": 1}).json()["items"][0]
    signed = seller.post("/contracts", json={"customer_id": customer["id"], "number": f"HT-{uuid4().hex[:8]}",
                                             "name": "浏览器测试合同", "signed_on": date.today().isoformat(),
                                             "amount": "12345.67"})
    assert signed.status_code == 201, signed.text
    # The live stream tells the page; the figure moves by the deal without a reload.
    tab.page.wait_for_function(
        "([selector, before]) => document.querySelector(selector).textContent.trim() !== before",
        arg=['[data-figure="deal_amount"] [data-role="actual"]', before], timeout=15000)
    grown = float(deal.inner_text().replace("¥", "").replace(",", "")) - float(before.replace("¥", "").replace(",", ""))
    assert round(grown, 2) == 12345.67
    tab.shot("dashboard")


def test_user_data_is_shown_as_text_never_as_html(tabs: Any, site: tuple[str, Service]) -> None:
    base, _ = site
    hostile = f"<img src=x onerror=alert(1)>{uuid4().hex[:6]}"
    created = api(base, "sales1").post("/customers", json={"name": hostile, "address": "<b>粗体</b>"})
    assert created.status_code == 201, created.text
    tab = tabs(PHONE)
    tab.sign_in("sales1")
    tab.go(f"/customers?scope=mine&q={hostile[-6:]}")
    cell = tab.page.locator('[data-table="customers"] .customer-name').first
    cell.wait_for()
    assert cell.inner_text() == hostile
    cell.click()
    tab.page.locator('[data-role="customer-name"]').wait_for()
    assert tab.page.locator('[data-role="customer-name"]').inner_text() == hostile
    assert tab.page.locator('[data-field="address"]').inner_text() == "<b>粗体</b>"
    assert tab.page.locator("img[src='x']").count() == 0 and tab.page.locator("main b").count() == 0
    tab.shot("customer")


def test_an_auditor_moves_the_time_slider_to_before_a_change(tabs: Any, site: tuple[str, Service]) -> None:
    base, _ = site
    created = api(base, "sales1").post("/customers", json={"name": f"时间轴客户{uuid4().hex[:6]}", "address": "旧址一号"})
    assert created.status_code == 201, created.text
    changed = api(base, "admin").post(f"/customers/{created.json()['id']}/changes",
                                      json={"changes": {"address": "新址二号"}, "reason": "搬迁"})
    assert changed.status_code == 200, changed.text
    tab = tabs()
    tab.sign_in("auditor")
    tab.go(f"/customers/{created.json()['id']}")
    address = tab.page.locator('[data-field="address"]')
    address.wait_for()
    assert address.inner_text() == "新址二号"
    # The history as a timeline of field changes, the field by its Chinese name.
    tab.page.locator('[data-role="history"]').get_by_text("地址：旧址一号 → 新址二号").wait_for()
    # The slider's first stop: the customer as registered.
    slider = tab.page.locator('[data-role="time-slider"] .el-slider__runway')
    box = slider.bounding_box()
    tab.page.mouse.click(box["x"] + 2, box["y"] + box["height"] / 2)
    tab.page.locator('[data-role="past-banner"]').wait_for()
    tab.page.wait_for_function("() => document.querySelector('[data-field=\"address\"]').textContent === '旧址一号'")
    assert address.inner_text() == "旧址一号"
    tab.shot("time-slider")
