"""R-report pages in a real browser: a running server, headless Chromium opening the page
of each charted report, the chart drawn by the locally served library (no internet), a
screenshot kept in the test's folder."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image

from api.deps import issue_token
from api.main import create_app
from commands import messages as m
from commands.actor import Actor
from commands.adapters.clock import ManualClock
from commands.bootstrap import Service
from commands.handlers import handle
from tests.conftest import SYSTEM, make_service
from tests.e2e.live_server import chromium, serve

# Starts processes, servers or a browser: in a parallel run one worker takes all such modules
# (docs/testing.md), so two of them never compete for the cores at once.
pytestmark = pytest.mark.xdist_group("processes")

# Each charted report, and a text its table must show.
CHARTED = {"S-8": "王芳", "S-10": "李强", "S-11": "华北", "S-14": "民营企业"}


@pytest.fixture
def server(tmp_path: Path, clock: ManualClock) -> Iterator[tuple[str, Service, str]]:
    """A real uvicorn server on a free port over a store with a few deals; a manager's token."""
    service = make_service(f"sqlite:///{tmp_path}/crm.db", clock, tmp_path / "blobs")
    deps = service.deps
    dept = handle(m.CreateDepartment(name="销售部"), SYSTEM, deps).ids["id"]
    manager = handle(m.CreatePerson(name="经理", username="boss", password="password123",
                                    roles=["manager"], department_id=dept), SYSTEM, deps).ids["id"]
    handle(m.ChangeDepartment(dept, {"manager_ids": [manager]}), SYSTEM, deps)
    for n, (name, region, kind) in enumerate((("王芳", "华东", "国有企业"), ("李强", "华南", "民营企业"),
                                              ("赵敏", "华北", "学校"))):
        person = handle(m.CreatePerson(name=name, username=f"s{n}", password="password123",
                                       roles=["sales"], department_id=dept), SYSTEM, deps).ids["id"]
        seller = Actor(person, name, frozenset({"sales"}), dept)
        for k in range(1, 4):
            customer = handle(m.RegisterCustomer(name=f"{name}的客户{k}", region=region, type=kind),
                              seller, deps).ids["id"]
            handle(m.SignContract(customer_id=customer, number=f"HT-{n}-{k}", name="合同",
                                  signed_on=date(2026, k * 3, 10), amount=Decimal(1000 * (n + k))),
                   seller, deps)
    token, _ = issue_token(service, manager)
    try:
        with serve(create_app(service, background=False)) as url:
            yield url, service, token
    finally:
        service.close()


def browse(browser: str, url: str, profile: Path, *extra: str) -> str:
    """Run headless Chromium on the page, letting its scripts and requests finish."""
    command = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
        f"--user-data-dir={profile}", "--virtual-time-budget=30000", "--window-size=1280,1100", *extra, url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env={**os.environ, "LANG": "C.UTF-8"})
    return done.stdout


def test_report_pages_render_their_charts(server: tuple[str, Service, str], tmp_path: Path) -> None:
    browser = chromium()
    base, _, token = server
    for report_id, expected in CHARTED.items():
        url = f"{base}/api/v1/reports/{report_id}/view?year=2026#token={token}"
        dom = browse(browser, url, tmp_path / f"profile-{report_id}", "--dump-dom")
        assert 'data-rendered="true"' in dom, f"{report_id} did not render:\n{dom[:2000]}"
        chart = dom[dom.index('id="chart"'):]
        assert 'class="main-svg"' in chart.split('id="pages"')[0], f"{report_id}: no chart drawn"
        table = dom[dom.index('id="table"'):]
        assert "<td" in table and expected in table, f"{report_id}: no table rows"
        shot = tmp_path / f"{report_id}.png"
        browse(browser, url, tmp_path / f"profile-{report_id}-shot", f"--screenshot={shot}")
        assert shot.exists() and shot.stat().st_size > 5000
        with Image.open(shot) as image:
            colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 50, f"{report_id}: the screenshot looks blank"


def test_a_page_without_a_token_offers_sign_in(server: tuple[str, Service, str], tmp_path: Path) -> None:
    browser = chromium()
    base, _, _ = server
    dom = browse(browser, f"{base}/api/v1/reports/S-8/view", tmp_path / "profile", "--dump-dom")
    assert 'id="signin" style="display: block;"' in dom
    assert 'data-rendered="true"' not in dom
