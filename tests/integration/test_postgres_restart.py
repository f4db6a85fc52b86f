"""A fault: PostgreSQL restarts while clients are writing and reading. Requests caught by
it get 503 `unavailable` (never a 500), nothing is half-written, and the service recovers by
itself. The test runs its own PostgreSQL cluster, so the restart disturbs nothing else."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from aggregates.customer import Customer
from aggregates.names import CustomerName
from api.deps import issue_token
from api.main import create_app
from commands import messages as m
from commands.bootstrap import bootstrap
from commands.check import check_event_store
from commands.config import Config
from commands.handlers import handle
from tests.conftest import REQUIRED, SYSTEM, free_port

# Starts processes, servers or a browser: in a parallel run one worker takes all such modules
# (docs/testing.md), so two of them never compete for the cores at once.
pytestmark = pytest.mark.xdist_group("processes")


@dataclass
class PrivatePostgres:
    url: str
    folder: Path
    bin: str
    port: int

    def ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(["runuser", "-u", "postgres", "--", f"{self.bin}/pg_ctl", "-D", str(self.folder / "data"),
                        "-l", str(self.folder / "log"), "-w", "-o", options, *args],
                       check=True, capture_output=True, timeout=60)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins or shutil.which("runuser") is None or os.geteuid() != 0:
        if REQUIRED:
            pytest.fail("CRM_REQUIRE_SERVICES=1 but a private PostgreSQL cluster cannot be started here")
        pytest.skip("needs root, runuser and PostgreSQL's server binaries for a private cluster")
    folder = Path(tempfile.mkdtemp(prefix="crm-pg-"))
    shutil.chown(folder, "postgres", "postgres")
    server = PrivatePostgres(f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/postgres", folder, bins[-1], 0)
    server.port = int(server.url.split(":")[-1].split("/")[0])
    subprocess.run(["runuser", "-u", "postgres", "--", f"{server.bin}/initdb", "-D", str(folder / "data"),
                    "-A", "trust", "-U", "postgres", "--no-sync"], check=True, capture_output=True, timeout=120)
    server.ctl("start")
    try:
        yield server
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", f"{server.bin}/pg_ctl", "-D", str(folder / "data"),
                        "stop", "-m", "immediate"], capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def test_a_restart_gives_503_loses_nothing_and_recovers(private_postgres: PrivatePostgres, tmp_path: Path) -> None:
    service = bootstrap(Config(database_url=private_postgres.url, mode="embedded", blob_dir=str(tmp_path)))
    person = handle(m.CreatePerson(name="管理员", username="root", password="password123", roles=["admin"]),
                    SYSTEM, service.deps).ids["id"]
    token = issue_token(service, person)[0]
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(service, background=False), host="127.0.0.1", port=port,
                                          log_level="critical"))
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    while not server.started:
        time.sleep(0.05)

    stop = threading.Event()
    results: list[tuple[str, str, int, Any]] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=30,
                          headers={"Authorization": f"Bearer {token}"}) as http:
            i = 0
            while not stop.is_set():
                name = f"重启客户{n}-{i}"
                i += 1
                write = http.post("/customers", json={"name": name, "to_pool": True})
                read = http.get("/customers", params={"scope": "pool", "page_size": 5})
                with lock:
                    results.append(("write", name, write.status_code, write.json()))
                    results.append(("read", name, read.status_code, read.json()))

    clients = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    for thread in clients:
        thread.start()
    try:
        time.sleep(1.5)
        restarted_at = len(results)
        private_postgres.ctl("restart", "-m", "fast")
        time.sleep(3.0)
    finally:
        stop.set()
        for thread in clients:
            thread.join(timeout=60)
    try:
        statuses = {status for _, _, status, _ in results}
        assert statuses <= {200, 201, 503}, statuses
        outages = [body for _, _, status, body in results if status == 503]
        assert outages, "no request met the restart"
        print(f"{len(results)} requests, {len(outages)} got 503 during the restart")
        assert {body["error"]["code"] for body in outages} == {"unavailable"}
        # It recovered by itself: the last requests of the run succeeded, after the outage.
        assert all(status < 300 for _, _, status, _ in results[-12:]), results[-12:]
        assert any(status < 300 for _, _, status, _ in results[restarted_at:])

        # Nothing half-written: every customer is whole, name reservation included, and every
        # acknowledged write is there; a refused one is either wholly there or wholly absent.
        acknowledged = {name for kind, name, status, _ in results if kind == "write" and status == 201}
        report = check_event_store(service.store)
        assert report.problems == []
        service.projector.catch_up()
        stored: set[str] = set()
        for notification in service.store.recorder.select_notifications(start=1, limit=100_000,
                                                                        topics=[_registered_topic()]):
            customer = service.store.find(notification.originator_id, Customer)
            assert customer is not None
            index = service.store.find(CustomerName.id_for(customer.name), CustomerName)
            assert index is not None and index.customer_id == str(customer.id)
            stored.add(customer.name)
        assert acknowledged <= stored
        assert service.projector.verify() == {name: [] for name in service.projector.names}
    finally:
        server.should_exit = True
        serving.join(timeout=10)
        service.close()


def _registered_topic() -> str:
    from eventsourcing.utils import get_topic

    return get_topic(Customer.Registered)
