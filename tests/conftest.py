"""Test wiring: each run gets its own PostgreSQL database (created, then dropped), each
test a fresh schema or SQLite file. With CRM_REQUIRE_SERVICES=1 the run fails when
PostgreSQL or Redis cannot be reached, instead of skipping their tests.

In parallel (`pytest -n 2`, docs/testing.md) every worker process is a session of its own:
it makes and drops its own database and uses a Redis database number of its own, so the
workers' queues and kicks never meet. The controller process, which runs no tests, only
checks that the services answer."""

from __future__ import annotations

import os
import secrets
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from fastapi.testclient import TestClient

from aggregates.base import DomainError
from api.main import create_app
from commands import messages as m
from commands.actor import Actor
from commands.adapters.clock import ManualClock
from commands.bootstrap import Service, bootstrap
from commands.config import Config
from commands.handlers import handle

PG_HOST = os.environ.get("CRM_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("CRM_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("CRM_TEST_PG_USER", "postgres")
REDIS_PORT = int(os.environ.get("CRM_TEST_REDIS_PORT", "6379"))
REQUIRED = os.environ.get("CRM_REQUIRE_SERVICES") == "1"
# The parallel worker this process is ("gw0", "gw1", ...); empty in a serial run.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
WORKER_INDEX = int(WORKER[2:]) if WORKER.startswith("gw") and WORKER[2:].isdigit() else 0
# Redis has 16 database numbers: the lower half for the sessions' queues and kicks, one per
# worker, the upper half for the processes a test starts (tests/integration/test_startup.py).
MAX_WORKERS = 8

_pg_database: str | None = None
_pg_reachable = False
# The run's signing key for stores that need one (PostgreSQL, the distributed mode): random,
# so no key in the repository ever signs a test's tokens. Services on a SQLite file in the
# embedded mode make their own key file, as `make run` does.
TEST_SECRET_KEY = secrets.token_urlsafe(48)


def _admin_connection() -> Any:
    conn = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", connect_timeout=3)
    conn.autocommit = True
    return conn


REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/{WORKER_INDEX}"


def redis_url(processes: bool = False) -> str:
    """This session's Redis database; `processes=True`: the one for the processes a test starts."""
    if not _redis_reachable():
        pytest.skip("Redis is not reachable (set CRM_REQUIRE_SERVICES=1 to fail instead)")
    if processes:
        return f"redis://127.0.0.1:{REDIS_PORT}/{MAX_WORKERS + WORKER_INDEX}"
    return REDIS_URL


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", REDIS_PORT), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _is_controller(config: pytest.Config) -> bool:
    """The parallel run's controller: it hands the tests to the workers and runs none itself."""
    return not hasattr(config, "workerinput") and getattr(config.option, "dist", "no") != "no"


def pytest_sessionstart(session: pytest.Session) -> None:
    global _pg_database, _pg_reachable
    workers = len(getattr(session.config.option, "tx", None) or ()) if _is_controller(session.config) else 0
    if workers > MAX_WORKERS or WORKER_INDEX >= MAX_WORKERS:
        pytest.exit(f"at most {MAX_WORKERS} parallel workers (Redis database numbers), not {workers or WORKER}",
                    returncode=3)
    problems = []
    try:
        conn = _admin_connection()
    except psycopg2.OperationalError as error:
        problems.append(f"PostgreSQL at {PG_HOST}:{PG_PORT}: {error}".strip())
    else:
        _pg_reachable = True
        if not _is_controller(session.config):
            tag = f"{WORKER}_" if WORKER else ""
            _pg_database = f"crm_test_{tag}{os.getpid()}_{uuid.uuid4().hex[:8]}"
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{_pg_database}"')
        conn.close()
    if not _redis_reachable():
        problems.append(f"Redis at 127.0.0.1:{REDIS_PORT} does not answer PING")
    if problems and REQUIRED:
        pytest.exit("CRM_REQUIRE_SERVICES=1 but: " + "; ".join(problems), returncode=3)


# The terminal size that GNU readline writes into the process environment when pytest imports
# it. The workers inherit that environment from the controller. A worker would then see
# COLUMNS=80, and the console that the command line makes at import would keep that width
# for every `crm check` a test runs, whatever COLUMNS the test passes. Each worker starts from
# the controller's own values instead.
TERMINAL_VARIABLES = ("COLUMNS", "LINES")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    node.workerinput["terminal_environment"] = {name: os.environ.get(name) for name in TERMINAL_VARIABLES}


def pytest_configure(config: pytest.Config) -> None:
    inherited = getattr(config, "workerinput", {}).get("terminal_environment")
    for name, value in (inherited or {}).items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def pytest_report_header(config: pytest.Config) -> list[str]:
    if _pg_database:
        pg = f"database {_pg_database} (PostgreSQL tests run)"
    elif _pg_reachable:
        pg = "a database of each worker's own (PostgreSQL tests run)"
    else:
        pg = "unreachable (tests skipped)"
    return [f"PostgreSQL: {pg}", f"Redis: {'reachable' if _redis_reachable() else 'unreachable'}",
            f"CRM_REQUIRE_SERVICES={'1' if REQUIRED else '0'}"]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _pg_database is None:
        return
    conn = _admin_connection()
    with conn.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (_pg_database,)
        )
        cur.execute(f'DROP DATABASE IF EXISTS "{_pg_database}"')
    conn.close()


def postgres_url() -> str:
    if _pg_database is None:
        pytest.skip("PostgreSQL is not reachable (set CRM_REQUIRE_SERVICES=1 to fail instead)")
    conn = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=_pg_database)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    conn.close()
    return f"postgresql+psycopg2://{PG_USER}@{PG_HOST}:{PG_PORT}/{_pg_database}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/crm.db"
    return postgres_url()


@pytest.fixture
def pg_url() -> str:
    return postgres_url()


@pytest.fixture(autouse=True)
def signing_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """CRM_SECRET_KEY for the configurations a test builds from the environment or without a
    key (the distributed mode, PostgreSQL); `make_service` keeps the embedded SQLite services
    on their key files. A test of the key's absence removes it."""
    monkeypatch.setenv("CRM_SECRET_KEY", TEST_SECRET_KEY)
    return TEST_SECRET_KEY


@pytest.fixture(autouse=True)
def session_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    """CRM_REDIS_URL for a configuration read from the environment: this session's Redis
    database, never another worker's or the default one of a service on this machine."""
    monkeypatch.setenv("CRM_REDIS_URL", REDIS_URL)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 2, 1, 0, tzinfo=UTC))


def make_service(url: str, clock: ManualClock, blob_dir: Path | None = None) -> Service:
    # On a SQLite file no key is given, so the service makes its key file beside the database.
    config = Config(database_url=url, mode="embedded",
                    secret_key="" if url.startswith("sqlite") else TEST_SECRET_KEY)
    if blob_dir is not None:
        config.blob_dir = str(blob_dir)
    return bootstrap(config, clock=clock)


@pytest.fixture
def service(database_url: str, clock: ManualClock, tmp_path: Path) -> Iterator[Service]:
    svc = make_service(database_url, clock, tmp_path / "blobs")
    yield svc
    svc.close()


SYSTEM = Actor("system", "system", frozenset({"admin"}), None)
ADMIN_PASSWORD = "admin-password"


class Http:
    """A thin client that signs in and speaks the API's JSON."""

    def __init__(self, client: TestClient, read_own_writes: bool = False) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}
        # Distributed mode: send the last write's position with every read (X-Min-Position).
        self.read_own_writes = read_own_writes
        self.position = 0

    def _seen(self, response: Any) -> Any:
        if self.read_own_writes and response.headers.get("content-type", "").startswith("application/json"):
            body = response.json()
            if isinstance(body, dict) and isinstance(body.get("position"), int):
                self.position = max(self.position, body["position"])
        return response

    def _read_headers(self) -> dict[str, str]:
        return {"X-Min-Position": str(self.position)} if self.read_own_writes else {}

    def login(self, username: str, password: str) -> dict[str, str]:
        response = self.client.post("/api/v1/auth/token", data={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": "Bearer " + response.json()["access_token"]}

    def as_(self, username: str, password: str = "password123") -> dict[str, str]:
        if username not in self.tokens:
            self.tokens[username] = self.login(username, password)["Authorization"]
        return {"Authorization": self.tokens[username]}

    def get(self, path: str, who: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        all_headers = {**self.as_(who), **self._read_headers(), **(headers or {})}
        return self._seen(self.client.get("/api/v1" + path, headers=all_headers, **kw))

    def post(self, path: str, who: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        all_headers = {**self.as_(who), **(headers or {})}
        return self._seen(self.client.post("/api/v1" + path, headers=all_headers, **kw))

    def patch(self, path: str, who: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        all_headers = {**self.as_(who), **(headers or {})}
        return self._seen(self.client.patch("/api/v1" + path, headers=all_headers, **kw))

    def put(self, path: str, who: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        all_headers = {**self.as_(who), **(headers or {})}
        return self._seen(self.client.put("/api/v1" + path, headers=all_headers, **kw))

    def delete(self, path: str, who: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        all_headers = {**self.as_(who), **(headers or {})}
        return self._seen(self.client.delete("/api/v1" + path, headers=all_headers, **kw))


@pytest.fixture
def http(service: Service) -> Iterator[Http]:
    handle(m.CreatePerson(name="管理员", username="root", password=ADMIN_PASSWORD, roles=["admin"]),
           SYSTEM, service.deps)
    with TestClient(create_app(service, background=False)) as client:
        h = Http(client)
        h.tokens["root"] = h.login("root", ADMIN_PASSWORD)["Authorization"]
        yield h


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_together(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Start n threads at the same moment; collect each one's result or refusal code."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except DomainError as error:
            results[i] = error.code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def read_model_snapshot(service: Service) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model row, table by table, in a stable order: for comparing with a rebuild."""
    from sqlalchemy import select

    from readmodels.tables import metadata

    with service.store.engine.connect() as conn:
        return {
            t.name: sorted(tuple(map(repr, row)) for row in conn.execute(select(t)))
            for t in metadata.sorted_tables if t.name.startswith("rm_")
        }


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is a 4xx in the error shape of API.md."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "field", "details"}
    if code is not None:
        assert error["code"] == code, error
    return dict(error)
