"""The live-update stream's delay across processes: the distributed mode on a fresh PostgreSQL
database (one `crm worker`, two `crm api` processes), a salesperson's stream open on API B,
writes through API A one after another; each write's delay is the time from its answer to the
`change` event naming its customer on B's stream. Prints p50, p95 and the maximum.

    .venv/bin/python -m benchmarks.stream_delay --writes 200

The delay is the worker's poll or kick, the projection, and the stream's poll
(CRM_STREAM_POLL_SECONDS, 0.25 s by default; `--poll` sets it for this run). Nothing here
asserts on it; the tests only check that the events arrive."""

from __future__ import annotations

import argparse
import json
import os
import queue
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import ROOT, PgServer, ms, percentile, postgres_unreachable, redis_unreachable

STARTUP_SECONDS = 120.0


def _events(response: httpx.Response, out: queue.Queue[tuple[float, dict[str, Any]] | None]) -> None:
    """Each `change` event's arrival time and data."""
    fields: dict[str, str] = {}
    try:
        for line in response.iter_lines():
            if not line:
                if fields.get("event") == "change":
                    out.put((time.perf_counter(), json.loads(fields["data"])))
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
    except httpx.HTTPError:
        pass
    out.put(None)


def _wait_healthy(bases: list[str], processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    waiting = list(bases)
    while waiting:
        if any(p.poll() is not None for p in processes):
            raise SystemExit("a process exited while starting; see its log")
        for base in list(waiting):
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    waiting.remove(base)
            except httpx.HTTPError:
                pass
        if time.monotonic() > deadline:
            raise SystemExit(f"not started in {STARTUP_SECONDS:.0f} s: {waiting}")
        time.sleep(0.2)


def measure(database_url: str, redis_url: str, writes: int, poll: float, folder: Path) -> list[float]:
    from commands import messages as m
    from commands.actor import Actor
    from commands.bootstrap import bootstrap
    from commands.config import Config
    from commands.handlers import handle

    key = secrets.token_urlsafe(48)
    seed = bootstrap(Config(database_url=database_url, mode="distributed", secret_key=key))
    system = Actor("system", "system", frozenset({"admin"}), None)
    handle(m.CreatePerson(name="测速", username="bench", password="password123", roles=["sales"]),
           system, seed.deps)
    seed.close()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CRM_")},
           "CRM_MODE": "distributed", "CRM_DATABASE_URL": database_url, "CRM_REDIS_URL": redis_url,
           "CRM_SECRET_KEY": key, "CRM_BLOB_DIR": str(folder / "blobs"), "CRM_STREAM_POLL_SECONDS": str(poll),
           "PYTHONUNBUFFERED": "1"}
    ports = []
    for _ in range(2):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
    commands = [["worker", "--poll", "1.0"]] + [["api", "--host", "127.0.0.1", "--port", str(p)] for p in ports]
    processes = []
    try:
        for n, args in enumerate(commands):
            with (folder / f"process-{n}.log").open("wb") as log:
                processes.append(subprocess.Popen([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=env,
                                                  stdout=log, stderr=subprocess.STDOUT))
        a, b = (f"http://127.0.0.1:{p}" for p in ports)
        _wait_healthy([a, b], processes)
        with httpx.Client(timeout=httpx.Timeout(30.0, read=120.0)) as client:
            token = client.post(f"{a}/api/v1/auth/token", data={"username": "bench", "password": "password123"})
            auth = {"Authorization": "Bearer " + token.json()["access_token"]}
            ticket = client.post(f"{b}/api/v1/stream/tickets", headers=auth).json()["ticket"]
            arrivals: queue.Queue[tuple[float, dict[str, Any]] | None] = queue.Queue()
            with client.stream("GET", f"{b}/api/v1/stream", params={"ticket": ticket}) as response:
                threading.Thread(target=_events, args=(response, arrivals), daemon=True).start()
                delays = []
                for n in range(writes):
                    made = client.post(f"{a}/api/v1/customers", headers=auth,
                                       json={"name": f"测速客户{n:06d}-{secrets.token_hex(3)}", "region": "华东"})
                    answered = time.perf_counter()
                    wanted = made.json()["id"]
                    while True:
                        item = arrivals.get(timeout=60)
                        if item is None:
                            raise SystemExit("the stream ended")
                        at, data = item
                        if any(c["id"] == wanted for c in data["changes"]):
                            delays.append(at - answered)
                            break
                return delays
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stream_delay",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=100)
    parser.add_argument("--poll", type=float, default=0.25, help="CRM_STREAM_POLL_SECONDS of the API processes")
    parser.add_argument("--pg-url", default=os.environ.get("CRM_BENCH_PG_URL",
                                                           "postgresql://postgres@127.0.0.1:5432/postgres"),
                        help="a PostgreSQL server to create a bench_* database on (superuser)")
    parser.add_argument("--redis-url", default=os.environ.get("CRM_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
                        help="the Redis database of the run's kicks")
    args = parser.parse_args(argv)
    for problem in (postgres_unreachable(args.pg_url), redis_unreachable(args.redis_url)):
        if problem:
            print(problem, file=sys.stderr)
            return 2
    server = PgServer(args.pg_url)
    try:
        with tempfile.TemporaryDirectory(prefix="crm-stream-delay-") as folder:
            delays = measure(server.create("stream"), args.redis_url, args.writes, args.poll, Path(folder))
    finally:
        server.drop_all()
    print(f"stream delay over {len(delays)} writes (write's answer on A → change event on B, poll {args.poll}s):")
    print(f"  p50 {ms(percentile(delays, 50))}  p95 {ms(percentile(delays, 95))}  max {ms(max(delays))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
