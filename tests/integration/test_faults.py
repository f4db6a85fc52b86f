"""Faults on the real services (N-3, N-4): a worker killed with SIGKILL in the middle of
its work, and Redis going away and coming back."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from api.demo import seed_demo
from commands import messages as m
from commands.actor import Actor
from commands.adapters.clock import ManualClock
from commands.bootstrap import bootstrap
from commands.config import Config
from commands.handlers import handle
from readmodels.tables import customers, people
from tests.conftest import REQUIRED, read_model_snapshot
from workers.tasks import Kicker, start_worker

# Starts processes, servers or a browser: in a parallel run one worker takes all such modules
# (docs/testing.md), so two of them never compete for the cores at once.
pytestmark = pytest.mark.xdist_group("processes")

ROOT = Path(__file__).resolve().parents[2]


def wait_until(condition: Any, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.postgres
def test_worker_killed_mid_batch_resumes_without_loss_or_double_count(pg_url: str, clock: ManualClock) -> None:
    writer = bootstrap(Config(database_url=pg_url, mode="distributed"), clock=clock)
    try:
        seed_demo(writer)  # a backlog; nothing projected yet
        head = writer.store.head()
        env = {**os.environ, "CRM_MODE": "distributed", "CRM_DATABASE_URL": pg_url,
               "CRM_SECRET_KEY": "k" * 64, "CRM_PROJECTION_BATCH": "40",
               "CRM_REDIS_URL": "redis://127.0.0.1:1/0"}  # no broker: this worker polls
        worker = subprocess.Popen([sys.executable, "-m", "api.cli", "worker", "--poll", "0.05"], cwd=ROOT,
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            started = wait_until(lambda: max(writer.projector.positions().values()) > 0, 60)
            assert started, "the worker never projected anything"
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
        finally:
            if worker.poll() is None:
                worker.kill()
        at_kill = writer.projector.positions()
        assert min(at_kill.values()) < head, "the worker finished before it was killed"
        # A new worker takes over where the committed positions say.
        writer.projector.catch_up()
        assert set(writer.projector.positions().values()) == {head}
        resumed = read_model_snapshot(writer)
        for name in writer.projector.names:
            writer.projector.rebuild(name)
        assert read_model_snapshot(writer) == resumed
    finally:
        writer.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A throw-away redis-server of this test's own, to stop and start at will."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

        def answers() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    return sock.recv(16).startswith(b"+PONG")
            except OSError:
                return False

        assert wait_until(answers, 10), "redis-server did not start"

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    if subprocess.run(["which", "redis-server"], capture_output=True).returncode != 0:
        if REQUIRED:
            pytest.fail("CRM_REQUIRE_SERVICES=1 but redis-server is not installed for a private Redis")
        pytest.skip("redis-server is not installed")
    server = RedisServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.mark.postgres
def test_commands_succeed_without_redis_and_read_models_catch_up_after(
    pg_url: str, clock: ManualClock, own_redis: RedisServer
) -> None:
    url = f"redis://127.0.0.1:{own_redis.port}/0"
    api = bootstrap(Config(database_url=pg_url, mode="distributed"), clock=clock,
                    kick=Kicker(url, pause_after_failure=0.2))
    worker_side = bootstrap(Config(database_url=pg_url, mode="distributed"), clock=clock)
    worker = start_worker(worker_side, url)  # kicks only: no polling in this test
    try:
        seed_demo(api)
        assert wait_until(lambda: min(worker_side.projector.positions().values()) == api.store.head())
        with api.store.engine.connect() as conn:
            query = select(people.c.id, people.c.department_id).where(people.c.username == "sales1")
            row = conn.execute(query).one()
        seller = Actor(row.id, "sales1", frozenset({"sales"}), row.department_id)

        own_redis.stop()
        during = handle(m.RegisterCustomer(name="断网期间客户", to_pool=True), seller, api.deps)
        assert during.position == api.store.head()  # the command stands without the broker
        time.sleep(0.5)
        assert min(worker_side.projector.positions().values()) < during.position

        own_redis.start()
        time.sleep(0.3)  # past the kicker's pause
        after = handle(m.RegisterCustomer(name="恢复之后客户", to_pool=True), seller, api.deps)
        assert wait_until(lambda: min(worker_side.projector.positions().values()) >= after.position, 30)
        with api.store.engine.connect() as conn:
            names = set(conn.execute(select(customers.c.name)).scalars())
        assert {"断网期间客户", "恢复之后客户"} <= names
    finally:
        worker.stop()
        api.close()
        worker_side.close()
