"""Returns and exchanges over HTTP (G-5, G-6, seed 000 §5.6.3): a delivery that left from two
warehouses, an exchange for a different product with its price difference, the line that
goods come back from named when it is ambiguous, and red-letter invoices after a return.
On SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.conftest import Http, assert_error
from tests.e2e.helpers import ok


def _warehouses(http: Http, shop: dict[str, str]) -> dict[str, Any]:
    """Warehouses 总仓 and 苏州仓, product A (list price 120) at both, product B (list price 150)
    at 苏州仓, and a contract for 3 A at 100 delivered 总仓 ×2 and 苏州仓 ×1."""
    assert http.put("/settings", "root", json={"dictionaries": {"warehouses": ["总仓", "苏州仓"]}}).status_code == 200
    a = shop["product"]
    b = ok(http.post("/products", "keeper", json={"name": "存储阵列", "spec": "ME5", "unit": "台"}))["id"]
    for product, price in ((a, "120.00"), (b, "150.00")):
        ok(http.post(f"/products/{product}/price-changes", "boss", json={"price": price, "reason": "定价"}), 200)
    for product, warehouse, cost in ((a, "总仓", "60"), (a, "苏州仓", "70"), (b, "苏州仓", "90")):
        ok(http.post(f"/products/{product}/stock-ins", "keeper",
                     json={"warehouse": warehouse, "quantity": "10", "unit_cost": cost}))
    cid = ok(http.post("/contracts", "alice", json={
        "customer_id": shop["customer"], "number": "HT-X1", "name": "两仓发货",
        "lines": [{"product_id": a, "quantity": "3", "unit_price": "100.00"}]}))["id"]
    delivery = ok(http.post(f"/contracts/{cid}/deliveries", "keeper", json={"lines": [
        {"product_id": a, "warehouse": "总仓", "quantity": "2"},
        {"product_id": a, "warehouse": "苏州仓", "quantity": "1"}]}))["delivery_id"]
    return {"a": a, "b": b, "contract": cid, "delivery": delivery}


def _stock(http: Http, product: str) -> dict[str, str]:
    return {r["warehouse"]: r["quantity"] for r in http.get("/stock", "alice", params={"product_id": product}).json()}


def test_an_exchange_on_a_delivery_from_two_warehouses_names_where_the_goods_come_back_to(
        http: Http, shop: dict[str, str]) -> None:
    s = _warehouses(http, shop)
    url = f"/contracts/{s['contract']}/exchanges"
    ambiguous = http.post(url, "keeper", json={"delivery_id": s["delivery"], "lines": [
        {"product_id": s["a"], "quantity": "1", "warehouse": "总仓"}]})
    assert_error(ambiguous, 422, "ambiguous_delivery_line")
    candidates = ambiguous.json()["error"]["details"]["candidates"]
    assert sorted((c["warehouse"], c["returnable"]) for c in candidates) == [("总仓", "2.0000"), ("苏州仓", "1.0000")]

    for back, out in (("苏州仓", "总仓"), ("总仓", "苏州仓")):
        ok(http.post(url, "keeper", json={"delivery_id": s["delivery"], "lines": [
            {"product_id": s["a"], "quantity": "1", "warehouse": out, "from_warehouse": back}]}))
    # 总仓: 10 − 2 + 1 − 1; 苏州仓: 10 − 1 + 1 − 1
    assert _stock(http, s["a"]) == {"总仓": "8.0000", "苏州仓": "9.0000"}
    # Nothing of the 苏州仓 line is left to come back from that delivery.
    assert_error(http.post(url, "keeper", json={"delivery_id": s["delivery"], "lines": [
        {"product_id": s["a"], "quantity": "1", "warehouse": "总仓", "from_warehouse": "苏州仓"}]}), 409,
        "over_returned")
    assert_error(http.post(url, "keeper", json={"delivery_id": s["delivery"], "lines": [
        {"product_id": s["a"], "quantity": "1", "warehouse": "总仓", "from_warehouse": "北京仓"}]}), 422,
        "unknown_value")
    view = http.get(f"/contracts/{s['contract']}", "alice").json()
    assert Decimal(view["net_amount"]) == Decimal("300.00")  # like for like changes no money


def test_an_exchange_for_another_product_records_the_price_difference(http: Http, shop: dict[str, str]) -> None:
    s = _warehouses(http, shop)
    url = f"/contracts/{s['contract']}/exchanges"
    line = {"product_id": s["a"], "quantity": "1", "warehouse": "苏州仓", "from_warehouse": "总仓",
            "replacement_product_id": s["b"]}
    ok(http.post(url, "keeper", json={"delivery_id": s["delivery"], "lines": [line]}))  # at B's list price 150
    ok(http.post(url, "keeper", json={"delivery_id": s["delivery"], "lines": [{**line, "unit_price": "90.00"}]}))

    assert _stock(http, s["b"]) == {"苏州仓": "8.0000"}
    assert _stock(http, s["a"])["总仓"] == "10.0000"  # both came back to where they left from
    view = http.get(f"/contracts/{s['contract']}", "alice").json()
    # 300 + (150 − 100) + (90 − 100)
    assert Decimal(view["net_amount"]) == Decimal("340.00")
    customer = http.get(f"/customers/{shop['customer']}", "alice").json()
    assert Decimal(customer["deal_total"]) == Decimal("340.00")

    assert len(view["exchanges"]) == 2
    unknown = http.post(url, "keeper", json={"delivery_id": s["delivery"], "lines": [
        {**line, "replacement_product_id": "00000000-0000-0000-0000-000000000000"}]})
    assert_error(unknown, 422, "unknown_product")


def test_a_return_names_the_warehouse_when_the_delivery_left_from_two(http: Http, shop: dict[str, str]) -> None:
    s = _warehouses(http, shop)
    url = f"/contracts/{s['contract']}/returns"
    refused = http.post(url, "keeper", json={"delivery_id": s["delivery"], "lines": [
        {"product_id": s["a"], "quantity": "1"}]})
    assert_error(refused, 422, "ambiguous_delivery_line")
    assert refused.json()["error"]["field"] == "lines.0.warehouse"
    ok(http.post(url, "keeper", json={"delivery_id": s["delivery"], "lines": [
        {"product_id": s["a"], "quantity": "1", "warehouse": "苏州仓"}]}))
    assert _stock(http, s["a"]) == {"总仓": "8.0000", "苏州仓": "10.0000"}


def test_a_red_letter_invoice_after_a_return(http: Http, shop: dict[str, str]) -> None:
    s = _warehouses(http, shop)
    cid = s["contract"]
    ok(http.post(f"/contracts/{cid}/invoices", "alice", json={"amount": "300.00"}))
    ok(http.post(f"/contracts/{cid}/returns", "keeper", json={"delivery_id": s["delivery"], "lines": [
        {"product_id": s["a"], "quantity": "1", "warehouse": "总仓"}]}))
    assert_error(http.post(f"/contracts/{cid}/invoices", "alice", json={"amount": "0.01"}), 409, "over_invoiced")
    assert_error(http.post(f"/contracts/{cid}/credit-notes", "alice", json={"amount": "300.01"}), 409,
                 "over_credited")
    assert_error(http.post(f"/contracts/{cid}/credit-notes", "keeper", json={"amount": "100.00"}), 403)
    assert_error(http.post(f"/contracts/{cid}/credit-notes", "alice", json={"amount": "-1"}), 422)
    ok(http.post(f"/contracts/{cid}/credit-notes", "alice", json={"amount": "100.00", "reason": "退货冲红"}))
    customer = http.get(f"/customers/{shop['customer']}", "alice").json()
    assert (Decimal(customer["invoiced_total"]), Decimal(customer["deal_total"])) == (Decimal("200.00"),
                                                                                      Decimal("200.00"))
    assert_error(http.post(f"/contracts/{cid}/invoices", "alice", json={"amount": "0.01"}), 409, "over_invoiced")
