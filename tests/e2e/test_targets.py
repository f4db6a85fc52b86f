"""T-1..T-4 over HTTP: periods that may not overlap, the automatic salesperson profile,
proposals through approval, and attainment against hand-computed figures with the
attribution of D-5 and business days in Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from commands.adapters.clock import ManualClock
from tests.conftest import Http, assert_error
from tests.e2e.helpers import ok, org_with_two_salespeople

NOVEMBER = {"period": "2026年11月", "start": "2026-11-01", "end": "2026-11-30"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture
def org(http: Http, clock: ManualClock) -> dict[str, str]:
    clock.set(at("2026-10-30T00:00:00+00:00"))
    ids = org_with_two_salespeople(http)
    for name in ("alice", "bob"):
        ok(http.patch(f"/people/{ids[name]}", "root", json={"max_customers": 20}), 200)
    return ids


def target(http: Http, who: str, person_id: str, **figures: Any) -> Any:
    return http.post("/targets", who, json={"person_id": person_id, **NOVEMBER, **figures})


def test_periods_must_not_overlap_and_must_not_run_backwards(http: Http, org: dict[str, str]) -> None:
    alice = org["alice"]
    first = ok(target(http, "boss", alice, visits=10))
    assert_error(http.post("/targets", "boss", json={"person_id": alice, "period": "跨月", "start": "2026-11-30",
                                                     "end": "2026-12-15"}), 409, "overlapping_period")
    error = assert_error(http.post("/targets", "boss", json={"person_id": alice, "period": "倒置",
                                                             "start": "2026-12-31", "end": "2026-12-01"}),
                         422, "invalid_period")
    assert error["field"] == "start"
    ok(http.post("/targets", "boss", json={"person_id": alice, "period": "2026年12月", "start": "2026-12-01",
                                           "end": "2026-12-31"}))
    # Another person's periods are their own.
    ok(target(http, "boss", org["bob"], visits=3))
    # Moving a target onto another is refused too; cancelling frees the period.
    december = http.get("/targets", "boss", params={"person_id": alice, "on": "2026-12-10"}).json()["items"][0]
    assert_error(http.patch(f"/targets/{december['id']}", "boss", json={"start": "2026-11-20"}), 409,
                 "overlapping_period")
    assert ok(http.delete(f"/targets/{first['id']}", "boss"), 200)["position"] > 0
    ok(http.patch(f"/targets/{december['id']}", "boss", json={"start": "2026-11-20", "visits": 7}), 200)
    moved = http.get(f"/targets/{december['id']}", "alice").json()
    assert (moved["start"], moved["end"], moved["visits"]) == ("2026-11-20", "2026-12-31", 7)
    listed = http.get("/targets", "boss", params={"person_id": alice}).json()
    assert [t["period"] for t in listed["items"]] == ["2026年12月"]
    with_cancelled = http.get("/targets", "boss", params={"person_id": alice, "include_cancelled": True}).json()
    assert sorted(t["cancelled"] for t in with_cancelled["items"]) == [False, True]


def test_who_sets_targets_and_the_automatic_profile(http: Http, org: dict[str, str]) -> None:
    # A directory person without a salesperson profile gets one (T-3).
    boss = next(p for p in http.get("/people", "root").json() if p["id"] == org["boss"])
    assert boss["is_salesperson"] is False
    ok(target(http, "root", org["boss"], deal_amount="50000.00"))
    boss = next(p for p in http.get("/people", "root").json() if p["id"] == org["boss"])
    assert boss["is_salesperson"] is True and boss["max_customers"] is None
    # A salesperson sets nobody else's targets; without the policy their own apply at once.
    assert_error(target(http, "bob", org["alice"]), 403, "forbidden")
    ok(target(http, "alice", org["alice"], visits=8))
    assert_error(target(http, "bob", "no-such-person"), 422)


def test_a_salesperson_proposes_and_a_manager_approves(http: Http, org: dict[str, str]) -> None:
    ok(http.put("/settings", "root", json={"rules": {"approval_required": ["target"]}}), 200)
    proposed = ok(target(http, "alice", org["alice"], new_customers=5, deal_amount="20000.00"), 202)
    assert http.get("/targets", "alice").json()["total"] == 0
    assert_error(http.post(f"/approvals/{proposed['approval_id']}/approve", "alice"), 403, "own_request")
    ok(http.post(f"/approvals/{proposed['approval_id']}/approve", "boss", json={"comment": "同意"}), 200)
    [made] = http.get("/targets", "alice").json()["items"]
    assert (made["new_customers"], made["deal_amount"], made["set_by"], made["approved_by"]) == (
        5, "20000.00", org["alice"], org["boss"])
    # A manager's own setting needs no approval.
    ok(target(http, "boss", org["bob"], visits=1))


def test_attainment_matches_hand_computed_figures(http: Http, org: dict[str, str], clock: ManualClock) -> None:
    alice, bob = org["alice"], org["bob"]
    alice_target = ok(target(http, "boss", alice, new_customers=4, visits=5, deal_amount="10000.00",
                             collected_amount="8000.00"))["id"]
    bob_target = ok(target(http, "boss", bob, new_customers=2, visits=2, deal_amount="5000.00",
                           collected_amount="2000.00"))["id"]

    def register(who: str, name: str) -> str:
        return ok(http.post("/customers", who, json={"name": name, "region": "华东"}))["id"]

    def visit(who: str, customer: str, when: str) -> None:
        ok(http.post(f"/customers/{customer}/visits", who, json={"visited_at": when}))

    def deal(who: str, customer: str, number: str, on: str, amount: str) -> str:
        return ok(http.post("/contracts", who, json={"customer_id": customer, "number": number, "name": number,
                                                     "signed_on": on, "amount": amount}))["id"]

    def pay(who: str, customer: str, contract: str | None, on: str, amount: str) -> None:
        ok(http.post("/payments", who, json={"customer_id": customer, "contract_id": contract,
                                             "received_on": on, "amount": amount}))

    # 31 Oct 23:00 in Shanghai: October — registered, visited, dealt and paid outside the period.
    clock.set(at("2026-10-31T15:00:00+00:00"))
    october = register("alice", "十月客户")
    visit("alice", october, "2026-10-31T22:00:00+08:00")
    c0 = deal("alice", october, "HT-C0", "2026-10-31", "1000.00")
    pay("alice", october, c0, "2026-10-31", "1000.00")
    # 1 Nov 01:00 in Shanghai (still 31 Oct in UTC): November.
    clock.set(at("2026-10-31T17:00:00+00:00"))
    a1 = register("alice", "一号客户")
    clock.set(at("2026-11-02T01:00:00+00:00"))
    a2, a3 = register("alice", "二号客户"), register("alice", "三号客户")
    y = register("bob", "乙方客户")
    ok(http.post(f"/customers/{a2}/share", "boss", json={"add": [bob]}), 200)
    visit("alice", a1, "2026-11-01T09:00:00+08:00")  # entered late; still counts
    clock.set(at("2026-11-03T09:00:00+00:00"))
    visit("alice", a2, "2026-11-03T15:00:00+08:00")
    visit("alice", a3, "2026-11-03T16:00:00+08:00")
    visit("bob", a2, "2026-11-03T16:30:00+08:00")  # a sharee's visit is the visitor's
    clock.set(at("2026-11-04T02:00:00+00:00"))
    c2 = deal("bob", y, "HT-C2", "2026-11-04", "5000.00")
    clock.set(at("2026-11-05T02:00:00+00:00"))
    c1 = deal("alice", a1, "HT-C1", "2026-11-05", "6000.00")
    clock.set(at("2026-11-06T02:00:00+00:00"))
    ok(http.post(f"/customers/{y}/transfer", "bob", json={"to_person_id": alice, "reason": "交接"}), 200)
    clock.set(at("2026-11-10T02:00:00+00:00"))
    pay("alice", y, c2, "2026-11-10", "3000.00")  # bob signed it: bob's (D-5)
    clock.set(at("2026-11-12T02:00:00+00:00"))
    pay("alice", a1, c1, "2026-11-12", "4000.00")
    clock.set(at("2026-11-15T02:00:00+00:00"))
    pay("alice", y, None, "2026-11-15", "500.00")  # a prepayment: the owner's at payment time
    # 1 Dec 00:30 in Shanghai: December.
    clock.set(at("2026-11-30T16:30:00+00:00"))
    register("alice", "十二月客户")

    mine = http.get(f"/targets/{alice_target}", "alice").json()
    assert mine["actual"] == {"new_customers": 3, "visits": 3, "deal_amount": "6000.00",
                              "collected_amount": "4500.00"}
    assert mine["attainment"] == {"new_customers": "0.7500", "visits": "0.6000", "deal_amount": "0.6000",
                                  "collected_amount": "0.5625"}
    theirs = http.get(f"/targets/{bob_target}", "boss").json()
    assert theirs["actual"] == {"new_customers": 1, "visits": 1, "deal_amount": "5000.00",
                                "collected_amount": "3000.00"}
    assert theirs["attainment"] == {"new_customers": "0.5000", "visits": "0.5000", "deal_amount": "1.0000",
                                    "collected_amount": "1.5000"}
    # Each figure drills down to its records.
    visits = http.get(f"/targets/{alice_target}/records", "alice", params={"figure": "visits"}).json()["items"]
    assert [(v["customer_name"], v["on"]) for v in visits] == [
        ("一号客户", "2026-11-01"), ("二号客户", "2026-11-03"), ("三号客户", "2026-11-03")]
    new = http.get(f"/targets/{alice_target}/records", "alice", params={"figure": "new_customers"}).json()["items"]
    assert sorted(r["customer_id"] for r in new) == sorted([a1, a2, a3])
    paid = http.get(f"/targets/{alice_target}/records", "alice",
                    params={"figure": "collected_amount"}).json()["items"]
    assert [(p["customer_id"], p["on"], p["amount"]) for p in paid] == [
        (a1, "2026-11-12", "4000.00"), (y, "2026-11-15", "500.00")]
    deals = http.get(f"/targets/{bob_target}/records", "bob", params={"figure": "deal_amount"}).json()["items"]
    assert [(d["id"], d["amount"]) for d in deals] == [(c2, "5000.00")]
    assert_error(http.get(f"/targets/{alice_target}/records", "alice", params={"figure": "profit"}), 422)
    # Visibility: bob does not see alice's target; the manager sees both.
    assert_error(http.get(f"/targets/{alice_target}", "bob"), 404)
    assert http.get("/targets", "bob").json()["total"] == 1
    assert http.get("/targets", "boss", params={"on": "2026-11-15"}).json()["total"] == 2
    # The department roll-up sums the targets and their actual figures.
    [department] = http.get("/targets/departments", "boss", params={"on": "2026-11-15"}).json()
    assert department["targets"] == 2
    assert department["target"] == {"new_customers": 6, "visits": 7, "deal_amount": "15000.00",
                                    "collected_amount": "10000.00"}
    assert department["actual"] == {"new_customers": 4, "visits": 4, "deal_amount": "11000.00",
                                    "collected_amount": "7500.00"}
    assert department["attainment"] == {"new_customers": "0.6667", "visits": "0.5714", "deal_amount": "0.7333",
                                        "collected_amount": "0.7500"}
    assert_error(http.get("/targets/departments", "alice"), 403)
