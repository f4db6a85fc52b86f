"""Times as a person reads them: report rows, CSV and XLSX exports, the report page and the
auditor's command line show moments on the business clock (the `timezone` setting, Shanghai
by default); spreadsheets get real date and number cells; every other datetime in the API's
JSON carries an explicit offset."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from api.cli import app as cli
from api.deps import issue_token
from api.main import create_app
from commands import messages as m
from commands.actor import Actor
from commands.adapters.clock import ManualClock
from commands.bootstrap import Service
from commands.handlers import handle
from tests.conftest import SYSTEM, Http, make_service
from tests.e2e.helpers import ok, org_with_two_salespeople
from tests.e2e.live_server import chromium, dump_dom, serve

# 08:07:15.795370 UTC on 1 December is 16:07:15 in Shanghai.
VISITED = datetime(2026, 12, 1, 8, 7, 15, 795370, tzinfo=UTC)
# 17:30 UTC on 30 November is already 1 December, 01:30, in Shanghai.
NIGHT = datetime(2026, 11, 30, 17, 30, tzinfo=UTC)
DECEMBER = {"year": 2026, "month": 12}
ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
OFFSET = re.compile(r"(Z|[+-]\d{2}:\d{2})$")


@pytest.fixture
def visited(http: Http, clock: ManualClock) -> dict[str, Any]:
    """Alice's customer, visited at VISITED (the clock's now) and at NIGHT (given), and a
    payment of 1234.50 received on 1 December."""
    ids = org_with_two_salespeople(http)
    clock.set(datetime(2026, 11, 20, 2, 0, tzinfo=UTC))
    customer = ok(http.post("/customers", "alice", json={"name": "时区客户", "region": "华东"}))
    clock.set(VISITED)
    ok(http.post(f"/customers/{customer['id']}/visits", "alice", json={}))
    ok(http.post(f"/customers/{customer['id']}/visits", "alice",
                 json={"visited_at": NIGHT.isoformat().replace("+00:00", "Z")}))
    ok(http.post("/payments", "alice", json={"customer_id": customer["id"], "amount": "1234.50",
                                             "received_on": "2026-12-01"}))
    return {**ids, "customer": customer}


def report(http: Http, report_id: str, **params: Any) -> dict[str, Any]:
    given = {k: v for k, v in {**DECEMBER, **params}.items() if v is not None}
    return ok(http.get(f"/reports/{report_id}", "root", params=given), 200)


def shown_columns(body: dict[str, Any]) -> list[str]:
    """The keys of the columns an export holds, in its order (ids are left out)."""
    return [c["key"] for c in body["columns"] if not (c["key"] == "id" or c["key"].endswith("_id"))]


def csv_rows(http: Http, report_id: str) -> list[list[str]]:
    response = http.get(f"/reports/{report_id}", "root", params={**DECEMBER, "format": "csv"})
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def xlsx_sheet(http: Http, report_id: str) -> Any:
    response = http.get(f"/reports/{report_id}", "root", params={**DECEMBER, "format": "xlsx"})
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    return sheet


def test_report_rows_show_the_business_clock_with_its_offset(http: Http, visited: dict[str, Any]) -> None:
    rows = report(http, "Q-3", sort="visited_at")["rows"]
    # Whole seconds, the Shanghai wall time, the Shanghai offset.
    assert [r["visited_at"] for r in rows] == ["2026-12-01T01:30:00+08:00", "2026-12-01T16:07:15+08:00"]
    for row in rows:
        moment = datetime.fromisoformat(row["visited_at"])
        assert moment.utcoffset() is not None and moment.utcoffset().total_seconds() == 8 * 3600
    # The same moments as stored: nothing moved, only the way it is written.
    assert datetime.fromisoformat(rows[1]["visited_at"]) == VISITED.replace(microsecond=0)
    assert datetime.fromisoformat(rows[0]["visited_at"]) == NIGHT
    # The visit at 01:30 Shanghai time belongs to December, not to November.
    assert report(http, "Q-3", month=11)["rows"] == []


def test_csv_writes_the_business_wall_time_to_the_minute(http: Http, visited: dict[str, Any]) -> None:
    body = report(http, "Q-3", sort="visited_at")
    column = shown_columns(body).index("visited_at")
    table = csv_rows(http, "Q-3")
    assert len(table) == 3
    assert sorted(line[column] for line in table[1:]) == ["2026-12-01 01:30", "2026-12-01 16:07"]
    payments = csv_rows(http, "Q-5")
    keys = shown_columns(report(http, "Q-5"))
    assert [(line[keys.index("received_on")], line[keys.index("amount")]) for line in payments[1:]] == [
        ("2026-12-01", "1234.50")]


def test_xlsx_holds_real_datetime_date_and_number_cells(http: Http, visited: dict[str, Any]) -> None:
    keys = shown_columns(report(http, "Q-3"))
    sheet = xlsx_sheet(http, "Q-3")
    cells = [row[keys.index("visited_at")] for row in sheet.iter_rows(min_row=2)]
    assert sorted(c.value for c in cells) == [datetime(2026, 12, 1, 1, 30), datetime(2026, 12, 1, 16, 7, 15)]
    for cell in cells:
        assert cell.is_date and isinstance(cell.value, datetime) and cell.number_format == "yyyy-mm-dd hh:mm"

    keys = shown_columns(report(http, "Q-5"))
    [row] = list(xlsx_sheet(http, "Q-5").iter_rows(min_row=2))
    amount, received = row[keys.index("amount")], row[keys.index("received_on")]
    assert amount.data_type == "n" and not isinstance(amount.value, str)
    assert Decimal(str(amount.value)) == Decimal("1234.50") and amount.number_format in ("#,##0.00", "0.00")
    assert received.is_date and received.value.date() == date(2026, 12, 1)
    assert received.number_format == "yyyy-mm-dd"
    # The header row stays text; no cell of the sheet is a moment written as text.
    for line in xlsx_sheet(http, "Q-3").iter_rows(min_row=2, values_only=True):
        assert not [v for v in line if isinstance(v, str) and ISO_MOMENT.match(v)], line


def test_another_time_zone_setting_moves_what_is_shown(http: Http, visited: dict[str, Any]) -> None:
    ok(http.put("/settings", "root", json={"rules": {"timezone": "America/New_York"}}), 200)
    rows = report(http, "Q-3", sort="visited_at", month=None, year=2026)["rows"]
    assert sorted(r["visited_at"] for r in rows) == ["2026-11-30T12:30:00-05:00", "2026-12-01T03:07:15-05:00"]
    column = shown_columns(report(http, "Q-3", month=None, year=2026)).index("visited_at")
    response = http.get("/reports/Q-3", "root", params={"year": 2026, "format": "csv"})
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert sorted(line[column] for line in table[1:]) == ["2026-11-30 12:30", "2026-12-01 03:07"]
    ok(http.put("/settings", "root", json={"rules": {"timezone": "UTC"}}), 200)
    rows = report(http, "Q-3", month=None, year=2026, sort="visited_at")["rows"]
    assert [datetime.fromisoformat(r["visited_at"].replace("Z", "+00:00")) for r in rows] == [
        NIGHT, VISITED.replace(microsecond=0)]
    assert all(OFFSET.search(r["visited_at"]) for r in rows)
    assert rows[1]["visited_at"].startswith("2026-12-01T08:07:15")


def test_the_operation_log_export_is_on_the_business_clock(http: Http, visited: dict[str, Any]) -> None:
    entries = ok(http.get("/operation-log", "root", params={"page_size": 200}), 200)["items"]
    visits = [e for e in entries if e["operation"] == "visit.record"]
    assert len(visits) == 2
    for visit in visits:  # JSON: the stored moment, with its offset
        assert OFFSET.search(visit["at"]), visit["at"]
        stored = datetime.fromisoformat(visit["at"].replace("Z", "+00:00"))
        assert stored.replace(microsecond=0) == VISITED.replace(microsecond=0)
    response = http.get("/operation-log", "root", params={"format": "csv", "operation": "visit.record"})
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [line[0] for line in table[1:]] == ["2026-12-01 16:07"] * 2
    response = http.get("/operation-log", "root", params={"format": "xlsx", "operation": "visit.record"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == [datetime(2026, 12, 1, 16, 7, 15)] * 2


def _moments(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _moments(item, f"{where}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _moments(item, f"{where}[{n}]")
    elif isinstance(value, str) and ISO_MOMENT.match(value) and len(value) > 10:
        yield where, value


def test_no_datetime_in_the_json_is_without_an_offset(http: Http, visited: dict[str, Any]) -> None:
    customer = visited["customer"]["id"]
    reads = ["/customers", f"/customers/{customer}", f"/customers/{customer}/history", "/contracts", "/people",
             "/departments", "/me", "/approvals", "/notifications", "/operation-log", "/targets", "/work-reports",
             "/warehouse-requests", "/problems", "/products", "/stock", "/admin/projections"]
    reads += [f"/reports/{r['id']}" for r in http.get("/reports", "root").json()]
    found = 0
    for path in reads:
        response = http.get(path, "root", params={"year": 2026} if path.startswith("/reports/") else None)
        assert response.status_code == 200, (path, response.text)
        for where, value in _moments(response.json()):
            found += 1
            assert OFFSET.search(value), f"{path}{where}: {value} has no offset"
    assert found > 10


def test_the_audit_command_line_prints_business_time(service: Service, http: Http, visited: dict[str, Any],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_DATABASE_URL", service.config.database_url)
    runner = CliRunner()
    shown = runner.invoke(cli, ["audit", "customer", visited["customer"]["number"]], env={"COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    # Registered at 02:00 UTC on 20 November: 10:00 in Shanghai; visited at 16:07:15.
    assert "2026-11-20 10:00:00" in shown.output and "2026-11-20 02:00:00" not in shown.output
    assert "2026-12-01 16:07:15" in shown.output, shown.output
    # The state at a moment given with an offset, as the API writes moments.
    then = runner.invoke(cli, ["audit", "customer", visited["customer"]["number"], "--as-of",
                               "2026-12-01T16:00:00+08:00"], env={"COLUMNS": "250"})
    assert then.exit_code == 0, then.output
    assert re.search(r"created_at\s*│\s*2026-11-20 10:00:00", then.output), then.output
    # 16:00 in Shanghai is before both visits were recorded (16:07:15): none yet.
    assert re.search(r"visit_count\s*│\s*0\b", then.output), then.output
    later = runner.invoke(cli, ["audit", "customer", visited["customer"]["number"], "--as-of",
                                "2026-12-01 16:10"], env={"COLUMNS": "250"})
    assert re.search(r"visit_count\s*│\s*2\b", later.output), later.output
    assert re.search(r"last_visit_at\s*│\s*2026-12-01 16:07:15", later.output), later.output
    refused = runner.invoke(cli, ["audit", "customer", visited["customer"]["number"], "--as-of", "soon"])
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    ok(http.put("/settings", "root", json={"rules": {"timezone": "Europe/London"}}), 200)
    london = runner.invoke(cli, ["audit", "customer", visited["customer"]["number"]], env={"COLUMNS": "250"})
    assert "2026-12-01 08:07:15" in london.output and "2026-12-01 16:07:15" not in london.output


@pytest.fixture
def page_server(tmp_path: Path, clock: ManualClock) -> Iterator[tuple[str, str]]:
    """A real server over a store with one visit at VISITED; an admin's token."""
    service = make_service(f"sqlite:///{tmp_path}/crm.db", clock, tmp_path / "blobs")
    deps = service.deps
    admin = handle(m.CreatePerson(name="管理员", username="root", password="password123", roles=["admin"]),
                   SYSTEM, deps).ids["id"]
    seller_id = handle(m.CreatePerson(name="王芳", username="wf", password="password123", roles=["sales"]),
                       SYSTEM, deps).ids["id"]
    seller = Actor(seller_id, "王芳", frozenset({"sales"}), None)
    customer = handle(m.RegisterCustomer(name="页面客户", region="华东"), seller, deps).ids["id"]
    clock.set(VISITED)
    handle(m.RecordVisit(customer_id=customer), seller, deps)
    token, _ = issue_token(service, admin)
    try:
        with serve(create_app(service, background=False)) as url:
            yield url, token
    finally:
        service.close()


@pytest.mark.xdist_group("processes")
def test_the_report_page_shows_the_business_wall_time(page_server: tuple[str, str], tmp_path: Path) -> None:
    browser = chromium()
    base, token = page_server
    # No period given: the current month on the business clock, December (the clock is at VISITED).
    url = f"{base}/api/v1/reports/Q-3/view#token={token}"
    dom = dump_dom(browser, url, tmp_path / "profile")
    assert 'data-rendered="true"' in dom, dom[:2000]
    table = dom[dom.index('id="table"'):]
    assert "2026-12-01 16:07" in table and "08:07" not in table, table[:3000]
