"""A query parameter the operation does not take is refused with 422 `unknown_parameter`
naming it, on every route (lists, reports, details, commands), before anything is read or
written; the parameters an operation declares keep working."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Http, assert_error
from tests.e2e.helpers import ok


@pytest.fixture
def team(http: Http) -> dict[str, str]:
    dept = ok(http.post("/departments", "root", json={"name": "销售部"}))["id"]
    alice = ok(http.post("/people", "root", json={"name": "Alice", "username": "alice", "password": "password123",
                                                  "department_id": dept, "roles": ["sales"]}))["id"]
    customer = ok(http.post("/customers", "alice", json={"name": "甲公司"}))["id"]
    return {"dept": dept, "alice": alice, "customer": customer}


def unknown(response: Any, name: str) -> dict[str, Any]:
    error = assert_error(response, 422, "unknown_parameter")
    assert error["field"] == name, error
    assert isinstance(error["details"]["allowed"], list)
    return error


@pytest.mark.parametrize("path, params, name", [
    ("/customers", {"scope": "mine", "pagesize": "10"}, "pagesize"),
    ("/customers", {"Scope": "mine"}, "Scope"),  # names are case-sensitive
    ("/contracts", {"customer": "x"}, "customer"),
    ("/products", {"search": "服务器"}, "search"),
    ("/operation-log", {"form": "2026-03-01"}, "form"),
    ("/reports", {"kind": "query"}, "kind"),
    ("/reports/Q-1", {"year": "2026", "frm": "2026-03-01"}, "frm"),
    ("/reports/S-4", {"yaer": "2026"}, "yaer"),
    ("/me", {"verbose": "1"}, "verbose"),
    ("/people", {"department": "x"}, "department"),
    ("/notifications", {"unread_only": "true"}, "unread_only"),
    ("/approvals", {"state": "pending"}, "state"),
    ("/settings", {"": "x"}, ""),
    ("/work-reports", {"since": "2026-01-01"}, "since"),
    ("/targets", {"after_id": "x"}, "after_id"),
    ("/warehouse-requests", {"status": "open", "kinds": "delivery"}, "kinds"),
    ("/customers", {"名字": "甲"}, "名字"),
])
def test_unknown_on_reads(http: Http, team: dict[str, str], path: str, params: dict[str, str], name: str) -> None:
    unknown(http.get(path, "root", params=params), name)


def test_unknown_on_details_and_pages(http: Http, team: dict[str, str]) -> None:
    unknown(http.get(f"/customers/{team['customer']}", "root", params={"as_at": "2026-01-01T00:00:00Z"}), "as_at")
    unknown(http.get(f"/customers/{team['customer']}/history", "root", params={"page": "1"}), "page")
    # A report's page hands its query string to the report, which checks it (the page shows the refusal).
    assert http.get("/reports/Q-1/view", "root", params={"year": "2026", "x": "1"}).status_code == 200
    unknown(http.get("/reports/Q-1", "root", params={"year": "2026", "x": "1"}), "x")
    unknown(http.client.get("/healthz", params={"probe": "1"}), "probe")


def test_unknown_on_commands_writes_nothing(http: Http, team: dict[str, str]) -> None:
    before = http.get("/customers", "alice").json()["total"]
    unknown(http.post("/customers", "alice", params={"to_pool": "true"}, json={"name": "乙公司"}), "to_pool")
    unknown(http.post(f"/customers/{team['customer']}/release", "alice", params={"reason": "x"}), "reason")
    unknown(http.patch(f"/people/{team['alice']}", "root", params={"name": "Bob"}, json={"name": "Ann"}), "name")
    assert http.get("/customers", "alice").json()["total"] == before
    assert http.get(f"/customers/{team['customer']}", "alice").json()["owner_id"] == team["alice"]
    assert [p["name"] for p in http.get("/people", "root").json() if p["id"] == team["alice"]] == ["Alice"]


def test_the_first_unknown_is_named_and_before_sign_in(http: Http) -> None:
    response = http.client.get("/api/v1/customers", params=[("scope", "mine"), ("zz", "1"), ("aa", "2")])
    unknown(response, "zz")


def test_known_parameters_still_work(http: Http, team: dict[str, str]) -> None:
    params: list[tuple[str, str]] = [("scope", "mine"), ("sort", "name"), ("page", "1"), ("page_size", "10"),
                                     ("q", "甲"), ("type", "学校"), ("status", "potential"), ("stage", "x"),
                                     ("region", "华东"), ("source", "展会"), ("owner_id", team["alice"]),
                                     ("owner_inactive", "false")]
    assert http.get("/customers", "alice", params=params).status_code == 200
    # A repeated known parameter is still known; the alias `from` is the name, not `from_`.
    assert http.get("/customers", "alice", params=[("scope", "mine"), ("scope", "mine")]).status_code == 200
    assert http.get("/operation-log", "root", params={"from": "2026-01-01", "to": "2026-12-31"}).status_code == 200
    unknown(http.get("/operation-log", "root", params={"from_": "2026-01-01"}), "from_")
    assert http.get("/reports/Q-1", "root", params={"from": "2026-01-01", "year": "2026", "q": "甲",
                                                   "region": "华东"}).status_code == 200
    assert http.get(f"/customers/{team['customer']}", "root", params={"version": "1"}).status_code == 200
    assert http.get("/notifications", "alice", params={"unread": "true"}).status_code == 200
    assert http.get("/me", "alice", headers={"X-Min-Position": "0"}).status_code == 200
    # A report filter the report does not offer is still its own refusal (the parameter is known).
    assert_error(http.get("/reports/Q-10", "root", params={"region": "华东"}), 422, "unsupported_filter")


def test_a_parameter_read_by_hand_is_known(http: Http) -> None:
    # The import reads `dry_run` from the form or the query string; its OpenAPI names it.
    template = http.get("/imports/customers/template", "root", params={"format": "csv"})
    assert template.status_code == 200, template.text
    files = {"file": ("customers.csv", template.content, "text/csv")}
    checked = http.post("/imports/customers", "root", params={"dry_run": "true"}, files=files)
    assert checked.status_code == 200, checked.text
    assert checked.json()["dry_run"] is True
    unknown(http.post("/imports/customers", "root", params={"dryrun": "true"}, files=files), "dryrun")
    assert http.get("/customers", "root").json()["total"] == 0


def test_openapi_declares_what_is_accepted(http: Http) -> None:
    document = http.client.get("/openapi.json").json()
    customers = {p["name"] for p in document["paths"]["/api/v1/customers"]["get"]["parameters"]}
    assert {"scope", "sort", "page", "page_size", "after"} <= customers
    report = {p["name"] for p in document["paths"]["/api/v1/reports/{report_id}"]["get"]["parameters"]}
    assert {"year", "month", "from", "to"} <= report
