"""H-2, H-3 beyond customers: the history and the past state of contracts (with their
invoices, payments, deliveries and returns), products and their prices, stock per product
and warehouse, and approval requests; and who may read them."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote
from uuid import uuid4

import pytest

from commands.adapters.clock import ManualClock
from tests.conftest import Http, assert_error
from tests.e2e.helpers import ok

WAREHOUSE = "北京总仓"
# The fields a contract's past state shares with its live detail.
CONTRACT_FIELDS = ("customer_id", "number", "name", "signed_on", "amount", "salesperson_id", "invoiced",
                   "collected", "returned_amount", "exchange_difference", "net_amount", "remaining_to_invoice",
                   "outstanding", "credit")
PRODUCT_FIELDS = ("code", "name", "spec", "unit", "enabled", "price", "priced_on")
STOCK_FIELDS = ("product_id", "warehouse", "quantity", "unit_cost", "value")
APPROVAL_FIELDS = ("kind", "target_id", "payload", "summary", "requester_id", "approver_ids", "status",
                   "decided_by", "comment", "base")


def same(value: Any) -> Any:
    """A JSON value with its decimal strings as numbers, so 0 and 0.00 compare equal."""
    if isinstance(value, dict):
        return {k: same(v) for k, v in value.items()}
    if isinstance(value, list):
        return [same(v) for v in value]
    if isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            return value
    return value


def fields(record: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: same(record[name]) for name in names}


def stock_path(product: str, warehouse: str = WAREHOUSE) -> str:
    return f"/stock/{product}/{quote(warehouse)}"


@pytest.fixture
def org(http: Http) -> dict[str, str]:
    """A department managed by boss with alice selling and keeper in the warehouse; an auditor;
    carol selling in another department; a customer of alice's and a product."""
    ok(http.put("/settings", "root", json={"dictionaries": {"warehouses": [WAREHOUSE, "上海仓"]}}), 200)
    dept = ok(http.post("/departments", "root", json={"name": "销售一部"}))["id"]
    other = ok(http.post("/departments", "root", json={"name": "销售二部"}))["id"]
    ids = {"dept": dept}
    for username, roles, department in (("boss", ["manager"], dept), ("alice", ["sales"], dept),
                                        ("keeper", ["warehouse"], dept), ("audrey", ["auditor"], None),
                                        ("carol", ["sales"], other)):
        body = {"name": username.title(), "username": username, "password": "password123", "roles": roles}
        if department:
            body["department_id"] = department
        ids[username] = ok(http.post("/people", "root", json=body))["id"]
    ok(http.patch(f"/departments/{dept}", "root", json={"manager_ids": [ids["boss"]]}), 200)
    ids["customer"] = ok(http.post("/customers", "alice", json={"name": "采购方", "region": "华东"}))["id"]
    ids["product"] = ok(http.post("/products", "keeper", json={"name": "服务器", "spec": "R740", "unit": "台"}))["id"]
    return ids


def test_a_contract_and_its_stock_as_they_were_at_every_step(http: Http, clock: ManualClock,
                                                             org: dict[str, str]) -> None:
    product = org["product"]
    clock.advance(hours=1)
    ok(http.post(f"/products/{product}/stock-ins", "keeper",
                 json={"warehouse": WAREHOUSE, "quantity": "10", "unit_cost": "100.00"}))
    stock_live = [http.get(stock_path(product), "root").json()]
    stock_moments = [clock.now()]

    clock.advance(hours=1)
    contract = ok(http.post("/contracts", "alice", json={
        "customer_id": org["customer"], "number": "HT-历史-1", "name": "服务器采购",
        "lines": [{"product_id": product, "quantity": "4", "unit_price": "250.00"}]}))["id"]
    live, moments = [http.get(f"/contracts/{contract}", "root").json()], [clock.now()]

    def step(who: str, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        clock.advance(hours=1)
        done = ok(http.client.request(method, "/api/v1" + path, headers=http.as_(who), json=body))
        live.append(http.get(f"/contracts/{contract}", "root").json())
        moments.append(clock.now())
        return done

    step("alice", "POST", f"/contracts/{contract}/invoices", {"amount": "600.00"})
    step("alice", "POST", "/payments", {"customer_id": org["customer"], "contract_id": contract, "amount": "400.00"})
    delivery = step("keeper", "POST", f"/contracts/{contract}/deliveries",
                    {"lines": [{"product_id": product, "warehouse": WAREHOUSE, "quantity": "3"}]})["delivery_id"]
    stock_live.append(http.get(stock_path(product), "root").json())
    stock_moments.append(clock.now())
    step("keeper", "POST", f"/contracts/{contract}/returns",
         {"delivery_id": delivery, "lines": [{"product_id": product, "quantity": "1"}]})
    stock_live.append(http.get(stock_path(product), "root").json())
    stock_moments.append(clock.now())
    assert same(live[-1]["net_amount"]) == Decimal("750") and same(live[-1]["outstanding"]) == Decimal("350")

    # The history: who did what, when, under which command, and what it changed.
    items = ok(http.get(f"/contracts/{contract}/history", "audrey"), 200)["items"]
    assert [i["type"] for i in items] == ["Signed", "Invoiced", "PaymentReceived", "Delivered", "Returned"]
    assert [i["version"] for i in items] == [1, 2, 3, 4, 5]
    assert [i["actor_name"] for i in items] == ["Alice", "Alice", "Alice", "Keeper", "Keeper"]
    assert [i["actor_id"] for i in items] == [org["alice"]] * 3 + [org["keeper"]] * 2
    assert all(i["command_id"] for i in items) and len({i["command_id"] for i in items}) == 5
    ats = [datetime.fromisoformat(i["at"]) for i in items]
    assert all(moment - timedelta(seconds=1) < at <= moment for at, moment in zip(ats, moments, strict=True))
    changes = [{c["field"]: (same(c["old"]), same(c["new"])) for c in i["changes"]} for i in items]
    assert changes[1]["invoiced"] == (0, 600) and changes[2]["collected"] == (0, 400)
    assert changes[4]["returned_amount"] == (0, 250)
    assert changes[0]["number"] == (None, "HT-历史-1")
    assert same(items[3]["data"]["lines"][0]["quantity"]) == 3

    # Every version, and every moment between two changes, is what the detail showed then.
    for version, (then, moment) in enumerate(zip(live, moments, strict=True), start=1):
        by_version = ok(http.get(f"/contracts/{contract}", "boss", params={"version": version}), 200)
        by_moment = ok(http.get(f"/contracts/{contract}", "audrey",
                                params={"as_of": (moment + timedelta(minutes=30)).isoformat()}), 200)
        assert by_version == by_moment
        assert (by_version["id"], by_version["version"]) == (contract, version)
        assert by_version["at"] == items[version - 1]["at"]
        assert fields(by_version["state"], CONTRACT_FIELDS) == fields(then, CONTRACT_FIELDS)
        delivered = {d["delivery_id"]: [same(line["quantity"]) for line in d["lines"]] for d in then["deliveries"]}
        assert {k: [same(line["quantity"]) for line in v] for k, v in by_version["state"]["deliveries"].items()
                } == delivered
    last = ok(http.get(f"/contracts/{contract}", "root", params={"version": 5}), 200)["state"]
    assert same(last["returned"]) == {f"{delivery}:{product}:{WAREHOUSE}": 1}
    assert (last["invoiced"], last["collected"], last["outstanding"]) == ("600.00", "400.00", "350.00")
    assert ok(http.get(f"/contracts/{contract}", "root", params={"version": 1}), 200)["state"]["invoiced"] == "0.00"
    # A moment in another offset is the same moment.
    shanghai = (moments[2] + timedelta(minutes=1)).astimezone().isoformat()
    assert ok(http.get(f"/contracts/{contract}", "root", params={"as_of": shanghai}), 200)["version"] == 3

    # Stock of the product in the warehouse: its own record, read through the product and the warehouse.
    row = ok(http.get(stock_path(product), "keeper"), 200)
    assert row == next(r for r in http.get("/stock", "keeper").json() if r["warehouse"] == WAREHOUSE)
    stock_items = ok(http.get(f"{stock_path(product)}/history", "keeper"), 200)["items"]
    assert [i["type"] for i in stock_items] == ["Opened", "Received", "Issued", "Received"]
    assert [i["actor_name"] for i in stock_items] == ["Keeper"] * 4
    quantities = [{c["field"]: (same(c["old"]), same(c["new"])) for c in i["changes"]}.get("quantity")
                  for i in stock_items]
    assert quantities == [(None, 0), (0, 10), (10, 7), (7, 8)]
    assert stock_items[2]["command_id"] == items[3]["command_id"]  # the delivery moved the goods
    for version, (then, moment) in zip((2, 3, 4), zip(stock_live, stock_moments, strict=True), strict=True):
        by_version = ok(http.get(stock_path(product), "boss", params={"version": version}), 200)
        by_moment = ok(http.get(stock_path(product), "audrey",
                                params={"as_of": (moment + timedelta(minutes=10)).isoformat()}), 200)
        assert by_version == by_moment and by_version["version"] == version
        assert fields(by_version["state"], STOCK_FIELDS) == fields(then, STOCK_FIELDS)

    # Refused: a salesperson or a warehouse keeper asking for the past, and the careless.
    assert_error(http.get(f"/contracts/{contract}", "alice", params={"version": 1}), 403, "forbidden")
    assert_error(http.get(f"/contracts/{contract}", "keeper", params={"as_of": moments[0].isoformat()}), 403)
    assert_error(http.get(stock_path(product), "keeper", params={"version": 1}), 403, "forbidden")
    before = (moments[0] - timedelta(minutes=1)).isoformat()
    assert_error(http.get(f"/contracts/{contract}", "root", params={"as_of": before}), 404, "not_found")
    assert_error(http.get(stock_path(product), "root",
                          params={"as_of": (stock_moments[0] - timedelta(hours=1)).isoformat()}), 404)
    assert_error(http.get(f"/contracts/{contract}", "root", params={"as_of": "2026-11-02T05:00:00"}),
                 422, "validation_error")
    assert_error(http.get(stock_path(product), "root", params={"as_of": "2026-11-02T05:00:00"}), 422)
    assert_error(http.get(f"/contracts/{contract}", "root", params={"as_of": "昨天"}), 422)
    assert_error(http.get(f"/contracts/{contract}", "root", params={"version": 6}), 404, "not_found")
    assert_error(http.get(stock_path(product), "root", params={"version": 5}), 404)
    assert_error(http.get(f"/contracts/{contract}", "root", params={"version": 0}), 422)
    # Out of sight is out of sight, now and then: another department's salesperson.
    assert_error(http.get(f"/contracts/{contract}", "carol"), 404)
    assert_error(http.get(f"/contracts/{contract}/history", "carol"), 404)
    assert ok(http.get(f"/contracts/{contract}/history", "alice"), 200)["items"] == items
    assert ok(http.get(f"/contracts/{contract}/history", "keeper"), 200)["items"] == items
    # Unknown ids, ids of another kind, a warehouse without that product.
    for path in (f"/contracts/{uuid4()}/history", f"/contracts/{org['customer']}/history",
                 f"/contracts/{product}/history", f"/contracts/{org['customer']}",
                 stock_path(str(uuid4())), stock_path(contract), f"{stock_path(org['customer'])}/history",
                 stock_path(product, "上海仓"), f"{stock_path(product, '不存在的仓')}/history"):
        assert_error(http.get(path, "root"), 404, "not_found")
    assert_error(http.get(f"/contracts/{org['customer']}", "root", params={"version": 1}), 404)
    assert_error(http.get(f"/stock/{product}/{quote(WAREHOUSE)}", "root", params={"colour": "red"}), 422)


def test_a_product_its_prices_and_the_approval_that_set_one(http: Http, clock: ManualClock,
                                                            org: dict[str, str]) -> None:
    product = org["product"]
    live, moments = [http.get(f"/products/{product}", "root").json()], [clock.now()]

    def moved() -> None:
        live.append(http.get(f"/products/{product}", "root").json())
        moments.append(clock.now())

    clock.advance(hours=1)
    ok(http.patch(f"/products/{product}", "keeper", json={"spec": "R750", "unit": "套"}), 200)
    moved()
    clock.advance(hours=1)
    ok(http.post(f"/products/{product}/price-changes", "boss", json={"price": "9999.00", "reason": "定价"}), 200)
    moved()
    clock.advance(hours=1)
    filed = ok(http.post(f"/products/{product}/price-changes", "alice", json={"price": "8888.00", "reason": "促销"}),
               202)
    approval = filed["approval_id"]
    filed_at = clock.now()
    pending = ok(http.get(f"/approvals/{approval}", "alice"), 200)
    assert ok(http.get(f"/products/{product}", "root"), 200)["price"] == "9999.00"  # not yet
    clock.advance(hours=1)
    ok(http.post(f"/approvals/{approval}/approve", "boss", json={"comment": "同意"}), 200)
    moved()
    decided = ok(http.get(f"/approvals/{approval}", "alice"), 200)
    assert decided["status"] == "approved"

    items = ok(http.get(f"/products/{product}/history", "audrey"), 200)["items"]
    assert [i["type"] for i in items] == ["Created", "Changed", "PriceChanged", "PriceChanged"]
    assert [i["actor_name"] for i in items] == ["Keeper", "Keeper", "Boss", "Alice"]
    assert all(i["command_id"] for i in items)
    changes = [{c["field"]: (c["old"], c["new"]) for c in i["changes"]} for i in items]
    assert changes[1] == {"spec": ("R740", "R750"), "unit": ("台", "套")}
    assert changes[2]["price"] == (None, "9999.00") and changes[3]["price"] == ("9999.00", "8888.00")
    assert items[3]["data"]["approved_by"] == org["boss"]
    for version, (then, moment) in enumerate(zip(live, moments, strict=True), start=1):
        by_version = ok(http.get(f"/products/{product}", "boss", params={"version": version}), 200)
        by_moment = ok(http.get(f"/products/{product}", "audrey",
                                params={"as_of": (moment + timedelta(minutes=5)).isoformat()}), 200)
        assert by_version == by_moment and by_version["version"] == version
        assert fields(by_version["state"], PRODUCT_FIELDS) == fields(then, PRODUCT_FIELDS)
    # While the request waited, the price in force was the manager's.
    waiting = ok(http.get(f"/products/{product}", "root", params={"as_of": filed_at.isoformat()}), 200)
    assert (waiting["version"], waiting["state"]["price"]) == (3, "9999.00")

    # The approval request: filed by alice, approved by boss.
    steps = ok(http.get(f"/approvals/{approval}/history", "alice"), 200)["items"]
    assert [(i["type"], i["actor_name"]) for i in steps] == [("Requested", "Alice"), ("Decided", "Boss")]
    decision = {c["field"]: (c["old"], c["new"]) for c in steps[1]["changes"]}
    assert decision == {"status": ("pending", "approved"), "decided_by": (None, org["boss"]),
                        "comment": (None, "同意")}
    assert steps[1]["command_id"] == items[3]["command_id"]  # the approval ran the price change
    assert ok(http.get(f"/approvals/{approval}/history", "boss"), 200)["items"] == steps
    assert ok(http.get(f"/approvals/{approval}/history", "audrey"), 200)["items"] == steps
    for version, then, moment in ((1, pending, filed_at), (2, decided, moments[-1])):
        by_version = ok(http.get(f"/approvals/{approval}", "boss", params={"version": version}), 200)
        by_moment = ok(http.get(f"/approvals/{approval}", "root",
                                params={"as_of": (moment + timedelta(minutes=1)).isoformat()}), 200)
        assert by_version == by_moment and by_version["id"] == approval
        assert fields(by_version["state"], APPROVAL_FIELDS) == fields(then, APPROVAL_FIELDS)

    # Refused and careless.
    assert_error(http.get(f"/approvals/{approval}", "alice", params={"version": 1}), 403, "forbidden")
    assert_error(http.get(f"/products/{product}", "alice", params={"version": 1}), 403, "forbidden")
    assert_error(http.get(f"/products/{product}", "keeper", params={"as_of": filed_at.isoformat()}), 403)
    assert_error(http.get(f"/approvals/{approval}", "keeper"), 404)
    assert_error(http.get(f"/approvals/{approval}/history", "keeper"), 404)
    assert_error(http.get(f"/approvals/{approval}/history", "carol"), 404)
    assert_error(http.get(f"/approvals/{approval}", "carol", params={"version": 1}), 404)
    assert ok(http.get(f"/products/{product}/history", "alice"), 200)["items"] == items
    created = moments[0] - timedelta(seconds=1)
    assert_error(http.get(f"/products/{product}", "root", params={"as_of": created.isoformat()}), 404)
    assert_error(http.get(f"/approvals/{approval}", "root",
                          params={"as_of": (filed_at - timedelta(minutes=1)).isoformat()}), 404)
    assert_error(http.get(f"/approvals/{approval}", "root", params={"as_of": "2026-11-02T09:00"}), 422)
    assert_error(http.get(f"/products/{product}", "root", params={"as_of": "2026-11-02T09:00"}), 422)
    assert_error(http.get(f"/products/{product}", "root", params={"version": 5}), 404, "not_found")
    assert_error(http.get(f"/approvals/{approval}", "root", params={"version": 3}), 404, "not_found")
    for path in (f"/products/{uuid4()}/history", f"/products/{org['customer']}/history",
                 f"/products/{approval}", f"/approvals/{product}/history", f"/approvals/{uuid4()}/history",
                 f"/approvals/{org['customer']}"):
        assert_error(http.get(path, "root"), 404, "not_found")
    assert_error(http.get(f"/products/{org['customer']}", "root", params={"version": 1}), 404)


def test_a_customers_past_state_is_typed_and_complete(http: Http, clock: ManualClock, org: dict[str, str]) -> None:
    customer = org["customer"]
    clock.advance(hours=1)
    ok(http.post(f"/customers/{customer}/changes", "boss", json={"changes": {"region": "华南"}}), 200)
    past = ok(http.get(f"/customers/{customer}", "audrey", params={"version": 1}), 200)
    assert set(past["state"]) >= {"number", "name", "contacts", "owner_id", "in_pool", "shared_with",
                                  "shared_departments", "status", "deal_total", "receivable", "logo"}
    assert (past["state"]["region"], past["state"]["owner_id"], past["state"]["in_pool"]) == ("华东", org["alice"],
                                                                                             False)
    schema = http.client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("CustomerState", "ContractState", "ProductState", "StockState", "ApprovalState"):
        assert "number" in schema[name]["properties"] or "quantity" in schema[name]["properties"] \
            or "status" in schema[name]["properties"] or "code" in schema[name]["properties"], name
    assert set(schema["CustomerState"]["properties"]) == set(past["state"])
