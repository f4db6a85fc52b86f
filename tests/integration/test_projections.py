"""Read models built incrementally equal a rebuild from position 0 (O-1), and the demo
data set that `make run` creates is complete and signs in."""

from __future__ import annotations

import time
from typing import Any

import pytest
from eventsourcing.utils import get_topic
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select, text, update

from api.demo import DEMO_PASSWORD, seed_demo
from api.main import create_app
from commands.adapters.clock import ManualClock
from commands.bootstrap import Service
from projections.base import LEASE_SECONDS, ProjectionBusy, Projector
from readmodels.tables import inbox_customers, projection_builds
from tests.conftest import make_service, read_model_snapshot


def test_rebuild_equals_incremental(service: Service) -> None:
    assert seed_demo(service)
    incremental = read_model_snapshot(service)
    assert len(incremental["rm_customers"]) == 200
    assert incremental["rm_visits"] and incremental["rm_customer_shares"]
    # 12 deals, the after-sales one (a return and an exchange) and the one with a delivery notice.
    assert len(incremental["rm_contracts"]) == 14 and incremental["rm_stock"] and incremental["rm_goods_moves"]
    assert len(incremental["rm_handoff_requests"]) == 1 and len(incremental["rm_handoff_done"]) == 1

    service.projector.batch = 37  # many batches, with boundaries inside the commands
    seen: list[tuple[int, int]] = []
    for name in service.projector.names:
        assert service.projector.rebuild(name, progress=lambda p, h: seen.append((p, h))) == 2
    rebuilt = read_model_snapshot(service)
    with service.store.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
    assert rebuilt == incremental
    assert set(service.projector.positions().values()) == {service.store.head()}
    assert set(service.projector.versions().values()) == {2}
    assert "rm_customers_v2" in tables and "rm_customers_v1" not in tables
    assert seen[-1][0] == seen[-1][1] and len(seen) > 10


def test_demo_data_set(service: Service) -> None:
    assert seed_demo(service)
    assert not seed_demo(service)  # a second start keeps the data
    with TestClient(create_app(service, background=False)) as client:
        def login(username: str) -> dict[str, str]:
            response = client.post("/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD})
            assert response.status_code == 200, response.text
            return {"Authorization": "Bearer " + response.json()["access_token"]}

        roles = {}
        for username in ("admin", "manager", "sales1", "sales2", "sales3", "keeper", "auditor"):
            roles[username] = client.get("/api/v1/me", headers=login(username)).json()["roles"]
        assert roles == {"admin": ["admin"], "manager": ["manager"], "sales1": ["sales"], "sales2": ["sales"],
                         "sales3": ["sales"], "keeper": ["warehouse"], "auditor": ["auditor"]}
        everything = client.get("/api/v1/customers", headers=login("auditor"), params={"page_size": 200}).json()
        assert everything["total"] == 200
        # The pool: customers registered into it and not claimed, and the early months' customers
        # the weekly sweeps returned (they did not deal within their follow time).
        pool = [c for c in everything["items"] if c["in_pool"]]
        assert 40 <= len(pool) <= 120
        assert any(c["visit_count"] for c in everything["items"])
        manager_view = client.get("/api/v1/customers", headers=login("manager"), params={"scope": "all"}).json()
        assert manager_view["total"] == 200
        shared = client.get("/api/v1/customers", headers=login("sales2"), params={"scope": "shared_with_me"})
        assert shared.json()["total"] > 0
        # After sales a newcomer can look at: a deal delivered from two warehouses, then a
        # return, an exchange for another product and a red-letter invoice; a delivery request
        # partly carried out.
        manager = login("manager")
        [deal] = [c for c in client.get("/api/v1/contracts", headers=manager, params={"page_size": 200}).json()[
            "items"] if c["number"] == "HT20269001"]
        view = client.get(f"/api/v1/contracts/{deal['id']}", headers=manager).json()
        [delivery] = view["deliveries"]
        assert {line["warehouse"] for line in delivery["lines"]} == {"总仓", "苏州仓"}
        assert len(view["returns"]) == 1 and len(view["exchanges"]) == 1
        assert (view["net_amount"], view["credit"], view["to_credit"]) == ("29600.00", "400.00", "0.00")
        [request] = client.get("/api/v1/warehouse-requests", headers=login("keeper"),
                               params={"status": "open"}).json()["items"]
        assert (request["kind"], request["status"]) == ("delivery", "partly_done")


def test_a_failing_projection_waits_while_the_others_go_on(service: Service,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A transient fault in one projection (its database work failing for a moment) stops that
    read model at the event, not every read model; nothing is parked (see test_parking.py for
    faults that retrying does not cure)."""
    from sqlalchemy.exc import OperationalError

    from aggregates.customer import Customer
    from projections.stats import stats

    topic = get_topic(Customer.VisitRecorded)
    healthy = stats.handlers[topic]

    def broken(w: Any, e: Any) -> None:
        raise OperationalError("UPDATE rm_stat_customers", {}, Exception("canceling statement due to lock timeout"))

    monkeypatch.setitem(stats.handlers, topic, broken)
    assert seed_demo(service)  # the commands still answer: their events are stored
    head = service.store.head()
    positions = service.projector.positions()
    assert positions["stats"] < head
    assert {p for name, p in positions.items() if name != "stats"} == {head}
    assert service.projector.parked()["stats"] == []
    # Once the cause is gone, the projection catches up by itself, to what a rebuild gives.
    monkeypatch.setitem(stats.handlers, topic, healthy)
    service.projector.catch_up()
    assert set(service.projector.positions().values()) == {head}
    incremental = read_model_snapshot(service)
    service.projector.rebuild("stats")
    assert read_model_snapshot(service) == incremental


def test_one_build_at_a_time(service: Service, http: Any) -> None:
    other = Projector(service.store, service.projector.projections.values())
    other._take_lease(["customers"])
    with pytest.raises(ProjectionBusy):
        service.projector.rebuild("customers")
    refused = http.post("/admin/projections/customers/rebuild", "root")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "rebuild_running"
    other._release_lease(["customers"])
    assert service.projector.rebuild("customers") == 2
    # A lease its holder stopped renewing is taken over.
    other._take_lease(["customers"])
    with service.store.engine.begin() as conn:
        conn.execute(update(projection_builds).values(heartbeat=time.time() - LEASE_SECONDS - 1))
    assert service.projector.rebuild("customers") == 3


def test_a_table_added_to_a_projection_is_filled_from_the_events(service: Service, clock: ManualClock) -> None:
    """An upgraded store whose live version lacks a table the code now has: start-up builds
    the projection again, so the new table holds the past too."""
    assert seed_demo(service)
    version = service.projector.versions()["inbox"]
    with service.store.engine.begin() as conn:
        conn.execute(text("DROP VIEW rm_inbox_customers"))
        conn.execute(text(f"DROP TABLE rm_inbox_customers_v{version}"))
    url = service.config.database_url
    service.close()
    upgraded = make_service(url, clock)
    try:
        assert upgraded.projector.versions()["inbox"] == version + 1
        with upgraded.store.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(inbox_customers)).scalar_one() == 200
    finally:
        upgraded.close()
