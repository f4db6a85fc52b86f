"""The hand-off from sales to the warehouse over HTTP (seed 000 §5.6.1–§5.6.3), on SQLite and
PostgreSQL: a salesperson's delivery notice reaches the keepers' inboxes and open list; a
keeper delivers part of it, then the rest, naming the request; the request shows requested,
partly done, done or cancelled; Q-7 shows each delivery with its request; returns and
exchanges go the same way, held for approval where the policy says so."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from commands.bootstrap import Service
from tests.conftest import Http, assert_error, read_model_snapshot
from tests.e2e.helpers import ok


@pytest.fixture
def deal(http: Http, shop: dict[str, str]) -> dict[str, str]:
    """Alice's contract for 8 servers and 2 switches; stock in W1 and W2; a second keeper and
    another salesperson, Bob."""
    ids = dict(shop)
    for username, roles in (("keeper2", ["warehouse"]), ("bob", ["sales"])):
        ids[username] = ok(http.post("/people", "root", json={
            "name": username, "username": username, "password": "password123", "department_id": shop["dept"],
            "roles": roles}))["id"]
    ids["switch"] = ok(http.post("/products", "keeper", json={"name": "交换机", "spec": "S5720", "unit": "台"}))["id"]
    for product in (ids["product"], ids["switch"]):
        for warehouse, cost in (("W1", "100.00"), ("W2", "120.00")):
            ok(http.post(f"/products/{product}/stock-ins", "keeper",
                         json={"warehouse": warehouse, "quantity": "20", "unit_cost": cost}))
    ids["contract"] = ok(http.post("/contracts", "alice", json={
        "customer_id": shop["customer"], "number": "HT-FH-1", "name": "服务器采购", "signed_on": "2026-11-02",
        "lines": [{"product_id": ids["product"], "quantity": "8", "unit_price": "250.00"},
                  {"product_id": ids["switch"], "quantity": "2", "unit_price": "90.00"}]}))["id"]
    return ids


def notices(http: Http, who: str, kind: str) -> list[dict[str, Any]]:
    response = http.get("/notifications", who)
    assert response.status_code == 200, response.text
    return [n for n in response.json() if n["kind"] == kind]


def view(http: Http, request_id: str, who: str = "keeper") -> dict[str, Any]:
    return ok(http.get(f"/warehouse-requests/{request_id}", who), 200)


def test_a_delivery_notice_from_request_to_done(http: Http, deal: dict[str, str]) -> None:
    cid, product, switch = deal["contract"], deal["product"], deal["switch"]
    made = ok(http.post(f"/contracts/{cid}/delivery-requests", "alice", json={
        "lines": [{"product_id": product, "quantity": "5"}, {"product_id": switch, "quantity": "2", "warehouse": "W2"}],
        "note": "客户要求周五前到货"}))
    rid = made["id"]
    assert made["number"] == "FH202611000001"
    # Every keeper hears of it; the requester does not hear of their own request.
    for keeper in ("keeper", "keeper2"):
        [notice] = notices(http, keeper, "warehouse_request")
        assert notice["ref_id"] == rid and "FH202611000001" in notice["text"] and "采购方" in notice["text"]
    assert notices(http, "alice", "warehouse_request") == []
    [open_one] = ok(http.get("/warehouse-requests", "keeper", params={"status": "open"}), 200)["items"]
    assert (open_one["id"], open_one["status"], open_one["kind"], open_one["contract_number"],
            open_one["customer_name"], open_one["requester_name"], open_one["note"]) == (
        rid, "requested", "delivery", "HT-FH-1", "采购方", "alice", "客户要求周五前到货")
    assert [(x["product_name"], x["quantity"], x["done"], x["remaining"], x["warehouse"]) for x in open_one["lines"]] == [
        ("服务器", "5.0000", "0.0000", "5.0000", None), ("交换机", "2.0000", "0.0000", "2.0000", "W2")]

    # A keeper delivers part of it, from the warehouse they choose where the notice names none.
    first = ok(http.post(f"/contracts/{cid}/deliveries", "keeper", json={
        "request_id": rid, "lines": [{"product_id": product, "warehouse": "W1", "quantity": "2"}]}))["delivery_id"]
    shown = view(http, rid, "alice")
    assert shown["status"] == "partly_done"
    assert [(x["done"], x["remaining"]) for x in shown["lines"]] == [("2.0000", "3.0000"), ("0.0000", "2.0000")]
    [done] = shown["carried_out"]
    assert (done["done_id"], done["actor_name"], done["lines"]) == (first, "keeper", [{"line": 0, "quantity": "2.0000"}])
    assert notices(http, "alice", "warehouse_request_done") == []
    # Never more than asked, nor from another warehouse than named.
    error = assert_error(http.post(f"/contracts/{cid}/deliveries", "keeper2", json={
        "request_id": rid, "lines": [{"product_id": product, "warehouse": "W2", "quantity": "4"}]}), 409,
        "over_requested")
    assert (error["field"], error["details"]["remaining"]) == ("lines.0.quantity", "3.0000")
    assert_error(http.post(f"/contracts/{cid}/deliveries", "keeper2", json={
        "request_id": rid, "lines": [{"product_id": switch, "warehouse": "W1", "quantity": "1"}]}), 422,
        "not_requested")
    # The rest, by the other keeper: done, and the requester is told.
    second = ok(http.post(f"/contracts/{cid}/deliveries", "keeper2", json={
        "request_id": rid, "lines": [{"product_id": product, "warehouse": "W2", "quantity": "3"},
                                     {"product_id": switch, "warehouse": "W2", "quantity": "2"}]}))["delivery_id"]
    shown = view(http, rid)
    assert shown["status"] == "done"
    assert [x["remaining"] for x in shown["lines"]] == ["0.0000", "0.0000"]
    assert [d["done_id"] for d in shown["carried_out"]] == [first, second]
    [told] = notices(http, "alice", "warehouse_request_done")
    assert told["ref_id"] == rid
    assert ok(http.get("/warehouse-requests", "keeper", params={"status": "open"}), 200)["items"] == []
    assert_error(http.post(f"/contracts/{cid}/deliveries", "keeper", json={
        "request_id": rid, "lines": [{"product_id": product, "warehouse": "W1", "quantity": "1"}]}), 409,
        "request_closed")
    # The goods moved with the request: the contract and the stock say so.
    contract = ok(http.get(f"/contracts/{cid}", "alice"), 200)
    assert {x["product_id"]: (x["delivered"], x["remaining"]) for x in contract["lines"]} == {
        product: ("5.0000", "3.0000"), switch: ("2.0000", "0.0000")}
    stock = {(r["product_id"], r["warehouse"]): r["quantity"] for r in http.get("/stock", "alice").json()}
    assert (stock[(product, "W1")], stock[(product, "W2")], stock[(switch, "W2")]) == (
        "18.0000", "17.0000", "18.0000")
    # A delivery without a request is still possible, and Q-7 shows each delivery with its request.
    third = ok(http.post(f"/contracts/{cid}/deliveries", "keeper", json={
        "lines": [{"product_id": product, "warehouse": "W1", "quantity": "1"}]}))["delivery_id"]
    report = ok(http.get("/reports/Q-7", "keeper", params={"year": 2026}), 200)
    assert {"request_id", "request_number"} <= {c["key"] for c in report["columns"]}
    by_delivery = {row["delivery_id"]: (row["request_id"], row["request_number"], row["quantity"])
                   for row in report["rows"]}
    assert by_delivery == {first: (rid, "FH202611000001", "2.0000"), second: (rid, "FH202611000001", "5.0000"),
                           third: (None, None, "1.0000")}
    # The contract's requests, for those who may see the contract.
    listed = ok(http.get(f"/contracts/{cid}/warehouse-requests", "alice"), 200)
    assert [r["id"] for r in listed["items"]] == [rid] and listed["total"] == 1
    assert_error(http.get(f"/contracts/{cid}/warehouse-requests", "bob"), 404, "not_found")
    assert_error(http.get(f"/warehouse-requests/{rid}", "bob"), 404, "not_found")
    assert ok(http.get("/warehouse-requests", "bob"), 200)["total"] == 0


def test_who_may_ask_and_what_is_refused(http: Http, deal: dict[str, str]) -> None:
    cid, product = deal["contract"], deal["product"]
    body = {"lines": [{"product_id": product, "quantity": "1"}]}
    assert_error(http.post(f"/contracts/{cid}/delivery-requests", "keeper", json=body), 403, "forbidden")
    assert_error(http.post(f"/contracts/{cid}/delivery-requests", "bob", json=body), 404, "not_found")
    assert_error(http.post(f"/contracts/{cid}/delivery-requests", "alice", json={
        "lines": [{"product_id": product, "quantity": "9"}]}), 409, "over_delivered")
    assert_error(http.post(f"/contracts/{cid}/delivery-requests", "alice", json={
        "lines": [{"product_id": product, "quantity": "1", "warehouse": "火星仓"}]}), 422, "unknown_value")
    for bad in ({"lines": []}, {"lines": [{"product_id": product, "quantity": "0"}]},
                {"lines": [{"product_id": product, "quantity": "1e3"}]},
                {"lines": [{"product_id": product, "quantity": "１"}]},
                {"lines": [{"product_id": product, "quantity": "1"}], "note": "x" * 501},
                {"lines": [{"product_id": product, "quantity": "1"}], "extra": 1},
                {"lines": [{"product_id": product, "quantity": "1"}] * 201}):
        assert_error(http.post(f"/contracts/{cid}/delivery-requests", "alice", json=bad), 422)
    assert_error(http.post("/contracts/not-a-uuid/delivery-requests", "alice", json=body), 422)
    assert_error(http.get("/warehouse-requests", "keeper", params={"status": "later"}), 422)
    assert_error(http.get("/warehouse-requests", "keeper", params={"page_size": 501}), 422)
    rid = ok(http.post(f"/contracts/{cid}/delivery-requests", "alice", json={
        "lines": [{"product_id": product, "quantity": "3"}], "note": "第一批\n分两次"}))["id"]
    delivery = ok(http.post(f"/contracts/{cid}/deliveries", "keeper", json={
        "lines": [{"product_id": product, "warehouse": "W1", "quantity": "1"}]}))["delivery_id"]
    # The wrong kind, another contract, an unknown request.
    assert_error(http.post(f"/contracts/{cid}/returns", "keeper", json={
        "request_id": rid, "delivery_id": delivery, "lines": [{"product_id": product, "quantity": "1"}]}), 422,
        "wrong_request_kind")
    other = ok(http.post("/contracts", "alice", json={
        "customer_id": deal["customer"], "number": "HT-FH-2", "name": "另一合同",
        "lines": [{"product_id": product, "quantity": "5", "unit_price": "1.00"}]}))["id"]
    assert_error(http.post(f"/contracts/{other}/deliveries", "keeper", json={
        "request_id": rid, "lines": [{"product_id": product, "warehouse": "W1", "quantity": "1"}]}), 422,
        "wrong_contract")
    assert_error(http.post(f"/contracts/{cid}/deliveries", "keeper", json={
        "request_id": "00000000-0000-0000-0000-000000000000",
        "lines": [{"product_id": product, "warehouse": "W1", "quantity": "1"}]}), 422, "unknown_request")
    # Cancelling: not the keeper, not another salesperson; the requester's manager may.
    assert_error(http.post(f"/warehouse-requests/{rid}/cancel", "keeper", json={}), 403, "forbidden")
    assert_error(http.post(f"/warehouse-requests/{rid}/cancel", "bob", json={"reason": "x"}), 403, "forbidden")
    ok(http.post(f"/warehouse-requests/{rid}/cancel", "boss", json={"reason": "客户暂缓"}), 200)
    shown = view(http, rid, "alice")
    assert (shown["status"], shown["cancelled_by_name"], shown["cancel_reason"]) == ("cancelled", "boss", "客户暂缓")
    [told] = notices(http, "alice", "warehouse_request_cancelled")
    assert "客户暂缓" in told["text"]
    assert len(notices(http, "keeper", "warehouse_request_cancelled")) == 1
    assert_error(http.post(f"/contracts/{cid}/deliveries", "keeper", json={
        "request_id": rid, "lines": [{"product_id": product, "warehouse": "W1", "quantity": "1"}]}), 409,
        "request_closed")
    assert_error(http.post(f"/warehouse-requests/{rid}/cancel", "alice"), 409, "request_closed")
    assert_error(http.post("/warehouse-requests/00000000-0000-0000-0000-000000000000/cancel", "alice"), 404)
    # Nothing of the refused deliveries moved: one unit left W1, by the delivery without a request.
    stock = {(r["product_id"], r["warehouse"]): r["quantity"] for r in http.get("/stock", "alice").json()}
    assert stock[(product, "W1")] == "19.0000"
    assert ok(http.get("/warehouse-requests", "keeper", params={"status": "cancelled"}), 200)["total"] == 1


def test_returns_and_exchanges_through_the_approval_policy(http: Http, deal: dict[str, str]) -> None:
    cid, product = deal["contract"], deal["product"]
    delivery = ok(http.post(f"/contracts/{cid}/deliveries", "keeper", json={
        "lines": [{"product_id": product, "warehouse": "W1", "quantity": "3"},
                  {"product_id": product, "warehouse": "W2", "quantity": "1"}]}))["delivery_id"]
    ok(http.put("/settings", "root", json={"rules": {"approval_required": [
        "customer_info_change", "price_change", "return", "exchange"]}}), 200)
    held = http.post(f"/contracts/{cid}/return-requests", "alice", json={
        "delivery_id": delivery, "lines": [{"product_id": product, "quantity": "2", "warehouse": "W1"}],
        "note": "包装破损"})
    assert held.status_code == 202, held.text
    approval = held.json()["approval_id"]
    assert held.json()["status"] == "pending"
    assert_error(http.post(f"/contracts/{cid}/return-requests", "alice", json={
        "delivery_id": delivery, "lines": [{"product_id": product, "quantity": "2", "warehouse": "W2"}]}), 409,
        "over_returned")  # checked when filed
    assert notices(http, "keeper", "warehouse_request") == []
    assert ok(http.get("/warehouse-requests", "keeper"), 200)["total"] == 0
    ok(http.post(f"/approvals/{approval}/approve", "boss", json={"comment": "同意"}), 200)
    [notice] = notices(http, "keeper", "warehouse_request")
    [returned] = ok(http.get("/warehouse-requests", "keeper", params={"status": "open", "kind": "return"}),
                    200)["items"]
    assert (returned["id"], returned["number"], returned["requester_name"], returned["approved_by"],
            returned["delivery_id"]) == (notice["ref_id"], "TH202611000001", "alice", deal["boss"], delivery)
    # The keeper takes the goods back in two goes.
    for quantity in ("1", "1"):
        ok(http.post(f"/contracts/{cid}/returns", "keeper", json={
            "request_id": returned["id"], "delivery_id": delivery,
            "lines": [{"product_id": product, "quantity": quantity, "warehouse": "W1"}]}))
    assert view(http, returned["id"])["status"] == "done"
    assert len(notices(http, "alice", "warehouse_request_done")) == 1

    # An exchange of the unit that left W2, for a switch at an agreed price.
    held = http.post(f"/contracts/{cid}/exchange-requests", "alice", json={
        "delivery_id": delivery, "lines": [{"product_id": product, "quantity": "1", "from_warehouse": "W2",
                                            "replacement_product_id": deal["switch"], "unit_price": "95.00"}]})
    assert held.status_code == 202, held.text
    ok(http.post(f"/approvals/{held.json()['approval_id']}/approve", "boss"), 200)
    [swap] = ok(http.get("/warehouse-requests", "keeper2", params={"status": "open"}), 200)["items"]
    assert (swap["kind"], swap["number"]) == ("exchange", "HH202611000001")
    assert [(x["from_warehouse"], x["replacement_name"], x["unit_price"]) for x in swap["lines"]] == [
        ("W2", "交换机", "95.00")]
    line = {"product_id": product, "quantity": "1", "warehouse": "W1", "from_warehouse": "W2",
            "replacement_product_id": deal["switch"]}
    assert_error(http.post(f"/contracts/{cid}/exchanges", "keeper2", json={
        "request_id": swap["id"], "delivery_id": delivery, "lines": [{**line, "unit_price": "96.00"}]}), 422,
        "not_requested")  # another price than agreed
    before = Decimal(ok(http.get(f"/contracts/{cid}", "alice"), 200)["net_amount"])
    # Without a price the keeper exchanges at the one the request names.
    ok(http.post(f"/contracts/{cid}/exchanges", "keeper2", json={
        "request_id": swap["id"], "delivery_id": delivery, "lines": [line]}))
    assert view(http, swap["id"])["status"] == "done"
    assert Decimal(ok(http.get(f"/contracts/{cid}", "alice"), 200)["net_amount"]) == before - Decimal("250.00") \
        + Decimal("95.00")
    # A manager's request is not held.
    direct = http.post(f"/contracts/{cid}/return-requests", "boss", json={
        "delivery_id": delivery, "lines": [{"product_id": product, "quantity": "1"}]})
    assert direct.status_code == 201, direct.text
    assert [r["kind"] for r in ok(http.get(f"/contracts/{cid}/warehouse-requests", "alice"), 200)["items"]] == [
        "return", "exchange", "return"]


def test_the_keepers_of_the_moment_are_told_and_a_rebuild_says_the_same(
        http: Http, deal: dict[str, str], service: Service) -> None:
    cid, product = deal["contract"], deal["product"]
    # keeper2 leaves; Bob becomes a keeper as well as a salesperson.
    ok(http.patch(f"/people/{deal['keeper2']}", "root", json={"active": False}), 200)
    ok(http.patch(f"/people/{deal['bob']}", "root", json={"roles": ["sales", "warehouse"]}), 200)
    http.tokens.pop("bob", None)  # a change of roles ends the sessions
    rid = ok(http.post(f"/contracts/{cid}/delivery-requests", "alice", json={
        "lines": [{"product_id": product, "quantity": "4"}]}))["id"]
    told = {who: [n["ref_id"] for n in notices(http, who, "warehouse_request")] for who in ("keeper", "bob")}
    assert told == {"keeper": [rid], "bob": [rid]}
    ok(http.post(f"/contracts/{cid}/deliveries", "bob", json={
        "request_id": rid, "lines": [{"product_id": product, "warehouse": "W1", "quantity": "1"}]}))
    ok(http.post(f"/warehouse-requests/{rid}/cancel", "alice", json={"reason": "改签"}), 200)
    # Keepers no longer: not told of the next one.
    ok(http.patch(f"/people/{deal['bob']}", "root", json={"roles": ["sales"]}), 200)
    http.tokens.pop("bob", None)
    second = ok(http.post(f"/contracts/{cid}/delivery-requests", "alice", json={
        "lines": [{"product_id": product, "quantity": "1"}]}))["id"]
    assert [n["ref_id"] for n in notices(http, "bob", "warehouse_request")] == [rid]
    assert [n["ref_id"] for n in notices(http, "keeper", "warehouse_request")] == [second, rid]
    before = read_model_snapshot(service)
    for name in ("handoff", "inbox"):
        service.projector.rebuild(name)
    assert read_model_snapshot(service) == before
