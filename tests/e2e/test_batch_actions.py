"""Seed 002's batch actions (全选) and department shares (§2.2.5) over HTTP, on SQLite and
PostgreSQL: batch claim, release, recall, transfer and share answer a result per customer
(ok, pending with its approval, or the error of the contract), each customer done or refused
on its own; a customer shared with a department is read by whoever is in it (or below it) now;
the customers of a deactivated person are listed for their manager, who is told."""

from __future__ import annotations

from typing import Any

from tests.conftest import Http, assert_error
from tests.e2e.helpers import ok, org_with_two_salespeople


def person(http: Http, username: str, roles: list[str], department_id: str | None, **extra: Any) -> str:
    body = {"name": username.title(), "username": username, "password": "password123", "roles": roles,
            "department_id": department_id, **extra}
    return str(ok(http.post("/people", "root", json=body))["id"])


def pool(http: Http, *names: str) -> list[str]:
    return [ok(http.post("/customers", "boss", json={"name": name, "to_pool": True}))["id"] for name in names]


def statuses(answer: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(r["status"], r["error"]["code"] if r["error"] else None) for r in answer["results"]]


def listed(http: Http, who: str, **params: Any) -> set[str]:
    return {c["id"] for c in ok(http.get("/customers", who, params=params), 200)["items"]}


# ---- batch claim, release, recall ----------------------------------------------------------------


def test_a_batch_claim_answers_per_customer_and_stops_at_the_cap(http: Http) -> None:
    org = org_with_two_salespeople(http)  # cap 2 each
    ids = pool(http, "公海一", "公海二", "公海三")
    bobs = ok(http.post("/customers", "bob", json={"name": "鲍勃的"}))["id"]

    answer = ok(http.post("/customers/claim", "alice", json={"customer_ids": [*ids, bobs, ids[0]]}), 200)

    assert [r["customer_id"] for r in answer["results"]] == [*ids, bobs]  # each once, in order
    assert statuses(answer) == [("ok", None), ("ok", None), ("error", "cap_reached"), ("error", "not_found")]
    assert [r["ok"] for r in answer["results"]] == [True, True, False, False]
    assert (answer["done"], answer["pending"], answer["failed"]) == (2, 0, 2)
    capped = answer["results"][2]["error"]
    assert set(capped) == {"code", "message", "field", "details"} and capped["details"]["max_customers"] == 2
    assert listed(http, "alice", scope="mine") == set(ids[:2])
    assert listed(http, "alice", scope="pool") == {ids[2]}
    assert org["alice"]  # the org is what the assertions above ran in


def test_batch_bounds_and_roles(http: Http) -> None:
    org = org_with_two_salespeople(http)
    person(http, "keeper", ["warehouse"], org["dept"])
    person(http, "audit", ["auditor"], None)
    ids = pool(http, "公海一")
    assert_error(http.post("/customers/claim", "alice", json={"customer_ids": []}), 422, "validation_error")
    too_many = [ids[0]] * 201
    assert_error(http.post("/customers/claim", "alice", json={"customer_ids": too_many}), 422, "validation_error")
    assert_error(http.post("/customers/claim", "alice", json={"customer_ids": ["x" * 37]}), 422)
    assert_error(http.post("/customers/claim", "alice", json={"customer_ids": ids, "extra": 1}), 422)
    for who in ("boss", "keeper", "audit"):
        assert_error(http.post("/customers/claim", who, json={"customer_ids": ids}), 403)
    for path in ("/customers/transfer", "/customers/release", "/customers/share"):
        body = {"customer_ids": ids, "to_person_id": org["bob"]} if path.endswith("transfer") else {
            "customer_ids": ids}
        for who in ("keeper", "audit"):
            assert_error(http.post(path, who, json=body), 403)
    assert_error(http.post("/customers/recall", "alice", json={"customer_ids": ids}), 403)
    # odd ids are refused one by one, not as a whole
    answer = ok(http.post("/customers/claim", "alice", json={"customer_ids": ["客户👀", ids[0]]}), 200)
    assert statuses(answer) == [("error", "validation_error"), ("ok", None)]


def test_batch_release_and_recall(http: Http) -> None:
    org = org_with_two_salespeople(http)
    mine = [ok(http.post("/customers", "alice", json={"name": n}))["id"] for n in ("甲", "乙")]
    bobs = ok(http.post("/customers", "bob", json={"name": "鲍勃的", "share_with": [org["alice"]]}))["id"]
    answer = ok(http.post("/customers/release", "alice", json={"customer_ids": [*mine, bobs],
                                                               "reason": "不再跟进"}), 200)
    assert statuses(answer) == [("ok", None), ("ok", None), ("error", "not_owner")]
    assert listed(http, "alice", scope="mine") == set()
    answer = ok(http.post("/customers/recall", "boss", json={"customer_ids": [bobs, mine[0]]}), 200)
    assert statuses(answer) == [("ok", None), ("error", "forbidden")]  # a pool customer has no owner to manage
    assert listed(http, "boss", scope="pool") == {*mine, bobs}


# ---- batch transfer --------------------------------------------------------------------------------


def test_a_batch_transfer_by_the_owner_and_by_a_manager(http: Http) -> None:
    org = org_with_two_salespeople(http)  # cap 2 each
    carol = person(http, "carol", ["sales"], org["dept"], max_customers=5)
    mine = [ok(http.post("/customers", "alice", json={"name": n}))["id"] for n in ("甲", "乙")]
    bobs = ok(http.post("/customers", "bob", json={"name": "鲍勃的"}))["id"]
    ok(http.post("/customers", "bob", json={"name": "鲍勃的二"}))

    answer = ok(http.post("/customers/transfer", "alice", json={"customer_ids": [*mine, bobs],
                                                                "to_person_id": org["bob"], "reason": "调岗"}), 200)
    assert statuses(answer) == [("error", "cap_reached"), ("error", "cap_reached"), ("error", "not_found")]
    answer = ok(http.post("/customers/transfer", "boss", json={"customer_ids": [*mine, bobs],
                                                               "to_person_id": carol}), 200)
    assert statuses(answer) == [("ok", None)] * 3
    assert listed(http, "carol", scope="mine") == {*mine, bobs}
    assert_error(http.post("/customers/transfer", "boss", json={"customer_ids": mine, "to_person_id": org["boss"]}),
                 422, "not_a_salesperson")


def test_batch_claims_and_transfers_wait_for_approval_customer_by_customer(http: Http) -> None:
    org = org_with_two_salespeople(http)
    ok(http.put("/settings", "root", json={"rules": {"approval_required": ["claim", "transfer"]}}), 200)
    ids = pool(http, "公海一", "公海二")
    answer = ok(http.post("/customers/claim", "alice", json={"customer_ids": ids}), 200)
    assert statuses(answer) == [("pending", None), ("pending", None)]
    assert all(r["approval_id"] and not r["ok"] for r in answer["results"])
    assert (answer["done"], answer["pending"]) == (0, 2)
    pending = {a["id"]: a for a in http.get("/approvals", "boss", params={"status": "pending"}).json()}
    assert {r["approval_id"] for r in answer["results"]} <= set(pending)
    ok(http.post(f"/approvals/{answer['results'][0]['approval_id']}/approve", "boss", json={}), 200)
    assert listed(http, "alice", scope="mine") == {ids[0]}

    answer = ok(http.post("/customers/transfer", "alice", json={"customer_ids": [ids[0]],
                                                                "to_person_id": org["bob"]}), 200)
    assert statuses(answer) == [("pending", None)]
    answer = ok(http.post("/customers/transfer", "boss", json={"customer_ids": [ids[0]],
                                                               "to_person_id": org["bob"]}), 200)
    assert statuses(answer) == [("ok", None)]  # a manager's applies at once


# ---- department shares (seed 002 §2.2.5) -------------------------------------------------------------


def test_a_department_share_is_read_by_its_members_now_and_later(http: Http) -> None:
    org = org_with_two_salespeople(http)
    ok(http.put("/settings", "root", json={"rules": {"approval_required": []}}), 200)
    support = ok(http.post("/departments", "root", json={"name": "客服部"}))["id"]
    night = ok(http.post("/departments", "root", json={"name": "夜班组", "parent_id": support}))["id"]
    carol = person(http, "carol", ["sales"], support)
    person(http, "dave", ["sales"], night)
    erin = person(http, "erin", ["sales"], org["dept"])
    cid = ok(http.post("/customers", "alice", json={"name": "共享客户", "contacts": [{"name": "王经理",
                                                                                        "phone": "13800000000"}]}))["id"]
    assert_error(http.get(f"/customers/{cid}", "carol"), 404)

    ok(http.post(f"/customers/{cid}/share", "alice", json={"add_departments": [support]}), 200)
    detail = ok(http.get(f"/customers/{cid}", "alice"), 200)
    assert detail["shared_departments"] == [{"department_id": support, "name": "客服部"}]
    for who in ("carol", "dave"):  # dave is in a department below
        seen = ok(http.get(f"/customers/{cid}", who), 200)
        assert seen["contacts"][0]["phone"] == "13800000000"
        assert listed(http, who, scope="shared_with_me") == {cid}
        assert listed(http, who, scope="shared_with_me", q="王经理") == {cid}  # its contacts are read in full
        assert_error(http.post(f"/customers/{cid}/changes", who, json={"changes": {"region": "华北"}}), 403,
                     "not_owner")
    assert_error(http.get(f"/customers/{cid}", "erin"), 404)
    contract = ok(http.post("/contracts", "alice", json={"customer_id": cid, "number": "HT-共享", "name": "合同",
                                                         "amount": "100.00"}))["id"]
    assert [c["id"] for c in ok(http.get("/contracts", "carol"), 200)["items"]] == [contract]  # R-7 as the customer
    assert ok(http.get("/contracts", "erin"), 200)["items"] == []
    assert listed(http, "alice", scope="shared_by_me") == {cid}
    assert listed(http, "alice", scope="shared_with_me") == set()

    # erin joins, carol leaves: the share follows the department, not the people it had
    ok(http.patch(f"/people/{erin}", "root", json={"department_id": support}), 200)
    ok(http.patch(f"/people/{carol}", "root", json={"department_id": org["dept"]}), 200)
    http.tokens.pop("erin"), http.tokens.pop("carol")
    assert ok(http.get(f"/customers/{cid}", "erin"), 200)["id"] == cid
    assert_error(http.get(f"/customers/{cid}", "carol"), 404)
    assert listed(http, "carol", scope="shared_with_me") == set()

    # unsharing the department leaves those shared by name
    ok(http.post(f"/customers/{cid}/share", "alice", json={"add": [carol], "remove_departments": [support]}), 200)
    assert ok(http.get(f"/customers/{cid}", "carol"), 200)["id"] == cid
    assert_error(http.get(f"/customers/{cid}", "erin"), 404)
    assert_error(http.post(f"/customers/{cid}/share", "alice", json={"add_departments": ["nope"]}), 422,
                 "validation_error")


def test_a_batch_share_with_a_department(http: Http) -> None:
    org = org_with_two_salespeople(http)
    ok(http.put("/settings", "root", json={"rules": {"approval_required": []}}), 200)
    support = ok(http.post("/departments", "root", json={"name": "客服部"}))["id"]
    person(http, "carol", ["sales"], support)
    mine = [ok(http.post("/customers", "alice", json={"name": n}))["id"] for n in ("甲", "乙")]
    bobs = ok(http.post("/customers", "bob", json={"name": "鲍勃的"}))["id"]
    answer = ok(http.post("/customers/share", "alice", json={"customer_ids": [*mine, bobs],
                                                             "add_departments": [support]}), 200)
    assert statuses(answer) == [("ok", None), ("ok", None), ("error", "not_found")]
    assert listed(http, "carol", scope="shared_with_me") == set(mine)
    missing = "00000000-0000-4000-8000-000000000000"
    assert_error(http.post("/customers/share", "alice", json={"customer_ids": mine, "add_departments": [missing]}),
                 422, "unknown_department")
    # released customers lose their shares, departments' too (C-6)
    ok(http.post("/customers/release", "alice", json={"customer_ids": mine}), 200)
    assert listed(http, "carol", scope="shared_with_me") == set()
    assert org["bob"]


# ---- people leave ----------------------------------------------------------------------------------


def test_a_deactivated_persons_customers_are_listed_and_their_manager_told(http: Http) -> None:
    org = org_with_two_salespeople(http)
    carol = person(http, "carol", ["sales"], org["dept"], max_customers=10)
    other = ok(http.post("/departments", "root", json={"name": "华南销售部"}))["id"]
    person(http, "southboss", ["manager"], other)
    held = [ok(http.post("/customers", "alice", json={"name": n}))["id"] for n in ("甲", "乙")]
    bobs = ok(http.post("/customers", "bob", json={"name": "鲍勃的"}))["id"]
    pool(http, "公海")

    ok(http.patch(f"/people/{org['alice']}", "root", json={"active": False}), 200)
    ok(http.patch(f"/people/{carol}", "root", json={"active": False}), 200)  # holds nothing: nobody is told

    told = [n for n in http.get("/notifications", "boss").json() if n["kind"] == "owner_deactivated"]
    assert [(n["ref_id"], "2" in n["text"], "Alice" in n["text"]) for n in told] == [(org["alice"], True, True)]
    assert [n for n in http.get("/notifications", "southboss").json() if n["kind"] == "owner_deactivated"] == []
    assert listed(http, "boss", owner_inactive=True) == set(held)
    assert bobs in listed(http, "boss", owner_inactive=False) and not set(held) & listed(
        http, "boss", owner_inactive=False)
    assert listed(http, "southboss", owner_inactive=True) == set()
    assert listed(http, "bob", owner_inactive=True) == set()
    assert listed(http, "root", owner_inactive=True) == set(held)

    # the manager hands them on in one go
    answer = ok(http.post("/customers/transfer", "boss", json={"customer_ids": held, "to_person_id": org["bob"],
                                                               "reason": "离职交接"}), 200)
    assert statuses(answer) == [("ok", None), ("error", "cap_reached")]
    ok(http.post("/customers/recall", "boss", json={"customer_ids": [held[1]]}), 200)
    assert listed(http, "boss", owner_inactive=True) == set()
