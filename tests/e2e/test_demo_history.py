"""The demo data as a newcomer meets it: a history from 1 January of the previous year, each
registration, visit, deal, payment, delivery, return and exchange recorded at its own moment,
and holdings the pool rules agree with, so the first sweep returns nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.demo import DEMO_PASSWORD, seed_demo
from api.main import create_app
from commands.adapters.clock import ManualClock
from commands.bootstrap import Service
from tests.conftest import make_service

NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, ManualClock, TestClient]]:
    folder = tmp_path_factory.mktemp("demo")
    clock = ManualClock(NOW)
    service = make_service(f"sqlite:///{folder}/crm.db", clock, Path(folder) / "blobs")
    assert seed_demo(service)
    client = TestClient(create_app(service, background=False))
    try:
        yield service, clock, client
    finally:
        service.close()


def signed_in(client: TestClient, username: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def get(client: TestClient, who: str, path: str, **params: Any) -> Any:
    answer = client.get(f"/api/v1{path}", headers=signed_in(client, who), params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_service_keeps_its_own_clock(demo: tuple[Service, ManualClock, TestClient]) -> None:
    service, clock, _ = demo
    assert service.deps.clock is clock
    assert abs((clock.now() - NOW).total_seconds()) < 1


def test_customers_and_deals_are_spread_over_the_months(demo: tuple[Service, ManualClock, TestClient]) -> None:
    _, _, client = demo
    customers = get(client, "admin", "/customers", scope="all", page_size=500)["items"]
    assert len(customers) == 200
    registered = sorted(datetime.fromisoformat(c["created_at"]) for c in customers)
    assert registered[0] >= datetime(2025, 1, 1, tzinfo=UTC) and registered[-1] <= NOW
    assert len({(d.year, d.month) for d in registered}) >= 12
    contracts = get(client, "admin", "/contracts", page_size=500)["items"]
    months = {date.fromisoformat(c["signed_on"]).replace(day=1) for c in contracts}
    assert date(2025, 1, 1) <= min(months) and len(months) >= 8 and any(m.year == 2025 for m in months)
    # The year chart is no flat line with one spike: S-8 has deals in several months of each year.
    for year in (2025, 2026):
        rows = get(client, "manager", "/reports/S-8", year=year)["rows"]
        busy = {key for row in rows for key, value in row.items() if key.startswith("m") and value != "0.00"}
        assert len(busy) >= 3, (year, rows)


def test_each_step_is_recorded_at_its_own_moment(demo: tuple[Service, ManualClock, TestClient]) -> None:
    _, _, client = demo
    contracts = get(client, "admin", "/contracts", page_size=500)["items"]
    after_sales = next(c for c in contracts if c["returned_amount"] != "0.00")
    steps = get(client, "auditor", f"/contracts/{after_sales['id']}/history")["items"]
    kinds = [s["type"] for s in steps]
    assert kinds[0] == "Signed" and "Returned" in kinds and "Exchanged" in kinds and "InvoiceCredited" in kinds
    moments = [datetime.fromisoformat(s["at"]) for s in steps]
    assert moments == sorted(moments)
    signed, returned = moments[0], moments[kinds.index("Returned")]
    assert (returned - signed).days >= 14, "the return came weeks after the deal"
    # A customer's visits are recorded when they happened (or the next day, flagged late).
    customers = get(client, "admin", "/customers", scope="all", page_size=500)["items"]
    visited = next(c for c in customers if (c.get("visit_count") or 0) >= 2 and not c["in_pool"])
    history = get(client, "auditor", f"/customers/{visited['id']}/history")["items"]
    at = [datetime.fromisoformat(h["at"]) for h in history]
    assert at == sorted(at) and (at[-1] - at[0]).days >= 1


def test_the_first_sweep_returns_nothing_the_demo_did_not_mean(demo: tuple[Service, ManualClock, TestClient]) -> None:
    _, clock, client = demo
    owned = [c for c in get(client, "admin", "/customers", scope="all", page_size=500)["items"] if not c["in_pool"]]
    assert owned and all(c["days_until_pool"] is None or c["days_until_pool"] > 0 for c in owned)
    clock.advance(minutes=5)
    swept = client.post("/api/v1/admin/pool/sweep", headers=signed_in(client, "admin"), json={})
    assert swept.status_code == 200, swept.text
    assert swept.json()["returned"] == 0
    pool = get(client, "admin", "/customers", scope="pool", page_size=500)["total"]
    assert 20 <= pool <= 120  # some returned over the months, most of the recent ones held


def test_every_salesperson_has_a_target_for_every_month(demo: tuple[Service, ManualClock, TestClient]) -> None:
    _, _, client = demo
    targets = get(client, "manager", "/targets", page_size=500)["items"]
    by_person: dict[str, set[str]] = {}
    for target in targets:
        by_person.setdefault(target["person_name"], set()).add(target["period"])
    assert set(by_person) == {"张伟", "李娜", "刘洋"}
    assert all(len(periods) == 23 for periods in by_person.values()), by_person  # Jan 2025 … Nov 2026
