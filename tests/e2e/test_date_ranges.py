"""Query reports over a range of business days (`from`, `to`, inclusive, Asia/Shanghai): alone,
or narrowing `year`/`month`; a customer registered at 17:00 UTC on the last of February counts
on the first of March; bad dates and a range that ends before it starts are refused; the
statistical reports take no range. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from commands.adapters.clock import ManualClock
from tests.conftest import Http, assert_error
from tests.e2e.helpers import ok

# Registration moments in UTC and the business day (UTC+8) each falls on.
REGISTERED = {
    "十一月": ("2025-11-20T02:00:00", "2025-11-20"),
    "二月": ("2026-02-10T02:00:00", "2026-02-10"),
    "二月末": ("2026-02-28T15:59:00", "2026-02-28"),  # 23:59 in Shanghai
    "三月初": ("2026-02-28T17:00:00", "2026-03-01"),  # 01:00 on 1 March in Shanghai
    "三月中": ("2026-03-15T02:00:00", "2026-03-15"),
    "四月末": ("2026-04-30T15:30:00", "2026-04-30"),  # 23:30
    "五月初": ("2026-04-30T16:00:00", "2026-05-01"),  # midnight
}
QUERY_REPORTS = [f"Q-{n}" for n in range(1, 13)]


@pytest.fixture
def world(http: Http, clock: ManualClock) -> dict[str, str]:
    dept = ok(http.post("/departments", "root", json={"name": "销售部"}))["id"]
    ids = {"alice": ok(http.post("/people", "root", json={
        "name": "Alice", "username": "alice", "password": "password123", "department_id": dept,
        "roles": ["sales"], "max_customers": 50}))["id"]}
    for name, (moment, _) in REGISTERED.items():
        clock.set(datetime.fromisoformat(moment).replace(tzinfo=UTC))
        ids[name] = ok(http.post("/customers", "alice", json={"name": f"{name}公司", "region": "华东"}))["id"]
    # A visit at 01:30 on 1 March in Shanghai (still February in UTC), payments either side of a month's end.
    clock.set(datetime(2026, 2, 28, 17, 30, tzinfo=UTC))
    ok(http.post(f"/customers/{ids['三月初']}/visits", "alice", json={"visited_at": "2026-02-28T17:30:00Z"}))
    clock.set(datetime(2026, 4, 2, 2, 0, tzinfo=UTC))
    for day in ("2026-03-31", "2026-04-01"):
        ok(http.post("/payments", "alice", json={"customer_id": ids["三月中"], "amount": "10.00", "received_on": day}))
    return ids


def names(http: Http, report_id: str, key: str = "customer_name", **params: Any) -> list[str]:
    response = http.get(f"/reports/{report_id}", "root", params={"page_size": 500, **params})
    assert response.status_code == 200, response.text
    return sorted(str(row[key]).removesuffix("公司") for row in response.json()["rows"])


def test_from_alone_is_every_day_since(http: Http, world: dict[str, str]) -> None:
    assert names(http, "Q-1", **{"from": "2026-03-01"}) == sorted(["三月初", "三月中", "四月末", "五月初"])
    body = http.get("/reports/Q-1", "root", params={"from": "2026-03-01"}).json()
    assert body["period"]["year"] is None and body["period"]["month"] is None
    assert body["period"]["start"] == "2026-03-01"


def test_to_alone_and_both_inclusive(http: Http, world: dict[str, str]) -> None:
    assert names(http, "Q-1", to="2026-02-28") == sorted(["十一月", "二月", "二月末"])
    assert names(http, "Q-1", **{"from": "2026-03-01", "to": "2026-04-30"}) == sorted(["三月初", "三月中", "四月末"])
    assert names(http, "Q-1", **{"from": "2026-03-01", "to": "2026-03-01"}) == ["三月初"]
    assert names(http, "Q-1", **{"from": "2026-02-28", "to": "2026-02-28"}) == ["二月末"]
    assert names(http, "Q-1", **{"from": "2026-05-01", "to": "2026-05-01"}) == ["五月初"]
    body = http.get("/reports/Q-1", "root", params={"from": "2026-03-01", "to": "2026-04-30"}).json()
    assert (body["period"]["start"], body["period"]["end"], body["total"]) == ("2026-03-01", "2026-04-30", 3)


def test_with_year_or_month_the_days_in_both(http: Http, world: dict[str, str]) -> None:
    # Without a range the month is the business month: the customer of 17:00 UTC on 28 Feb is March's.
    assert names(http, "Q-1", year=2026, month=3) == sorted(["三月初", "三月中"])
    assert names(http, "Q-1", year=2026, month=2) == sorted(["二月", "二月末"])
    assert names(http, "Q-1", year=2026, month=3, **{"from": "2026-03-10"}) == ["三月中"]
    assert names(http, "Q-1", year=2026, to="2026-02-28") == sorted(["二月", "二月末"])
    assert names(http, "Q-1", year=2025, **{"from": "2026-01-01"}) == []
    body = http.get("/reports/Q-1", "root", params={"year": 2026, "month": 3, "from": "2026-03-10"}).json()
    assert body["period"] == {"year": 2026, "month": 3, "start": "2026-03-10", "end": "2026-03-31"}


def test_each_report_filters_its_own_day(http: Http, world: dict[str, str]) -> None:
    # Q-3 by the visit's business day, Q-5 by the payment's date, Q-4 and Q-11 by registration.
    assert names(http, "Q-3", **{"from": "2026-03-01", "to": "2026-03-01"}) == ["三月初"]
    assert names(http, "Q-3", year=2026, month=2) == []
    assert names(http, "Q-5", key="received_on", to="2026-03-31") == ["2026-03-31"]
    assert names(http, "Q-5", key="received_on", **{"from": "2026-04-01"}) == ["2026-04-01"]
    assert names(http, "Q-11", **{"from": "2026-04-30"}) == sorted(["四月末", "五月初"])
    assert names(http, "Q-4", to="2026-02-28") == sorted(["十一月", "二月", "二月末"])
    assert len(names(http, "Q-11")) == len(REGISTERED)  # no range: every current customer, as before


def test_every_query_report_takes_a_range(http: Http, world: dict[str, str]) -> None:
    for report_id in QUERY_REPORTS:
        response = http.get(f"/reports/{report_id}", "root", params={"from": "2026-03-01", "to": "2026-03-31"})
        assert response.status_code == 200, (report_id, response.text)
        period = response.json()["period"]
        assert (period["start"], period["end"]) == ("2026-03-01", "2026-03-31"), report_id
        # Far from any fact: nothing.
        far = http.get(f"/reports/{report_id}", "root", params={"from": "2199-01-01"})
        assert far.status_code == 200 and far.json()["total"] == 0, (report_id, far.text)


def test_export_of_a_range(http: Http, world: dict[str, str]) -> None:
    response = http.get("/reports/Q-1", "root", params={"from": "2026-03-01", "to": "2026-04-30", "format": "csv"})
    assert response.status_code == 200, response.text
    assert "2026-03-01" in response.headers["content-disposition"]
    lines = response.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 1 + 3


@pytest.mark.parametrize("params, code, field", [
    ({"from": "2026-02-30"}, "validation_error", "from"),
    ({"to": "yesterday"}, "validation_error", "to"),
    ({"from": "2026-03-01T08:00:00"}, "validation_error", "from"),
    ({"from": "２０２６-03-01"}, "validation_error", "from"),
    ({"from": "1899-12-31"}, "validation_error", "from"),
    ({"to": "2200-01-01"}, "validation_error", "to"),
    ({"from": "2026-04-01", "to": "2026-03-31"}, "invalid_period", "from"),
    ({"year": 2026, "from": "2026-04-01", "to": "2026-03-31"}, "invalid_period", "from"),
])
def test_bad_ranges_are_refused(http: Http, params: dict[str, Any], code: str, field: str) -> None:
    error = assert_error(http.get("/reports/Q-1", "root", params=params), 422, code)
    assert error["field"] == field


def test_statistics_take_no_range(http: Http) -> None:
    for report_id in ("S-4", "S-6", "S-12"):
        error = assert_error(http.get(f"/reports/{report_id}", "root", params={"from": "2026-03-01"}), 422,
                             "unsupported_filter")
        assert error["field"] == "from"
    assert http.get("/reports/S-4", "root", params={"year": 2026}).status_code == 200
