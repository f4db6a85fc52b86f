"""The reports over current state as of a past moment: S-12..S-16 (customers by status, stage,
type, source), S-19 (stock and its value), Q-4 and Q-11 (customer lists). Their live answers
are recorded at several moments while customers and stock change; asked later with `as_of`
each of those moments, every report gives the rows it gave then, for a manager and for a
salesperson. The other reports refuse `as_of`, and so does a moment without its offset."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from typer.testing import CliRunner

from commands.adapters.clock import ManualClock
from commands.bootstrap import Service
from tests.conftest import Http, assert_error
from tests.e2e.helpers import ok

SHANGHAI = timezone(timedelta(hours=8))
PAST = ("S-12", "S-13", "S-14", "S-15", "S-16", "S-19", "Q-4", "Q-11")
VIEWERS = ("boss", "ann")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def answer(http: Http, report_id: str, who: str, **params: Any) -> dict[str, Any]:
    response = http.get(f"/reports/{report_id}", who, params={"page_size": 500, **params})
    assert response.status_code == 200, response.text
    return dict(response.json())


def snapshot(http: Http) -> dict[tuple[str, str], tuple[list[dict[str, Any]], int]]:
    found = {}
    for report_id in PAST:
        for who in VIEWERS:
            result = answer(http, report_id, who)
            found[(report_id, who)] = (result["rows"], result["total"])
    return found


@pytest.fixture
def history(http: Http, clock: ManualClock) -> dict[str, Any]:
    """An organisation, then customers and stock changing hour by hour; the live answers of the
    eight reports for the manager and a salesperson after each hour's changes."""
    ids: dict[str, str] = {}
    clock.set(at("2026-03-02T01:00:00+00:00"))
    ok(http.put("/settings", "root", json={"dictionaries": {"warehouses": ["W1", "W2"]}}), 200)
    ids["dept"] = ok(http.post("/departments", "root", json={"name": "销售部"}))["id"]
    for username, roles in (("boss", ["manager"]), ("ann", ["sales"]), ("ben", ["sales"]), ("kee", ["warehouse"])):
        ids[username] = ok(http.post("/people", "root", json={
            "name": username.upper(), "username": username, "password": "password123", "department_id": ids["dept"],
            "roles": roles, "max_customers": 20 if "sales" in roles else None}))["id"]
    ok(http.patch(f"/departments/{ids['dept']}", "root", json={"manager_ids": [ids["boss"]]}), 200)
    moments: list[tuple[datetime, dict[tuple[str, str], Any]]] = []
    empty = clock.now()

    def hour() -> None:
        moments.append((clock.now(), snapshot(http)))
        clock.advance(hours=1)

    def register(who: str, key: str, **body: Any) -> None:
        ids[key] = ok(http.post("/customers", who, json=body))["id"]

    def change(who: str, key: str, **changes: Any) -> None:
        response = http.post(f"/customers/{ids[key]}/changes", who, json={"changes": changes, "reason": "更新"})
        assert response.status_code == 200, response.text

    def stock_in(product: str, warehouse: str, quantity: str, cost: str) -> None:
        ok(http.post(f"/products/{ids[product]}/stock-ins", "kee", json={"warehouse": warehouse, "quantity": quantity,
                                                                         "unit_cost": cost}))

    clock.advance(hours=1)
    # 1: products and stock; two owned customers, one in the pool
    for key, name in (("P1", "服务器"), ("P2", "交换机")):
        ids[key] = ok(http.post("/products", "kee", json={"name": name, "unit": "台"}))["id"]
    stock_in("P1", "W1", "10", "600.00")
    register("ann", "C1", name="甲公司", region="华东", type="国有企业", source="展会", address="上海市1号",
             contacts=[{"name": "张三", "phone": "13800000001"}])
    register("ben", "C2", name="乙公司", region="华南", type="民营企业", source="客户介绍", address="广州市2号")
    register("ben", "C3", name="丙学校", region="华东", type="学校", source="展会", to_pool=True)
    register("ben", "C4", name="丁公司", region="华北", type="民营企业", source="电话营销", to_pool=True)
    hour()
    # 2: a claim, a change of type, source and stage, more stock elsewhere
    ok(http.post(f"/customers/{ids['C3']}/claim", "ann"), 200)
    change("boss", "C1", type="民营企业", source="网络推广", stage="需求确认")
    stock_in("P2", "W2", "5", "200.00")
    stock_in("P1", "W1", "10", "700.00")
    hour()
    # 3: a transfer, a visit (potential → following), a status change, a pool customer deleted
    ok(http.post(f"/customers/{ids['C2']}/transfer", "ben", json={"to_person_id": ids["ann"], "reason": "调岗"}),
       200)
    ok(http.post(f"/customers/{ids['C1']}/visits", "ann", json={"visited_at": "2026-03-02T12:00:00+08:00",
                                                                "stage": "方案报价"}))
    change("boss", "C3", status="lost")
    ok(http.delete(f"/customers/{ids['C4']}", "boss"), 200)
    hour()
    # 4: a release, a deal with its delivery (stock out), a product renamed
    ok(http.post(f"/customers/{ids['C3']}/release", "ann"), 200)
    ids["K1"] = ok(http.post("/contracts", "ann", json={
        "customer_id": ids["C1"], "number": "K1", "name": "K1合同", "signed_on": "2026-03-02",
        "lines": [{"product_id": ids["P1"], "quantity": "4", "unit_price": "1000.00"}]}))["id"]
    ids["D1"] = ok(http.post(f"/contracts/{ids['K1']}/deliveries", "kee", json={
        "delivered_on": "2026-03-02", "lines": [{"product_id": ids["P1"], "warehouse": "W1", "quantity": "4"}]}))[
        "delivery_id"]
    ok(http.patch(f"/products/{ids['P1']}", "kee", json={"name": "机架服务器"}), 200)
    hour()
    # 5: a return into stock, a new customer, the other claims the released one
    ok(http.post(f"/contracts/{ids['K1']}/returns", "kee", json={
        "delivery_id": ids["D1"], "returned_on": "2026-03-02", "lines": [{"product_id": ids["P1"], "quantity": "1"}]}))
    register("ann", "C5", name="戊公司", region="华南", type="学校", source="展会")
    ok(http.post(f"/customers/{ids['C3']}/claim", "ben"), 200)
    hour()
    return {"ids": ids, "moments": moments, "empty": empty}


def test_reports_as_of_each_moment_equal_their_live_answers_then(http: Http, history: dict[str, Any]) -> None:
    moments = history["moments"]
    # The history changed what the reports show: otherwise the comparison proves nothing.
    for report_id in PAST:
        for who in VIEWERS if report_id != "S-12" else ("ann",):
            shown = {repr(snapshot_[(report_id, who)]) for _, snapshot_ in moments}
            assert len(shown) > 1, (report_id, who)
    for moment, then in moments:
        for (report_id, who), (rows, total) in then.items():
            for offset in (moment, moment.astimezone(SHANGHAI)):
                result = answer(http, report_id, who, as_of=offset.isoformat())
                assert (result["rows"], result["total"]) == (rows, total), (report_id, who, moment)
            assert datetime.fromisoformat(str(result["as_of"])) == moment.replace(microsecond=0)
    # A moment between two hours holds the earlier hour's rows.
    first, then = moments[1]
    halfway = (first + timedelta(minutes=30)).isoformat()
    assert answer(http, "S-15", "boss", as_of=halfway)["rows"] == then[("S-15", "boss")][0]


def test_as_of_with_paging_sorting_filters_and_exports(http: Http, history: dict[str, Any]) -> None:
    ids = history["ids"]
    moment, then = history["moments"][2]
    every = then[("Q-11", "boss")][0]
    assert len(every) >= 3
    # Paging and sorting over the rows as they were.
    page = answer(http, "Q-11", "boss", as_of=moment.isoformat(), page_size=2, page=2, sort="-customer_number")
    assert page["total"] == len(every)
    assert [r["customer_number"] for r in page["rows"]] == sorted(
        (r["customer_number"] for r in every), reverse=True)[2:4]
    # Filters pick among the rows as they were: C2 was ann's then (transferred in hour 3).
    mine = answer(http, "Q-11", "boss", as_of=moment.isoformat(), person_id=ids["ann"])["rows"]
    assert {r["customer_id"] for r in mine} == {ids["C1"], ids["C2"], ids["C3"]}
    earlier = answer(http, "Q-11", "boss", as_of=history["moments"][0][0].isoformat(), person_id=ids["ben"])["rows"]
    assert {r["customer_id"] for r in earlier} == {ids["C2"]}
    stock = answer(http, "S-19", "kee", as_of=history["moments"][0][0].isoformat(), warehouse="W1")["rows"]
    assert [(r["product_name"], r["quantity"], r["value"]) for r in stock] == [("服务器", "10.0000", "6000.00")]
    renamed = answer(http, "S-19", "kee", warehouse="W1")["rows"]
    assert [(r["product_name"], r["quantity"]) for r in renamed] == [("机架服务器", "17.0000")]
    # The export takes as_of too, and names the moment in its file.
    response = http.get("/reports/S-19", "boss", params={"as_of": history["moments"][0][0].isoformat(),
                                                         "format": "csv"})
    assert response.status_code == 200, response.text
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(lines) == 2 and "服务器" in lines[1]
    assert "S-19_20260302T" in response.headers["content-disposition"]
    # The report's page forwards as_of to the report it draws.
    assert http.get("/reports/S-19/view", "boss", params={"as_of": moment.isoformat()}).status_code == 200


def test_as_of_before_anything_is_empty_and_in_the_future_is_live(http: Http, history: dict[str, Any]) -> None:
    before = history["empty"].isoformat()
    future = (history["moments"][-1][0] + timedelta(days=365)).isoformat()
    for report_id in PAST:
        for who in VIEWERS:
            assert answer(http, report_id, who, as_of=before)["rows"] == [], report_id
            assert answer(http, report_id, who, as_of=future)["rows"] == answer(http, report_id, who)["rows"]
    assert answer(http, "S-19", "boss", as_of="1999-01-01T00:00:00+08:00")["total"] == 0


def test_as_of_refused_where_it_does_not_apply_or_is_malformed(http: Http, history: dict[str, Any]) -> None:
    moment = history["moments"][0][0].isoformat()
    for report_id in ("S-1", "S-6", "S-17", "Q-1", "Q-6", "Q-9"):
        response = http.get(f"/reports/{report_id}", "boss", params={"as_of": moment})
        assert_error(response, 422, "unsupported_filter")
        assert response.json()["error"]["field"] == "as_of"
    assert_error(http.get("/reports/S-15", "boss", params={"as_of": "2026-03-02T09:00:00"}), 422, "validation_error")
    for bad in ("yesterday", "2026-13-40T00:00:00+08:00", ""):
        response = http.get("/reports/S-15", "boss", params={"as_of": bad})
        assert response.status_code == 422, (bad, response.text)
    assert_error(http.get("/reports/S-99", "boss", params={"as_of": moment}), 404, "not_found")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_cli_export_as_of(service: Service, http: Http, history: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
                          tmp_path: Any) -> None:
    from api.cli import app

    monkeypatch.setenv("CRM_DATABASE_URL", service.config.database_url)
    moment = history["moments"][0][0].isoformat()
    path = tmp_path / "s19.csv"
    result = CliRunner().invoke(app, ["export", "report", "S-19", "-o", str(path), "--as-of", moment])
    assert result.exit_code == 0, result.output
    lines = list(csv.reader(io.StringIO(path.read_text("utf-8-sig"))))
    assert len(lines) == 2 and "服务器" in lines[1]
    refused = CliRunner().invoke(app, ["export", "report", "S-6", "-o", str(path), "--as-of", moment])
    assert refused.exit_code == 2
