"""The live-update stream (`GET /stream`, `POST /stream/tickets`): single-use tickets, never
the access token in the URL; per-viewer visibility of the changes; resuming after
Last-Event-ID; the end of a stream whose session ends; and two API processes of the
distributed mode, where a write through one reaches a stream opened on the other.

The streams are read from real uvicorn servers (a thread around the test's service, or
processes), since the test client waits for a response to finish and a stream never does."""

from __future__ import annotations

import json
import os
import queue
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select

import api.routes.stream as stream_module
from api.main import create_app
from commands import messages as m
from commands.bootstrap import Service, bootstrap
from commands.config import Config
from commands.handlers import handle
from readmodels.tables import stream_tickets
from tests.conftest import SYSTEM, Http, assert_error, free_port, postgres_url, redis_url
from tests.e2e.helpers import ok, org_with_two_salespeople

# Starts servers and processes: in a parallel run one worker takes all such modules.
pytestmark = pytest.mark.xdist_group("processes")

ROOT = Path(__file__).resolve().parents[2]
WAIT = 30.0  # generous: what a client waits for an event; the delay itself is a benchmark's


@dataclass
class Event:
    event: str
    id: str | None
    data: dict[str, Any]


class Stream:
    """An SSE client on its own thread: the events it reads, in order, in a queue."""

    def __init__(self, url: str, params: dict[str, str], headers: dict[str, Any] | None = None) -> None:
        self.events: queue.Queue[Event | BaseException | None] = queue.Queue()
        self.client = httpx.Client(timeout=httpx.Timeout(10.0, read=120.0))
        self._context = self.client.stream("GET", url, params=params, headers=headers)
        self.response = self._context.__enter__()
        self.seen: list[Event] = []
        if self.response.status_code == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            for line in self.response.iter_lines():
                if not line:
                    if "data" in fields:
                        self.events.put(Event(fields.get("event", "message"), fields.get("id"),
                                              json.loads(fields["data"])))
                    fields = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(":")
                    fields[name] = value[1:] if value.startswith(" ") else value
            self.events.put(None)
        except BaseException as error:  # closed under it, or the server went away
            self.events.put(error)

    def next(self, timeout: float = WAIT) -> Event | None:
        """The next event; None when the stream ended."""
        item = self.events.get(timeout=timeout)
        if isinstance(item, BaseException):
            return None
        if item is not None:
            self.seen.append(item)
        return item

    def until(self, found: Callable[[Event], bool], timeout: float = WAIT) -> Event:
        deadline = time.monotonic() + timeout
        while True:
            event = self.next(max(0.01, deadline - time.monotonic()))
            assert event is not None, f"the stream ended; seen: {self.seen}"
            if found(event):
                return event

    def hears_of(self, record_id: str, timeout: float = WAIT) -> None:
        """Waits for a change event naming the record, unless one already seen named it: one
        event may name several records, and an earlier wait may have read it."""
        if record_id not in ids_in(self.seen):
            self.until(mentions(record_id), timeout)

    def close(self) -> None:
        self.response.close()
        self.client.close()


def mentions(record_id: str) -> Callable[[Event], bool]:
    return lambda e: e.event == "change" and any(c["id"] == record_id for c in e.data["changes"])


def ids_in(events: list[Event]) -> set[str]:
    return {c["id"] for e in events if e.event == "change" for c in e.data["changes"]}


@pytest.fixture
def live(service: Service, http: Http) -> Iterator[str]:
    """The test's service served by uvicorn on a thread: its base URL."""
    service.config.stream_poll_seconds = 0.05
    service.config.stream_ping_seconds = 0.3
    server = uvicorn.Server(uvicorn.Config(create_app(service, background=False), host="127.0.0.1",
                                           port=free_port(), log_level="warning", lifespan="off",
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def org(http: Http) -> dict[str, Any]:
    ids = org_with_two_salespeople(http)
    made = http.post("/people", "root", json={"name": "Kim", "username": "keeper", "password": "password123",
                                              "department_id": ids["dept"], "roles": ["warehouse"]})
    ids["keeper"] = ok(made)["id"]
    return ids


def ticket(http: Http, who: str) -> str:
    made = ok(http.post("/stream/tickets", who))
    assert set(made) == {"ticket", "expires_at"}
    return str(made["ticket"])


def open_stream(live: str, http: Http, who: str, **params: str) -> Stream:
    stream = Stream(f"{live}/api/v1/stream", {"ticket": ticket(http, who), **params})
    assert stream.response.status_code == 200, stream.response.read()
    assert stream.response.headers["content-type"].startswith("text/event-stream")
    return stream


# ---- tickets --------------------------------------------------------------------------------------

def test_a_ticket_opens_one_stream_once(live: str, http: Http, org: dict[str, Any], service: Service) -> None:
    made = ok(http.post("/stream/tickets", "alice"))
    assert made["expires_at"].endswith(("Z", "+00:00"))
    first = Stream(f"{live}/api/v1/stream", {"ticket": made["ticket"]})
    try:
        assert first.response.status_code == 200
        ready = first.next()
        assert ready is not None and ready.event == "ready"
        assert ready.id == str(ready.data["position"])
        again = http.client.get("/api/v1/stream", params={"ticket": made["ticket"]})
        assert_error(again, 401, "ticket_used")
    finally:
        first.close()
    # Only a hash is kept: the table does not hold the ticket.
    with service.store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(stream_tickets)).mappings()]
    assert rows and all(made["ticket"] not in json.dumps(r, default=str) for r in rows)


def test_tickets_expire(http: Http, org: dict[str, Any], clock: Any) -> None:
    made = ticket(http, "alice")
    clock.advance(seconds=61)
    assert_error(http.client.get("/api/v1/stream", params={"ticket": made}), 401, "ticket_expired")


def test_the_stream_takes_a_ticket_and_never_a_token(http: Http, org: dict[str, Any]) -> None:
    token = http.as_("alice")["Authorization"].removeprefix("Bearer ")
    assert_error(http.client.get("/api/v1/stream"), 401, "ticket_required")
    # The bearer header does not open it either: the stream's only credential is a ticket.
    assert_error(http.client.get("/api/v1/stream", headers=http.as_("alice")), 401, "ticket_required")
    in_url = http.client.get("/api/v1/stream", params={"access_token": token})
    assert in_url.status_code in (400, 422) and in_url.json()["error"]["code"] in ("token_in_url",
                                                                                    "unknown_parameter")
    # A token passed as the ticket is no ticket.
    assert_error(http.client.get("/api/v1/stream", params={"ticket": token}), 401, "invalid_ticket")
    for odd in ("x" * 1000, "票据\u202e", "' OR 1=1 --"):
        assert_error(http.client.get("/api/v1/stream", params={"ticket": odd}), 401, "invalid_ticket")
    assert http.client.get("/api/v1/stream", params={"ticket": "x" * 1001}).status_code == 422
    # Tickets are issued to the signed-in only.
    assert_error(http.client.post("/api/v1/stream/tickets"), 401, "not_authenticated")
    assert_error(http.client.post("/api/v1/stream/tickets", headers={"Authorization": "Bearer nonsense"}),
                 401, "invalid_token")


def test_a_ticket_of_an_ended_session_opens_nothing(http: Http, org: dict[str, Any]) -> None:
    made = ticket(http, "alice")
    assert http.post("/auth/logout", "alice").status_code == 204
    assert_error(http.client.get("/api/v1/stream", params={"ticket": made}), 401, "session_ended")


# ---- what each viewer is told ---------------------------------------------------------------------

def test_each_viewer_hears_of_what_they_may_see(live: str, http: Http, org: dict[str, Any]) -> None:
    streams = {who: open_stream(live, http, who) for who in ("alice", "bob", "boss", "keeper", "root")}
    try:
        for stream in streams.values():
            assert stream.until(lambda e: e.event == "ready")
        bobs = ok(http.post("/customers", "bob", json={"name": "鲍勃的私有客户", "region": "华东"}))
        product = ok(http.post("/products", "keeper", json={"name": "服务器", "spec": "R740", "unit": "台"}))
        alices = ok(http.post("/customers", "alice", json={"name": "爱丽丝的客户", "region": "华南"}))
        # Alice hears of her own customer and of the product, never of Bob's private customer,
        # though it changed before hers: the stream tells in the order of the positions.
        told = streams["alice"].until(mentions(alices["id"]))
        assert told.data["position"] >= alices["position"] and told.id == str(told.data["position"])
        assert {"kind": "customer", "id": alices["id"]} in told.data["changes"]
        assert product["id"] in ids_in(streams["alice"].seen)
        assert bobs["id"] not in ids_in(streams["alice"].seen)
        # Their manager and the admin hear of both; Bob of his own, not of Alice's.
        for who in ("boss", "root"):
            streams[who].until(mentions(alices["id"]))
            assert bobs["id"] in ids_in(streams[who].seen), who
        streams["bob"].until(mentions(bobs["id"]))
        # The keeper hears of the product, not of the customers.
        streams["keeper"].until(mentions(product["id"]))
        streams["bob"].hears_of(product["id"])
        assert alices["id"] not in ids_in(streams["bob"].seen)
        # The position is one to read with: the record is there at once.
        read = http.client.get(f"/api/v1/customers/{alices['id']}", headers={
            **http.as_("alice"), "X-Min-Position": str(told.data["position"]), "X-Wait-Seconds": "0"})
        assert read.status_code == 200, read.text
    finally:
        for stream in streams.values():
            stream.close()
    assert ids_in(streams["keeper"].seen).isdisjoint({alices["id"], bobs["id"]})


def test_who_loses_sight_of_a_customer_hears_of_it(live: str, http: Http, org: dict[str, Any]) -> None:
    bobs = ok(http.post("/customers", "bob", json={"name": "将转走的客户", "region": "华东"}))
    bob = open_stream(live, http, "bob")
    alice = open_stream(live, http, "alice")
    try:
        bob.until(lambda e: e.event == "ready")
        moved = ok(http.post(f"/customers/{bobs['id']}/transfer", "boss", json={"to_person_id": org["alice"]}), 200)
        # Bob no longer sees it, and is told (the id only), so his list drops it; Alice now sees it.
        assert bob.until(mentions(bobs["id"])).data["position"] >= moved["position"]
        alice.until(mentions(bobs["id"]))
        assert http.get(f"/customers/{bobs['id']}", "bob").status_code == 404
    finally:
        bob.close()
        alice.close()


# ---- resuming -------------------------------------------------------------------------------------

def test_a_stream_resumes_after_the_last_event_id(live: str, http: Http, org: dict[str, Any]) -> None:
    first = open_stream(live, http, "alice")
    ready = first.until(lambda e: e.event == "ready")
    first.close()
    missed = ok(http.post("/customers", "alice", json={"name": "断线期间的客户", "region": "华东"}))
    hidden = ok(http.post("/customers", "bob", json={"name": "别人的客户", "region": "华东"}))
    # The header, as an EventSource sends when it reconnects...
    again = Stream(f"{live}/api/v1/stream", {"ticket": ticket(http, "alice")}, {"Last-Event-ID": str(ready.id)})
    try:
        caught_up = again.next()
        assert caught_up is not None and caught_up.event == "change", again.seen
        assert [c["id"] for c in caught_up.data["changes"]] == [missed["id"]]
        assert caught_up.data["position"] >= hidden["position"]
        after = again.next()
        assert after is not None and after.event == "ready" and after.id == caught_up.id
    finally:
        again.close()
    # ...or the query parameter, for a new EventSource, which sends no header.
    by_query = open_stream(live, http, "alice", last_event_id=str(ready.id))
    try:
        assert by_query.until(lambda e: e.event != "ping").data["changes"] == [{"kind": "customer",
                                                                                "id": missed["id"]}]
    finally:
        by_query.close()
    # Nothing missed: no change, just ready at the given position.
    current = open_stream(live, http, "alice", last_event_id=str(caught_up.id))
    try:
        event = current.next()
        assert event is not None and event.event == "ready" and event.id == caught_up.id
    finally:
        current.close()


def test_a_stream_too_far_behind_is_told_to_reload(live: str, http: Http, org: dict[str, Any],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    ok(http.post("/customers", "alice", json={"name": "一个客户", "region": "华东"}))
    monkeypatch.setattr(stream_module, "BACKLOG", 1)
    behind = open_stream(live, http, "alice", last_event_id="0")
    try:
        reset = behind.next()
        assert reset is not None and reset.event == "reset" and reset.data["reason"] == "too_far_behind"
        ready = behind.next()
        assert ready is not None and ready.event == "ready" and ready.id == reset.id
    finally:
        behind.close()
    for odd in ("banana", "-1", "99999999999", "１２".encode(), "1e3"):
        stream = Stream(f"{live}/api/v1/stream", {"ticket": ticket(http, "alice")}, {"Last-Event-ID": odd})
        try:
            event = stream.next()
            assert event is not None and event.event == "reset", odd
            assert event.data["reason"] == "unknown_position"
        finally:
            stream.close()


# ---- the end of a session -------------------------------------------------------------------------

def test_a_stream_ends_with_its_session(live: str, http: Http, org: dict[str, Any]) -> None:
    signed_out = open_stream(live, http, "alice")
    deactivated = open_stream(live, http, "bob")
    try:
        signed_out.until(lambda e: e.event == "ping")  # keep-alive events carry the position
        assert http.post("/auth/logout", "alice").status_code == 204
        assert signed_out.until(lambda e: e.event == "end").data == {"code": "session_ended"}
        assert signed_out.next() is None
        ok(http.patch(f"/people/{org['bob']}", "root", json={"active": False}), 200)
        assert deactivated.until(lambda e: e.event == "end").data["code"] in ("invalid_token", "session_ended")
        assert deactivated.next() is None
    finally:
        signed_out.close()
        deactivated.close()


# ---- two API processes (the distributed mode) -----------------------------------------------------

def _environment(database_url: str, tmp: Path, key: str) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    return {**inherited, "CRM_MODE": "distributed", "CRM_DATABASE_URL": database_url,
            "CRM_REDIS_URL": redis_url(processes=True), "CRM_SECRET_KEY": key,
            "CRM_BLOB_DIR": str(tmp / "blobs"), "CRM_STREAM_POLL_SECONDS": "0.2", "PYTHONUNBUFFERED": "1"}


@pytest.mark.postgres
def test_a_write_through_one_process_reaches_a_stream_on_another(tmp_path: Path) -> None:
    url = postgres_url()
    key = secrets.token_urlsafe(48)
    seed = bootstrap(Config(database_url=url, mode="distributed", secret_key=key))
    try:
        for username, roles in (("root", ["admin"]), ("alice", ["sales"]), ("bob", ["sales"])):
            handle(m.CreatePerson(name=username, username=username, password="password123", roles=roles),
                   SYSTEM, seed.deps)
    finally:
        seed.close()
    env = _environment(url, tmp_path, key)
    ports = [free_port(), free_port()]
    commands = [["worker", "--poll", "0.2"]] + [["api", "--host", "127.0.0.1", "--port", str(p)] for p in ports]
    processes: list[tuple[subprocess.Popen[bytes], Path]] = []
    try:
        for n, args in enumerate(commands):
            log = tmp_path / f"process-{n}.log"
            with log.open("wb") as out:
                processes.append((subprocess.Popen([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=env,
                                                   stdout=out, stderr=subprocess.STDOUT), log))
        a, b = (f"http://127.0.0.1:{p}" for p in ports)
        _wait_healthy([a, b], processes)
        with httpx.Client(timeout=30) as client:
            def sign_in(base: str, who: str) -> dict[str, str]:
                made = client.post(f"{base}/api/v1/auth/token", data={"username": who, "password": "password123"})
                assert made.status_code == 200, made.text
                return {"Authorization": "Bearer " + made.json()["access_token"]}

            alice_a, alice_b, bob_a = sign_in(a, "alice"), sign_in(b, "alice"), sign_in(a, "bob")
            # A ticket issued by A opens the stream on B, once: the tickets live in the database.
            issued = client.post(f"{a}/api/v1/stream/tickets", headers=alice_a)
            assert issued.status_code == 201, issued.text
            stream = Stream(f"{b}/api/v1/stream", {"ticket": issued.json()["ticket"]})
            try:
                assert stream.response.status_code == 200, stream.response.read()
                assert stream.until(lambda e: e.event == "ready")
                reused = client.get(f"{a}/api/v1/stream", params={"ticket": issued.json()["ticket"]})
                assert reused.status_code == 401 and reused.json()["error"]["code"] == "ticket_used"
                hidden = client.post(f"{a}/api/v1/customers", headers=bob_a,
                                     json={"name": "鲍勃经进程甲", "region": "华东"})
                written = client.post(f"{a}/api/v1/customers", headers=alice_a,
                                      json={"name": "经进程甲写入", "region": "华东"})
                assert hidden.status_code == 201 and written.status_code == 201, written.text
                told = stream.until(mentions(written.json()["id"]))
                assert told.data["position"] >= written.json()["position"]
                assert hidden.json()["id"] not in ids_in(stream.seen)
                read = client.get(f"{b}/api/v1/customers/{written.json()['id']}",
                                  headers={**alice_b, "X-Min-Position": str(told.data["position"]),
                                           "X-Wait-Seconds": "0"})
                assert read.status_code == 200, read.text
            finally:
                stream.close()
        for popen, log in processes:
            assert popen.poll() is None, log.read_text(errors="replace")[-3000:]
    finally:
        for popen, _ in processes:
            if popen.poll() is None:
                popen.send_signal(signal.SIGTERM)
        for popen, _ in processes:
            try:
                popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait(timeout=10)


def _wait_healthy(bases: list[str], processes: list[tuple[subprocess.Popen[bytes], Path]]) -> None:
    deadline = time.monotonic() + 90  # three interpreters importing the service at once on two cores
    waiting = list(bases)
    while waiting:
        for popen, log in processes:
            assert popen.poll() is None, log.read_text(errors="replace")[-3000:]
        for base in list(waiting):
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    waiting.remove(base)
            except httpx.HTTPError:
                pass
        assert time.monotonic() < deadline, f"not started: {waiting}"
        time.sleep(0.2)
