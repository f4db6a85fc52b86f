"""A-4: the pool sweep runs on its own — in the API process's background thread in the
embedded mode, and as a dramatiq job that the scheduler enqueues in the distributed mode."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from commands import messages as m
from commands.actor import Actor
from commands.adapters.clock import ManualClock
from commands.base import load_customer, parse_uuid
from commands.bootstrap import Service, bootstrap
from commands.config import Config
from commands.handlers import handle
from tests.conftest import SYSTEM, redis_url
from workers.tasks import run_scheduler, start_worker


def wait_until(condition: Callable[[], bool], seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def overdue_customer(service: Service, clock: ManualClock) -> str:
    """A customer held by a salesperson with a 5-day limit, and the clock 6 days later."""
    deps = service.deps
    person = handle(m.CreatePerson(name="甲", username="jia", password="password123", roles=["sales"],
                                   max_follow_days=5), SYSTEM, deps).ids["id"]
    seller = Actor(person, "甲", frozenset({"sales"}), None)
    customer = handle(m.RegisterCustomer(name="到期客户"), seller, deps).ids["id"]
    clock.advance(days=6)
    return str(customer)


def in_pool(service: Service, customer_id: str) -> bool:
    found = load_customer(service.deps, customer_id)
    return found.owner_id is None and found.pool_reason == "overdue"


def test_the_embedded_background_thread_sweeps(tmp_path: Path, clock: ManualClock) -> None:
    config = Config(database_url=f"sqlite:///{tmp_path}/crm.db", mode="embedded", poll_seconds=0.05,
                    sweep_minutes=0.002)
    service = bootstrap(config, clock=clock)
    try:
        customer = overdue_customer(service, clock)
        assert not in_pool(service, customer)
        service.start_background()
        assert wait_until(lambda: in_pool(service, customer)), "the scheduled sweep never ran"
    finally:
        service.close()


@pytest.mark.postgres
def test_the_scheduler_enqueues_sweeps_that_a_worker_runs(pg_url: str, clock: ManualClock) -> None:
    url = redis_url()
    writer = bootstrap(Config(database_url=pg_url, mode="distributed"), clock=clock)
    worker_side = bootstrap(Config(database_url=pg_url, mode="distributed"), clock=clock)
    worker = start_worker(worker_side, url)
    stop = threading.Event()
    scheduler = threading.Thread(target=run_scheduler, args=(url, stop, 0.05, 0.1))
    try:
        customer = overdue_customer(writer, clock)
        worker_side.projector.catch_up()  # the sweep picks its candidates from the read models
        scheduler.start()
        assert wait_until(lambda: in_pool(writer, customer)), "no worker ran a scheduled sweep"
        events = [type(e).__name__ for e in writer.store.events.get(parse_uuid(customer, "id"))]
        assert events.count("ReturnedToPool") == 1
    finally:
        stop.set()
        if scheduler.is_alive():
            scheduler.join(timeout=10)
        worker.stop()
        writer.close()
        worker_side.close()
