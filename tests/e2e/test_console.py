"""The console in a real browser: Playwright driving the machine's Chromium, headless, against
a running service with the demo data. Every request the page makes to anything but the service
is cut off and counted, every browser console error is collected, and each flow keeps a
screenshot of where it ends at 1280 and at 375 px under build/console-screenshots/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import expect

from api.console import CSP, DIST
from api.demo import DEMO_PASSWORD, seed_demo, visit_photo
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
        # What the service refused, to say why a console error came.
        self.refused: list[str] = []
        self.page.on("response", lambda r: r.status >= 400 and self.refused.append(f"{r.status} {r.url}"))

    def _route(self, route: Any) -> None:
        if route.request.url.startswith(self.base + "/"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def sign_in(self, username: str, password: str = DEMO_PASSWORD) -> None:
        self.page.goto(f"{self.base}/#/login")
        self.page.locator('input[name="username"]').fill(username)
        self.page.locator('input[name="password"]').fill(password)
        self.page.get_by_role("button", name="登录").click()
        self.page.wait_for_url(re.compile(r"#/dashboard$"))

    def go(self, fragment: str) -> None:
        self.page.goto(f"{self.base}/#{fragment}")

    def shot(self, name: str) -> None:
        """The page as the flow left it, at both widths (then back to the flow's own)."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        own = dict(self.page.viewport_size)
        for size in (WIDE, PHONE):
            self.page.set_viewport_size(size)
            # A frame for the layout (and the charts' resize) to follow the new width.
            self.page.wait_for_timeout(150)
            self.page.screenshot(path=str(SHOTS / f"{name}-{size['width']}.png"), full_page=True)
        self.page.set_viewport_size(own)

    def refusals_expected(self, *statuses: int) -> None:
        """The service refused these, as the test meant: the browser logs each refused request
        as a console error ("Failed to load resource"), which is then no fault of the console."""
        assert [int(r.split()[0]) for r in self.refused] == list(statuses), self.refused
        for status in statuses:
            logged = next(e for e in self.errors if e.startswith("Failed to load resource") and f" {status} " in e)
            self.errors.remove(logged)
        self.refused.clear()

    def close(self) -> None:
        self.context.close()
        # Every page loaded with the network cut off, and said nothing wrong.
        assert self.blocked == [], f"requests beyond the service: {self.blocked}"
        assert self.errors == [], f"browser console errors: {self.errors}; refused: {self.refused}"
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


def api(base: str, username: str, password: str = DEMO_PASSWORD) -> httpx.Client:
    """The public API as another of the person's devices would use it."""
    client = httpx.Client(base_url=f"{base}/api/v1", timeout=30)
    token = client.post("/auth/token", data={"username": username, "password": password})
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
    # The searched list of mine: that customer alone (expect retries until the answer is shown).
    expect(page.locator('[data-table="customers"] .customer-name')).to_have_text([name])
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


def moved_customer(base: str, name: str, first: str, then: str) -> str:
    """A customer of sales1 registered at one address, the address changed once by an admin."""
    created = api(base, "sales1").post("/customers", json={"name": f"{name}{uuid4().hex[:6]}", "address": first})
    assert created.status_code == 201, created.text
    changed = api(base, "admin").post(f"/customers/{created.json()['id']}/changes",
                                      json={"changes": {"address": then}, "reason": "变更"})
    assert changed.status_code == 200, changed.text
    return str(created.json()["id"])


def test_an_auditor_moves_the_time_slider_to_before_a_change(tabs: Any, site: tuple[str, Service]) -> None:
    customer_id = moved_customer(site[0], "时间轴客户", "旧址一号", "新址二号")
    tab = tabs()
    tab.sign_in("auditor")
    tab.go(f"/customers/{customer_id}")
    address = tab.page.locator('[data-field="address"]')
    address.wait_for()
    assert address.inner_text() == "新址二号"
    # The history as a timeline of field changes, the field by its Chinese name.
    tab.page.locator('[data-role="history"]').get_by_text("地址：旧址一号 → 新址二号").wait_for()
    # people by their names, never their ids; yes and no in words
    tab.page.locator('[data-role="history"]').get_by_text("负责人：— → 张伟").wait_for()
    tab.page.locator('[data-role="history"]').get_by_text("登记人：— → 张伟").wait_for()
    tab.page.locator('[data-role="history"]').get_by_text("在公海：— → 否").wait_for()
    # The slider's first stop: the customer as registered.
    slider = tab.page.locator('[data-role="time-slider"] .el-slider__runway')
    box = slider.bounding_box()
    tab.page.mouse.click(box["x"] + 2, box["y"] + box["height"] / 2)
    tab.page.locator('[data-role="past-banner"]').wait_for()
    tab.page.wait_for_function("() => document.querySelector('[data-field=\"address\"]').textContent === '旧址一号'")
    assert address.inner_text() == "旧址一号"
    tab.shot("time-slider")


def test_a_salesperson_records_a_visit_with_a_photo_on_a_phone(tabs: Any, site: tuple[str, Service],
                                                               tmp_path: Path) -> None:
    base, _ = site
    seller = api(base, "sales1")
    mine = seller.get("/customers", params={"scope": "mine", "page_size": 50}).json()["items"]
    customer = next(c for c in mine if c.get("lat") is not None)
    photo = tmp_path / "visit.jpg"
    taken = datetime.now(UTC)
    photo.write_bytes(visit_photo(taken, (customer["lat"], customer["lng"])))
    visits_before = len(seller.get(f"/customers/{customer['id']}").json()["visits"])
    tab = tabs(PHONE)
    tab.sign_in("sales1")
    tab.go(f"/customers/{customer['id']}")
    page = tab.page
    page.get_by_role("button", name="记录拜访").click()
    page.locator('input[type="file"][name="photo"]').set_input_files(str(photo))
    page.get_by_alt_text("照片预览").wait_for()
    # the time and place read from the photo, before it is sent: the wall time the camera
    # wrote (business time) and its position, at the customer's
    wall = taken.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S")
    expect(page.locator('[data-role="photo-time"]')).to_have_text(f"拍摄时间：{wall}")
    expect(page.locator('[data-role="photo-place"]')).to_contain_text(f"{customer['lat']:.5f}, {customer['lng']:.5f}")
    expect(page.locator('[data-role="photo-place"]')).to_contain_text(re.compile(r"距客户约 [0-9] 米"))
    page.locator('textarea[name="notes"]').fill("现场演示，客户关注交付周期")
    page.get_by_role("dialog").get_by_role("button", name="提交").click()
    page.get_by_text("拜访已记录").wait_for()
    rows = page.locator('[data-table="visits"] .el-table__body-wrapper tbody tr')
    page.wait_for_function(f"() => document.querySelectorAll('[data-table=\"visits\"] tbody tr').length === {visits_before + 1}")
    assert rows.count() == visits_before + 1
    visits = seller.get(f"/customers/{customer['id']}").json()["visits"]
    newest = max(visits, key=lambda v: v["visited_at"])
    assert newest["notes"] == "现场演示，客户关注交付周期" and newest["photo"] and not newest["far_from_customer"]
    tab.shot("visit")


def money_text(text: str) -> float:
    return float(text.replace("¥", "").replace(",", ""))


def test_a_deal_and_a_payment_on_a_phone_move_the_dashboard_open_elsewhere(tabs: Any, site: tuple[str, Service]) -> None:
    base, _ = site
    desk = tabs(WIDE)
    desk.sign_in("sales2")
    deal = desk.page.locator('[data-figure="deal_amount"] [data-role="actual"]')
    collected = desk.page.locator('[data-figure="collected_amount"] [data-role="actual"]')
    deal.wait_for()
    deal_text, collected_text = deal.inner_text(), collected.inner_text()
    deal_before, collected_before = money_text(deal_text), money_text(collected_text)
    customer = api(base, "sales2").get("/customers", params={"scope": "mine", "page_size": 1}).json()["items"][0]
    phone = tabs(PHONE)
    phone.sign_in("sales2")
    phone.go(f"/customers/{customer['id']}")
    page = phone.page
    number = f"HT-UI-{uuid4().hex[:6]}"
    page.get_by_role("button", name="登记成交").click()
    dialog = page.get_by_role("dialog")
    dialog.locator('input[name="number"]').fill(number)
    dialog.locator('input[name="contract_name"]').fill("控制台合同")
    dialog.locator('input[name="amount"]').fill("8800.50")
    dialog.get_by_role("button", name="提交").click()
    page.get_by_text(f"合同 {number} 已登记").wait_for()
    page.locator('[data-table="contracts"]').get_by_text(number).wait_for()
    page.get_by_role("button", name="登记回款").click()
    dialog = page.get_by_role("dialog", name="登记回款")
    dialog.locator('[data-field="contract"]').click()
    page.get_by_role("option", name=re.compile(re.escape(number))).click()
    dialog.locator('input[name="payment_amount"]').fill("3000")
    dialog.get_by_role("button", name="提交").click()
    page.get_by_text("回款已登记").wait_for()
    phone.shot("deal-and-payment")
    # The desk's dashboard was never reloaded: the live stream moved both figures.
    desk.page.wait_for_function(
        "([deal, collected]) => document.querySelector('[data-figure=\"deal_amount\"] [data-role=\"actual\"]').textContent.trim() !== deal"
        " && document.querySelector('[data-figure=\"collected_amount\"] [data-role=\"actual\"]').textContent.trim() !== collected",
        arg=[deal_text, collected_text], timeout=15000)
    assert round(money_text(deal.inner_text()) - deal_before, 2) == 8800.50
    assert round(money_text(collected.inner_text()) - collected_before, 2) == 3000.00
    desk.shot("dashboard-after-deal")
    # The figure opens the records behind it: they add up to it, the new deal among them.
    desk.page.locator('[data-figure="deal_amount"]').click()
    records = desk.page.locator('[data-table="figure-records"] .el-table__body-wrapper tbody tr')
    records.first.wait_for()
    amounts = [money_text(r.locator("td").nth(2).inner_text()) for r in records.all()]
    assert round(sum(amounts), 2) == money_text(deal.inner_text()) and 8800.50 in amounts


def test_a_manager_approves_an_info_change_seeing_the_asked_beside_the_present(tabs: Any, site: tuple[str, Service]) -> None:
    base, _ = site
    seller = api(base, "sales3")
    customer = seller.get("/customers", params={"scope": "mine", "page_size": 1}).json()["items"][0]
    asked = f"审批后的地址{uuid4().hex[:4]}"
    requested = seller.post(f"/customers/{customer['id']}/changes", json={"changes": {"address": asked}, "reason": "搬迁"})
    assert requested.status_code == 202, requested.text
    approval_id = requested.json()["approval_id"]
    tab = tabs()
    tab.sign_in("manager")
    tab.go("/approvals")
    card = tab.page.locator(f'[data-approval="{approval_id}"]')
    card.wait_for()
    values = card.locator(".approval-values tbody tr").first
    assert values.locator("td").all_inner_texts()[:4] == ["地址", asked, customer["address"] or "—", customer["address"] or "—"]
    tab.shot("approvals")
    card.get_by_role("button", name="通过").click()
    tab.page.get_by_role("dialog").get_by_role("button", name="通过").click()
    tab.page.get_by_text("已通过", exact=True).first.wait_for()
    card.wait_for(state="detached")
    assert seller.get(f"/customers/{customer['id']}").json()["address"] == asked


def test_a_manager_drills_from_a_persons_s9_figure_to_the_q6_rows(tabs: Any) -> None:
    tab = tabs()
    tab.sign_in("manager")
    tab.go("/reports/S-9")
    page = tab.page
    first = page.locator('[data-table="report"] tbody tr').first
    first.wait_for()
    person = first.locator("td").first.inner_text()
    figure = money_text(first.locator('[data-drill="deal_amount"]').inner_text())
    tab.shot("s9")
    first.locator('[data-drill="deal_amount"]').click()
    page.wait_for_url(re.compile(r"#/reports/Q-6\?"))
    page.get_by_text(f"业务员：{person}").wait_for()
    page.locator('[data-table="report"] [data-key="net_amount"]').first.wait_for()
    nets = page.locator('[data-table="report"] [data-key="net_amount"]').all_inner_texts()
    assert nets and round(sum(money_text(n) for n in nets), 2) == figure
    assert set(page.locator('[data-table="report"] [data-key="owner_name"]').all_inner_texts()) <= {person}
    tab.shot("q6-drilled")
    # The drilled rows as a file: the same filters, Chinese column titles, one line per row.
    with page.expect_download() as download:
        page.locator('[data-export="csv"]').click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert download.value.suggested_filename.endswith(".csv") and "净成交金额" in text.splitlines()[0]
    assert len(text.strip().splitlines()) == len(nets) + 1


def test_a_manager_assigns_three_pool_customers_in_one_batch(tabs: Any, site: tuple[str, Service]) -> None:
    base, _ = site
    tab = tabs()
    tab.sign_in("manager")
    tab.go("/customers?scope=pool")
    page = tab.page
    rows = page.locator('[data-table="customers"] .el-table__body-wrapper tbody tr')
    rows.nth(2).wait_for()
    names = [rows.nth(i).locator(".customer-name").inner_text() for i in range(3)]
    for i in range(3):
        rows.nth(i).locator(".el-checkbox").click()
    expect(page.locator('[data-panel="batch"] .selected-count')).to_have_text("已选 3 个")
    page.locator('[data-action="batch-assign"]').click()
    page.locator('[data-form="batch"] [data-field="person"]').click()
    page.get_by_role("option", name=re.compile("^刘洋")).click()
    page.locator('[data-action="batch-confirm"]').click()
    page.get_by_text("已将 3 个客户分配给 刘洋").wait_for()
    tab.shot("assigned")
    held = {c["name"] for c in api(base, "sales3").get("/customers", params={"scope": "mine", "page_size": 500}).json()["items"]}
    assert set(names) <= held


def pager_total(page: Any) -> int:
    """The list's total as its pager shows it (共 N 条)."""
    text = page.locator(".el-pagination__total").inner_text()
    return int(re.sub(r"\D", "", text))


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1280", "375"])
def test_a_salesperson_browses_by_type_and_finds_who_returns_to_the_pool_next(
        tabs: Any, site: tuple[str, Service], viewport: dict[str, int]) -> None:
    base, _ = site
    seller = api(base, "sales1")
    counts = seller.get("/customers/types", params={"scope": "mine"}).json()
    kind = next(node for node in counts["items"] if node["total"] and node["children"])
    tab = tabs(viewport)
    tab.sign_in("sales1")
    page = tab.page
    # the dashboard's to-do counts the customers due back within the warning window, and opens them
    warning = seller.get("/settings").json()["rules"]["pool_warning_days"]
    due = seller.get("/customers", params={"scope": "mine", "pool_within_days": warning}).json()["total"]
    expect(page.locator('[data-todo="due"] .figure-value')).to_have_text(str(due))
    page.locator('[data-todo="due"]').click()
    page.wait_for_url(re.compile(r"#/customers\?scope=mine&due=1$"))
    expect(page.locator('[data-field="due"]')).to_have_class(re.compile("is-checked"))
    days = page.locator('[data-table="customers"] [data-role="days"]')
    if due:
        days.first.wait_for()
        shown = [int(d) for d in days.all_inner_texts()]
        assert shown == sorted(shown) and all(d <= warning for d in shown)
    else:
        expect(page.locator('[data-table="customers"] .el-table__empty-text')).to_have_text("没有客户")

    # the type tree beside the list counts the scope; a type shows its customers and its subtypes'
    tab.go("/customers?scope=mine")
    if viewport is PHONE:
        page.get_by_text("按类型浏览").click()
    root = page.locator('.type-node[data-type=""] em')
    expect(root).to_have_text(str(counts["total"]))
    page.locator(f'.type-node[data-type="{kind["name"]}"]').click()
    page.wait_for_url(re.compile(r"type="))
    expect(page.locator(f'.type-node[data-type="{kind["name"]}"] em')).to_have_text(str(kind["total"]))
    expect(page.locator(".el-pagination__total")).to_have_text(re.compile(rf"^\D*{kind['total']}\D*$"))
    assert pager_total(page) == kind["total"]
    allowed = {kind["name"], *(child["name"] for child in kind["children"])}
    shown_types = page.locator('[data-table="customers"] .el-table__body-wrapper [data-role="type"]')
    shown_types.first.wait_for()
    assert set(shown_types.all_inner_texts()) <= allowed
    tab.shot(f"customer-types-from-{viewport['width']}")


def test_a_salesperson_transfers_and_releases_customers_in_batches(tabs: Any, site: tuple[str, Service]) -> None:
    base, _ = site
    seller = api(base, "sales1")
    tag = f"批量{uuid4().hex[:6]}"
    ids = [seller.post("/customers", json={"name": f"{tag}客户{i}"}).json()["id"] for i in range(3)]
    tab = tabs(PHONE)
    tab.sign_in("sales1")
    page = tab.page
    tab.go(f"/customers?scope=mine&q={tag}&sort=name")
    rows = page.locator('[data-table="customers"] .el-table__body-wrapper tbody tr')
    expect(rows).to_have_count(3)
    for i in range(2):
        rows.nth(i).locator(".el-checkbox").click()
    expect(page.locator('[data-panel="batch"] .selected-count')).to_have_text("已选 2 个")
    page.locator('[data-action="batch-transfer"]').click()
    page.locator('[data-form="batch"] [data-field="person"]').click()
    page.get_by_role("option", name=re.compile("^李娜")).click()
    page.locator('[data-form="batch"] input[name="reason"]').fill("区域调整")
    page.locator('[data-action="batch-confirm"]').click()
    page.get_by_text("已将 2 个客户转移给 李娜").wait_for()
    expect(rows).to_have_count(1)
    rows.first.locator(".el-checkbox").click()
    page.locator('[data-action="batch-release"]').click()
    page.locator('[data-action="batch-confirm"]').click()
    page.get_by_text("已释放 1 个客户到公海").wait_for()
    expect(page.locator('[data-table="customers"] .el-table__empty-text')).to_have_text("没有客户")
    tab.shot("batch-transfer")
    held = {c["id"] for c in api(base, "sales2").get("/customers", params={"scope": "mine", "q": tag}).json()["items"]}
    assert held == set(ids[:2])
    pooled = seller.get("/customers", params={"scope": "pool", "q": tag}).json()["items"]
    assert [c["id"] for c in pooled] == [ids[2]]


def test_a_contracts_page_shows_its_execution_as_it_happens(tabs: Any, site: tuple[str, Service]) -> None:
    base, _ = site
    seller = api(base, "sales1")
    switch = next(p for p in seller.get("/products").json()["items"] if p["name"] == "交换机")
    customer = seller.post("/customers", json={"name": f"合同页客户{uuid4().hex[:6]}"}).json()["id"]
    number = f"HT-C{uuid4().hex[:6]}"
    signed = seller.post("/contracts", json={
        "customer_id": customer, "number": number, "name": "交换机采购", "amount": "11200.00",
        "lines": [{"product_id": switch["id"], "quantity": "2", "unit_price": "5600.00"}]})
    assert signed.status_code == 201, signed.text
    contract = signed.json()["id"]
    tab = tabs(PHONE)
    tab.sign_in("sales1")
    page = tab.page
    # from the customer's page to the contract's
    tab.go(f"/customers/{customer}")
    page.locator('[data-table="contracts"] .contract-number', has_text=number).click()
    page.wait_for_url(re.compile(f"#/contracts/{contract}$"))
    expect(page.locator('[data-role="contract-title"]')).to_have_text(f"{number} · 交换机采购")
    figure = lambda key: page.locator(f'[data-figure="{key}"]')  # noqa: E731
    expect(figure("remaining_to_invoice")).to_have_text("¥11,200.00")

    # invoice what remains (the form suggests it), then collect part of it
    page.locator('[data-action="invoice"]').click()
    expect(page.locator('[data-form="money"] input[name="amount"]')).to_have_value("11200.00")
    page.locator('[data-action="money-confirm"]').click()
    page.get_by_text("已开票 ¥11,200.00").wait_for()
    expect(figure("remaining_to_invoice")).to_have_text("¥0.00")
    page.locator('[data-action="payment"]').click()
    page.locator('[data-form="money"] input[name="amount"]').fill("5000")
    page.locator('[data-action="money-confirm"]').click()
    expect(figure("outstanding")).to_have_text("¥6,200.00")

    # ask the warehouse for the delivery; the keeper's delivery shows here without a reload
    page.locator('[data-action="delivery-request"]').click()
    expect(page.locator('[data-form="request"] input[name="quantity-0"]')).to_have_value("2")
    page.locator('[data-action="request-confirm"]').click()
    status = page.locator('[data-table="contract-requests"] [data-role="request-status"]')
    expect(status).to_have_text(["待处理"])
    keeper = api(base, "keeper")
    request = keeper.get(f"/contracts/{contract}/warehouse-requests").json()["items"][0]
    done = keeper.post(f"/contracts/{contract}/deliveries", json={
        "request_id": request["id"], "lines": [{"product_id": switch["id"], "warehouse": "总仓", "quantity": "2"}]})
    assert done.status_code == 201, done.text
    expect(status).to_have_text(["已完成"])

    # a return of one of them, asked from the delivery it came with
    page.locator('[data-action="return-request"]').click()
    page.locator('[data-form="request"] input[name="quantity-0"]').fill("1")
    page.locator('[data-action="request-confirm"]').click()
    expect(status).to_have_count(2)
    page.get_by_role("tab", name="明细").click()
    expect(page.locator('[data-table="contract-lines"] [data-role="remaining"]')).to_have_text(["0"])
    tab.shot("contract")
    asked = seller.get(f"/contracts/{contract}/warehouse-requests").json()["items"]
    assert sorted(r["kind"] for r in asked) == ["delivery", "return"]
    final = seller.get(f"/contracts/{contract}").json()
    assert (final["invoiced"], final["collected"], final["outstanding"]) == ("11200.00", "5000.00", "6200.00")


def test_a_warehouse_keeper_carries_out_a_delivery_request(tabs: Any, site: tuple[str, Service]) -> None:
    base, _ = site
    keeper = api(base, "keeper")
    open_requests = keeper.get("/warehouse-requests", params={"status": "open"}).json()["items"]
    request = next(r for r in open_requests if r["kind"] == "delivery")
    tab = tabs()
    tab.sign_in("keeper")
    # The navigation is the role's: a keeper has no customers, reports or settings.
    assert tab.page.locator(".menu-item").all_inner_texts() == ["业务门户", "审批", "通知", "产品", "仓库"]
    tab.go("/warehouse")
    row = tab.page.locator('[data-table="warehouse-requests"] tbody tr', has_text=request["number"]).first
    row.wait_for()
    row.get_by_role("button", name="发货").click()
    tab.page.get_by_role("button", name="确认发货").click()
    tab.page.get_by_text(f"{request['number']} 已发货").wait_for()
    row.wait_for(state="detached")
    done = keeper.get(f"/warehouse-requests/{request['id']}").json()
    assert done["status"] == "done" and all(float(line["remaining"]) == 0 for line in done["lines"])
    tab.shot("warehouse")


def test_a_keeper_takes_a_return_back_and_receives_stock_and_a_salesperson_asks_a_new_price(
        tabs: Any, site: tuple[str, Service]) -> None:
    base, _ = site
    seller, keeper = api(base, "sales1"), api(base, "keeper")
    switch = next(p for p in seller.get("/products").json()["items"] if p["name"] == "交换机")

    def in_main() -> tuple[float, float]:
        row = next(s for s in keeper.get("/stock", params={"product_id": switch["id"]}).json() if s["warehouse"] == "总仓")
        return float(row["quantity"]), float(row["value"])

    customer = seller.post("/customers", json={"name": f"退货客户{uuid4().hex[:6]}"}).json()["id"]
    contract = seller.post("/contracts", json={
        "customer_id": customer, "number": f"HT-R{uuid4().hex[:6]}", "name": "退货合同", "amount": "5600.00",
        "lines": [{"product_id": switch["id"], "quantity": "1", "unit_price": "5600.00"}]}).json()["id"]
    before = in_main()
    delivered = keeper.post(f"/contracts/{contract}/deliveries", json={
        "lines": [{"product_id": switch["id"], "warehouse": "总仓", "quantity": "1"}]})
    assert delivered.status_code == 201, delivered.text
    asked = seller.post(f"/contracts/{contract}/return-requests", json={
        "delivery_id": delivered.json()["delivery_id"], "lines": [{"product_id": switch["id"], "quantity": "1"}]})
    assert asked.status_code == 201, asked.text
    number = asked.json()["number"]

    tab = tabs()
    tab.sign_in("keeper")
    page = tab.page
    tab.go("/warehouse")
    row = page.locator('[data-table="warehouse-requests"] tbody tr', has_text=number).first
    row.get_by_role("button", name="收货").click()
    page.get_by_role("button", name="确认收货").click()
    page.get_by_text(f"{number} 已退货入库").wait_for()
    row.wait_for(state="detached")
    assert in_main()[0] == before[0]

    # stock in: the quantity shown grows, the value at the new average cost
    tab.go("/products")
    held = page.locator(f'[data-table="products"] tr:has([data-action="stock-in-{switch["code"]}"]) [data-stock="总仓"] [data-role="quantity"]')
    expect(held).to_have_text(f"{before[0]:g}")
    page.locator(f'[data-action="stock-in-{switch["code"]}"]').click()
    page.locator('[data-form="product"] input[name="quantity"]').fill("5")
    page.locator('[data-form="product"] input[name="unit_cost"]').fill("4300")
    page.locator('[data-action="product-confirm"]').click()
    page.get_by_text("交换机 已入库 5（总仓）").wait_for()
    expect(held).to_have_text(f"{before[0] + 5:g}")
    assert in_main() == (before[0] + 5, round(before[1] + 5 * 4300, 2))
    tab.shot("products")

    # a salesperson on a phone asks for a new price: it waits for approval
    phone = tabs(PHONE)
    phone.sign_in("sales2")
    phone.go("/products")
    phone.page.locator(f'[data-action="price-{switch["code"]}"]').click()
    phone.page.locator('[data-form="product"] input[name="price"]').fill("5800.00")
    phone.page.locator('[data-form="product"] input[name="reason"]').fill("原材料涨价")
    phone.page.locator('[data-action="product-confirm"]').click()
    phone.page.get_by_text("交换机 的调价申请已提交，等待审批").wait_for()
    waiting = [a for a in api(base, "sales2").get("/approvals", params={"status": "pending"}).json()
               if a["kind"] == "price_change" and a["target_id"] == switch["id"]]
    assert len(waiting) == 1


def test_a_manager_reads_the_organisations_targets_and_sets_one(tabs: Any, site: tuple[str, Service]) -> None:
    base, _ = site
    boss = api(base, "manager")
    group = next(d for d in boss.get("/targets/departments").json() if d["department_name"] == "华东销售组")
    cards = boss.get("/targets", params={"department_id": group["department_id"], "on": date.today().isoformat()}).json()["items"]
    card = next(c for c in cards if c["person_name"] == "李娜")
    records = boss.get(f"/targets/{card['id']}/records", params={"figure": "visits"}).json()["items"]
    assert len(records) == card["actual"]["visits"]
    tab = tabs()
    tab.sign_in("manager")
    page = tab.page
    tab.go("/targets")
    page.locator('.org-node[data-department="华东销售组"]').click()
    expect(page.locator("[data-card]")).to_have_count(len(cards))
    shown = page.locator('[data-card="李娜"] [data-figure="visits"] [data-role="actual"]')
    expect(shown).to_have_text(str(card["actual"]["visits"]))
    page.locator('[data-card="李娜"] [data-figure="visits"]').click()
    expect(page.locator('[data-table="target-records"] .el-table__body-wrapper tbody tr')).to_have_count(len(records))
    page.keyboard.press("Escape")

    # a target for next year's first month, for the person of the card
    year = date.today().year + 1
    page.locator('[data-action="set-target"]').click()
    page.locator('[data-form="target"] [data-field="person"]').click()
    page.get_by_role("option", name="李娜").click()
    page.locator('[data-form="target"] input[name="period"]').fill(f"{year}年1月")
    start, end = page.locator('[data-form="target"] .el-date-editor input').all()
    for field, value in ((start, f"{year}-01-01"), (end, f"{year}-01-31")):
        field.fill(value)
        field.press("Enter")
    for name, value in (("new_customers", "5"), ("visits", "30"), ("deal_amount", "80000"), ("collected_amount", "60000")):
        page.locator(f'[data-form="target"] input[name="{name}"]').fill(value)
    page.locator('[data-action="target-confirm"]').click()
    page.get_by_text(f"已为 李娜 设置 {year}年1月 的指标").wait_for()
    expect(page.locator('[data-form="target"]')).to_be_hidden()
    tab.shot("targets")
    later = boss.get("/targets", params={"person_id": card["person_id"], "on": f"{year}-01-15"}).json()["items"]
    assert [(t["period"], t["visits"], t["deal_amount"]) for t in later] == [(f"{year}年1月", 30, "80000.00")]


def test_a_salesperson_writes_a_daily_report_on_a_phone(tabs: Any, site: tuple[str, Service]) -> None:
    base, _ = site
    tab = tabs(PHONE)
    tab.sign_in("sales3")
    page = tab.page
    tab.go("/work-reports")
    page.locator('[data-action="write-report"]').click()
    page.locator('[data-form="work-report"] textarea[name="summary"]').fill("拜访两家医院，<b>报价</b>一份")
    page.locator('[data-form="work-report"] textarea[name="plan"]').fill("明天跟进回款")
    page.locator('[data-action="report-confirm"]').click()
    page.get_by_text(re.compile("^日报已提交：新增客户")).wait_for()
    row = page.locator('[data-table="work-reports"] tbody tr', has_text="拜访两家医院").first
    row.wait_for()
    mine = api(base, "sales3").get("/work-reports", params={"kind": "daily"}).json()["items"]
    report = next(r for r in mine if r["summary"].startswith("拜访两家医院"))
    assert report["plan"] == "明天跟进回款"
    expect(row.locator('[data-role="figures"]')).to_contain_text(f"拜访 {report['figures']['visits']}")
    expect(row).to_contain_text("<b>报价</b>")
    expect(page.locator('[data-form="work-report"]')).to_be_hidden()
    tab.shot("work-report")


def test_an_auditor_reads_and_exports_the_operation_log(tabs: Any, site: tuple[str, Service]) -> None:
    base, _ = site
    auditor, seller = api(base, "auditor"), api(base, "sales2")
    # a claim accepted and the same claim refused, through the API, so the log holds both
    pooled = seller.get("/customers", params={"scope": "pool", "page_size": 1}).json()["items"][0]
    assert seller.post(f"/customers/{pooled['id']}/claim").status_code == 200
    assert seller.post(f"/customers/{pooled['id']}/claim").status_code >= 400
    claims = auditor.get("/operation-log", params={"operation": "customer.claim", "page_size": 200}).json()
    assert claims["total"] >= 2 and {"accepted", "refused"} <= {entry["outcome"] for entry in claims["items"]}
    tab = tabs()
    tab.sign_in("auditor")
    page = tab.page
    tab.go("/operation-log")
    page.locator('[data-table="operation-log"] [data-role="operation"]').first.wait_for()
    page.locator('input[name="operation"]').fill("customer.claim")
    page.locator('input[name="operation"]').press("Enter")
    operations = page.locator('[data-table="operation-log"] [data-role="operation"]')
    expect(operations).to_have_text(["客户·领取"] * min(50, claims["total"]))
    assert pager_total(page) == claims["total"]
    outcomes = {entry["outcome"] for entry in claims["items"]}
    shown = {"accepted": "成功", "refused": "拒绝", "failed": "出错"}
    assert set(page.locator('[data-table="operation-log"] [data-role="outcome"]').all_inner_texts()) <= {
        shown[o] for o in outcomes}
    with page.expect_download() as download:
        page.locator('[data-export="csv"]').click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert download.value.suggested_filename.endswith(".csv")
    assert len(text.strip().splitlines()) == claims["total"] + 1
    tab.shot("operation-log")


def test_an_admin_adds_a_department_and_a_salesperson_who_can_then_sign_in(tabs: Any, site: tuple[str, Service]) -> None:
    base, _ = site
    admin = api(base, "admin")
    tag = uuid4().hex[:5]
    tab = tabs()
    tab.sign_in("admin")
    page = tab.page
    tab.go("/people")
    page.locator('[data-action="new-department"]').click()
    page.locator('[data-form="department"] input[name="name"]').fill(f"华南销售组{tag}")
    page.locator('[data-form="department"] [data-field="parent"]').click()
    page.get_by_role("option", name=re.compile("销售部$")).click()
    page.locator('[data-action="department-confirm"]').click()
    page.get_by_text(f"已新建部门 华南销售组{tag}").wait_for()
    page.locator(f'.org-node[data-department="华南销售组{tag}"]').click()
    page.locator('[data-action="new-person"]').click()
    form = page.locator('[data-form="person"]')
    form.locator('input[name="name"]').fill(f"周新{tag}")
    form.locator('input[name="username"]').fill(f"zhou{tag}")
    form.locator('input[name="password"]').fill("first-pass-1")
    form.locator('[data-field="max_customers"] input').fill("30")
    page.locator('[data-action="person-confirm"]').click()
    page.get_by_text(f"已新增 周新{tag}").wait_for()
    expect(page.locator('[data-table="people"] [data-role="person-name"]')).to_have_text([f"周新{tag}"])
    expect(page.locator('[data-table="people"] [data-role="held"]')).to_have_text(["0（30）"])
    tab.shot("people")
    created = next(p for p in admin.get("/people").json() if p["username"] == f"zhou{tag}")
    department = next(d for d in admin.get("/departments").json()[0]["children"] if d["name"] == f"华南销售组{tag}")
    assert (created["roles"], created["department_id"], created["max_customers"]) == (["sales"], department["id"], 30)
    # the new salesperson signs in and finds an empty list of their own
    newcomer = tabs(PHONE)
    newcomer.sign_in(f"zhou{tag}", "first-pass-1")
    newcomer.go("/customers?scope=mine")
    expect(newcomer.page.locator('[data-table="customers"] .el-table__empty-text')).to_have_text("没有客户")


def test_an_admin_edits_the_dictionaries_and_the_approval_policy(tabs: Any, site: tuple[str, Service]) -> None:
    base, _ = site
    admin = api(base, "admin")
    before = admin.get("/settings").json()
    tag = uuid4().hex[:4]
    tab = tabs()
    tab.sign_in("admin")
    page = tab.page
    tab.go("/admin")
    page.locator('[data-dictionary="regions"] .word').first.wait_for()
    region = page.locator('input[name="add-regions"]')
    region.fill(f"海外{tag}")
    region.press("Enter")
    page.locator('[data-action="add-under-事业单位"]').click()
    page.locator(".el-message-box input").fill(f"研究所{tag}")
    page.get_by_role("button", name="确定").click()
    page.locator(f'.type-node[data-type="研究所{tag}"]').wait_for()
    page.locator('[data-action="save-dictionaries"]').click()
    page.get_by_text("字典已保存").wait_for()
    page.locator('[data-policy="return"]').click()
    page.locator('[data-action="save-policy"]').click()
    page.get_by_text("审批策略已保存").wait_for()
    tab.shot("dictionaries")
    after = admin.get("/settings").json()
    try:
        assert after["dictionaries"]["regions"] == [*before["dictionaries"]["regions"], f"海外{tag}"]
        institutions = next(t for t in after["dictionaries"]["customer_types"] if t["name"] == "事业单位")
        assert [c["name"] for c in institutions["children"]][-1] == f"研究所{tag}"
        assert set(after["rules"]["approval_required"]) == {*before["rules"]["approval_required"], "return"}
        # the customers' type tree shows the new type (none of that type yet)
        tab.go("/customers?scope=all")
        expect(page.locator(f'.type-node[data-type="研究所{tag}"] em')).to_have_text("0")
    finally:
        put = admin.put("/settings", json={"rules": {"approval_required": before["rules"]["approval_required"]}})
        assert put.status_code == 200, put.text


def test_an_owner_edits_the_share_list_and_it_shows_once_approved(tabs: Any, site: tuple[str, Service]) -> None:
    base, _ = site
    seller, boss = api(base, "sales1"), api(base, "manager")
    customer = seller.post("/customers", json={"name": f"共享客户{uuid4().hex[:6]}"}).json()["id"]
    tab = tabs(PHONE)
    tab.sign_in("sales1")
    page = tab.page
    tab.go(f"/customers/{customer}")
    shares = page.locator('[data-role="shares"]')
    expect(shares).to_contain_text("共享给：无")
    page.locator('[data-action="edit-shares"]').click()
    page.locator('[data-form="shares"] [data-field="share-people"]').click()
    page.get_by_role("option", name="李娜").click()
    page.keyboard.press("Escape")
    page.locator('[data-action="shares-confirm"]').click()
    page.get_by_text("共享修改已提交，等待审批").wait_for()
    waiting = next(a for a in boss.get("/approvals", params={"status": "pending"}).json() if a["target_id"] == customer)
    assert boss.post(f"/approvals/{waiting['id']}/approve", json={}).status_code == 200
    # the approval reaches the page through the live stream
    expect(shares.locator(".el-tag")).to_have_text(["李娜"])
    tab.shot("shares")
    assert [p["name"] for p in seller.get(f"/customers/{customer}").json()["shared_with"]] == ["李娜"]


def test_fields_and_contacts_are_changed_from_the_customers_page(tabs: Any, site: tuple[str, Service]) -> None:
    base, _ = site
    seller, boss = api(base, "sales1"), api(base, "manager")
    customer = seller.post("/customers", json={"name": f"资料客户{uuid4().hex[:6]}", "address": "老地址",
                                               "contacts": [{"name": "钱经理", "phone": "13800000001", "primary": True}]})
    assert customer.status_code == 201, customer.text
    customer_id = customer.json()["id"]
    # the owner's change of address waits for approval, and shows once approved
    phone = tabs(PHONE)
    phone.sign_in("sales1")
    phone.go(f"/customers/{customer_id}")
    page = phone.page
    page.locator('[data-action="edit-info"]').click()
    page.locator('[data-form="info"] input[name="address"]').fill("新地址八号")
    page.locator('[data-form="info"] input[name="reason"]').fill("客户搬迁")
    page.locator('[data-action="info-confirm"]').click()
    page.get_by_text("已提交，等待审批").wait_for()
    expect(page.locator('[data-field="address"]')).to_have_text("老地址")
    waiting = next(a for a in boss.get("/approvals", params={"status": "pending"}).json() if a["target_id"] == customer_id)
    assert waiting["kind"] == "customer_info_change" and waiting["payload"]["changes"] == {"address": "新地址八号"}
    assert boss.post(f"/approvals/{waiting['id']}/approve", json={}).status_code == 200
    expect(page.locator('[data-field="address"]')).to_have_text("新地址八号")
    # a manager adds and edits contacts at once
    desk = tabs()
    desk.sign_in("manager")
    desk.go(f"/customers/{customer_id}")
    other = desk.page
    other.locator('[data-action="add-contact"]').click()
    other.locator('[data-form="contact"] input[name="contact-name"]').fill("孙工")
    other.locator('[data-form="contact"] input[name="contact-phone"]').fill("13900000002")
    other.locator('[data-action="contact-confirm"]').click()
    other.get_by_text("联系人已添加").wait_for()
    names = other.locator('[data-table="contacts"] [data-role="contact-name"]')
    expect(names).to_have_text(["钱经理", "孙工"])
    other.locator('[data-action="edit-contact-孙工"]').click()
    other.locator('[data-form="contact"] input[name="contact-title"]').fill("技术负责人")
    other.locator('[data-action="contact-confirm"]').click()
    other.get_by_text("联系人已修改").wait_for()
    desk.shot("customer-edit")
    contacts = {c["name"]: c["title"] for c in seller.get(f"/customers/{customer_id}").json()["contacts"]}
    assert contacts == {"钱经理": None, "孙工": "技术负责人"}
    # the owner's page follows the manager's changes
    expect(page.locator('[data-table="contacts"] [data-role="contact-name"]')).to_have_text(["钱经理", "孙工"])


def test_an_admin_changes_a_setting_and_rebuilds_a_projection(tabs: Any, site: tuple[str, Service]) -> None:
    base, _ = site
    admin = api(base, "admin")
    before = admin.get("/settings").json()["rules"]["pool_warning_days"]
    tab = tabs()
    tab.sign_in("admin")
    tab.go("/admin")
    page = tab.page
    field = page.locator('[data-rule="pool_warning_days"] input')
    field.wait_for()
    page.wait_for_function(f"() => document.querySelector('[data-rule=\"pool_warning_days\"] input').value === '{before}'")
    field.fill(str(before + 2))
    page.get_by_role("button", name="保存设置").click()
    page.get_by_text("设置已保存").wait_for()
    assert admin.get("/settings").json()["rules"]["pool_warning_days"] == before + 2
    page.locator('[data-rebuild="customers"]').click()
    page.get_by_text(re.compile("customers 开始重建")).wait_for()
    # The rebuilt read model comes back to the head: its row shows no lag.
    page.wait_for_function("""() => [...document.querySelectorAll('[data-table="projections"] tbody tr')]
        .some(tr => tr.cells[0].textContent.trim() === 'customers' && tr.cells[4].textContent.trim() === '0')""")
    statuses = {p["name"]: p for p in admin.get("/admin/projections").json()}
    assert statuses["customers"]["lag"] == 0
    # the page tells how the rebuild went, as the service recorded it
    version = admin.get("/admin/projections/customers/rebuild").json()["version"]
    expect(page.locator('[data-rebuild-state="customers"] [data-role="rebuild-outcome"]')).to_contain_text(
        f"已完成（v{version}，", timeout=15000)
    tab.shot("admin")


def test_a_query_report_is_filtered_and_sorted_by_its_own_columns(tabs: Any, site: tuple[str, Service]) -> None:
    base, _ = site
    boss = api(base, "manager")
    entry = next(e for e in boss.get("/reports").json() if e["id"] == "Q-1")
    assert "region" in entry["filters"]
    year = date.today().year
    every = boss.get("/reports/Q-1", params={"year": year, "page_size": 200}).json()["rows"]
    region = max({r["region"] for r in every if r["region"]}, key=lambda x: sum(r["region"] == x for r in every))
    wanted = sorted((r["customer_name"] for r in every if r["region"] == region), reverse=True)
    tab = tabs()
    tab.sign_in("manager")
    page = tab.page
    tab.go(f"/reports/Q-1?year={year}")
    panel = page.locator('[data-panel="report-filters"]')
    # only the filters the report takes are offered (once the catalogue has come)
    offered = sorted(f for f in entry["filters"] if f != "q")
    expect(panel.locator("[data-filter]")).to_have_count(len(offered))
    assert sorted(panel.locator("[data-filter]").evaluate_all("els => els.map(e => e.dataset.filter)")) == offered
    panel.locator('[data-filter="region"]').click()
    page.get_by_role("option", name=region, exact=True).click()
    page.wait_for_url(re.compile("region="))
    expect(page.locator('[data-role="filter"]')).to_have_text([f"区域：{region}"])
    header = page.locator('[data-table="report"] th', has_text="客户名称")
    header.click()  # ascending
    header.click()  # descending
    page.wait_for_url(re.compile(r"sort=-customer_name"))
    names = page.locator('[data-table="report"] [data-key="customer_name"]')
    expect(names).to_have_text(wanted[:50])
    tab.shot("report-filtered")


def test_the_dashboards_charts_open_the_deals_behind_a_slice(tabs: Any) -> None:
    tab = tabs()
    tab.sign_in("manager")
    page = tab.page
    for report_id, kind in (("S-8", "line"), ("S-10", "bar"), ("S-11", "pie")):
        # Drawn by the chart library the service serves, in a chunk of its own.
        page.locator(f'[data-report="{report_id}"] [data-chart="{kind}"][data-rendered="true"]').wait_for()
    tab.shot("dashboard-charts")
    pie = page.locator('[data-report="S-11"] [data-chart="pie"]')
    box = pie.bounding_box()
    # Half-way out the ring (30% to 65% of the smaller side's half, centred at 50% / 45%),
    # right of the centre: inside a slice.
    middle_x, middle_y = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.45
    page.mouse.click(middle_x + min(box["width"], box["height"]) / 2 * 0.475, middle_y)
    page.wait_for_url(re.compile(r"#/reports/Q-6\?.*region="))
    region = re.search(r"region=([^&]+)", page.url)
    assert region is not None
    cells = page.locator('[data-table="report"] [data-key="region"]')
    cells.first.wait_for()
    from urllib.parse import unquote

    assert set(cells.all_inner_texts()) == {unquote(region.group(1))}
    # a query report has no chart
    assert page.locator("[data-report-chart]").count() == 0

    # the report's own page draws its chart too, and a slice there drills the same way
    tab.go("/reports/S-11")
    pie = page.locator('[data-report-chart="S-11"] [data-chart="pie"][data-rendered="true"]')
    pie.wait_for()
    box = pie.bounding_box()
    middle_x, middle_y = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.45
    page.mouse.click(middle_x + min(box["width"], box["height"]) / 2 * 0.475, middle_y)
    page.wait_for_url(re.compile(r"#/reports/Q-6\?.*region="))
    again = re.search(r"region=([^&]+)", page.url)
    assert again is not None
    expect(page.locator('[data-role="filter"]')).to_have_text([f"区域：{unquote(again.group(1))}"])
    cells.first.wait_for()
    assert set(cells.all_inner_texts()) == {unquote(again.group(1))}


def test_a_name_taken_already_is_answered_on_the_field(tabs: Any, site: tuple[str, Service]) -> None:
    base, _ = site
    taken = api(base, "sales1").get("/customers", params={"scope": "mine", "page_size": 1}).json()["items"][0]
    tab = tabs(PHONE)
    tab.sign_in("sales1")
    tab.go("/customers")
    page = tab.page
    page.locator('[data-action="register"]').click()
    dialog = page.get_by_role("dialog", name="新建客户")
    dialog.locator('input[name="customer_name"]').fill(taken["name"])
    dialog.get_by_role("button", name="登记").click()
    dialog.get_by_text(f"客户名称已存在（{taken['number']}）").wait_for()
    tab.shot("duplicate-name")
    fresh = f"新登记客户{uuid4().hex[:6]}"
    dialog.locator('input[name="customer_name"]').fill(fresh)
    dialog.locator('input[name="contact_name"]').fill("周先生")
    dialog.get_by_role("button", name="登记").click()
    page.get_by_text(re.compile(r"^已登记 KH\d+")).wait_for()
    expect(page.locator('[data-table="customers"] .customer-name', has_text=fresh)).to_have_count(1)
    # The refused attempt was the contract's 409, not a fault of the console.
    assert tab.refused[0].endswith("/api/v1/customers")
    tab.refusals_expected(409)


def test_notifications_are_listed_and_read(tabs: Any, site: tuple[str, Service]) -> None:
    base, _ = site
    pool = api(base, "manager").get("/customers", params={"scope": "pool", "page_size": 1}).json()["items"][0]
    sales1 = next(p for p in api(base, "admin").get("/people", params={"role": "sales"}).json() if p["username"] == "sales1")
    assigned = api(base, "manager").post("/customers/assign", json={"customer_ids": [pool["id"]], "to_person_id": sales1["id"]})
    assert assigned.status_code == 200 and assigned.json()["results"][0]["ok"], assigned.text
    tab = tabs()
    tab.sign_in("sales1")
    tab.go("/notifications")
    card = tab.page.locator('[data-notification="assignment_received"].unread', has_text=pool["name"]).first
    card.wait_for()
    card.get_by_role("button", name="标为已读").click()
    card.wait_for(state="detached")
    unread = [n for n in api(base, "sales1").get("/notifications", params={"unread": True}).json()
              if n["kind"] == "assignment_received" and n["ref_id"] == pool["id"]]
    assert unread == []


def test_a_person_changes_their_password(tabs: Any, site: tuple[str, Service]) -> None:
    base, _ = site
    admin = api(base, "admin")
    department = admin.get("/departments").json()[0]["id"]
    username = f"u{uuid4().hex[:8]}"
    created = admin.post("/people", json={"name": "新同事", "username": username, "password": "first-pass-1",
                                          "department_id": department, "roles": ["sales"]})
    assert created.status_code == 201, created.text
    tab = tabs(PHONE)
    tab.sign_in(username, "first-pass-1")
    tab.page.locator(".who-name").click()
    page = tab.page
    page.locator('input[name="old_password"]').fill("not-my-password")
    page.locator('input[name="new_password"]').fill("second-pass-2")
    page.locator('input[name="repeat_password"]').fill("second-pass-2")
    page.get_by_role("button", name="修改密码").click()
    page.locator(".el-form-item__error").first.wait_for()
    assert page.locator(".el-form-item__error").first.inner_text()
    page.locator('input[name="old_password"]').fill("first-pass-1")
    page.locator('input[name="new_password"]').fill("short")
    page.locator('input[name="repeat_password"]').fill("short")
    page.get_by_role("button", name="修改密码").click()
    expect(page.locator(".el-form-item__error")).to_have_count(1)
    page.locator('input[name="new_password"]').fill("second-pass-2")
    page.locator('input[name="repeat_password"]').fill("second-pass-2")
    page.get_by_role("button", name="修改密码").click()
    page.get_by_text("密码已修改，其他登录已退出").wait_for()
    # This tab carries on with its new token; the old password no longer signs in.
    tab.go("/customers")
    page.locator('[data-table="customers"]').wait_for()
    assert httpx.post(f"{base}/api/v1/auth/token", data={"username": username, "password": "first-pass-1"}).status_code == 401
    api(base, username, "second-pass-2")
    tab.shot("profile")
    # The refusals were the contract's 403 (wrong password) and 422 (too short).
    tab.refusals_expected(403, 422)


def test_an_admin_restores_a_customer_to_an_earlier_version(tabs: Any, site: tuple[str, Service]) -> None:
    base, _ = site
    customer_id = moved_customer(base, "恢复客户", "原地址", "误改的地址")
    tab = tabs()
    tab.sign_in("admin")
    tab.go(f"/customers/{customer_id}")
    page = tab.page
    address = page.locator('[data-field="address"]')
    expect(address).to_have_text("误改的地址")
    runway = page.locator('[data-role="time-slider"] .el-slider__runway')
    box = runway.bounding_box()
    page.mouse.click(box["x"] + 2, box["y"] + box["height"] / 2)
    expect(address).to_have_text("原地址")
    page.locator('[data-action="restore"]').click()
    page.get_by_role("dialog").locator("input").fill("改错了")
    page.get_by_role("dialog").get_by_role("button", name="恢复").click()
    page.get_by_text(re.compile("已恢复到版本 1")).wait_for()
    # The latest version is the restore: the fields are back, the history keeps the mistake.
    expect(page.locator('[data-role="past-banner"]')).to_have_count(0)
    expect(address).to_have_text("原地址")
    assert api(base, "admin").get(f"/customers/{customer_id}").json()["address"] == "原地址"
    expect(page.locator('[data-role="history"]').get_by_text("地址：原地址 → 误改的地址")).to_have_count(1)
    tab.shot("restored")
