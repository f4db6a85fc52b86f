"""Start-up of the distributed mode on an empty PostgreSQL database: any number of API and
worker processes may start at once; one of them creates the schema, the others wait for it
instead of failing on a table or type another one created a moment before."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import postgres_url, redis_url

# Starts processes, servers or a browser: in a parallel run one worker takes all such modules
# (docs/testing.md), so two of them never compete for the cores at once.
pytestmark = pytest.mark.xdist_group("processes")

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 5
START_SECONDS = 60.0  # generous: four interpreters importing the service at once on two cores


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int | None = None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def failed(self) -> str:
        """Its exit code and the end of its output (where the error is)."""
        return f"{self.name} (exit code {self.popen.poll()}):\n…{self.output()[-3000:]}"


def environment(database_url: str, tmp: Path) -> dict[str, str]:
    # The session's own Redis, but a database number of this test's: its processes' kicks
    # and queues stay apart from other tests' (and other parallel workers') workers.
    redis = redis_url(processes=True)
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    return {**inherited, "CRM_MODE": "distributed", "CRM_DATABASE_URL": database_url,
            "CRM_REDIS_URL": redis, "CRM_SECRET_KEY": secrets.token_hex(32),
            "CRM_BLOB_DIR": str(tmp / "blobs"), "CRM_LANG": "en", "PYTHONUNBUFFERED": "1"}


@contextmanager
def started(env: dict[str, str], tmp: Path, apis: int, workers: int) -> Iterator[list[Process]]:
    """Start the API and worker processes all at once; stop them (SIGTERM, then SIGKILL) after."""
    commands: list[tuple[str, list[str], int | None]] = []
    for i in range(apis):
        api_port = free_port()
        commands.append((f"api-{i}", ["api", "--host", "127.0.0.1", "--port", str(api_port)], api_port))
    for i in range(workers):
        commands.append((f"worker-{i}", ["worker", "--poll", "0.2"], None))
    processes: list[Process] = []
    try:
        for name, args, port in commands:
            log = tmp / f"{name}.log"
            with log.open("wb") as out:
                popen = subprocess.Popen([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=env,
                                         stdout=out, stderr=subprocess.STDOUT)
            processes.append(Process(name, popen, log, port))
        yield processes
    finally:
        for process in processes:
            if process.popen.poll() is None:
                process.popen.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait(timeout=10)


def healthy(process: Process) -> bool:
    try:
        response = httpx.get(f"http://127.0.0.1:{process.port}/healthz", timeout=2)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def wait_until_started(processes: list[Process]) -> None:
    """Every API answers /healthz with 200 and every worker said it runs its projections;
    fail at once, with its output, when one of them exits."""
    waiting = list(processes)
    deadline = time.monotonic() + START_SECONDS
    while waiting:
        for process in list(waiting):
            assert process.popen.poll() is None, process.failed()
            up = healthy(process) if process.port is not None else "projection worker:" in process.output()
            if up:
                waiting.remove(process)
        assert time.monotonic() < deadline, "not started in time: " + ", ".join(p.name for p in waiting)
        time.sleep(0.1)


@pytest.mark.postgres
def test_two_apis_and_two_workers_start_at_once_on_an_empty_database(tmp_path: Path) -> None:
    for round_ in range(ROUNDS):
        url = postgres_url()  # an empty schema each round
        folder = tmp_path / f"round-{round_}"
        folder.mkdir()
        with started(environment(url, folder), folder, apis=2, workers=2) as processes:
            wait_until_started(processes)
            time.sleep(1.5)  # the workers poll meanwhile; they must still be running after
            for process in processes:
                assert process.popen.poll() is None, process.failed()
                assert "Traceback" not in process.output(), process.failed()
            for process in processes:
                if process.port is not None:
                    assert healthy(process), process.failed()
