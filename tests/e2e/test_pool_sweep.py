"""A-1..A-4 with the injectable clock: the warning window, the once-per-holding warning,
the overdue return, dealt customers exempt, sweeps idempotent for the same `now`, the CLI."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app as cli
from commands.adapters.clock import ManualClock
from commands.bootstrap import Service
from tests.conftest import Http, assert_error
from tests.e2e.helpers import org_with_two_salespeople


def sweep(http: Http, now: datetime) -> dict:
    response = http.post("/admin/pool/sweep", "root", json={"now": now.isoformat()})
    assert response.status_code == 200, response.text
    return dict(response.json())


def kinds(http: Http, who: str) -> list[str]:
    return [n["kind"] for n in http.get("/notifications", who).json()]


def test_overdue_customers_return_after_one_warning(http: Http, clock: ManualClock) -> None:
    ids = org_with_two_salespeople(http)
    assert http.patch(f"/people/{ids['bob']}", "root", json={"max_follow_days": 30}).status_code == 200
    held = http.post("/customers", "alice", json={"name": "跟进客户", "to_pool": True}).json()["id"]
    dealt = http.post("/customers", "alice", json={"name": "成交客户", "to_pool": True}).json()["id"]
    assert http.post(f"/customers/{held}/claim", "bob").status_code == 200
    day0 = clock.now()  # the claim was a moment ago
    assert http.post(f"/customers/{dealt}/claim", "bob").status_code == 200
    signed = http.post("/contracts", "bob", json={"customer_id": dealt, "number": "HT-1", "name": "合同",
                                                  "amount": "100.00"})
    assert signed.status_code == 201, signed.text

    # Day 26: outside the 3-day window, nothing happens.
    clock.set(day0 + timedelta(days=26))
    assert sweep(http, day0 + timedelta(days=26))["warned"] == 0
    # Day 27: inside the window; the owner is warned once, a second sweep adds nothing.
    clock.set(day0 + timedelta(days=27))
    first = sweep(http, day0 + timedelta(days=27))
    assert (first["warned"], first["returned"]) == (1, 0)
    assert kinds(http, "bob") == ["pool_warning"]
    clock.set(day0 + timedelta(days=27, hours=5))
    again = sweep(http, day0 + timedelta(days=27, hours=5))
    assert (again["warned"], again["returned"]) == (0, 0)
    assert kinds(http, "bob") == ["pool_warning"]
    row = http.get(f"/customers/{held}", "bob").json()
    assert row["owner_id"] == ids["bob"] and row["days_until_pool"] == 3

    # Day 31: overdue, back to the pool with reason `overdue`; the owner is told.
    clock.set(day0 + timedelta(days=31))
    returned = sweep(http, day0 + timedelta(days=31))
    assert (returned["warned"], returned["returned"]) == (0, 1)
    repeated = sweep(http, day0 + timedelta(days=31))
    assert (repeated["warned"], repeated["returned"]) == (0, 0)
    row = http.get(f"/customers/{held}", "root").json()
    assert (row["in_pool"], row["owner_id"], row["pool_reason"]) == (True, None, "overdue")
    assert kinds(http, "bob") == ["returned_to_pool", "pool_warning"]
    bob = next(p for p in http.get("/people", "root").json() if p["username"] == "bob")
    assert bob["held_customers"] == 0  # the dealt customer does not count (P-3)
    items = http.get(f"/customers/{held}/history", "root").json()["items"]
    history = [(h["type"], h["data"].get("reason")) for h in items]
    assert history[-2:] == [("PoolWarned", None), ("ReturnedToPool", "overdue")]

    # A dealt customer held 100 days stays with its owner.
    clock.set(day0 + timedelta(days=100))
    late = sweep(http, day0 + timedelta(days=100))
    assert (late["warned"], late["returned"]) == (0, 0)
    assert http.get(f"/customers/{dealt}", "bob").json()["owner_id"] == ids["bob"]


def test_a_new_holding_is_warned_again_and_the_default_limit_applies(http: Http, clock: ManualClock) -> None:
    ids = org_with_two_salespeople(http)
    assert http.put("/settings", "root", json={"rules": {"default_max_follow_days": 10,
                                                         "pool_warning_days": 2}}).status_code == 200
    customer = http.post("/customers", "alice", json={"name": "轮转客户"}).json()["id"]
    start = clock.now()
    clock.set(start + timedelta(days=8, hours=1))
    assert sweep(http, clock.now())["warned"] == 1
    # Transferred: a new holding, a new clock, a new warning in time.
    assert http.post(f"/customers/{customer}/transfer", "alice",
                     json={"to_person_id": ids["bob"], "reason": "区域调整"}).status_code == 200
    assert kinds(http, "bob") == ["transfer_received"]
    clock.set(start + timedelta(days=12))
    quiet = sweep(http, clock.now())
    assert (quiet["warned"], quiet["returned"]) == (0, 0)
    clock.set(start + timedelta(days=16, hours=2))
    assert sweep(http, clock.now())["warned"] == 1
    assert kinds(http, "bob") == ["pool_warning", "transfer_received"]


def test_only_admins_sweep_and_bad_moments_are_422(http: Http) -> None:
    org_with_two_salespeople(http)
    assert_error(http.post("/admin/pool/sweep", "alice", json={}), 403)
    assert_error(http.post("/admin/pool/sweep", "root", json={"now": "yesterday"}), 422, "validation_error")
    done = http.post("/admin/pool/sweep", "root")
    assert done.status_code == 200 and (done.json()["warned"], done.json()["returned"]) == (0, 0)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_cli_sweep(service: Service, http: Http, clock: ManualClock, monkeypatch: pytest.MonkeyPatch,
                   tmp_path: Path) -> None:
    ids = org_with_two_salespeople(http)
    assert http.patch(f"/people/{ids['alice']}", "root", json={"max_follow_days": 5}).status_code == 200
    customer = http.post("/customers", "alice", json={"name": "命令行客户"}).json()["id"]
    monkeypatch.setenv("CRM_DATABASE_URL", service.config.database_url)
    when = (clock.now() + timedelta(days=6)).isoformat()
    runner = CliRunner()
    ran = runner.invoke(cli, ["pool", "sweep", "--now", when], env={"COLUMNS": "200", "CRM_LANG": "en"})
    assert ran.exit_code == 0, ran.output
    assert "0 warned, 1 returned" in ran.output
    again = runner.invoke(cli, ["pool", "sweep", "--now", when], env={"COLUMNS": "200", "CRM_LANG": "en"})
    assert "0 warned, 0 returned" in again.output
    service.projector.catch_up()
    assert http.get(f"/customers/{customer}", "root").json()["pool_reason"] == "overdue"


def test_a_sweep_cannot_run_as_of_the_future(http: Http, clock: ManualClock) -> None:
    org_with_two_salespeople(http)
    ahead = clock.now() + timedelta(days=1)
    assert_error(http.post("/admin/pool/sweep", "root", json={"now": ahead.isoformat()}), 422, "now_in_future")
