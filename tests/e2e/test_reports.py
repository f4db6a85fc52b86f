"""SPEC §10: every query and statistical report against figures computed by hand for one
scenario — two regions, three types, three salespeople, a customer whose region changes
between two deals, a transfer, a return, an exchange, facts in two years and several
months — in JSON, CSV and XLSX, with the visibility rules R-7 and exports for managers only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from openpyxl import load_workbook

from commands.adapters.clock import ManualClock
from tests.conftest import Http, assert_error
from tests.e2e.helpers import ok

SALES = ("ann", "ben", "cat")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture
def world(http: Http, clock: ManualClock) -> dict[str, str]:
    """The scenario; returns the ids by name. Business days are Asia/Shanghai (UTC+8)."""
    ids: dict[str, str] = {}
    clock.set(at("2025-12-01T00:00:00+00:00"))
    ok(http.put("/settings", "root", json={"dictionaries": {"warehouses": ["W1"]}}), 200)
    ids["dept"] = ok(http.post("/departments", "root", json={"name": "销售部"}))["id"]
    for username, roles in (("boss", ["manager"]), ("ann", ["sales"]), ("ben", ["sales"]), ("cat", ["sales"]),
                            ("kee", ["warehouse"])):
        ids[username] = ok(http.post("/people", "root", json={
            "name": username.upper(), "username": username, "password": "password123", "department_id": ids["dept"],
            "roles": roles, "max_customers": 20 if "sales" in roles else None}))["id"]
    ok(http.patch(f"/departments/{ids['dept']}", "root", json={"manager_ids": [ids["boss"]]}), 200)

    def register(who: str, key: str, **body: Any) -> None:
        ids[key] = ok(http.post("/customers", who, json=body))["id"]

    def deal(who: str, key: str, customer: str, on: str, **body: Any) -> None:
        ids[key] = ok(http.post("/contracts", who, json={"customer_id": ids[customer], "number": key,
                                                         "name": f"{key}合同", "signed_on": on, **body}))["id"]

    def pay(who: str, customer: str, contract: str | None, on: str, amount: str) -> None:
        ok(http.post("/payments", who, json={"customer_id": ids[customer], "received_on": on, "amount": amount,
                                             "contract_id": ids[contract] if contract else None}))

    def visit(who: str, customer: str, when: str, **body: Any) -> None:
        ok(http.post(f"/customers/{ids[customer]}/visits", who, json={"visited_at": when, **body}))

    # 10 Dec 2025
    clock.set(at("2025-12-10T02:00:00+00:00"))
    for key, name in (("P1", "服务器"), ("P2", "交换机")):
        ids[key] = ok(http.post("/products", "kee", json={"name": name, "unit": "台"}))["id"]
    ok(http.post(f"/products/{ids['P1']}/stock-ins", "kee", json={"warehouse": "W1", "quantity": "10",
                                                                  "unit_cost": "600.00"}))
    ok(http.post(f"/products/{ids['P2']}/stock-ins", "kee", json={"warehouse": "W1", "quantity": "10",
                                                                  "unit_cost": "200.00"}))
    register("ann", "C1", name="甲公司", region="华东", type="国有企业", source="展会", address="上海市浦东新区1号",
             building="A栋101", contacts=[{"name": "张三", "phone": "13800000001"}])
    register("ben", "C2", name="乙公司", region="华南", type="民营企业", source="客户介绍",
             address="广州市天河区2号", building="B栋202", contacts=[{"name": "李四", "phone": "13800000002"}])
    visit("ann", "C1", "2025-12-10T09:00:00+08:00")
    deal("ben", "K0", "C2", "2025-12-10", amount="800.00")
    pay("ben", "C2", "K0", "2025-12-20", "800.00")
    # 2 Jan 2026: a deal in 华东
    clock.set(at("2026-01-02T02:00:00+00:00"))
    deal("ann", "K1", "C1", "2026-01-02", lines=[{"product_id": ids["P1"], "quantity": "2", "unit_price": "1000.00"}])
    pay("ann", "C1", "K1", "2026-01-03", "500.00")
    # 5 Jan: the region changes through approval; a pool customer
    clock.set(at("2026-01-04T02:00:00+00:00"))
    asked = ok(http.post(f"/customers/{ids['C1']}/changes", "ann", json={"changes": {"region": "华南"},
                                                                        "reason": "搬迁"}), 202)
    clock.set(at("2026-01-05T02:00:00+00:00"))
    ok(http.post(f"/approvals/{asked['approval_id']}/approve", "boss"), 200)
    register("cat", "C3", name="丙学校", region="华东", type="学校", source="展会", address="杭州市西湖区3号",
             building="C栋", contacts=[{"name": "王五", "phone": "13800000003"}], to_pool=True)
    # 6 Jan: a claim; a second deal of the same customer, now in 华南
    clock.set(at("2026-01-06T02:00:00+00:00"))
    ok(http.post(f"/customers/{ids['C3']}/claim", "ben"), 200)
    deal("ann", "K2", "C1", "2026-01-06", lines=[{"product_id": ids["P2"], "quantity": "3", "unit_price": "500.00"}])
    pay("ann", "C1", "K2", "2026-01-20", "1500.00")
    # 3 Feb: delivery, return, exchange
    clock.set(at("2026-02-03T02:00:00+00:00"))
    ids["D1"] = ok(http.post(f"/contracts/{ids['K2']}/deliveries", "kee", json={
        "delivered_on": "2026-02-03", "lines": [{"product_id": ids["P2"], "warehouse": "W1", "quantity": "3"}]}))[
        "delivery_id"]
    ok(http.post(f"/contracts/{ids['K2']}/returns", "kee", json={
        "delivery_id": ids["D1"], "returned_on": "2026-02-10", "lines": [{"product_id": ids["P2"], "quantity": "1"}]}))
    ok(http.post(f"/contracts/{ids['K2']}/exchanges", "kee", json={
        "delivery_id": ids["D1"], "exchanged_on": "2026-02-12",
        "lines": [{"product_id": ids["P2"], "quantity": "1", "warehouse": "W1"}]}))
    # 15 Feb: a transfer, two visits
    clock.set(at("2026-02-15T02:00:00+00:00"))
    ok(http.post(f"/customers/{ids['C2']}/transfer", "ben", json={"to_person_id": ids["cat"], "reason": "调岗"}),
       200)
    visit("cat", "C2", "2026-02-15T09:45:00+08:00")
    visit("ben", "C3", "2026-02-15T09:30:00+08:00", stage="需求确认")
    # 1 Mar: a deal, a prepayment, a visit, two pool customers (one deleted), a daily report
    clock.set(at("2026-03-01T02:00:00+00:00"))
    deal("cat", "K3", "C2", "2026-03-01", amount="3000.00")
    pay("cat", "C2", None, "2026-03-05", "200.00")
    visit("ann", "C1", "2026-03-01T09:00:00+08:00")
    register("cat", "C4", name="丁公司", region="华东", type="民营企业", source="客户介绍", address="南京市4号",
             to_pool=True)
    register("cat", "C5", name="戊学校", region="华南", type="学校", source="展会", to_pool=True)
    ok(http.delete(f"/customers/{ids['C5']}", "boss"), 200)
    ok(http.post("/work-reports", "ann", json={"kind": "daily", "date": "2026-03-01", "summary": "三月首日拜访",
                                               "plan": "跟进回款"}))
    return ids


def report(http: Http, report_id: str, who: str = "root", **params: Any) -> dict[str, Any]:
    response = http.get(f"/reports/{report_id}", who, params={"page_size": 500, **params})
    assert response.status_code == 200, response.text
    return dict(response.json())


def rows(http: Http, report_id: str, keys: tuple[str, ...], who: str = "root", **params: Any) -> list[tuple]:
    """The rows as tuples of the given keys, in the report's own order."""
    return [tuple(row[k] for k in keys) for row in report(http, report_id, who, **params)["rows"]]


def test_query_reports(http: Http, world: dict[str, str]) -> None:
    ids = world
    assert rows(http, "Q-1", ("customer_name", "type", "source", "region", "created_on", "person_name"), year=2026,
                sort="created_on") == [
        ("丙学校", "学校", "展会", "华东", "2026-01-05", "CAT"), ("丁公司", "民营企业", "客户介绍", "华东", "2026-03-01", "CAT"),
        ("戊学校", "学校", "展会", "华南", "2026-03-01", "CAT")]
    assert rows(http, "Q-1", ("customer_name", "person_name"), year=2025, month=12, sort="customer_name") == [
        ("乙公司", "BEN"), ("甲公司", "ANN")]
    assert rows(http, "Q-1", ("customer_name",), year=2026, month=1) == [("丙学校",)]
    assert rows(http, "Q-2", ("customer_name", "type", "status", "claimed_on", "owner_name", "region"),
                year=2026) == [("丙学校", "学校", "following", "2026-01-06", "BEN", "华东")]
    assert rows(http, "Q-3", ("customer_name", "visited_at", "visitor_name", "late_entry"), year=2026,
                sort="visited_at") == [
        # On the business clock (Shanghai), with its offset.
        ("丙学校", "2026-02-15T09:30:00+08:00", "BEN", False), ("乙公司", "2026-02-15T09:45:00+08:00", "CAT", False),
        ("甲公司", "2026-03-01T09:00:00+08:00", "ANN", False)]
    assert rows(http, "Q-3", ("customer_name",), year=2025) == [("甲公司",)]
    assert rows(http, "Q-4", ("customer_name", "address", "building", "primary_contact", "phone")) == [
        ("甲公司", "上海市浦东新区1号", "A栋101", "张三", "13800000001"),
        ("乙公司", "广州市天河区2号", "B栋202", "李四", "13800000002"),
        ("丙学校", "杭州市西湖区3号", "C栋", "王五", "13800000003"), ("丁公司", "南京市4号", None, None, None)]
    assert rows(http, "Q-5", ("customer_name", "received_on", "amount", "region", "person_name",
                              "contract_number"), year=2026, sort="received_on") == [
        ("甲公司", "2026-01-03", "500.00", "华东", "ANN", "K1"), ("甲公司", "2026-01-20", "1500.00", "华南", "ANN", "K2"),
        ("乙公司", "2026-03-05", "200.00", "华南", "CAT", None)]
    assert rows(http, "Q-5", ("received_on", "amount", "person_name"), year=2025) == [("2025-12-20", "800.00", "BEN")]
    assert rows(http, "Q-6", ("customer_name", "signed_on", "amount", "owner_name", "region", "contract_number"),
                year=2026, sort="signed_on") == [
        ("甲公司", "2026-01-02", "2000.00", "ANN", "华东", "K1"), ("甲公司", "2026-01-06", "1500.00", "ANN", "华南", "K2"),
        ("乙公司", "2026-03-01", "3000.00", "CAT", "华南", "K3")]
    assert rows(http, "Q-7", ("customer_name", "delivered_on", "contract_name", "quantity"), year=2026) == [
        ("甲公司", "2026-02-03", "K2合同", "3.0000")]
    assert rows(http, "Q-8", ("customer_name", "contract_name", "contract_number", "quantity", "exchanged_on"),
                year=2026) == [("甲公司", "K2合同", "K2", "1.0000", "2026-02-12")]
    assert rows(http, "Q-9", ("customer_name", "type", "status", "transferred_on", "from_name", "to_name", "reason"),
                year=2026) == [("乙公司", "民营企业", "dealt", "2026-02-15", "BEN", "CAT", "调岗")]
    assert rows(http, "Q-10", ("report_date", "person_name", "summary", "plan", "visits"), year=2026, month=3) == [
        ("2026-03-01", "ANN", "三月首日拜访", "跟进回款", 1)]
    assert rows(http, "Q-11", ("customer_name", "type", "status", "region", "owner_name", "visit_count")) == [
        ("甲公司", "国有企业", "dealt", "华南", "ANN", 2), ("乙公司", "民营企业", "dealt", "华南", "CAT", 1),
        ("丙学校", "学校", "following", "华东", "BEN", 1), ("丁公司", "民营企业", "potential", "华东", None, 0)]
    assert rows(http, "Q-12", ("customer_name", "requested_on", "requester_name", "description", "approver_name"),
                year=2026) == [("甲公司", "2026-01-04", "ANN", "区域: 华东 → 华南", "BOSS")]  # asked on the 4th
    # Filters: type includes subtypes, region, a name search, a person.
    assert rows(http, "Q-11", ("customer_name",), type="事业单位") == [("丙学校",)]
    assert rows(http, "Q-11", ("customer_name",), region="华南", q="乙") == [("乙公司",)]
    assert rows(http, "Q-6", ("contract_number",), year=2026, person_id=ids["cat"]) == [("K3",)]
    assert_error(http.get("/reports/Q-6", "root", params={"warehouse": "W1"}), 422, "unsupported_filter")


def test_statistical_reports(http: Http, world: dict[str, str]) -> None:
    ids = world
    zero12 = {f"m{m:02d}": 0 for m in range(1, 13)}
    assert rows(http, "S-1", ("customer_name", "visits", "last_visit_on"), year=2026, sort="customer_name") == [
        ("丙学校", 1, "2026-02-15"), ("乙公司", 1, "2026-02-15"), ("甲公司", 1, "2026-03-01")]
    assert rows(http, "S-1", ("customer_name", "visits", "last_visit_on"), year=2025) == [("甲公司", 1, "2025-12-10")]
    assert rows(http, "S-2", ("customer_name", "visits"), "ann", year=2026) == [("甲公司", 1)]
    assert rows(http, "S-2", ("customer_name", "visits"), "ben", year=2026) == [("丙学校", 1)]
    assert rows(http, "S-3", ("region", "visits", "last_visit_on"), year=2026, month=2) == [
        ("华东", 1, "2026-02-15"), ("华南", 1, "2026-02-15")]
    assert rows(http, "S-3", ("region", "visits"), year=2026, month=3) == [("华南", 1)]
    s4 = report(http, "S-4", year=2026)["rows"]
    assert s4 == [{"region": "华东", **zero12, "m01": 1, "m03": 1, "total": 2},
                  {"region": "华南", **zero12, "m03": 1, "total": 1}]
    assert report(http, "S-4", year=2025)["rows"] == [{"region": "华东", **zero12, "m12": 1, "total": 1},
                                                      {"region": "华南", **zero12, "m12": 1, "total": 1}]
    assert report(http, "S-5", "cat", year=2026, sort="-total")["rows"] == [
        {"type": "学校", **zero12, "m01": 1, "m03": 1, "total": 2}, {"type": "民营企业", **zero12, "m03": 1, "total": 1}]
    figures = ("person_name", "new_customers", "visits", "deals", "deal_amount", "collected_amount")
    assert rows(http, "S-6", figures, year=2026, month=1, sort="person_name") == [
        ("ANN", 0, 0, 2, "3500.00", "2000.00"), ("BEN", 0, 0, 0, "0.00", "0.00"), ("CAT", 1, 0, 0, "0.00", "0.00")]
    assert rows(http, "S-6", figures, year=2026, month=3, sort="person_name") == [
        ("ANN", 0, 1, 0, "0.00", "0.00"), ("BEN", 0, 0, 0, "0.00", "0.00"), ("CAT", 2, 0, 1, "3000.00", "200.00")]
    assert rows(http, "S-7", figures, "cat", year=2026, month=3) == [("CAT", 2, 0, 1, "3000.00", "200.00")]
    money12 = {f"m{m:02d}": "0.00" for m in range(1, 13)}
    s8 = report(http, "S-8", year=2026, sort="person_name")
    # Deal amounts are net (D-2, D-3 as amended): K2's return of 1 × 500.00 on 10 Feb counts in February.
    assert [{k: v for k, v in r.items() if k != "person_id"} for r in s8["rows"]] == [
        {"person_name": "ANN", **money12, "m01": "3500.00", "m02": "-500.00", "total": "3000.00"},
        {"person_name": "BEN", **money12, "total": "0.00"},
        {"person_name": "CAT", **money12, "m03": "3000.00", "total": "3000.00"}]
    assert s8["chart"]["type"] == "line" and len(s8["chart"]["x"]) == 12
    assert [(s["name"], s["data"][0], s["data"][1], s["data"][2]) for s in s8["chart"]["series"]] == [
        ("ANN", "3500.00", "-500.00", "0.00"), ("BEN", "0.00", "0.00", "0.00"), ("CAT", "0.00", "0.00", "3000.00")]
    assert rows(http, "S-9", ("person_name", "deal_amount"), year=2026, month=1, sort="person_name") == [
        ("ANN", "3500.00"), ("BEN", "0.00"), ("CAT", "0.00")]
    # Each deal counts in the region the customer had when it was signed, a return in the one it had then.
    s10 = report(http, "S-10", year=2026, sort="deal_amount")
    assert [(r["region"], r["person_name"], r["deal_amount"]) for r in s10["rows"]] == [
        ("华南", "ANN", "1000.00"), ("华东", "ANN", "2000.00"), ("华南", "CAT", "3000.00")]
    assert s10["chart"] == {"type": "bar", "x": ["华东", "华南"], "series": [
        {"name": "ANN", "data": ["2000.00", "1000.00"]}, {"name": "CAT", "data": ["0.00", "3000.00"]}]}
    assert rows(http, "S-10", ("region", "person_name", "deal_amount"), year=2025) == [("华南", "BEN", "800.00")]
    s11 = report(http, "S-11", year=2026)
    assert [(r["region"], r["deal_amount"], r["share"]) for r in s11["rows"]] == [
        ("华南", "4000.00", "0.6667"), ("华东", "2000.00", "0.3333")]
    assert s11["chart"] == {"type": "pie", "x": ["华南", "华东"], "series": [
        {"name": "成交金额", "data": ["4000.00", "2000.00"]}]}
    assert rows(http, "S-12", ("status", "customers"), "ann") == [("dealt", 1)]
    assert rows(http, "S-12", ("status", "customers"), "ben") == [("following", 1)]
    assert rows(http, "S-13", ("stage", "customers"), sort="-customers") == [(None, 3), ("需求确认", 1)]
    s14 = report(http, "S-14", sort="type")
    assert [(r["type"], r["customers"], r["share"]) for r in s14["rows"]] == [
        ("国有企业", 1, "0.2500"), ("学校", 1, "0.2500"), ("民营企业", 2, "0.5000")]
    assert s14["chart"]["type"] == "pie" and sorted(s14["chart"]["x"]) == ["国有企业", "学校", "民营企业"]
    assert rows(http, "S-15", ("status", "customers")) == [("dealt", 2), ("following", 1), ("potential", 1)]
    assert rows(http, "S-16", ("source", "customers"), sort="source") == [("客户介绍", 2), ("展会", 2)]
    assert rows(http, "S-17", ("product_name", "month", "quantity", "amount"), year=2026, sort="product_name") == [
        ("交换机", "2026-01", "3.0000", "1500.00"), ("交换机", "2026-02", "-1.0000", "-500.00"),
        ("服务器", "2026-01", "2.0000", "2000.00")]
    assert rows(http, "S-18", ("region", "month", "quantity", "amount"), year=2026) == [
        ("华南", "2026-02", "1.0000", "500.00")]
    assert rows(http, "S-19", ("product_name", "warehouse", "quantity", "value"), sort="product_name") == [
        ("交换机", "W1", "8.0000", "1600.00"), ("服务器", "W1", "10.0000", "6000.00")]
    assert ids["P1"] in {r["product_id"] for r in report(http, "S-19")["rows"]}


def test_visibility_and_periods(http: Http, world: dict[str, str], clock: ManualClock) -> None:
    # A salesperson's reports hold their own facts; a manager's their people's; warehouse: goods.
    assert rows(http, "S-1", ("customer_name",), "ann", year=2026) == [("甲公司",)]
    assert report(http, "Q-1", "ann", year=2026)["total"] == 0
    assert report(http, "Q-1", "boss", year=2026)["total"] == 3
    assert rows(http, "S-6", ("person_name",), "ben", year=2026, month=3) == [("BEN",)]
    assert report(http, "Q-7", "kee", year=2026)["total"] == 1
    assert report(http, "Q-6", "kee", year=2026)["total"] == 0
    # Current-customer counts: one's own customers and the pool; the sharee's and others' stay out.
    assert rows(http, "S-15", ("status", "customers"), "ann") == [("dealt", 1), ("potential", 1)]
    assert rows(http, "Q-11", ("customer_name",), "ann") == [("甲公司",)]
    # Both sides of a transfer see it.
    assert report(http, "Q-9", "ben", year=2026)["total"] == 1
    assert report(http, "Q-9", "cat", year=2026)["total"] == 1
    assert report(http, "Q-9", "ann", year=2026)["total"] == 0
    # The period defaults to the current month or year in the business time zone.
    clock.set(at("2026-01-31T17:00:00+00:00"))  # 1 Feb 01:00 in Shanghai
    period = report(http, "S-3")["period"]
    assert (period["year"], period["month"], period["start"], period["end"]) == (2026, 2, "2026-02-01", "2026-02-28")
    assert report(http, "S-4")["period"]["start"] == "2026-01-01"
    assert report(http, "Q-1")["period"]["month"] == 2
    assert report(http, "S-19")["period"] is None
    assert_error(http.get("/reports/S-3", "root", params={"month": 13}), 422)
    assert_error(http.get("/reports/S-99", "root"), 404)
    assert_error(http.get("/reports/S-3", "root", params={"sort": "nothing"}), 422)
    # Paging over the whole result: total and pages.
    first = http.get("/reports/Q-11", "root", params={"page_size": 3, "sort": "customer_number"}).json()
    second = http.get("/reports/Q-11", "root", params={"page_size": 3, "page": 2, "sort": "customer_number"}).json()
    assert (first["total"], len(first["rows"]), len(second["rows"])) == (4, 3, 1)
    assert second["rows"][0]["customer_name"] == "丁公司"


def test_customer_reports_hold_what_is_shared_with_the_viewer(http: Http, world: dict[str, str]) -> None:
    # a customer shared with a salesperson is theirs to read in full, in too.
    ids = world
    before = rows(http, "Q-11", ("customer_name",), "ann", sort="customer_name")
    ok(http.post(f"/customers/{ids['C2']}/share", "boss", json={"add": [ids["ann"]]}), 200)  # the owner's waits
    assert rows(http, "Q-11", ("customer_name",), "ann", sort="customer_name") == sorted(before + [("乙公司",)])
    assert ("乙公司", "广州市天河区2号") in rows(http, "Q-4", ("customer_name", "address"), "ann")
    assert ("乙公司",) not in rows(http, "Q-11", ("customer_name",), "ben")
    ok(http.post(f"/customers/{ids['C2']}/share", "boss", json={"remove": [ids["ann"]]}), 200)
    assert rows(http, "Q-11", ("customer_name",), "ann", sort="customer_name") == before


def test_every_report_answers_in_json_csv_and_xlsx(http: Http, world: dict[str, str]) -> None:
    catalogue = http.get("/reports", "ann").json()
    assert len(catalogue) == 31
    assert {e["id"]: e["chart"] for e in catalogue if e["chart"]} == {
        "S-8": "line", "S-10": "bar", "S-11": "pie", "S-14": "pie"}
    # each entry names the filters its report takes: each is taken, another refused
    known = {"region", "type", "source", "status", "stage", "person_id", "product_id", "warehouse", "late_entry",
             "far_from_customer", "distance_check", "q"}
    assert {f for e in catalogue for f in e["filters"]} <= known and any(e["filters"] for e in catalogue)
    for entry in catalogue:
        for name in entry["filters"]:
            value = {"late_entry": "true", "far_from_customer": "false", "distance_check": "checked",
                     "person_id": world["ann"],
                     "product_id": "00000000-0000-4000-8000-000000000000"}.get(name, "华东")
            answer = http.get(f"/reports/{entry['id']}", "boss", params={name: value, "year": 2026})
            assert answer.status_code == 200, (entry["id"], name, answer.text)
        refused = sorted(known - set(entry["filters"]))
        if refused:
            assert_error(http.get(f"/reports/{entry['id']}", "boss", params={refused[0]: "x", "year": 2026}),
                         422, "unsupported_filter")
    for entry in catalogue:
        as_json = report(http, entry["id"], "boss", year=2026)
        titles = [c["title"] for c in as_json["columns"] if not c["key"].endswith("_id") and c["key"] != "id"]
        exported = http.get(f"/reports/{entry['id']}", "boss", params={"format": "csv", "year": 2026})
        assert exported.status_code == 200, exported.text
        assert exported.headers["content-type"].startswith("text/csv")
        table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
        assert table[0] == titles
        assert len(table) - 1 == as_json["total"]
        book = http.get(f"/reports/{entry['id']}", "boss", params={"format": "xlsx", "year": 2026})
        assert book.status_code == 200 and "attachment" in book.headers["content-disposition"]
        sheet = load_workbook(io.BytesIO(book.content)).active
        assert sheet is not None
        values = list(sheet.values)
        assert list(values[0]) == titles and len(values) - 1 == as_json["total"]
        assert_error(http.get(f"/reports/{entry['id']}", "ann", params={"format": "csv"}), 403)
        assert_error(http.get(f"/reports/{entry['id']}", "kee", params={"format": "xlsx"}), 403)
    # Exported amounts are numbers a spreadsheet can sum.
    book = load_workbook(io.BytesIO(http.get("/reports/S-11", "root", params={"format": "xlsx",
                                                                             "year": 2026}).content)).active
    assert book is not None
    assert [(row[0], float(row[1])) for row in list(book.values)[1:]] == [("华南", 4000.0), ("华东", 2000.0)]  # net


def test_every_declared_filter_narrows_its_report(http: Http, world: dict[str, str]) -> None:
    """A filter a report offers must be applied: a value nothing has leaves no row."""
    from readmodels.reports import REPORTS

    checked = 0
    for spec in REPORTS.values():
        who = "ann" if spec.mine else "root"
        base = report(http, spec.id, who, year=2026)["total"]
        for name in spec.filters:
            if name in ("late_entry", "far_from_customer"):  # a flag: true and false split the rows
                split = [report(http, spec.id, who, year=2026, **{name: v})["total"] for v in (True, False)]
                assert sum(split) == base, (spec.id, name)
                continue
            nothing = "00000000-0000-4000-8000-000000000000" if name.endswith("_id") else "无此值"
            narrowed = report(http, spec.id, who, year=2026, **{name: nothing})["total"]
            assert narrowed == 0 or base == 0, (spec.id, name, base, narrowed)
            checked += base > 0
    assert checked >= 50  # the scenario gives nearly every report rows to narrow
