"""R-2..R-4, R-8: a search matches only what the viewer is shown of a row (a
salesperson's pool rows: their public fields, R-3), and a customer one may not see is
missing (404) for every route, reads and writes alike, exactly as a customer that does not
exist; a visible customer one may not change stays 403 `not_owner`."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from commands.bootstrap import Service
from tests.conftest import Http, assert_error
from tests.e2e.helpers import jpeg, ok, org_with_two_salespeople


def two_departments(http: Http) -> dict[str, Any]:
    """华东 (boss manages alice and bob) and 华南 (carol manages dave), and a warehouse keeper."""
    ids = org_with_two_salespeople(http)
    south = ok(http.post("/departments", "root", json={"name": "华南销售部"}))["id"]
    for username, roles, dept in (("carol", ["manager"], south), ("dave", ["sales"], south),
                                  ("keeper", ["warehouse"], ids["dept"])):
        ids[username] = ok(http.post("/people", "root", json={
            "name": username.title(), "username": username, "password": "password123",
            "department_id": dept, "roles": roles}))["id"]
    return ids


def found(http: Http, who: str, scope: str, q: str) -> tuple[list[str], int]:
    page = http.get("/customers", who, params={"scope": scope, "q": q}).json()
    return [row["id"] for row in page["items"]], page["total"]


def test_pool_rows_match_a_salesperson_only_on_their_public_fields(http: Http) -> None:
    ids = org_with_two_salespeople(http)
    pool = ok(http.post("/customers", "root", json={
        "name": "蓝海科技", "to_pool": True, "contacts": [{"name": "王秘书", "phone": "13912345678"}]}))
    mine = ok(http.post("/customers", "alice", json={
        "name": "红山贸易", "contacts": [{"name": "李经理", "phone": "13987654321"}]}))
    # Growing a digit string one digit at a time no longer spells out a hidden mobile number.
    for q in ("139", "1391", "139123", "13912345678", "王秘书", "秘书"):
        assert found(http, "alice", "pool", q) == ([], 0), q
        assert found(http, "bob", "pool", q) == ([], 0), q
    # The public fields still match, and the row is still the public one.
    assert found(http, "alice", "pool", "蓝海") == ([pool["id"]], 1)
    assert found(http, "alice", "pool", pool["number"]) == ([pool["id"]], 1)
    [row] = http.get("/customers", "alice", params={"scope": "pool", "q": "蓝海"}).json()["items"]
    assert "primary_contact_phone" not in row
    # A row seen in full matches on its contacts, as before: one's own, one shared with one.
    assert found(http, "alice", "mine", "1398") == ([mine["id"]], 1)
    assert found(http, "alice", "mine", "李经理") == ([mine["id"]], 1)
    ok(http.post(f"/customers/{mine['id']}/share", "boss", json={"add": [ids["bob"]]}), 200)
    assert found(http, "bob", "shared_with_me", "13987654321") == ([mine["id"]], 1)
    # Managers and admins read the pool in full, so its contacts are search keys for them.
    assert found(http, "boss", "pool", "1391") == ([pool["id"]], 1)
    assert found(http, "boss", "all", "王秘书") == ([pool["id"]], 1)
    assert found(http, "root", "pool", "13912345678") == ([pool["id"]], 1)
    assert found(http, "root", "all", "1398") == ([mine["id"]], 1)


def test_a_customer_back_in_the_pool_hides_its_contacts_from_its_former_owner(http: Http) -> None:
    org_with_two_salespeople(http)
    made = ok(http.post("/customers", "alice", json={
        "name": "回池客户", "contacts": [{"name": "赵总", "phone": "13700000001"}]}))
    assert found(http, "alice", "mine", "13700000001") == ([made["id"]], 1)
    ok(http.post(f"/customers/{made['id']}/release", "alice", json={"reason": "不跟了"}), 200)
    assert found(http, "alice", "pool", "13700000001") == ([], 0)
    assert found(http, "alice", "pool", "回池") == ([made["id"]], 1)


def hidden_calls(customer: str, contact: str, ids: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every route about one customer, as a salesperson outside it would call them."""
    photo = {"files": {"logo": ("l.jpg", jpeg(), "image/jpeg")}}
    return [
        ("get", f"/customers/{customer}", {}),
        ("get", f"/customers/{customer}/history", {}),
        ("get", f"/customers/{customer}/logo", {}),
        ("post", f"/customers/{customer}/contacts", {"json": {"name": "新联系人"}}),
        ("patch", f"/customers/{customer}/contacts/{contact}", {"json": {"title": "经理"}}),
        ("delete", f"/customers/{customer}/contacts/{contact}", {}),
        ("put", f"/customers/{customer}/logo", photo),
        ("post", f"/customers/{customer}/changes", {"json": {"changes": {"building": "A座"}, "reason": "补充"}}),
        ("post", f"/customers/{customer}/share", {"json": {"add": [ids["bob"]]}}),
        ("post", f"/customers/{customer}/claim", {}),
        ("post", f"/customers/{customer}/release", {"json": {"reason": "x"}}),
        ("post", f"/customers/{customer}/transfer", {"json": {"to_person_id": ids["bob"], "reason": "x"}}),
        ("post", f"/customers/{customer}/visits", {"json": {"notes": "拜访"}}),
        ("post", f"/customers/{customer}/visits", {"data": {"notes": "拜访"},
                                                   "files": {"photo": ("v.jpg", jpeg(), "image/jpeg")}}),
        ("post", "/problems", {"json": {"customer_id": customer, "type": "其他", "description": "问题",
                                        "responsible_id": ids["bob"]}}),
    ]


def test_a_hidden_customer_is_missing_for_every_route(http: Http, service: Service) -> None:
    ids = two_departments(http)
    hidden = ok(http.post("/customers", "alice", json={
        "name": "别人的客户", "contacts": [{"name": "张三", "phone": "13800000000"}]}))["id"]
    [contact] = http.get(f"/customers/{hidden}", "alice").json()["contacts"]
    head = service.store.head()
    for customer in (hidden, str(uuid4())):  # hidden, and one that does not exist: the same answers
        for method, path, kw in hidden_calls(customer, contact["id"], ids):
            english = {"Accept-Language": "en"}
            error = assert_error(getattr(http, method)(path, "bob", headers=english, **kw), 404, "not_found")
            assert error["message"] in ("no such customer", "no such photo"), (method, path, error)
    assert service.store.head() == head
    assert http.get("/problems", "root").json() == []
    assert http.get(f"/customers/{hidden}", "alice").json()["contacts"] == [contact]


def test_a_hidden_customer_is_missing_for_a_manager_of_another_department(http: Http, service: Service) -> None:
    ids = two_departments(http)
    held = ok(http.post("/customers", "alice", json={"name": "华东的客户"}))["id"]
    head = service.store.head()
    for customer in (held, str(uuid4())):
        assert_error(http.delete(f"/customers/{customer}", "carol"), 404, "not_found")
        assert_error(http.post(f"/customers/{customer}/recall", "carol", json={"reason": "x"}), 404, "not_found")
        assert_error(http.post(f"/customers/{customer}/visits", "carol", json={"notes": "x"}), 404, "not_found")
        assert_error(http.post(f"/customers/{customer}/contacts", "carol", json={"name": "x"}), 404, "not_found")
        assert_error(http.post(f"/customers/{customer}/transfer", "carol", json={"to_person_id": ids["dave"]}),
                     404, "not_found")
        [result] = ok(http.post("/customers/assign", "carol", json={
            "customer_ids": [customer], "to_person_id": ids["dave"]}), 200)["results"]
        assert (result["ok"], result["error"]["code"]) == (False, "not_found")
    assert service.store.head() == head


def test_a_visible_customer_one_may_not_change_is_still_refused_as_before(http: Http) -> None:
    ids = two_departments(http)
    shared = ok(http.post("/customers", "alice", json={"name": "共享客户", "share_with": [ids["bob"]],
                                                      "contacts": [{"name": "钱总"}]}))["id"]
    pool = ok(http.post("/customers", "root", json={"name": "公海客户", "to_pool": True}))["id"]
    # A sharee reads the customer but does not change it.
    assert_error(http.post(f"/customers/{shared}/contacts", "bob", json={"name": "x"}), 403, "not_owner")
    assert_error(http.put(f"/customers/{shared}/logo", "bob", files={"logo": ("l.jpg", jpeg(), "image/jpeg")}),
                 403, "not_owner")
    assert_error(http.post(f"/customers/{shared}/release", "bob"), 403, "not_owner")
    assert_error(http.post(f"/customers/{shared}/claim", "bob"), 409, "not_in_pool")
    ok(http.post(f"/customers/{shared}/visits", "bob", json={"notes": "共享拜访"}))
    # The pool is seen by everybody (its public fields); changing it is still the owner's.
    assert_error(http.post(f"/customers/{pool}/contacts", "bob", json={"name": "x"}), 403, "not_owner")
    assert_error(http.post(f"/customers/{pool}/release", "bob"), 403, "not_owner")
    # A manager of the owner sees the customer: deleting a held one is refused by its state.
    assert_error(http.delete(f"/customers/{shared}", "boss"), 409, "not_in_pool")
    # Problem reports: on a visible customer, and by warehouse keepers (after-sales) on any.
    ok(http.post("/problems", "bob", json={"customer_id": pool, "type": "其他", "description": "公海问题",
                                          "responsible_id": ids["bob"]}))
    ok(http.post("/problems", "keeper", json={"customer_id": shared, "type": "物流问题", "description": "送错",
                                             "responsible_id": ids["alice"]}))
    ok(http.post("/problems", "dave", json={"customer_id": pool, "type": "其他", "description": "也看得见",
                                           "responsible_id": ids["dave"]}))
    assert_error(http.post("/problems", "dave", json={"customer_id": shared, "type": "其他", "description": "看不见",
                                                      "responsible_id": ids["dave"]}), 404, "not_found")
