"""The acceptance walkthrough over HTTP, on SQLite and PostgreSQL: organisation,
unique names, the pool with its cap, visibility, sharing, release, history and as_of."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from commands import messages as m
from commands.adapters.clock import ManualClock
from commands.bootstrap import bootstrap
from commands.config import Config
from commands.handlers import handle
from tests.conftest import ADMIN_PASSWORD, SYSTEM, Http, assert_error, redis_url
from tests.e2e.helpers import org_with_two_salespeople
from workers.tasks import Kicker, start_worker


def test_walkthrough(http: Http) -> None:
    walkthrough(http)


@pytest.mark.postgres
def test_walkthrough_distributed(pg_url: str, clock: ManualClock) -> None:
    """The same walkthrough with workers projecting on Redis kicks only (no polling):
    every read after a write sends X-Min-Position and sees the write."""
    url = redis_url()
    api = bootstrap(Config(database_url=pg_url, mode="distributed"), clock=clock, kick=Kicker(url))
    worker_side = bootstrap(Config(database_url=pg_url, mode="distributed"), clock=clock)
    worker = start_worker(worker_side, url)
    try:
        handle(m.CreatePerson(name="管理员", username="root", password=ADMIN_PASSWORD, roles=["admin"]),
               SYSTEM, api.deps)
        with TestClient(create_app(api, background=False)) as client:
            http = Http(client, read_own_writes=True)
            http.tokens["root"] = http.login("root", ADMIN_PASSWORD)["Authorization"]
            walkthrough(http)
    finally:
        worker.stop()
        api.close()
        worker_side.close()


def walkthrough(http: Http) -> None:
    ids = org_with_two_salespeople(http)

    # A registers; B's registration of the same name with odd spaces is refused, naming A's number.
    first = http.post("/customers", "alice", json={"name": "华为技术有限公司", "region": "华东",
                                                  "contacts": [{"name": "任先生", "phone": "13800000000"}]})
    assert first.status_code == 201, first.text
    huawei = first.json()
    assert huawei["number"].startswith("KH")
    dup = http.post("/customers", "bob", json={"name": "  华为技术有限公司\u3000"})
    error = assert_error(dup, 409, "duplicate_name")
    assert error["details"]["number"] == huawei["number"]

    # A registers three customers into the pool; B claims two, the third is past the cap.
    pool = []
    for n in range(3):
        created = http.post("/customers", "alice", json={
            "name": f"池客户{n}", "region": "华南", "to_pool": True,
            "contacts": [{"name": f"联系人{n}", "phone": f"1390000000{n}"}],
        })
        assert created.status_code == 201, created.text
        pool.append(created.json()["id"])
    for customer_id in pool[:2]:
        claimed = http.post(f"/customers/{customer_id}/claim", "bob")
        assert claimed.status_code == 200, claimed.text
    assert_error(http.post(f"/customers/{pool[2]}/claim", "bob"), 409, "cap_reached")

    # A's pool list shows public fields only.
    listed = http.get("/customers", "alice", params={"scope": "pool"})
    assert listed.status_code == 200
    rows = listed.json()["items"]
    assert [r["id"] for r in rows] == [pool[2]]
    assert set(rows[0]) == {"id", "number", "name", "type", "region", "source", "status", "stage",
                            "created_at", "pool_entered_at", "in_pool"}
    detail = http.get(f"/customers/{pool[2]}", "alice").json()
    assert "contacts" not in detail and "primary_contact_phone" not in detail

    # A cannot read B's customers; the manager sees them all.
    assert http.get(f"/customers/{pool[0]}", "alice").status_code in (403, 404)
    assert_error(http.get("/customers", "alice", params={"scope": "all"}), 403)
    mine_a = {r["id"] for r in http.get("/customers", "alice").json()["items"]}
    assert mine_a == {huawei["id"]}
    seen_by_boss = {r["id"] for r in http.get("/customers", "boss", params={"scope": "all"}).json()["items"]}
    assert seen_by_boss == {huawei["id"], *pool}
    boss_view = http.get(f"/customers/{pool[0]}", "boss").json()
    assert boss_view["owner_id"] == ids["bob"]
    assert boss_view["contacts"][0]["phone"] == "13900000000"

    # B shares one with A, which waits for the manager (seed 000 §5.1.6: an owner's share change
    # follows the info-change policy); approved, A sees it under shared_with_me and cannot change it.
    shared = http.post(f"/customers/{pool[0]}/share", "bob", json={"add": [ids["alice"]]})
    assert shared.status_code == 202, shared.text
    approved = http.post(f"/approvals/{shared.json()['approval_id']}/approve", "boss")
    assert approved.status_code == 200, approved.text
    with_me = http.get("/customers", "alice", params={"scope": "shared_with_me"}).json()["items"]
    assert [r["id"] for r in with_me] == [pool[0]]
    assert with_me[0]["primary_contact_phone"] == "13900000000"
    by_me = http.get("/customers", "bob", params={"scope": "shared_by_me"}).json()["items"]
    assert [r["id"] for r in by_me] == [pool[0]]
    assert_error(http.post(f"/customers/{pool[0]}/changes", "alice",
                           json={"changes": {"address": "深圳"}, "reason": "试试"}), 403, "not_owner")

    # B releases it: back in the pool with no shares, and B has room for the third one again.
    released = http.post(f"/customers/{pool[0]}/release", "bob", json={"reason": "不再跟进"})
    assert released.status_code == 200, released.text
    back = http.get(f"/customers/{pool[0]}", "boss").json()
    assert back["in_pool"] is True and back["owner_id"] is None and back["shared_with"] == []
    assert back["pool_reason"] == "released"
    assert http.get("/customers", "alice", params={"scope": "shared_with_me"}).json()["items"] == []
    assert http.post(f"/customers/{pool[2]}/claim", "bob").status_code == 200

    # History lists every step with actor and old→new values.
    items = http.get(f"/customers/{pool[0]}/history", "boss").json()["items"]
    assert [i["type"] for i in items] == ["Registered", "Claimed", "SharesChanged", "ReturnedToPool"]
    assert [i["actor_name"] for i in items] == ["Alice", "Bob", "Bob", "Bob"]
    claimed_step = {c["field"]: c for c in items[1]["changes"]}
    assert claimed_step["owner_id"]["old"] is None and claimed_step["owner_id"]["new"] == ids["bob"]
    assert claimed_step["in_pool"] == {"field": "in_pool", "old": True, "new": False}
    share_step = {c["field"]: c for c in items[2]["changes"]}
    assert share_step["shared_with"]["old"] == [] and share_step["shared_with"]["new"] == [ids["alice"]]
    pool_step = {c["field"]: c for c in items[3]["changes"]}
    assert pool_step["owner_id"]["old"] == ids["bob"] and pool_step["owner_id"]["new"] is None
    assert pool_step["shared_with"]["new"] == []

    # as_of a moment between two steps returns the state of that moment.
    between = items[2]["at"]  # the share; the release came later
    past = http.get(f"/customers/{pool[0]}", "boss", params={"as_of": between})
    assert past.status_code == 200, past.text
    state = past.json()["state"]
    assert state["owner_id"] == ids["bob"] and state["shared_with"] == [ids["alice"]]
    assert past.json()["version"] == 3
    before_claim = http.get(f"/customers/{pool[0]}", "boss", params={"as_of": items[0]["at"]}).json()
    assert before_claim["state"]["in_pool"] is True and before_claim["version"] == 1
    by_version = http.get(f"/customers/{pool[0]}", "boss", params={"version": 2}).json()
    assert by_version["state"]["owner_id"] == ids["bob"] and by_version["state"]["shared_with"] == []
    # Salespeople do not time-travel.
    assert_error(http.get(f"/customers/{huawei['id']}", "alice", params={"version": 1}), 403)
