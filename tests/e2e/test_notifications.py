"""N-1: every kind of notification the spec lists lands in the right inbox, once, and can be
read; a person's own actions do not notify themselves."""

from __future__ import annotations

from tests.conftest import Http, assert_error
from tests.e2e.helpers import ok, org_with_two_salespeople


def inbox(http: Http, who: str, **params: object) -> list[dict]:
    return list(http.get("/notifications", who, params=params).json())


def test_assignment_recall_and_problem_notifications(http: Http) -> None:
    ids = org_with_two_salespeople(http)
    pooled = ok(http.post("/customers", "alice", json={"name": "公海甲", "to_pool": True}))["id"]
    ok(http.post("/customers/assign", "boss", json={"customer_ids": [pooled], "to_person_id": ids["bob"]}), 200)
    [assigned] = inbox(http, "bob")
    assert (assigned["kind"], assigned["ref_id"], assigned["read_at"]) == ("assignment_received", pooled, None)
    assert "公海甲" in assigned["text"]

    ok(http.post(f"/customers/{pooled}/recall", "boss", json={"reason": "重新分配"}), 200)
    assert [n["kind"] for n in inbox(http, "bob")] == ["returned_to_pool", "assignment_received"]
    # Releasing one's own customer tells nobody.
    own = ok(http.post("/customers", "alice", json={"name": "自有客户"}))["id"]
    ok(http.post(f"/customers/{own}/release", "alice"), 200)
    assert inbox(http, "alice") == []

    problem = ok(http.post("/problems", "alice", json={"customer_id": pooled, "type": "质量问题",
                                                       "description": "屏幕有坏点", "responsible_id": ids["bob"]}))
    latest = inbox(http, "bob", unread=True)[0]
    assert (latest["kind"], latest["ref_id"]) == ("problem_assigned", problem["id"])
    assert len(inbox(http, "bob", unread=True)) == 3
    read = ok(http.post(f"/notifications/{latest['id']}/read", "bob"), 200)
    assert read["read_at"] is not None
    assert [n["kind"] for n in inbox(http, "bob", unread=True)] == ["returned_to_pool", "assignment_received"]
    assert_error(http.post(f"/notifications/{latest['id']}/read", "alice"), 404)
