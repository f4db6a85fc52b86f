"""AP-1, AP-2, R-6, N-1: requests keep the command, an eligible manager decides, nobody
decides their own, the command runs at approval with its checks evaluated then."""

from __future__ import annotations

import pytest

from tests.conftest import Http, assert_error


def inbox(http: Http, who: str, **params: object) -> list[dict]:
    return list(http.get("/notifications", who, params=params).json())


def test_price_change_waits_for_a_manager(http: Http, shop: dict[str, str]) -> None:  # noqa: F811
    product = shop["product"]
    assert http.post(f"/products/{product}/price-changes", "boss", json={"price": "100.00"}).status_code == 200
    asked = http.post(f"/products/{product}/price-changes", "alice", json={"price": "120.00", "reason": "成本上涨"})
    assert asked.status_code == 202, asked.text
    assert asked.json()["status"] == "pending"
    approval = asked.json()["approval_id"]
    assert http.get(f"/products/{product}", "alice").json()["price"] == "100.00"
    # The salesperson cannot approve (own request); a colleague outside management cannot either.
    assert_error(http.post(f"/approvals/{approval}/approve", "alice"), 403, "own_request")
    assert_error(http.post(f"/approvals/{approval}/approve", "keeper"), 403, "forbidden")
    [note] = inbox(http, "boss", unread=True)
    assert note["kind"] == "approval_requested" and note["ref_id"] == approval
    assert http.post(f"/notifications/{note['id']}/read", "boss").json()["read_at"] is not None
    assert inbox(http, "boss", unread=True) == []
    assert_error(http.post(f"/notifications/{note['id']}/read", "alice"), 404)

    assert http.post(f"/approvals/{approval}/approve", "boss", json={"comment": "同意"}).status_code == 200
    view = http.get(f"/products/{product}", "alice").json()
    assert (view["price"], view["priced_on"]) == ("120.00", "2026-11-02")
    assert [(h["old_price"], h["price"], h["actor_id"], h["approved_by"]) for h in view["price_history"]] == [
        (None, "100.00", shop["boss"], None), ("100.00", "120.00", shop["alice"], shop["boss"])]
    [decided] = inbox(http, "alice")
    assert decided["kind"] == "approval_decided" and decided["ref_id"] == approval
    [listed] = http.get("/approvals", "alice").json()
    assert (listed["status"], listed["decided_by"], listed["comment"]) == ("approved", shop["boss"], "同意")
    assert_error(http.post(f"/approvals/{approval}/reject", "boss"), 409, "not_pending")


def test_reject_withdraw_and_checks_at_approval_time(http: Http, shop: dict[str, str]) -> None:  # noqa: F811
    customer = shop["customer"]
    first = http.post(f"/customers/{customer}/changes", "alice", json={"changes": {"region": "华北"}}).json()
    assert http.post(f"/approvals/{first['approval_id']}/reject", "boss", json={"comment": "不对"}).status_code == 200
    second = http.post(f"/customers/{customer}/changes", "alice", json={"changes": {"region": "华南"}}).json()
    assert_error(http.post(f"/approvals/{second['approval_id']}/withdraw", "boss"), 403)
    assert http.post(f"/approvals/{second['approval_id']}/withdraw", "alice").status_code == 200
    statuses = {a["id"]: a["status"] for a in http.get("/approvals", "boss").json()}
    assert statuses == {first["approval_id"]: "rejected", second["approval_id"]: "withdrawn"}
    assert http.get(f"/customers/{customer}", "alice").json()["region"] == "华东"
    # A rename that is fine when asked but clashes by the time it is approved is refused then.
    third = http.post(f"/customers/{customer}/changes", "alice", json={"changes": {"name": "新名"}}).json()
    assert http.post("/customers", "boss", json={"name": "新名", "to_pool": True}).status_code == 201
    assert_error(http.post(f"/approvals/{third['approval_id']}/approve", "boss"), 409, "duplicate_name")
    assert [a["status"] for a in http.get("/approvals", "alice", params={"status": "pending"}).json()] == ["pending"]


def test_managers_and_an_empty_policy_apply_directly(http: Http, shop: dict[str, str]) -> None:  # noqa: F811
    customer = shop["customer"]
    assert http.post(f"/customers/{customer}/changes", "boss", json={"changes": {"region": "华北"}}).status_code == 200
    assert http.put("/settings", "root", json={"rules": {"approval_required": []}}).status_code == 200
    assert http.post(f"/customers/{customer}/changes", "alice", json={"changes": {"region": "西南"}}).status_code == 200
    assert http.get(f"/customers/{customer}", "alice").json()["region"] == "西南"
    assert http.get("/approvals", "root").json() == []


@pytest.mark.parametrize("path", ["/approvals/nope/approve", "/approvals/00000000-0000-0000-0000-000000000000/reject"])
def test_unknown_approvals(http: Http, shop: dict[str, str], path: str) -> None:  # noqa: F811
    assert http.post(path, "boss").status_code in (404, 422)
