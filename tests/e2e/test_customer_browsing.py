"""Browsing the customer list as the console does: the type tree with counts of the scope and
filters (C-14), and "about to return to the pool" (A-2) as a filter and a sort, by page and by
cursor, on both databases."""

from __future__ import annotations

from typing import Any

from commands.adapters.clock import ManualClock
from tests.conftest import Http, assert_error
from tests.e2e.helpers import ok, org_with_two_salespeople


def rows(http: Http, who: str, **params: Any) -> list[dict[str, Any]]:
    return list(ok(http.get("/customers", who, params={"page_size": 200, **params}), 200)["items"])


def walk(http: Http, who: str, **params: Any) -> list[str]:
    """Every row of a list, a page of two at a time by cursor."""
    seen: list[str] = []
    after = None
    while True:
        page = ok(http.get("/customers", who, params={"page_size": 2, **params,
                                                      **({"after": after} if after else {})}), 200)
        seen += [r["id"] for r in page["items"]]
        after = page["next"]
        if after is None:
            return seen


def held_for(http: Http, clock: ManualClock, who: str, name: str, days_ago: int) -> str:
    """A customer `who` registered `days_ago` days before the clock's present."""
    clock.advance(days=-days_ago)
    customer = ok(http.post("/customers", who, json={"name": name}))["id"]
    clock.advance(days=days_ago)
    return str(customer)


def test_about_to_return_is_a_filter_and_a_sort(http: Http, clock: ManualClock) -> None:
    ids = org_with_two_salespeople(http)
    for who, follow in (("alice", None), ("bob", 30)):  # alice keeps the default 90 days
        ok(http.patch(f"/people/{ids[who]}", "root", json={"max_customers": 20, **(
            {"max_follow_days": follow} if follow else {})}), 200)
    clock.advance(days=200)
    alices = {name: held_for(http, clock, "alice", name, ago) for name, ago in
              (("八十九天", 89), ("八十天", 80), ("十天", 10), ("今天", 0))}
    bobs = {name: held_for(http, clock, "bob", name, ago) for name, ago in
            (("二十九天", 29), ("二十五天", 25), ("五天", 5))}
    dealt = held_for(http, clock, "alice", "已成交", 85)
    ok(http.post("/contracts", "alice", json={"customer_id": dealt, "number": "HT-B1", "name": "合同",
                                              "amount": "10.00"}))
    pooled = ok(http.post("/customers", "boss", json={"name": "公海客户", "to_pool": True}))["id"]

    listed = {r["id"]: r["days_until_pool"] for r in rows(http, "boss")}
    assert listed[alices["八十九天"]] == 1 and listed[alices["十天"]] == 80
    assert listed[bobs["二十九天"]] == 1 and listed[bobs["五天"]] == 25
    assert listed[dealt] is None and listed[pooled] is None

    # the filter finds exactly the rows whose days_until_pool is at most N, each owner by their own limit
    for within in (0, 1, 5, 10, 80, 90):
        found = {r["id"] for r in rows(http, "boss", pool_within_days=within)}
        assert found == {c for c, left in listed.items() if left is not None and left <= within}, within
    assert {r["id"] for r in rows(http, "alice", pool_within_days=10)} == {alices["八十九天"], alices["八十天"]}
    assert ok(http.get("/customers", "bob", params={"pool_within_days": 5}), 200)["total"] == 2
    assert rows(http, "bob", scope="pool", pool_within_days=90) == []

    # the sort: soonest first, the customers with no deadline last; the same walking by cursor
    soonest = [r["id"] for r in rows(http, "boss", sort="days_until_pool")]
    days = [listed[c] for c in soonest]
    held = [d for d in days if d is not None]
    assert held == sorted(held) and days[len(held):] == [None] * (len(days) - len(held))
    assert walk(http, "boss", sort="days_until_pool") == soonest
    latest = walk(http, "boss", sort="-days_until_pool")
    assert [listed[c] for c in latest if listed[c] is not None] == sorted(held, reverse=True)
    assert set(latest) == set(soonest)
    # tied days (alice's and bob's one-day customers) keep a stable order between the two walks
    assert walk(http, "boss", sort="days_until_pool", pool_within_days=1) == [
        r["id"] for r in rows(http, "boss", sort="days_until_pool", pool_within_days=1)]

    # time passes: the overdue and those due today are 0 and match 0
    clock.advance(days=2)
    overdue = {r["id"] for r in rows(http, "boss", pool_within_days=0)}
    assert overdue == {alices["八十九天"], bobs["二十九天"]}

    for bad in ("-1", "x", "100000000"):
        assert_error(http.get("/customers", "boss", params={"pool_within_days": bad}), 422, "validation_error")
    assert_error(http.get("/customers", "boss", params={"sort": "days_until_pools"}), 422, "validation_error")


def counts(tree: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    found: dict[str, tuple[int, int]] = {}
    for node in tree:
        found[node["name"]] = (node["count"], node["total"])
        found |= counts(node["children"])
    return found


def test_the_type_tree_counts_what_the_list_finds(http: Http) -> None:
    ids = org_with_two_salespeople(http)
    for who in ("alice", "bob"):
        ok(http.patch(f"/people/{ids[who]}", "root", json={"max_customers": 20}), 200)
    for who, name, kind in (("alice", "国企甲", "国有企业"), ("alice", "国企乙", "国有企业"),
                            ("alice", "民企", "民营企业"), ("alice", "集团", "企业客户"),
                            ("alice", "张三", "个人客户"), ("alice", "无类型", None),
                            ("bob", "医院甲", "医院"), ("bob", "<img src=x onerror=alert(1)>", "学校")):
        ok(http.post("/customers", who, json={"name": name, **({"type": kind} if kind else {})}))
    ok(http.post("/customers", "boss", json={"name": "公海学校", "type": "学校", "to_pool": True}))

    mine = ok(http.get("/customers/types", "alice"), 200)
    assert mine["scope"] == "mine" and mine["total"] == 6 and mine["unlisted"] == 1
    assert [n["name"] for n in mine["items"]] == ["企业客户", "政府机构", "事业单位", "个人客户"]
    got = counts(mine["items"])
    assert got["企业客户"] == (1, 4) and got["国有企业"] == (2, 2) and got["民营企业"] == (1, 1)
    assert got["事业单位"] == (0, 0) and got["个人客户"] == (1, 1)

    # every node's total is what the list filtered by that type counts, in every scope a viewer has
    for who, scope in (("alice", "mine"), ("bob", "mine"), ("bob", "pool"), ("boss", "all"), ("root", "all")):
        tree = counts(ok(http.get("/customers/types", who, params={"scope": scope}), 200)["items"])
        for name, (_, total) in tree.items():
            listed = ok(http.get("/customers", who, params={"scope": scope, "type": name}), 200)["total"]
            assert listed == total, (who, scope, name)
    everything = ok(http.get("/customers/types", "boss"), 200)
    assert everything["scope"] == "all" and everything["total"] == 9
    assert counts(everything["items"])["事业单位"] == (0, 3)

    # the list's filters narrow the counts the same way
    searched = ok(http.get("/customers/types", "alice", params={"q": "国企"}), 200)
    assert searched["total"] == 2 and counts(searched["items"])["企业客户"] == (0, 2)
    assert ok(http.get("/customers/types", "alice", params={"pool_within_days": 0}), 200)["total"] == 0

    # a removed type is counted as unlisted; a salesperson cannot count everyone's
    settings = ok(http.get("/settings", "root"), 200)
    tree = [node for node in settings["dictionaries"]["customer_types"] if node["name"] != "个人客户"]
    ok(http.put("/settings", "root", json={"dictionaries": {"customer_types": tree}}), 200)
    after = ok(http.get("/customers/types", "alice"), 200)
    assert after["unlisted"] == 2 and "个人客户" not in counts(after["items"])
    assert_error(http.get("/customers/types", "alice", params={"scope": "all"}), 403, "forbidden")
    assert_error(http.get("/customers/types", "alice", params={"scope": "everyone"}), 422, "validation_error")
    assert_error(http.get("/customers/types", "alice", params={"type": "学校"}), 422, "unknown_parameter")
