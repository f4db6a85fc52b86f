"""Customer features over HTTP beyond the walkthrough: contacts, search and filters,
transfer, assign, recall, delete, visits, settings, limits, read-your-writes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commands.adapters.clock import ManualClock
from commands.bootstrap import Service
from tests.conftest import Http, assert_error
from tests.e2e.helpers import org_with_two_salespeople


@pytest.fixture
def org(http: Http) -> dict[str, str]:
    ids = org_with_two_salespeople(http)
    for name in ("alice", "bob"):
        assert http.patch(f"/people/{ids[name]}", "root", json={"max_customers": 20}).status_code == 200
    return ids


def register(http: Http, who: str, **body: object) -> dict:
    response = http.post("/customers", who, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_contacts_keep_exactly_one_primary(http: Http, org: dict[str, str]) -> None:
    # The owner's contact edits apply at once here: without the info-change policy (seed 000 §5.1.6).
    assert http.put("/settings", "root", json={"rules": {"approval_required": ["price_change"]}}).status_code == 200
    c = register(http, "alice", name="联系人测试", contacts=[{"name": "甲", "phone": "1"}, {"name": "乙"}])
    detail = http.get(f"/customers/{c['id']}", "alice").json()
    assert [(x["name"], x["primary"]) for x in detail["contacts"]] == [("甲", True), ("乙", False)]
    added = http.post(f"/customers/{c['id']}/contacts", "alice", json={"name": "丙", "primary": True})
    assert added.status_code == 201
    detail = http.get(f"/customers/{c['id']}", "alice").json()
    assert [x["name"] for x in detail["contacts"] if x["primary"]] == ["丙"]
    assert detail["primary_contact_name"] == "丙"
    removed = http.delete(f"/customers/{c['id']}/contacts/{added.json()['id']}", "alice")
    assert removed.status_code == 200
    detail = http.get(f"/customers/{c['id']}", "alice").json()
    assert [(x["name"], x["primary"]) for x in detail["contacts"]] == [("甲", True), ("乙", False)]
    second = detail["contacts"][1]["id"]
    http.patch(f"/customers/{c['id']}/contacts/{second}", "alice", json={"primary": True, "phone": "9"})
    detail = http.get(f"/customers/{c['id']}", "alice").json()
    assert [(x["name"], x["primary"], x["phone"]) for x in detail["contacts"]] == [
        ("甲", False, "1"), ("乙", True, "9")]
    assert_error(http.patch(f"/customers/{c['id']}/contacts/{second}", "alice", json={"primary": False}),
                 422, "primary_required")


def test_search_filters_sort_and_pages(http: Http, org: dict[str, str]) -> None:
    register(http, "alice", name="上海百分之百科技", type="民营企业", region="华东",
             contacts=[{"name": "周小明", "phone": "13511112222"}])
    register(http, "alice", name="北京_下划线公司", type="国有企业", region="华北")
    register(http, "alice", name="广州医院", type="医院", region="华南")
    register(http, "alice", name="100%纯净水厂", type="个人客户", region="华南")

    def names(**params: object) -> list[str]:
        response = http.get("/customers", "alice", params={"sort": "name", **params})
        assert response.status_code == 200, response.text
        return [r["name"] for r in response.json()["items"]]

    assert names(q="周小明") == ["上海百分之百科技"]
    assert names(q="1351111") == ["上海百分之百科技"]
    assert names(q="%") == ["100%纯净水厂"]
    assert names(q="_") == ["北京_下划线公司"]
    assert sorted(names(type="企业客户")) == sorted(["上海百分之百科技", "北京_下划线公司"])
    assert names(type="医院") == ["广州医院"]
    assert sorted(names(region="华南")) == sorted(["广州医院", "100%纯净水厂"])
    page1 = http.get("/customers", "alice", params={"sort": "number", "page_size": 3}).json()
    page2 = http.get("/customers", "alice", params={"sort": "number", "page_size": 3, "page": 2}).json()
    assert page1["total"] == 4 and len(page1["items"]) == 3 and len(page2["items"]) == 1
    numbers = [r["number"] for r in page1["items"] + page2["items"]]
    assert numbers == sorted(numbers)
    assert_error(http.get("/customers", "alice", params={"sort": "password"}), 422, "validation_error")
    assert_error(http.get("/customers", "alice", params={"page_size": 100000}), 422, "validation_error")


def test_transfer_assign_recall_and_delete(http: Http, org: dict[str, str]) -> None:
    c = register(http, "alice", name="转交客户")
    moved = http.post(f"/customers/{c['id']}/transfer", "alice",
                      json={"to_person_id": org["bob"], "reason": "区域调整"})
    assert moved.status_code == 200, moved.text
    assert http.get(f"/customers/{c['id']}", "bob").json()["owner_id"] == org["bob"]
    assert http.get(f"/customers/{c['id']}", "alice").status_code == 404
    # Assign in a batch: one pool customer, one owned by bob, one unknown.
    pool = register(http, "alice", name="指派客户", to_pool=True)
    missing = "00000000-0000-0000-0000-000000000000"
    result = http.post("/customers/assign", "boss", json={"customer_ids": [pool["id"], c["id"], missing],
                                                          "to_person_id": org["alice"]})
    assert result.status_code == 200, result.text
    outcome = {r["customer_id"]: (r["ok"], r["error"] and r["error"]["code"]) for r in result.json()["results"]}
    assert outcome == {pool["id"]: (True, None), c["id"]: (True, None), missing: (False, "not_found")}
    mine = {r["id"] for r in http.get("/customers", "alice").json()["items"]}
    assert {pool["id"], c["id"]} <= mine
    alice = http.get("/people", "root", params={"role": "sales"}).json()
    held = {p["username"]: p["held_customers"] for p in alice}
    assert held == {"alice": 2, "bob": 0}
    # Recall by the manager, then delete from the pool; the name is free again.
    assert http.post(f"/customers/{pool['id']}/recall", "boss", json={"reason": "长期未跟进"}).status_code == 200
    assert http.get(f"/customers/{pool['id']}", "boss").json()["pool_reason"] == "recalled"
    assert http.delete(f"/customers/{pool['id']}", "boss").status_code == 200
    assert http.get(f"/customers/{pool['id']}", "boss").status_code == 404
    assert http.get(f"/customers/{pool['id']}/history", "root").json()["items"][-1]["type"] == "Deleted"
    again = http.post("/customers", "bob", json={"name": "指派客户"})
    assert again.status_code == 201 and again.json()["number"] != pool["number"]


def test_rename_moves_the_name_reservation(http: Http, org: dict[str, str]) -> None:
    c = register(http, "alice", name="旧名字")
    register(http, "bob", name="别人的名字")
    assert_error(http.post(f"/customers/{c['id']}/changes", "alice", json={"changes": {"name": "别人的名字"}}),
                 409, "duplicate_name")
    pending = http.post(f"/customers/{c['id']}/changes", "alice",
                        json={"changes": {"name": "新名字", "region": "华北"}, "reason": "工商变更"})
    assert pending.status_code == 202, pending.text  # C-3: info changes wait for approval by default
    assert http.get(f"/customers/{c['id']}", "alice").json()["name"] == "旧名字"
    approved = http.post(f"/approvals/{pending.json()['approval_id']}/approve", "boss", json={"comment": "同意"})
    assert approved.status_code == 200, approved.text
    assert http.post("/customers", "bob", json={"name": "旧名字"}).status_code == 201
    assert_error(http.post("/customers", "bob", json={"name": "新名字"}), 409, "duplicate_name")
    last = http.get(f"/customers/{c['id']}/history", "alice").json()["items"][-1]
    assert last["type"] == "InfoChanged" and last["data"]["reason"] == "工商变更"
    assert last["actor_id"] == org["alice"] and last["data"]["approved_by"] == org["boss"]
    assert {(x["field"], x["old"], x["new"]) for x in last["changes"]} == {
        ("name", "旧名字", "新名字"), ("region", None, "华北")}


def test_visits_status_stage_and_late_entry(http: Http, org: dict[str, str], clock: ManualClock) -> None:
    c = register(http, "alice", name="拜访客户")
    now = clock.now()
    fresh = http.post(f"/customers/{c['id']}/visits", "alice", json={"stage": "需求确认", "notes": "首次拜访"})
    assert fresh.status_code == 201 and fresh.json()["late_entry"] is False
    late_at = (now - timedelta(days=2)).isoformat()
    late = http.post(f"/customers/{c['id']}/visits", "alice",
                     json={"visited_at": late_at, "lat": 31.2, "lng": 121.5})
    assert late.status_code == 201 and late.json()["late_entry"] is True
    detail = http.get(f"/customers/{c['id']}", "alice").json()
    assert detail["status"] == "following" and detail["stage"] == "需求确认" and detail["visit_count"] == 2
    assert [v["late_entry"] for v in detail["visits"]] == [False, True]
    future = (now + timedelta(days=1)).isoformat()
    assert_error(http.post(f"/customers/{c['id']}/visits", "alice", json={"visited_at": future}),
                 422, "visit_in_future")
    assert_error(http.post(f"/customers/{c['id']}/visits", "bob", json={}), 404, "not_found")  # hidden from bob
    assert http.post(f"/customers/{c['id']}/share", "boss", json={"add": [org["bob"]]}).status_code == 200
    assert http.post(f"/customers/{c['id']}/visits", "bob", json={}).status_code == 201


def test_cooldown_and_daily_claim_limit(http: Http, org: dict[str, str], clock: ManualClock) -> None:
    rules = http.put("/settings", "root", json={"rules": {"reclaim_cooldown_days": 2, "daily_claim_limit": 2}})
    assert rules.status_code == 200, rules.text
    assert rules.json()["rules"]["daily_claim_limit"] == 2
    pool = [register(http, "alice", name=f"冷却{i}", to_pool=True)["id"] for i in range(4)]
    assert http.post(f"/customers/{pool[0]}/claim", "bob").status_code == 200
    assert http.post(f"/customers/{pool[0]}/release", "bob").status_code == 200
    assert_error(http.post(f"/customers/{pool[0]}/claim", "bob"), 409, "claim_cooldown")
    assert http.post(f"/customers/{pool[1]}/claim", "bob").status_code == 200
    assert_error(http.post(f"/customers/{pool[2]}/claim", "bob"), 409, "daily_claim_limit")
    clock.advance(days=3)
    assert http.post(f"/customers/{pool[0]}/claim", "bob").status_code == 200
    assert http.post(f"/customers/{pool[2]}/claim", "bob").status_code == 200


def test_days_until_pool_follows_the_owner_limit(http: Http, org: dict[str, str], clock: ManualClock) -> None:
    http.patch(f"/people/{org['alice']}", "boss", json={"max_follow_days": 30})
    c = register(http, "alice", name="跟进期限")
    assert http.get("/customers", "alice").json()["items"][0]["days_until_pool"] == 30
    clock.advance(days=10, hours=1)
    row = http.get("/customers", "alice").json()["items"][0]
    assert row["id"] == c["id"] and row["days_until_pool"] == 20


def test_settings_defaults_and_validation(http: Http, org: dict[str, str]) -> None:
    settings = http.get("/settings", "alice").json()
    assert settings["dictionaries"]["regions"] == ["华北", "华东", "华南", "华中", "西南", "西北", "东北"]
    assert settings["dictionaries"]["warehouses"] == ["总仓"]
    assert settings["rules"]["timezone"] == "Asia/Shanghai"
    assert any(t["children"] for t in settings["dictionaries"]["customer_types"])
    assert_error(http.put("/settings", "root", json={"rules": {"pool_warning_days": -1}}), 422)
    assert_error(http.put("/settings", "root", json={"dictionaries": {"regions": ["华北", "华北"]}}), 422)
    assert_error(http.put("/settings", "root", json={"rules": {"timezone": "Mars/Base"}}), 422)
    changed = http.put("/settings", "root", json={"dictionaries": {"regions": ["华北", "港澳台"]}})
    assert changed.json()["dictionaries"]["regions"] == ["华北", "港澳台"]
    assert http.post("/customers", "alice", json={"name": "台北客户", "region": "港澳台"}).status_code == 201


def test_read_your_writes_with_min_position(http: Http, org: dict[str, str], service: Service) -> None:
    created = register(http, "alice", name="位置客户")
    ok = http.get("/customers", "alice", headers={"X-Min-Position": str(created["position"])})
    assert ok.status_code == 200 and ok.json()["total"] == 1
    # A position no write has reached yet is a client's mistake, not a wait.
    ahead = http.get("/customers", "alice", headers={"X-Min-Position": str(service.store.head() + 1000)})
    assert_error(ahead, 422, "position_ahead")
    # A write the read models have not caught up with: the read waits, then answers 503.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(service.projector, "catch_up", lambda **_: 0)
        patch.setattr(service.deps, "after_commit", lambda position: None)
        behind = register(http, "alice", name="滞后客户")
        lag = http.get("/customers", "alice", headers={"X-Min-Position": str(behind["position"]),
                                                       "X-Wait-Seconds": "0.2"})
        assert_error(lag, 503, "projection_lag")
    service.projector.catch_up()
    status = http.get("/admin/projections", "root").json()
    assert {s["name"] for s in status} == set(service.projector.names) >= {"organisation", "customers"}
    assert all(s["lag"] == 0 and s["head"] == service.store.head() for s in status)


def test_departments_tree_and_managers(http: Http, org: dict[str, str]) -> None:
    child = http.post("/departments", "root", json={"name": "上海组", "parent_id": org["dept"]})
    assert child.status_code == 201
    carol = http.post("/people", "root", json={"name": "Carol", "username": "carol", "password": "password123",
                                               "department_id": child.json()["id"], "roles": ["sales"]})
    register(http, "carol", name="子部门客户")
    # The manager of the parent department sees the child department's customers.
    names = [r["name"] for r in http.get("/customers", "boss", params={"scope": "all"}).json()["items"]]
    assert "子部门客户" in names
    tree = http.get("/departments", "alice").json()
    assert tree[0]["children"][0]["name"] == "上海组"
    people = http.get("/people", "alice", params={"department_id": child.json()["id"]}).json()
    assert [p["id"] for p in people] == [carol.json()["id"]]
    me = http.get("/me", "boss").json()
    assert set(me["departments"]) == {org["dept"], child.json()["id"]}
    assert_error(http.patch(f"/departments/{org['dept']}", "root", json={"parent_id": child.json()["id"]}),
                 422, "invalid_parent")
