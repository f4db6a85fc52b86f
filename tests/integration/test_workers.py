"""The distributed mode's read side: API processes do not project; workers do, and two
workers started together never apply one event twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from eventsourcing.utils import get_topic
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from aggregates.customer import Customer
from api.demo import seed_demo
from api.main import create_app
from commands import messages as m
from commands.actor import Actor
from commands.adapters.clock import ManualClock
from commands.base import load_customer
from commands.bootstrap import Service, bootstrap
from commands.config import Config
from commands.handlers import handle
from readmodels.tables import customers, people
from tests.conftest import SYSTEM, read_model_snapshot
from workers.projector import run_projection_worker


def distributed(url: str, clock: ManualClock) -> Service:
    return bootstrap(Config(database_url=url, mode="distributed"), clock=clock)


@pytest.fixture
def api_and_worker(database_url: str, clock: ManualClock) -> Iterator[tuple[Service, Service]]:
    api, worker = distributed(database_url, clock), distributed(database_url, clock)
    yield api, worker
    api.close()
    worker.close()


def test_reads_wait_for_the_worker_with_min_position(api_and_worker: tuple[Service, Service]) -> None:
    api, worker = api_and_worker
    handle(m.CreatePerson(name="Root", username="root", password="password123", roles=["admin"]),
           SYSTEM, api.deps)
    # Without a worker nothing is projected, so sign-in's person lookup must wait for one.
    stop = threading.Event()
    thread = threading.Thread(target=run_projection_worker, args=(worker, stop, 0.05))
    thread.start()
    try:
        with TestClient(create_app(api, background=False)) as client:
            token = client.post("/api/v1/auth/token", data={"username": "root", "password": "password123"})
            headers = {"Authorization": "Bearer " + token.json()["access_token"]}
            made = client.post("/api/v1/customers", headers=headers, json={"name": "分布式客户", "to_pool": True})
            assert made.status_code == 201, made.text
            position = made.json()["position"]
            seen = client.get("/api/v1/customers", headers={**headers, "X-Min-Position": str(position)})
            assert seen.status_code == 200
            assert [r["name"] for r in seen.json()["items"]] == ["分布式客户"]
    finally:
        stop.set()
        thread.join()


def test_two_workers_never_double_apply(database_url: str, clock: ManualClock) -> None:
    """Two runners catch up one backlog at once, on SQLite (no row locks) as on PostgreSQL:
    every event is applied once — also batches that only move counters, which no key clash
    would reveal."""
    writer = distributed(database_url, clock)
    seed_demo(writer)  # a backlog of a few thousand events, nothing projected yet
    customer_ids = [e.originator_id for e in writer.store.recorder.select_notifications(
        start=1, limit=100_000, topics=[get_topic(Customer.Registered)])]
    released = 0
    for customer_id in customer_ids:
        found = load_customer(writer.deps, str(customer_id))
        if found.owner_id is not None and found.status != "dealt" and released < 40:
            owner = Actor(found.owner_id, "owner", frozenset({"sales"}), None)
            handle(m.ReturnToPool(str(customer_id), reason="released"), owner, writer.deps)
            released += 1
    assert released == 40 and set(writer.projector.positions().values()) == {0}
    workers = [distributed(database_url, clock) for _ in range(2)]
    for w in workers:
        w.projector.batch = 50

    threads = [threading.Thread(target=w.projector.catch_up) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    head = writer.store.head()
    assert set(writer.projector.positions().values()) == {head}
    with writer.store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(customers)).scalar_one() == 200
        held = conn.execute(select(func.sum(people.c.held_customers))).scalar_one()
        undealt = conn.execute(select(func.count()).select_from(customers).where(
            customers.c.owner_id.isnot(None), customers.c.status != "dealt"))  # P-3: dealt ones do not count
        assert held == undealt.scalar_one()
    incremental = read_model_snapshot(writer)
    writer.projector.rebuild_all()
    assert read_model_snapshot(writer) == incremental
    for service in (writer, *workers):
        service.close()


def test_a_new_person_can_sign_in_before_the_projection_has_them(database_url: str, clock: ManualClock) -> None:
    api = distributed(database_url, clock)
    try:
        handle(m.CreatePerson(name="Root", username="root", password="password123", roles=["admin"]),
               SYSTEM, api.deps)
        assert set(api.projector.positions().values()) == {0}
        with TestClient(create_app(api, background=False)) as client:
            token = client.post("/api/v1/auth/token", data={"username": "root", "password": "password123"})
            me = client.get("/api/v1/me", headers={"Authorization": "Bearer " + token.json()["access_token"]})
            made = client.post("/api/v1/departments", json={"name": "新部门"},
                               headers={"Authorization": "Bearer " + token.json()["access_token"]})
        assert made.status_code == 201, made.text
        # /me reads the read model, which no worker has filled: a clear 503, not a 500.
        assert me.status_code == 503 and me.json()["error"]["code"] == "projection_lag"
    finally:
        api.close()
