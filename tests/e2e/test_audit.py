"""H-4 restore, H-5/R-8 the operation log, and the auditor's command line."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from api.cli import app as cli
from commands.adapters.clock import ManualClock
from commands.bootstrap import Service
from tests.conftest import Http, assert_error
from tests.e2e.helpers import ok, org_with_two_salespeople

FIELDS = ("name", "type", "source", "region", "address", "building", "lat", "lng", "status", "stage")


def test_restore_to_an_earlier_version(http: Http, clock: ManualClock) -> None:
    org_with_two_salespeople(http)
    customer = ok(http.post("/customers", "root", json={"name": "恢复客户", "region": "华东", "to_pool": True}))["id"]
    moments = [clock.now()]
    for changes in ({"region": "华南", "address": "广州一号"}, {"name": "改名客户", "type": "学校"},
                    {"stage": "需求确认", "status": "following"}, {"address": "广州二号", "lat": 23.1}):
        clock.advance(hours=1)
        ok(http.post(f"/customers/{customer}/changes", "root", json={"changes": changes, "reason": "维护"}), 200)
        moments.append(clock.now())
    states = [http.get(f"/customers/{customer}", "root", params={"version": v}).json()["state"] for v in range(1, 6)]
    assert [s["name"] for s in states] == ["恢复客户", "恢复客户", "改名客户", "改名客户", "改名客户"]

    assert_error(http.post(f"/customers/{customer}/restore", "boss", json={"version": 2}), 403)
    assert_error(http.post(f"/customers/{customer}/restore", "root", json={"version": 5}), 422, "invalid_version")
    clock.advance(hours=1)
    ok(http.post(f"/customers/{customer}/restore", "root", json={"version": 2, "reason": "误改"}), 200)
    now = http.get(f"/customers/{customer}", "root").json()
    assert {f: now[f] for f in FIELDS} == {f: states[1][f] for f in FIELDS}
    history = http.get(f"/customers/{customer}/history", "root").json()["items"]
    assert len(history) == 6
    assert (history[-1]["type"], history[-1]["data"]["version"], history[-1]["data"]["reason"]) == (
        "Restored", 2, "误改")
    assert {c["field"]: (c["old"], c["new"]) for c in history[-1]["changes"]}["name"] == ("改名客户", "恢复客户")
    # Every earlier state is still there, by moment and by version.
    for version, moment in enumerate(moments, start=1):
        past = http.get(f"/customers/{customer}", "root", params={"as_of": moment.isoformat()}).json()
        assert (past["version"], past["state"]) == (version, states[version - 1])
    # The name moved back: the restored name is taken again, the other one free.
    assert_error(http.post("/customers", "alice", json={"name": "恢复客户"}), 409, "duplicate_name")
    ok(http.post("/customers", "alice", json={"name": "改名客户"}))
    # Restored fields show in the info-change query.
    [change] = [r for r in http.get("/reports/Q-12", "root", params={"year": clock.now().year}).json()["rows"]
                if r["description"].startswith("恢复到版本 2")]
    assert "名称: 改名客户 → 恢复客户" in change["description"]


def test_the_operation_log_records_accepted_and_refused_commands(http: Http) -> None:
    ids = org_with_two_salespeople(http)
    made = ok(http.post("/customers", "alice", json={"name": "日志客户", "to_pool": True}))
    refused_delete = http.delete(f"/customers/{made['id']}", "alice")
    assert_error(refused_delete, 403)
    assert_error(http.post("/customers", "bob", json={"name": "日志客户"}), 409, "duplicate_name")
    assert_error(http.post("/customers", "bob", json={"name": ""}), 422)
    bad_login = http.client.post("/api/v1/auth/token", data={"username": "Alice", "password": "wrong-password"})
    assert bad_login.status_code == 401

    entries = http.get("/operation-log", "root", params={"page_size": 200}).json()["items"]
    by_operation = [(e["route"], e["actor_id"], e["status"], e["outcome"], e["error_code"]) for e in entries]
    assert ("DELETE /api/v1/customers/{customer_id}", ids["alice"], 403, "refused", "forbidden") in by_operation
    assert ("POST /api/v1/customers", ids["bob"], 409, "refused", "duplicate_name") in by_operation
    assert ("POST /api/v1/customers", ids["bob"], 422, "refused", "validation_error") in by_operation
    [accepted] = [e for e in entries if e["route"] == "POST /api/v1/customers" and e["outcome"] == "accepted"
                  and e["actor_id"] == ids["alice"]]
    assert (accepted["target_id"], accepted["position"], accepted["actor_name"]) == (made["id"], made["position"],
                                                                                   "Alice")
    [login] = [e for e in entries if e["route"] == "POST /api/v1/auth/token" and e["status"] == 401]
    assert (login["target_id"], login["error_code"], login["actor_id"]) == ("alice", "invalid_credentials", None)
    [deleted] = [e for e in entries if e["route"].startswith("DELETE")]
    assert deleted["target_id"] == made["id"]
    # Reads are not commands and are not recorded.
    assert not [e for e in entries if e["method"] == "GET"]

    refused = http.get("/operation-log", "root", params={"outcome": "refused", "actor_id": ids["bob"]}).json()
    assert {e["error_code"] for e in refused["items"]} == {"duplicate_name", "validation_error"}
    today = entries[0]["at"][:10]
    assert http.get("/operation-log", "root", params={"from": today, "to": today}).json()["total"] == len(entries)
    assert http.get("/operation-log", "root", params={"to": "2000-01-01"}).json()["total"] == 0
    assert http.get("/operation-log", "root", params={"operation": "auth/token"}).json()["total"] >= 1
    # A manager reads the log of their people; salespeople cannot read it.
    managed = http.get("/operation-log", "boss", params={"page_size": 200}).json()["items"]
    assert {e["actor_id"] for e in managed} <= {ids["alice"], ids["bob"], ids["boss"]}
    assert_error(http.get("/operation-log", "alice"), 403)
    # Exports, which are themselves recorded.
    exported = http.get("/operation-log", "boss", params={"format": "csv"})
    table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert table[0][:3] == ["时间", "操作人", "操作"] and len(table) > 3
    book = load_workbook(io.BytesIO(http.get("/operation-log", "root", params={"format": "xlsx"}).content)).active
    assert book is not None and list(book.values)[0][0] == "时间"
    exports = http.get("/operation-log", "root", params={"operation": "operation-log"}).json()["items"]
    root = http.get("/me", "root").json()["id"]
    # Alice's refused read of the log is there too: every refused request is logged.
    assert sorted((e["actor_id"], e["outcome"]) for e in exports) == sorted([(ids["boss"], "accepted"),
                                                                            (root, "accepted"),
                                                                            (ids["alice"], "refused")])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_audit_and_export_on_the_command_line(service: Service, http: Http, clock: ManualClock,
                                              monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    org_with_two_salespeople(http)
    made = ok(http.post("/customers", "alice", json={"name": "审计客户", "region": "华东"}))
    before = clock.now()
    clock.advance(hours=2)
    ok(http.post(f"/customers/{made['id']}/changes", "root", json={"changes": {"region": "西南"}}), 200)
    monkeypatch.setenv("CRM_DATABASE_URL", service.config.database_url)
    runner = CliRunner()
    shown = runner.invoke(cli, ["audit", "customer", made["number"]], env={"COLUMNS": "220"})
    assert shown.exit_code == 0, shown.output
    assert "Registered" in shown.output and "InfoChanged" in shown.output
    assert re.search(r"region: 华东 → 西南", shown.output), shown.output
    assert "Alice" in shown.output
    then = runner.invoke(cli, ["audit", "customer", made["number"], "--as-of", before.isoformat()],
                         env={"COLUMNS": "220"})
    assert then.exit_code == 0, then.output
    assert re.search(r"region\s*│\s*华东", then.output), then.output
    assert runner.invoke(cli, ["audit", "customer", "KH000000000000"]).exit_code == 1
    target = tmp_path / "s4.xlsx"
    written = runner.invoke(cli, ["export", "report", "S-4", "--year", "2026", "-o", str(target)])
    assert written.exit_code == 0, written.output
    sheet = load_workbook(target).active
    assert sheet is not None
    rows = list(sheet.values)
    # Counted in the region it had when registered, in November.
    assert rows[0][0] == "区域" and [(r[0], r[11], r[13]) for r in rows[1:]] == [("华东", 1, 1)]
    assert runner.invoke(cli, ["export", "report", "S-4", "-o", str(tmp_path / "x.pdf")]).exit_code == 2
    assert runner.invoke(cli, ["export", "report", "S-99", "-o", str(tmp_path / "x.csv")]).exit_code == 2


def test_exports_and_refusals_before_any_route_are_logged(http: Http) -> None:
    org_with_two_salespeople(http)
    assert http.post("/customers", "alice", json={"name": "=HYPERLINK(\"http://x\")"}).status_code == 201
    exported = http.client.get("/api/v1/reports/Q-11?format=%63sv", headers=http.as_("root"))
    assert exported.status_code == 200 and exported.headers["x-truncated"] == "false"
    # A formula typed into a name stays text in the file.
    assert "'=HYPERLINK" in exported.content.decode("utf-8-sig")
    assert_error(http.post("/customers", "alice", json={"name": "大", "address": "x" * (2 * 1024 * 1024)}), 413)
    entries = http.get("/operation-log", "root", params={"page_size": 200}).json()["items"]
    operations = {(e["route"], e["status"]) for e in entries}
    assert ("GET /api/v1/reports/{report_id}", 200) in operations
    assert ("POST /api/v1/customers", 413) in operations


def test_restore_refuses_values_the_dictionaries_dropped(http: Http) -> None:
    org_with_two_salespeople(http)
    customer = ok(http.post("/customers", "root", json={"name": "字典客户", "source": "展会", "to_pool": True}))["id"]
    ok(http.post(f"/customers/{customer}/changes", "root", json={"changes": {"source": "电话营销"}}), 200)
    sources = http.get("/settings", "root").json()["dictionaries"]["sources"]
    ok(http.put("/settings", "root", json={"dictionaries": {"sources": [s for s in sources if s != "展会"]}}), 200)
    assert_error(http.post(f"/customers/{customer}/restore", "root", json={"version": 1}), 422, "unknown_value")
    assert http.get(f"/customers/{customer}", "root").json()["source"] == "电话营销"
