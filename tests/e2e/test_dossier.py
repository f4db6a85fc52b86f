"""The audit dossier: one workbook per customer, over HTTP for admins and auditors and on the
command line, with its states, history, visits, contracts, approvals and operation log."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from openpyxl.workbook import Workbook
from typer.testing import CliRunner

from api.cli import app as cli
from commands.adapters.clock import ManualClock
from commands.bootstrap import Service
from tests.conftest import Http, assert_error
from tests.e2e.helpers import jpeg, ok

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEETS = ["当前状态", "历史状态", "变更历史", "拜访记录", "合同", "合同明细", "合同执行", "审批", "操作日志"]
# A business time zone that is neither UTC nor the default, so a moment left in either shows.
ZONE = ZoneInfo("Asia/Kolkata")
ODD_NAME = "=1+1<script>alert('x')</script> Ｃａｆé\u0301 👩\u200d💻 \u05e9\u05dc\u05d5\u05dd"


def _customer_with_everything(http: Http, shop: dict[str, str], clock: ManualClock) -> dict[str, Any]:
    """A customer changed twice, visited with a photo, with a contract invoiced, paid and
    delivered in part, and a change of its information waiting for approval."""
    ok(http.post("/people", "root", json={"name": "审计员", "username": "eve", "password": "password123",
                                          "roles": ["auditor"]}))
    ok(http.put("/settings", "root", json={"rules": {"timezone": "Asia/Kolkata"}}), 200)
    customer = shop["customer"]
    clock.advance(hours=1)
    ok(http.post(f"/customers/{customer}/changes", "boss", json={
        "changes": {"name": ODD_NAME, "lat": 31.2304, "lng": 121.4737}, "reason": "更正"}), 200)
    clock.advance(hours=1)
    ok(http.post(f"/customers/{customer}/changes", "boss", json={"changes": {"region": "华南", "stage": "需求确认"}}),
       200)
    clock.advance(hours=1)
    taken = clock.now().astimezone(ZONE).replace(microsecond=0) - timedelta(days=2)
    photo = jpeg(taken, gps=(39.9042, 116.4074))  # Beijing, far from the customer in Shanghai
    visit = ok(http.post(f"/customers/{customer}/visits", "alice", data={"notes": "=HYPERLINK(\"http://x\")"},
                         files={"photo": ("v.jpg", photo, "image/jpeg")}))
    assert visit["late_entry"] is True and visit["far_from_customer"] is True
    product = shop["product"]
    ok(http.post(f"/products/{product}/stock-ins", "keeper",
                 json={"warehouse": "W1", "quantity": "10", "unit_cost": "100.00"}))
    contract = ok(http.post("/contracts", "alice", json={
        "customer_id": customer, "number": "HT-D1", "name": "档案合同", "signed_on": "2026-11-02",
        "lines": [{"product_id": product, "quantity": "8", "unit_price": "250.00"}]}))["id"]
    clock.advance(hours=1)
    ok(http.post(f"/contracts/{contract}/invoices", "alice", json={"amount": "1500.00"}))
    ok(http.post("/payments", "alice", json={"customer_id": customer, "contract_id": contract, "amount": "1234.56"}))
    ok(http.post(f"/contracts/{contract}/deliveries", "keeper", json={
        "lines": [{"product_id": product, "warehouse": "W1", "quantity": "5"}]}))
    ok(http.put("/settings", "root", json={"rules": {"approval_required": ["customer_info_change"]}}), 200)
    clock.advance(hours=1)
    pending = ok(http.post(f"/customers/{customer}/changes", "alice",
                           json={"changes": {"address": "待批地址"}, "reason": "搬迁"}), 202)
    shown = http.get(f"/customers/{customer}", "root").json()
    # The name as the service keeps it (normalised), still looking like a formula and markup.
    name, number = shown["name"], shown["number"]
    assert name.startswith("=1+1<script>") and "שלום" in name and "👩" in name
    return {"name": name, "customer": customer, "contract": contract, "visit": visit["visit_id"], "photo": photo,
            "approval": pending["approval_id"], "number": number}


def _rows(book: Workbook, sheet: str) -> list[dict[str, Any]]:
    """A sheet's rows as {title: value}."""
    head, *rows = list(book[sheet].values)
    return [dict(zip(head, row, strict=True)) for row in rows]


def _local(moment: str) -> datetime:
    return datetime.fromisoformat(moment).astimezone(ZONE).replace(tzinfo=None, microsecond=0)


def _same(cell: Any, value: Any) -> bool:
    """Whether a cell holds the value the JSON history gives (a string for decimals and moments)."""
    if value is None or value in ("", [], {}):  # nothing: an empty cell
        return cell is None
    if isinstance(cell, datetime):
        return cell == _local(value)
    if isinstance(value, bool):
        return cell == ("是" if value else "否")
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return Decimal(str(cell)) == Decimal(str(value))
    if isinstance(value, list | dict):
        return bool(json.loads(cell) == value)
    return bool(cell == value)


def test_the_dossier_holds_every_part_of_the_customer(http: Http, shop: dict[str, str], clock: ManualClock) -> None:
    made = _customer_with_everything(http, shop, clock)
    customer = made["customer"]
    answer = http.get(f"/customers/{customer}/dossier", "eve", params={"format": "xlsx"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == XLSX
    assert f'filename="dossier-{made["number"]}.xlsx"' in answer.headers["content-disposition"]
    book = load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == SHEETS
    # Formula-like text stays text: no cell of the file is a formula.
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert sheets and not any(b"<f>" in archive.read(n) or b"<f " in archive.read(n) for n in sheets)

    # The current state: a field per row under its Chinese title.
    current = {r["字段代码"]: r for r in _rows(book, "当前状态")}
    assert list(book["当前状态"].values)[0] == ("字段", "字段代码", "值")
    assert (current["name"]["字段"], current["name"]["值"]) == ("客户名称", made["name"])
    assert (current["number"]["字段"], current["number"]["值"]) == ("客户编号", made["number"])
    assert current["region"]["值"] == "华南" and current["address"]["值"] is None  # the change still waits
    assert current["owner_id"]["值"] == f"alice ({shop['alice']})"
    [name_cell] = [row[2] for row in book["当前状态"].iter_rows(min_row=2) if row[1].value == "name"]
    assert name_cell.data_type == "s" and name_cell.value == made["name"]
    [deal] = [row[2] for row in book["当前状态"].iter_rows(min_row=2) if row[1].value == "collected_total"]
    assert isinstance(deal.value, int | float) and Decimal(str(deal.value)) == Decimal("1234.56")
    assert deal.number_format == "#,##0.00"
    [created] = [row[2] for row in book["当前状态"].iter_rows(min_row=2) if row[1].value == "created_at"]
    registered = http.get(f"/customers/{customer}/history", "root").json()["items"][0]["at"]
    assert isinstance(created.value, datetime) and created.value == _local(registered)

    # The history: a row per changed field, as GET /customers/{id}/history has it.
    history = http.get(f"/customers/{customer}/history", "eve").json()["items"]
    rows = _rows(book, "变更历史")
    expected = [(item, change) for item in history for change in (item["changes"] or [None])]
    assert len(rows) == len(expected) > 5
    for row, (item, change) in zip(rows, expected, strict=True):
        assert (row["版本"], row["时间"], row["操作人"], row["操作人ID"], row["命令ID"], row["事件类型"]) == (
            item["version"], _local(item["at"]), item["actor_name"], item["actor_id"], item["command_id"],
            item["type"])
        assert isinstance(row["时间"], datetime)
        if change is None:
            assert row["字段代码"] is None
        else:
            assert row["字段代码"] == change["field"]
            assert _same(row["旧值"], change["old"]) and _same(row["新值"], change["new"]), (row, change)
    [renamed] = [r for r in rows if r["字段代码"] == "name" and r["版本"] > 1]
    assert (renamed["字段"], renamed["旧值"], renamed["新值"]) == ("客户名称", "采购方", made["name"])

    # The past states: a row per version, the fields as they stood after it.
    past = _rows(book, "历史状态")
    assert [p["版本"] for p in past] == [i["version"] for i in history]
    assert [p["时间"] for p in past] == [_local(i["at"]) for i in history]
    assert [p["客户名称"] for p in past[:2]] == ["采购方", made["name"]]
    assert past[0]["所属区域"] == "华东" and past[-1]["所属区域"] == "华南"
    assert past[0]["操作人"] == f"alice ({shop['alice']})"

    # The visit, its flags, and its photo through the API with the auditor's token.
    [visit] = _rows(book, "拜访记录")
    assert visit["照片链接"] == f"/api/v1/customers/{customer}/visits/{made['visit']}/photo"
    assert (visit["补录"], visit["远离客户"], visit["距离核验"]) == ("是", "是", "checked")
    assert visit["距客户(米)"] > 1_000_000 and visit["拜访内容"] == "=HYPERLINK(\"http://x\")"
    assert isinstance(visit["拜访时间"], datetime) and isinstance(visit["录入时间"], datetime)
    photo = http.client.get(visit["照片链接"], headers=http.as_("eve"))
    assert photo.status_code == 200 and photo.content == made["photo"]

    # The contract, its lines and what was done on it.
    [deal_row] = _rows(book, "合同")
    assert (deal_row["合同编号"], deal_row["合同名称"], deal_row["合同金额"], deal_row["开票金额"],
            deal_row["回款金额"], deal_row["应收金额"], deal_row["已交付完毕"]) == (
        "HT-D1", "档案合同", 2000, 1500, 1234.56, 765.44, "否")
    assert isinstance(deal_row["签订日期"], datetime) and deal_row["签订日期"].date() == date(2026, 11, 2)
    [line] = _rows(book, "合同明细")
    assert (line["产品名称"], line["数量"], line["已交付数量"], line["待交付数量"]) == ("服务器", 8, 5, 3)
    done = _rows(book, "合同执行")
    assert sorted((d["类型"], d["金额"]) for d in done if d["类型"] != "发货") == [("回款", 1234.56), ("开票", 1500)]
    [moved] = [d for d in done if d["类型"] == "发货"]
    assert (moved["合同编号"], moved["仓库"], moved["方向"], moved["数量"]) == ("HT-D1", "W1", "出库", 5)
    money = [row[3] for row in book["合同执行"].iter_rows(min_row=2)]
    assert all(c.number_format == "#,##0.00" for c in money if c.value is not None)

    # The approval waiting, and the operation-log entries that targeted the customer.
    [approval] = _rows(book, "审批")
    assert (approval["审批ID"], approval["审批类型"], approval["审批状态"]) == (made["approval"], "客户信息变更", "待审批")
    assert approval["申请人"] == f"alice ({shop['alice']})" and isinstance(approval["申请时间"], datetime)
    log = _rows(book, "操作日志")
    operations = [e["操作"] for e in log]
    assert {"customer.register", "customer.change", "visit.record", "contract.create"} <= set(operations)
    assert all(e["对象"] in (customer, made["contract"]) or e["对象"].startswith(customer + "/") for e in log)
    assert [e["时间"] for e in log] == sorted(e["时间"] for e in log)
    # The download itself is logged, as an export of the auditor's.
    [logged] = http.get("/operation-log", "root", params={"operation": "dossier"}).json()["items"]
    assert (logged["actor_name"], logged["target_id"], logged["status"]) == ("审计员", customer, 200)
    assert logged["operation"] == "customers.dossier.export"


def test_only_admins_and_auditors_get_a_dossier(http: Http, shop: dict[str, str]) -> None:
    ok(http.post("/people", "root", json={"name": "审计员", "username": "eve", "password": "password123",
                                          "roles": ["auditor"]}))
    customer = shop["customer"]
    for who in ("alice", "boss", "keeper"):
        assert_error(http.get(f"/customers/{customer}/dossier", who), 403, "forbidden")
    assert http.get(f"/customers/{customer}/dossier", "root").status_code == 200
    assert http.client.get(f"/api/v1/customers/{customer}/dossier").status_code == 401
    # Unknown ids, ids of another kind of record, and what is not an id.
    assert_error(http.get("/customers/0b6f3c2e-4d7a-4f1e-9c3b-5a8d2e6f7a10/dossier", "eve"), 404, "not_found")
    assert_error(http.get(f"/customers/{shop['product']}/dossier", "eve"), 404, "not_found")
    assert_error(http.get(f"/customers/{shop['alice']}/dossier", "eve"), 404, "not_found")
    assert_error(http.get("/customers/KH202611000001/dossier", "eve"), 422)
    for wrong in ("csv", "json", "XLSX", ""):
        error = assert_error(http.get(f"/customers/{customer}/dossier", "eve", params={"format": wrong}), 422,
                             "validation_error")
        assert error["field"] == "format"
    assert_error(http.get(f"/customers/{customer}/dossier", "eve", params={"as_of": "2026-11-02T00:00:00Z"}), 422)


def test_the_command_line_writes_the_same_dossier(service: Service, http: Http, shop: dict[str, str],
                                                  clock: ManualClock, monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    made = _customer_with_everything(http, shop, clock)
    monkeypatch.setenv("CRM_DATABASE_URL", service.config.database_url)
    runner = CliRunner()
    target = tmp_path / "档案.xlsx"
    written = runner.invoke(cli, ["audit", "customer", made["number"], "--dossier", str(target)],
                            env={"COLUMNS": "400"})  # one line, however deep the temporary folder
    assert written.exit_code == 0, written.output
    assert str(target) in written.output
    answer = http.get(f"/customers/{made['customer']}/dossier", "eve")
    assert answer.status_code == 200
    from_api, from_cli = load_workbook(io.BytesIO(answer.content)), load_workbook(target)
    assert from_cli.sheetnames == from_api.sheetnames == SHEETS
    for sheet in SHEETS:
        assert list(from_cli[sheet].values) == list(from_api[sheet].values), sheet
    assert len(list(from_cli["变更历史"].values)) > 5
    # An unknown number, a file that is not a workbook, a dossier as of a moment: one-line refusals.
    unknown = runner.invoke(cli, ["audit", "customer", "KH000000000000", "--dossier", str(tmp_path / "x.xlsx")])
    assert unknown.exit_code == 1
    assert unknown.stderr.startswith("error: not_found: ") and "KH000000000000" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1 and not (tmp_path / "x.xlsx").exists()
    for wrong in (["--dossier", str(tmp_path / "x.csv")],
                  ["--dossier", str(tmp_path / "y.xlsx"), "--as-of", "2026-11-02T09:00:00+08:00"]):
        refused = runner.invoke(cli, ["audit", "customer", made["number"], *wrong])
        assert refused.exit_code == 2 and refused.stderr.startswith("error: invalid_value: "), refused.output
        assert len(refused.stderr.strip().splitlines()) == 1


def test_the_openapi_document_shows_the_workbook(http: Http) -> None:
    operation = http.client.get("/openapi.json").json()["paths"]["/api/v1/customers/{customer_id}/dossier"]["get"]
    answer = operation["responses"]["200"]["content"]
    assert answer == {XLSX: {"schema": {"type": "string", "format": "binary"}}}
    [format_] = [p for p in operation["parameters"] if p["name"] == "format"]
    assert format_["in"] == "query" and format_["schema"].get("enum", [format_["schema"].get("const")]) == ["xlsx"]
    assert {"403", "404", "422"} <= set(operation["responses"])
