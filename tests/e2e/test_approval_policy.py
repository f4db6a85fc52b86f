"""AP-1, AP-2 over HTTP, on SQLite and PostgreSQL: a late approval never overwrites a newer
decision (409 `stale_request`, the request stays pending); an approval's view shows the
present values beside the requested ones; the policy takes every kind AP-1 names, and
transfers, claims and an owner's contact and share edits (seed 000 §5.1.6) answer 202 while
they wait; a rejection notice carries the approver's comment (N-1)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.conftest import Http, assert_error
from tests.e2e.helpers import ok

EVERY_KIND = ["customer_info_change", "price_change", "target", "transfer", "claim", "return", "exchange"]


def policy(http: Http, *kinds: str) -> None:
    ok(http.put("/settings", "root", json={"rules": {"approval_required": list(kinds)}}), 200)


def waits(response: Any) -> str:
    body = ok(response, 202)
    assert set(body) == {"approval_id", "status", "position"} and body["status"] == "pending"
    return str(body["approval_id"])


def view(http: Http, who: str, approval_id: str) -> dict[str, Any]:
    return ok(http.get(f"/approvals/{approval_id}", who), 200)


def salesperson(http: Http, shop: dict[str, str], username: str) -> str:
    return ok(http.post("/people", "root", json={"name": username, "username": username, "password": "password123",
                                                 "department_id": shop["dept"], "roles": ["sales"]}))["id"]


def test_a_late_price_approval_is_stale_and_the_newer_price_stays(http: Http, shop: dict[str, str]) -> None:
    product = shop["product"]
    for warehouse, quantity, cost in (("W1", "10", "100000.00"), ("W2", "30", "120000.00")):
        ok(http.post(f"/products/{product}/stock-ins", "keeper",
                     json={"warehouse": warehouse, "quantity": quantity, "unit_cost": cost}))
    ok(http.post(f"/products/{product}/price-changes", "boss", json={"price": "150000.00"}), 200)
    asked = waits(http.post(f"/products/{product}/price-changes", "keeper",
                            json={"price": "160000.00", "reason": "成本上涨"}))
    shown = view(http, "boss", asked)
    assert (shown["kind"], shown["payload"]["price"], shown["base"]) == ("price_change", "160000.00",
                                                                         {"price": "150000.00"})
    current = shown["current"]
    assert Decimal(current["price"]) == Decimal("150000")
    assert Decimal(current["average_cost"]) == Decimal("115000")  # (10×100,000 + 30×120,000) ÷ 40
    assert [(s["warehouse"], Decimal(s["quantity"]), Decimal(s["unit_cost"])) for s in current["stock"]] == [
        ("W1", Decimal(10), Decimal(100000)), ("W2", Decimal(30), Decimal(120000))]

    # The manager decides meanwhile; the old request no longer fits what it was asked against.
    ok(http.post(f"/products/{product}/price-changes", "boss", json={"price": "155000.00"}), 200)
    assert Decimal(view(http, "boss", asked)["current"]["price"]) == Decimal("155000")
    error = assert_error(http.post(f"/approvals/{asked}/approve", "boss", json={"comment": "同意"}), 409,
                         "stale_request")
    assert (error["field"], error["details"]) == ("price", {"changed": [
        {"field": "price", "then": "150000.00", "now": "155000.00"}]})
    assert http.get(f"/products/{product}", "keeper").json()["price"] == "155000.00"
    assert view(http, "keeper", asked)["status"] == "pending"
    # Rejected with a reason, which the keeper reads in the inbox; a fresh request passes.
    ok(http.post(f"/approvals/{asked}/reject", "boss", json={"comment": "已按市场价调整"}), 200)
    assert view(http, "keeper", asked)["current"] is None  # decided: the present no longer bears on it
    [notice] = [n for n in http.get("/notifications", "keeper").json() if n["ref_id"] == asked]
    assert notice["text"].startswith("已驳回：产品定价") and notice["text"].endswith("意见：已按市场价调整")
    fresh = waits(http.post(f"/products/{product}/price-changes", "keeper", json={"price": "160000.00"}))
    assert view(http, "boss", fresh)["base"] == {"price": "155000.00"}
    ok(http.post(f"/approvals/{fresh}/approve", "boss"), 200)
    assert http.get(f"/products/{product}", "keeper").json()["price"] == "160000.00"


def test_an_info_change_shows_the_customers_present_values(http: Http, shop: dict[str, str]) -> None:
    customer = shop["customer"]
    asked = waits(http.post(f"/customers/{customer}/changes", "alice",
                            json={"changes": {"region": "华北", "address": "北京市1号"}, "reason": "搬迁"}))
    shown = view(http, "boss", asked)
    assert shown["base"] == {"region": "华东", "address": None} == shown["current"]
    ok(http.post(f"/customers/{customer}/visits", "alice", json={"notes": "拜访"}))  # touches neither field
    assert view(http, "alice", asked)["current"] == {"region": "华东", "address": None}
    ok(http.post(f"/customers/{customer}/changes", "boss", json={"changes": {"region": "华南"}}), 200)
    assert view(http, "boss", asked)["current"] == {"region": "华南", "address": None}
    [listed] = [a for a in http.get("/approvals", "boss").json() if a["id"] == asked]
    assert listed["current"] == {"region": "华南", "address": None}
    error = assert_error(http.post(f"/approvals/{asked}/approve", "boss"), 409, "stale_request")
    assert error["details"]["changed"] == [{"field": "region", "then": "华东", "now": "华南"}]
    assert http.get(f"/customers/{customer}", "alice").json()["address"] is None
    # Someone neither asking nor deciding does not see the request at all.
    assert_error(http.get(f"/approvals/{asked}", "keeper"), 404, "not_found")
    assert_error(http.get("/approvals/00000000-0000-0000-0000-000000000000", "root"), 404, "not_found")
    assert http.get("/approvals/nope", "boss").status_code == 422


def test_a_target_proposal_shows_and_meets_the_period_taken_meanwhile(http: Http, shop: dict[str, str]) -> None:
    policy(http, "target")
    proposal = {"person_id": shop["alice"], "period": "2026年11月", "start": "2026-11-01", "end": "2026-11-30",
                "visits": 10}
    asked = waits(http.post("/targets", "alice", json=proposal))
    assert view(http, "boss", asked)["current"] == {"targets": []}
    direct = ok(http.post("/targets", "boss", json={**proposal, "period": "下半月", "start": "2026-11-16",
                                                    "visits": 4}))["id"]
    [taken] = view(http, "boss", asked)["current"]["targets"]
    assert (taken["id"], taken["start"], taken["visits"]) == (direct, "2026-11-16", 4)
    error = assert_error(http.post(f"/approvals/{asked}/approve", "boss"), 409, "stale_request")
    assert error["details"]["changed"] == [{"field": "overlapping", "then": [], "now": [direct]}]


def test_the_policy_takes_every_kind_ap1_names(http: Http, shop: dict[str, str]) -> None:
    policy(http, *EVERY_KIND)
    assert http.get("/settings", "alice").json()["rules"]["approval_required"] == EVERY_KIND
    for wrong in (["everything"], ["contact_add"], ["share_change"], "claim", [1]):
        error = assert_error(http.put("/settings", "root", json={"rules": {"approval_required": wrong}}), 422)
        assert error["field"] in ("rules.approval_required", "rules.approval_required.0", "rules")
    error = assert_error(http.put("/settings", "root", json={"rules": {"approval_required": ["everything"]}},
                                  headers={"Accept-Language": "en"}), 422)
    assert error["message"] == "approval kinds are " + ", ".join(EVERY_KIND)
    assert http.get("/settings", "alice").json()["rules"]["approval_required"] == EVERY_KIND


def test_transfers_and_claims_wait_under_their_policies(http: Http, shop: dict[str, str]) -> None:
    bob = salesperson(http, shop, "bob")
    policy(http, "transfer", "claim")
    customer = shop["customer"]
    transfer = waits(http.post(f"/customers/{customer}/transfer", "alice",
                               json={"to_person_id": bob, "reason": "调岗"}))
    assert http.get(f"/customers/{customer}", "alice").json()["owner_id"] == shop["alice"]
    shown = view(http, "boss", transfer)
    assert (shown["kind"], shown["summary"], shown["current"]["owner_id"]) == ("transfer", "转交客户（调岗）",
                                                                                shop["alice"])
    assert_error(http.post(f"/approvals/{transfer}/approve", "alice"), 403, "own_request")
    assert_error(http.post(f"/approvals/{transfer}/approve", "bob"), 403, "forbidden")
    ok(http.post(f"/approvals/{transfer}/approve", "boss"), 200)
    assert http.get(f"/customers/{customer}", "bob").json()["owner_id"] == bob
    assert "transfer_received" in [n["kind"] for n in http.get("/notifications", "bob").json()]
    # A manager transfers at once.
    assert http.post(f"/customers/{customer}/transfer", "boss", json={"to_person_id": shop["alice"]}).status_code == 200

    pool = ok(http.post("/customers", "root", json={"name": "公海客户", "to_pool": True}))["id"]
    by_alice = waits(http.post(f"/customers/{pool}/claim", "alice"))
    by_bob = waits(http.post(f"/customers/{pool}/claim", "bob"))
    assert view(http, "boss", by_bob)["current"]["in_pool"] is True
    ok(http.post(f"/approvals/{by_bob}/approve", "boss"), 200)
    assert http.get(f"/customers/{pool}", "bob").json()["owner_id"] == bob
    # Claimed by another meanwhile: the claim's own refusal (C-5: hidden from alice now).
    assert_error(http.post(f"/approvals/{by_alice}/approve", "boss"), 404, "not_found")
    assert view(http, "alice", by_alice)["status"] == "pending"


def test_an_owners_contact_and_share_edits_wait_for_approval(http: Http, shop: dict[str, str]) -> None:
    bob = salesperson(http, shop, "bob")
    customer = shop["customer"]
    added = waits(http.post(f"/customers/{customer}/contacts", "alice", json={"name": "甲", "phone": "1"}))
    shared = waits(http.post(f"/customers/{customer}/share", "alice", json={"add": [bob]}))
    assert [view(http, "boss", a)["kind"] for a in (added, shared)] == ["contact_add", "share_change"]
    assert view(http, "boss", added)["current"] == {"contacts": []}
    assert view(http, "boss", shared)["current"] == {"shared_with": []}
    detail = http.get(f"/customers/{customer}", "alice").json()
    assert (detail["contacts"], detail["shared_with"]) == ([], [])
    for request in (added, shared):
        ok(http.post(f"/approvals/{request}/approve", "boss"), 200)
    detail = http.get(f"/customers/{customer}", "alice").json()
    [contact] = detail["contacts"]
    assert (contact["name"], [s["person_id"] for s in detail["shared_with"]]) == ("甲", [bob])
    edited = waits(http.patch(f"/customers/{customer}/contacts/{contact['id']}", "alice", json={"phone": "9"}))
    assert view(http, "boss", edited)["current"]["contact"]["phone"] == "1"
    assert view(http, "boss", edited)["base"] == {"phone": "1"}
    ok(http.post(f"/approvals/{edited}/approve", "boss"), 200)
    removed = waits(http.delete(f"/customers/{customer}/contacts/{contact['id']}", "alice"))
    ok(http.post(f"/approvals/{removed}/approve", "boss"), 200)
    assert http.get(f"/customers/{customer}", "alice").json()["contacts"] == []
    # A sharee is refused at once, as before; the manager's edit applies at once (201).
    assert_error(http.post(f"/customers/{customer}/contacts", "bob", json={"name": "x"}), 403, "not_owner")
    assert ok(http.post(f"/customers/{customer}/contacts", "boss", json={"name": "乙"}))["id"]
    # Without the info-change policy an owner's edits apply at once again.
    policy(http, "price_change")
    assert http.post(f"/customers/{customer}/share", "alice", json={"remove": [bob]}).status_code == 200


def test_a_decision_notice_carries_the_comment_and_fits_the_inbox(http: Http, shop: dict[str, str]) -> None:
    customer = shop["customer"]
    first = waits(http.post(f"/customers/{customer}/changes", "alice", json={"changes": {"region": "华北"}}))
    ok(http.post(f"/approvals/{first}/reject", "boss", json={"comment": "区域不对，请核实"}), 200)
    long_reason = "理" * 500
    second = waits(http.post(f"/customers/{customer}/changes", "alice",
                             json={"changes": {"region": "华南"}, "reason": long_reason}))
    long_comment = "同意" + "𠀀" * 998  # beyond the BMP, at the comment's limit
    ok(http.post(f"/approvals/{second}/approve", "boss", json={"comment": long_comment}), 200)
    notices = {n["ref_id"]: n for n in http.get("/notifications", "alice").json()}
    assert notices[first]["text"] == "已驳回：客户信息变更 — region；意见：区域不对，请核实"
    assert notices[second]["text"].startswith("已批准：客户信息变更 — region（理")
    assert len(notices[second]["text"]) == 500 and notices[second]["text"].endswith("…")
    [asked] = [n for n in http.get("/notifications", "boss").json() if n["ref_id"] == second]
    assert len(asked["text"]) <= 500
    [listed] = [a for a in http.get("/approvals", "alice").json() if a["id"] == second]
    assert listed["comment"] == long_comment and len(listed["summary"]) == 200
    assert http.client.get("/healthz").json()["parked"] == {}  # nothing the read model could not hold
