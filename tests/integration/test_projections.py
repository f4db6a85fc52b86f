"""Read models built incrementally equal a rebuild from position 0 (O-1), and the demo
data set that `make run` creates is complete and signs in."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import inspect

from api.demo import DEMO_PASSWORD, seed_demo
from api.main import create_app
from commands.bootstrap import Service
from tests.conftest import read_model_snapshot


def test_rebuild_equals_incremental(service: Service) -> None:
    assert seed_demo(service)
    incremental = read_model_snapshot(service)
    assert len(incremental["rm_customers"]) == 200
    assert incremental["rm_visits"] and incremental["rm_customer_shares"]
    assert len(incremental["rm_contracts"]) == 12 and incremental["rm_stock"] and incremental["rm_goods_moves"]

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
        pool = [c for c in everything["items"] if c["in_pool"]]
        assert 20 <= len(pool) <= 60
        assert any(c["visit_count"] for c in everything["items"])
        manager_view = client.get("/api/v1/customers", headers=login("manager"), params={"scope": "all"}).json()
        assert manager_view["total"] == 200
        shared = client.get("/api/v1/customers", headers=login("sales2"), params={"scope": "shared_with_me"})
        assert shared.json()["total"] > 0
