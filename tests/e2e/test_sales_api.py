"""Sales over HTTP: the deal, invoices, payments, stock, deliveries, returns, exchanges,
the contract view that adds up (D-4), decimals as strings, and who may do what."""

from __future__ import annotations

from decimal import Decimal

from tests.conftest import Http, assert_error


def test_contract_execution_adds_up(http: Http, shop: dict[str, str]) -> None:
    product = shop["product"]
    for qty, cost in (("10", "100.00"), ("10", "130.00")):
        assert http.post(f"/products/{product}/stock-ins", "keeper",
                         json={"warehouse": "W1", "quantity": qty, "unit_cost": cost}).status_code == 201
    assert http.post(f"/products/{product}/stock-ins", "keeper",
                     json={"warehouse": "W2", "quantity": "5", "unit_cost": "150"}).status_code == 201
    stock = {r["warehouse"]: r for r in http.get("/stock", "alice", params={"product_id": product}).json()}
    assert stock["W1"] == {"product_id": product, "code": "P000001", "product_name": "服务器", "warehouse": "W1",
                           "quantity": "20.0000", "unit_cost": "115.0000", "value": "2300.00"}

    signed = http.post("/contracts", "alice", json={
        "customer_id": shop["customer"], "number": "HT2026-001", "name": "服务器采购合同", "signed_on": "2026-11-02",
        "lines": [{"product_id": product, "quantity": "8", "unit_price": "250.00"}]})
    assert signed.status_code == 201, signed.text
    cid = signed.json()["id"]
    assert_error(http.post("/contracts", "alice", json={"customer_id": shop["customer"], "number": "HT2026-001",
                                                        "name": "重复", "amount": "10"}), 409, "duplicate_contract_number")
    assert http.post(f"/contracts/{cid}/invoices", "alice", json={"amount": "1500.00"}).status_code == 201
    assert_error(http.post(f"/contracts/{cid}/invoices", "alice", json={"amount": "500.01"}), 409, "over_invoiced")
    assert http.post("/payments", "alice", json={"customer_id": shop["customer"], "contract_id": cid,
                                                 "amount": "1200.00"}).status_code == 201
    assert_error(http.post("/payments", "alice", json={"customer_id": shop["customer"], "contract_id": cid,
                                                       "amount": "800.01"}), 409, "over_collected")
    first = http.post(f"/contracts/{cid}/deliveries", "keeper", json={
        "lines": [{"product_id": product, "warehouse": "W1", "quantity": "5"}]})
    assert first.status_code == 201, first.text
    delivery = first.json()["delivery_id"]
    assert_error(http.post(f"/contracts/{cid}/deliveries", "keeper", json={
        "lines": [{"product_id": product, "warehouse": "W2", "quantity": "4"}]}), 409, "over_delivered")
    back = http.post(f"/contracts/{cid}/returns", "keeper", json={
        "delivery_id": delivery, "lines": [{"product_id": product, "quantity": "2"}]})
    assert back.status_code == 201, back.text
    assert_error(http.post(f"/contracts/{cid}/returns", "keeper", json={
        "delivery_id": delivery, "lines": [{"product_id": product, "quantity": "4"}]}), 409, "over_returned")
    swapped = http.post(f"/contracts/{cid}/exchanges", "keeper", json={
        "delivery_id": delivery, "lines": [{"product_id": product, "warehouse": "W2", "quantity": "1"}]})
    assert swapped.status_code == 201, swapped.text

    view = http.get(f"/contracts/{cid}", "alice").json()
    # The return of 2 × 250.00 makes the deal 1500.00 net (D-2, D-3 as amended): all of it is invoiced.
    assert (view["amount"], view["net_amount"], view["invoiced"], view["remaining_to_invoice"]) == (
        "2000.00", "1500.00", "1500.00", "0.00")
    assert (view["collected"], view["outstanding"], view["returned_amount"]) == ("1200.00", "300.00", "500.00")
    [line] = view["lines"]
    # A return shrinks the deal: ordered and delivered both fall, what is left to deliver does not grow.
    assert (line["quantity"], line["delivered"], line["returned"], line["remaining"]) == (
        "6.0000", "3.0000", "2.0000", "3.0000")
    assert Decimal(line["delivered"]) + Decimal(line["remaining"]) == Decimal(line["quantity"])
    assert [i["amount"] for i in view["invoices"]] == ["1500.00"]
    assert [p["amount"] for p in view["payments"]] == ["1200.00"]
    [d] = view["deliveries"]
    assert d["lines"][0]["unit_cost"] == "115.0000" and d["lines"][0]["quantity"] == "5.0000"
    [r] = view["returns"]
    assert (r["amount"], r["lines"][0]["unit_cost"], r["lines"][0]["direction"]) == ("500.00", "115.0000", "in")
    [x] = view["exchanges"]
    assert {(m["direction"], m["warehouse"], m["unit_cost"]) for m in x["lines"]} == {
        ("in", "W1", "115.0000"), ("out", "W2", "150.0000")}

    stock = {r["warehouse"]: r for r in http.get("/stock", "alice", params={"product_id": product}).json()}
    assert (stock["W1"]["quantity"], stock["W1"]["value"]) == ("18.0000", "2070.00")  # 20 − 5 + 2 + 1
    assert (stock["W2"]["quantity"], stock["W2"]["value"]) == ("4.0000", "600.00")
    customer = http.get(f"/customers/{shop['customer']}", "alice").json()
    assert customer["status"] == "dealt"
    assert (customer["deal_total"], customer["invoiced_total"], customer["collected_total"], customer["receivable"]) == (
        "1500.00", "1500.00", "1200.00", "300.00")
    listed = http.get("/contracts", "boss", params={"customer_id": shop["customer"]}).json()
    assert [c["number"] for c in listed["items"]] == ["HT2026-001"]


def test_insufficient_stock_and_roles(http: Http, shop: dict[str, str]) -> None:
    product = shop["product"]
    cid = http.post("/contracts", "alice", json={"customer_id": shop["customer"], "number": "HT-9", "name": "小单",
                                                 "lines": [{"product_id": product, "quantity": "3", "unit_price": "9.99"}]}).json()["id"]
    assert_error(http.post(f"/contracts/{cid}/deliveries", "keeper", json={
        "lines": [{"product_id": product, "warehouse": "W1", "quantity": "1"}]}), 409, "insufficient_stock")
    assert_error(http.post(f"/products/{product}/stock-ins", "alice",
                           json={"warehouse": "W1", "quantity": "1", "unit_cost": "1"}), 403)
    assert_error(http.post(f"/contracts/{cid}/deliveries", "alice", json={
        "lines": [{"product_id": product, "warehouse": "W1", "quantity": "1"}]}), 403)
    assert_error(http.post(f"/products/{product}/stock-ins", "keeper",
                           json={"warehouse": "火星仓", "quantity": "1", "unit_cost": "1"}), 422, "unknown_value")
    assert_error(http.post(f"/products/{product}/stock-ins", "keeper",
                           json={"warehouse": "W1", "quantity": "-1", "unit_cost": "1"}), 422, "validation_error")
    assert_error(http.post(f"/products/{product}/stock-ins", "keeper",
                           json={"warehouse": "W1", "quantity": "1", "unit_cost": "1.123456"}), 422)
    assert_error(http.post(f"/contracts/{cid}/invoices", "alice", json={"amount": "1.001"}), 422)
    assert_error(http.post("/contracts", "alice", json={"customer_id": shop["customer"], "number": "HT-10",
                                                        "name": "x", "amount": "5",
                                                        "lines": [{"product_id": product, "quantity": "1",
                                                                   "unit_price": "9"}]}), 422, "amount_mismatch")
    assert_error(http.post("/contracts", "keeper", json={"customer_id": shop["customer"], "number": "HT-11",
                                                         "name": "x", "amount": "5"}), 403)
    assert http.patch(f"/products/{product}", "keeper", json={"enabled": False}).status_code == 200
    assert_error(http.post(f"/products/{product}/stock-ins", "keeper",
                           json={"warehouse": "W1", "quantity": "1", "unit_cost": "1"}), 409, "product_disabled")


def test_price_changes_keep_history(http: Http, shop: dict[str, str]) -> None:
    product = shop["product"]
    assert http.post(f"/products/{product}/price-changes", "boss", json={"price": "999.00", "reason": "首次定价"}).status_code == 200
    assert http.post(f"/products/{product}/price-changes", "boss", json={"price": "899.00", "reason": "降价"}).status_code == 200
    view = http.get(f"/products/{product}", "alice").json()
    assert (view["price"], view["priced_on"]) == ("899.00", "2026-11-02")
    assert [(h["old_price"], h["price"], h["actor_name"]) for h in view["price_history"]] == [
        (None, "999.00", "boss"), ("999.00", "899.00", "boss")]


def test_problem_reports(http: Http, shop: dict[str, str]) -> None:
    made = http.post("/problems", "alice", json={"customer_id": shop["customer"], "type": "质量问题",
                                                 "description": "屏幕有坏点", "responsible_id": shop["keeper"]})
    assert made.status_code == 201, made.text
    pid = made.json()["id"]
    assert [p["status"] for p in http.get("/problems", "keeper").json()] == ["open"]
    assert_error(http.post(f"/problems/{pid}/resolve", "alice", json={"resolution": "x"}), 403)
    assert http.post(f"/problems/{pid}/resolve", "keeper", json={"resolution": "已更换屏幕"}).status_code == 200
    [problem] = http.get("/problems", "boss", params={"status": "resolved"}).json()
    assert problem["resolution"] == "已更换屏幕"
    assert_error(http.post(f"/problems/{pid}/resolve", "keeper", json={"resolution": "again"}), 409, "already_resolved")
