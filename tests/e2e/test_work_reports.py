"""W-1: daily, weekly (ISO week) and monthly reports carry exactly the reporter's figures
for the period; resubmitting revises with history; managers read their people's reports."""

from __future__ import annotations

from datetime import UTC, datetime

from commands.adapters.clock import ManualClock
from tests.conftest import Http, assert_error
from tests.e2e.helpers import ok, org_with_two_salespeople


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def report(http: Http, who: str, kind: str, day: str, summary: str = "", plan: str = "") -> dict:
    return ok(http.post("/work-reports", who, json={"kind": kind, "date": day, "summary": summary, "plan": plan}))


def test_reports_carry_exactly_their_periods_figures(http: Http, clock: ManualClock) -> None:
    clock.set(at("2026-11-20T00:00:00+00:00"))
    ids = org_with_two_salespeople(http)
    for name in ("alice", "bob"):
        ok(http.patch(f"/people/{ids[name]}", "root", json={"max_customers": 20}), 200)
    # Monday 23 Nov (Shanghai): two new customers, one visit, a deal and a payment.
    clock.set(at("2026-11-23T02:00:00+00:00"))
    first = ok(http.post("/customers", "alice", json={"name": "周一客户"}))["id"]
    second = ok(http.post("/customers", "alice", json={"name": "周一客户二"}))["id"]
    ok(http.post(f"/customers/{first}/visits", "alice", json={"visited_at": "2026-11-23T10:00:00+08:00"}))
    contract = ok(http.post("/contracts", "alice", json={"customer_id": first, "number": "HT-W1", "name": "合同",
                                                         "signed_on": "2026-11-23", "amount": "1200.00"}))["id"]
    ok(http.post("/payments", "alice", json={"customer_id": first, "contract_id": contract,
                                             "received_on": "2026-11-23", "amount": "200.00"}))
    # Tuesday 24 Nov: another visit and a payment; bob's work is his own.
    clock.set(at("2026-11-24T03:00:00+00:00"))
    ok(http.post(f"/customers/{second}/visits", "alice", json={"visited_at": "2026-11-24T09:00:00+08:00"}))
    ok(http.post("/payments", "alice", json={"customer_id": first, "contract_id": contract,
                                             "received_on": "2026-11-24", "amount": "300.00"}))
    ok(http.post("/customers", "bob", json={"name": "乙的客户"}))
    # Sunday 29 Nov 23:30 Shanghai (end of the ISO week) and 1 Dec (next month).
    clock.set(at("2026-11-29T15:30:00+00:00"))
    ok(http.post("/customers", "alice", json={"name": "周日客户"}))
    clock.set(at("2026-11-30T16:30:00+00:00"))
    ok(http.post("/customers", "alice", json={"name": "十二月客户"}))

    monday = report(http, "alice", "daily", "2026-11-23", "拜访一家，签约一单", "明天跟进回款")
    assert (monday["start"], monday["end"], monday["revision"]) == ("2026-11-23", "2026-11-23", 1)
    assert monday["figures"] == {"new_customers": 2, "visits": 1, "deals": 1, "deal_amount": "1200.00",
                                 "collected_amount": "200.00"}
    tuesday = report(http, "alice", "daily", "2026-11-24")
    assert tuesday["figures"] == {"new_customers": 0, "visits": 1, "deals": 0, "deal_amount": "0.00",
                                  "collected_amount": "300.00"}
    week = report(http, "alice", "weekly", "2026-11-25")
    assert (week["start"], week["end"]) == ("2026-11-23", "2026-11-29")
    assert week["figures"] == {"new_customers": 3, "visits": 2, "deals": 1, "deal_amount": "1200.00",
                               "collected_amount": "500.00"}
    month = report(http, "alice", "monthly", "2026-11-02")
    assert (month["start"], month["end"]) == ("2026-11-01", "2026-11-30")
    assert month["figures"]["new_customers"] == 3
    assert report(http, "bob", "daily", "2026-11-24")["figures"]["new_customers"] == 1

    # Resubmitting the same day revises the report and keeps the history.
    revised = report(http, "alice", "daily", "2026-11-23", "更正：签约一单", "周二回款")
    assert (revised["id"], revised["revision"]) == (monday["id"], 2)
    view = http.get(f"/work-reports/{monday['id']}", "alice").json()
    assert (view["summary"], view["revision"]) == ("更正：签约一单", 2)
    assert [(r["revision"], r["summary"]) for r in view["revisions"]] == [(1, "拜访一家，签约一单"),
                                                                         (2, "更正：签约一单")]

    # Lists: one's own, a manager's people, periods overlapping [from, to].
    daily = http.get("/work-reports", "alice", params={"kind": "daily"}).json()
    assert [(r["start"], r["person_id"]) for r in daily["items"]] == [("2026-11-24", ids["alice"]),
                                                                     ("2026-11-23", ids["alice"])]
    assert http.get("/work-reports", "boss", params={"kind": "daily"}).json()["total"] == 3
    window = http.get("/work-reports", "boss", params={"from": "2026-11-24", "to": "2026-11-24"}).json()
    assert sorted(r["kind"] for r in window["items"]) == ["daily", "daily", "monthly", "weekly"]
    assert_error(http.get(f"/work-reports/{monday['id']}", "bob"), 404)
    assert_error(http.post("/work-reports", "alice", json={"kind": "yearly", "date": "2026-11-23"}), 422)
    assert_error(http.post("/work-reports", "root", json={"kind": "daily", "date": "2026-11-23"}), 403)
