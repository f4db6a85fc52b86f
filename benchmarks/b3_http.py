"""B3 and B5 in one run: HTTP load on the distributed mode, and the projection lag under it.

On the generated PostgreSQL store (read models caught up), like scripts/run-distributed.sh:
two `crm worker` processes and two `crm api` processes (CRM_MODE=distributed, a fresh
CRM_SECRET_KEY, Redis on a database number that is empty when the run starts and flushed
at its end). 32 clients — salespeople, and a few managers — each signed in as their own
person, spread over the two API ports, send requests one after another for the run's
seconds: 80% reads (customer lists with filters and searches, a customer's detail, a
report, targets), 20% writes (register a customer, record a visit, claim from the pool,
release to it). The clients are asyncio tasks in the benchmark process, each with its own
keep-alive connection (benchmarks/wire.py, a lean HTTP/1.1 client), so they share the
machine's cores with the servers; the table shows the CPU each part used.

B5: a monitor thread reads the lowest live projection position from `projection_state`
every 20 ms. For every accepted write, the lag is the time from its response (≈ its commit)
to the first sample at which every read model had reached the write's position."""

from __future__ import annotations

import asyncio
import bisect
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import create_engine, func, select, text

from aggregates.settings import DEFAULT_DICTIONARIES, type_names
from benchmarks.common import Env, Row, ms, num, percentile, rate, run_only, skipped
from benchmarks.org import PASSWORD, build_org
from benchmarks.wire import Connection, HttpError
from commands.bootstrap import bootstrap
from commands.config import Config
from readmodels.reports import REPORTS
from readmodels.tables import people, projection_state

B3, B5 = "B3", "B5"
WRITE_SHARE = 0.2
MANAGERS = 4
API_PROCESSES = 2
WORKERS = 2
MONITOR_SECONDS = 0.02
SETTLE_SECONDS = 30
REGIONS: list[str] = DEFAULT_DICTIONARIES["regions"]
SOURCES: list[str] = DEFAULT_DICTIONARIES["sources"]
STAGES: list[str] = DEFAULT_DICTIONARIES["stages"]
TYPES = type_names(DEFAULT_DICTIONARIES["customer_types"])
STATUSES = ["potential", "following", "dealt"]
WORDS = ["科技", "贸易", "信息", "电子", "华东", "北京", "上海", "公司"]
NOTES = ["上门拜访，介绍产品方案", "电话沟通后现场交流需求", "演示系统功能，客户反馈良好", "商务洽谈，讨论报价"]


# ---- the servers --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_database(redis_url: str) -> tuple[str, int]:
    """A database number on the Redis server that holds no keys, and its URL."""
    import redis

    parsed = urlparse(redis_url)
    for db in range(15, 0, -1):
        url = parsed._replace(path=f"/{db}").geturl()
        if redis.Redis.from_url(url, socket_connect_timeout=1).dbsize() == 0:
            return url, db
    raise RuntimeError("no empty Redis database (1..15) to use")


class Processes:
    """The processes this benchmark started; `stop()` ends each one (and its children) by id."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.folder / f"{name}.log").open("wb")
        process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.folder,
                                   start_new_session=True)
        log.close()
        self.running.append((name, process))
        return process

    def check(self) -> None:
        for name, process in self.running:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}: {self.tail(name)}")

    def tail(self, name: str, lines: int = 15) -> str:
        try:
            text = (self.folder / f"{name}.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def tracebacks(self) -> dict[str, int]:
        found = {}
        for name, _ in self.running:
            try:
                count = (self.folder / f"{name}.log").read_text(errors="replace").count("Traceback")
            except OSError:
                count = 0
            if count:
                found[name] = count
        return found

    def stop(self) -> None:
        for _, process in self.running:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)  # its own session: this process and its children
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 15
        for _, process in self.running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=5)


def wait_healthy(ports: list[int], processes: Processes, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    pending = list(ports)
    while pending:
        processes.check()
        if time.monotonic() > deadline:
            raise RuntimeError(f"API on ports {pending} not healthy after {timeout:.0f} s")
        for port in list(pending):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        pending.remove(port)
            except OSError:
                pass
        time.sleep(0.3)


# ---- where the CPU goes -----------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def cpu_by_command(names: tuple[str, ...]) -> dict[str, float]:
    """CPU seconds of every process on the machine whose command name is one of `names`
    (the database and Redis servers), by "name:pid"; read from /proc, nothing else touched."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if name in names:
            found[f"{name}:{entry.name}"] = process_cpu(int(entry.name))
    return found


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all cores since boot."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return 0, 0
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


def cpu_snapshot(processes: Processes) -> dict[str, float]:
    snapshot = {name: process_cpu(p.pid) for name, p in processes.running}
    snapshot["clients (benchmark process)"] = process_cpu(os.getpid())
    snapshot.update(cpu_by_command(("postgres", "redis-server")))
    busy, total = machine_ticks()
    snapshot["_busy"], snapshot["_total"] = float(busy), float(total)
    return snapshot


def cpu_use(before: dict[str, float], after: dict[str, float]) -> str:
    """Per part, the CPU seconds between the snapshots. Server processes are summed per
    command over the pids alive at the end (a backend that ended meanwhile is not counted)."""
    used: dict[str, float] = {}
    for key, value in after.items():
        if key.startswith("_"):
            continue
        name = key.split(":", 1)[0]
        used[name] = used.get(name, 0.0) + max(0.0, value - before.get(key, 0.0))
    parts = [f"{name} {seconds:.1f}" for name, seconds in used.items()]
    total = after["_total"] - before["_total"]
    if total <= 0:
        return " · ".join(parts)
    busy = (after["_busy"] - before["_busy"]) / TICK
    parts.append(f"everything else {max(0.0, busy - sum(used.values())):.1f}")
    return " · ".join(parts) + f"; all cores busy {100 * (after['_busy'] - before['_busy']) / total:.0f}%"


# ---- the lag monitor ------------------------------------------------------------------------------


class LagMonitor(threading.Thread):
    """Samples (moment, lowest live projection position) every 20 ms; and, on the side, how
    many of the database's backends are running a statement and how many wait for a lock."""

    def __init__(self, database_url: str) -> None:
        super().__init__(name="lag-monitor", daemon=True)
        self.engine = create_engine(database_url, pool_size=1)
        self.samples: list[tuple[float, int]] = []
        self.activity: list[tuple[float, int, int]] = []  # (moment, active, waiting for a lock)
        self.statements: list[tuple[float, str]] = []  # (moment, kind of a running statement)
        self.stopping = threading.Event()
        self.failures = 0

    def sample(self) -> None:
        moment = time.perf_counter()  # the statement's snapshot is taken at its start
        with self.engine.connect() as conn:
            found = conn.execute(select(func.min(projection_state.c.position))
                                 .where(projection_state.c.live.is_(True))).scalar()
            self.samples.append((moment, int(found or 0)))
            running = conn.execute(text(
                "SELECT wait_event_type, query FROM pg_stat_activity WHERE state = 'active' "
                "AND datname = current_database() AND pid <> pg_backend_pid()")).all()
            waiting = sum(1 for wait, _ in running if wait == "Lock")
            self.activity.append((moment, len(running), waiting))
            self.statements += [(moment, statement_kind(query, wait == "Lock")) for wait, query in running]

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.sample()
            except Exception:
                self.failures += 1
            self.stopping.wait(MONITOR_SECONDS)

    def reached(self, position: int) -> bool:
        return bool(self.samples) and max(p for _, p in self.samples[-3:]) >= position

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=5)
        self.engine.dispose()


TABLE_NAME = re.compile(r'\b(?:FROM|JOIN|INTO|UPDATE|LOCK TABLE)\s+"?(\w+)"?', re.IGNORECASE)


def statement_kind(query: str, waiting: bool) -> str:
    """A running statement reduced to what it does: its verb, the tables it names and the
    costly shapes in it (count, LIKE), so the samples add up to a profile of the database."""
    words = query.split()
    verb = words[0].upper() if words else "?"
    tables = list(dict.fromkeys(TABLE_NAME.findall(query)))
    marks = [mark for mark, found in (("count", "count(" in query.lower()), ("LIKE", " LIKE " in query.upper()))
             if found]
    kind = f"{verb} {', '.join(tables[:3]) or '-'}" + (f" ({', '.join(marks)})" if marks else "")
    return kind + (" [lock wait]" if waiting else "")


def lags(samples: list[tuple[float, int]], writes: list[tuple[int, float]]) -> tuple[list[float], int]:
    """Seconds from each write's response to the first sample showing its position in every
    read model (0 when that came before the response); and how many writes never showed."""
    times, highest, best = [], [], 0
    for moment, position in samples:
        best = max(best, position)
        times.append(moment)
        highest.append(best)
    found, missing = [], 0
    for position, answered in writes:
        i = bisect.bisect_left(highest, position)
        if i == len(highest):
            missing += 1
        else:
            found.append(max(0.0, times[i] - answered))
    return found, missing


# ---- the clients ----------------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    op: str
    status: int  # 0: no response
    code: str
    seconds: float


@dataclass
class Load:
    samples: list[Sample] = field(default_factory=list)
    writes: list[tuple[int, float]] = field(default_factory=list)  # (position, response moment)
    client_errors: dict[str, int] = field(default_factory=dict)


class Client:
    """One signed-in person sending requests one after another."""

    def __init__(self, number: int, conn: Connection, token: str, manager: bool, load: Load) -> None:
        self.number = number
        self.conn = conn
        self.headers = {"Authorization": f"Bearer {token}"}
        self.manager = manager
        self.load = load
        self.rng = random.Random(number)
        self.own: list[str] = []
        self.registered: dict[str, int] = {}  # customers this client registered → their position
        self.pool: list[str] = []
        self.seen: list[str] = []  # managers: customers of their people
        self.count = 0
        self.reports = sorted(REPORTS)

    async def call(self, kind: str, op: str, method: str, url: str, extra: dict[str, str] | None = None,
                   **kwargs: Any) -> Any:
        started = time.perf_counter()
        body: Any = None
        try:
            status, body = await self.conn.request(method, url, headers={**self.headers, **(extra or {})},
                                                   **kwargs)
            code = ""
            if status >= 400 and isinstance(body, dict) and isinstance(body.get("error"), dict):
                code = str(body["error"].get("code", ""))
        except HttpError as error:
            status, code = 0, str(error)
        ended = time.perf_counter()
        self.load.samples.append(Sample(kind, op, status, code, ended - started))
        if 200 <= status < 300:
            if kind == "write" and isinstance(body, dict) and isinstance(body.get("position"), int):
                self.load.writes.append((body["position"], ended))
            return body
        return None

    async def prepare(self) -> None:
        """What the person starts from (not measured): their customers and the pool."""
        async def items(params: dict[str, Any]) -> list[dict[str, Any]]:
            status, body = await self.conn.request("GET", "/api/v1/customers", params=params, headers=self.headers)
            if status != 200 or not isinstance(body, dict):
                raise RuntimeError(f"cannot list customers: {status} {body}")
            return list(body.get("items", []))

        if self.manager:
            self.seen = [c["id"] for c in await items({"page_size": 200}) if c.get("owner_id")]
            return
        self.own = [c["id"] for c in await items({"scope": "mine", "page_size": 200})]
        self.pool = [c["id"] for c in await items({"scope": "pool", "page_size": 200})]

    async def run(self, deadline: float) -> None:
        while time.perf_counter() < deadline:
            try:
                if self.rng.random() < WRITE_SHARE:
                    await (self.manager_write() if self.manager else self.write())
                else:
                    await self.read()
            except Exception as error:  # a bug in the client must not end the run
                name = type(error).__name__
                self.load.client_errors[name] = self.load.client_errors.get(name, 0) + 1

    # -- reads

    async def read(self) -> None:
        rng = self.rng
        op = rng.choices(["list", "search", "pool", "detail", "report", "targets"],
                         weights=[25, 10, 15, 20, 15, 15])[0]
        if op == "pool" and self.manager:
            op = "list"
        if op == "list":
            params: dict[str, Any] = {"page_size": 20, "sort": rng.choice(["-created_at", "-updated_at", "name"])}
            if not self.manager:
                params["scope"] = "mine"
            if rng.random() < 0.5:
                params["status"] = rng.choice(STATUSES)
            if rng.random() < 0.5:
                params["region"] = rng.choice(REGIONS)
            await self.call("read", "list customers", "GET", "/api/v1/customers", params=params)
        elif op == "search":
            await self.call("read", "search customers", "GET", "/api/v1/customers",
                            params={"q": rng.choice(WORDS), "page_size": 20})
        elif op == "pool":
            body = await self.call("read", "list pool", "GET", "/api/v1/customers",
                                   params={"scope": "pool", "region": rng.choice(REGIONS), "page_size": 50})
            if body:
                self.pool = list(dict.fromkeys(self.pool + [c["id"] for c in body.get("items", [])]))[-500:]
        elif op == "detail":
            choices = self.seen if self.manager else (self.own or self.pool)
            if not choices:
                await self.call("read", "targets", "GET", "/api/v1/targets")
                return
            customer_id = rng.choice(choices)
            # Read-your-writes (API.md): a customer registered moments ago may not be projected yet.
            wait = {"X-Min-Position": str(self.registered[customer_id])} if customer_id in self.registered else {}
            await self.call("read", "customer detail", "GET", f"/api/v1/customers/{customer_id}", extra=wait)
        elif op == "report":
            await self.call("read", "report", "GET", f"/api/v1/reports/{rng.choice(self.reports)}",
                            params={"year": 2026, "month": 11})
        else:
            await self.call("read", "targets", "GET", "/api/v1/targets")

    # -- writes

    async def write(self) -> None:
        rng = self.rng
        op = rng.choices(["visit", "register", "claim", "release"], weights=[50, 25, 15, 10])[0]
        if op in ("visit", "release") and not self.own:
            op = "register"
        if op == "claim" and not self.pool:
            op = "register"
        if op == "visit":
            await self.call("write", "record visit", "POST", f"/api/v1/customers/{rng.choice(self.own)}/visits",
                            json_body={"notes": rng.choice(NOTES), "address": "客户办公室",
                                  "stage": rng.choice(STAGES) if rng.random() < 0.3 else None})
        elif op == "register":
            self.count += 1
            body = await self.call("write", "register customer", "POST", "/api/v1/customers", json_body={
                "name": f"压测客户{self.number}-{self.count}-{secrets.token_hex(4)}有限公司",
                "type": rng.choice(TYPES), "source": rng.choice(SOURCES), "region": rng.choice(REGIONS),
                "address": "上海市人民路1号", "contacts": [{"name": "张先生", "phone": "13800000000"}]})
            if body:
                self.own.append(body["id"])
                self.registered[body["id"]] = body["position"]
        elif op == "claim":
            customer_id = self.pool.pop(rng.randrange(len(self.pool)))
            if await self.call("write", "claim from pool", "POST", f"/api/v1/customers/{customer_id}/claim"):
                self.own.append(customer_id)
        else:
            customer_id = self.own.pop(rng.randrange(len(self.own)))
            if await self.call("write", "release to pool", "POST", f"/api/v1/customers/{customer_id}/release",
                               json_body={"reason": "客户暂无需求"}):
                self.pool.append(customer_id)
            else:
                self.own.append(customer_id)

    async def manager_write(self) -> None:
        if not self.seen:
            await self.read()
            return
        await self.call("write", "record visit", "POST", f"/api/v1/customers/{self.rng.choice(self.seen)}/visits",
                        json_body={"notes": "经理陪同拜访"})


async def sign_in(conn: Connection, username: str) -> str:
    status, body = 0, None
    for _ in range(20):
        try:
            status, body = await conn.request("POST", "/api/v1/auth/token",
                                              form={"username": username, "password": PASSWORD})
        except HttpError:
            status = 0
        if status == 200 and isinstance(body, dict):
            return str(body["access_token"])
        await asyncio.sleep(0.5)
    raise RuntimeError(f"{username} cannot sign in: {status} {body}")


async def drive(ports: list[int], accounts: list[tuple[str, bool]], seconds: float, load: Load,
                mark: Any = None) -> tuple[float, float]:
    """Run the clients for `seconds`, each over its own keep-alive connection to one of the
    API ports in turn; (start, end of the last response). `mark()` is called just before
    the load starts and just after it ends."""
    conns = [Connection("127.0.0.1", ports[n % len(ports)]) for n in range(len(accounts))]
    try:
        clients = []
        for n, (username, manager) in enumerate(accounts):
            clients.append(Client(n, conns[n], await sign_in(conns[n], username), manager, load))
        await asyncio.gather(*(client.prepare() for client in clients))
        if mark is not None:
            mark()
        started = time.perf_counter()
        await asyncio.gather(*(client.run(started + seconds) for client in clients))
        ended = time.perf_counter()
        if mark is not None:
            mark()
        return started, ended
    finally:
        for conn in conns:
            await conn.close()


# ---- the benchmark ---------------------------------------------------------------------------------


def accounts_for(env: Env, url: str, clients: int) -> tuple[list[tuple[str, bool]], str]:
    """Usernames for the clients — salespeople, and MANAGERS managers — creating salespeople
    when the store has too few; and a description."""
    service = bootstrap(Config(database_url=url, mode="distributed", blob_dir=env.blob_dir))
    try:
        def load_people() -> tuple[list[str], list[str]]:
            with service.store.engine.connect() as conn:
                rows = conn.execute(select(people.c.username, people.c.roles, people.c.is_salesperson)
                                    .where(people.c.active.is_(True)).order_by(people.c.username)).all()
            sellers = [r.username for r in rows if r.is_salesperson]
            bosses = [r.username for r in rows if "manager" in (r.roles or [])]
            return sellers, bosses

        sellers, bosses = load_people()
        wanted = clients - min(MANAGERS, len(bosses))
        created = 0
        if len(sellers) < wanted:
            created = wanted - len(sellers)
            build_org(service, created, prefix="b3", cap=2000)
            service.projector.catch_up()
            sellers, bosses = load_people()
    finally:
        service.close()
    managers = bosses[:MANAGERS]
    chosen = [(u, False) for u in sellers[:clients - len(managers)]] + [(u, True) for u in managers]
    note = (f"{len(chosen) - len(managers)} salespeople, {len(managers)} managers"
            + (f" ({created} salespeople added for the run)" if created else ""))
    return chosen, note


# The operations whose p95 under the load has a target of its own.
SEARCHED = ("search customers", "list pool")


def run(env: Env) -> list[Row]:
    # The targets of docs/spec.md (B-): ahead of a plain state-based service on the same load.
    targets3 = {"requests": "≥ 450 requests/s", "errors": "0 responses ≥ 500", "p99": "p99 < 250 ms",
                "writes": "≥ 90 writes/s", "search": "search and pool p95 < 50 ms"}
    problem = env.unavailable("postgresql") or env.redis_problem
    if problem:
        return [skipped(B3, "HTTP load", problem, "; ".join(targets3.values())),
                skipped(B5, "projection lag", problem, "p99 < 250 ms")]
    scale = env.scale
    store = env.caught_up("postgresql")
    accounts, who = accounts_for(env, store.url, scale.b3_clients)
    redis_url, db = redis_database(env.redis_url)
    folder = env.tmp / "b3"
    folder.mkdir(exist_ok=True)
    ports = [free_port() for _ in range(API_PROCESSES)]
    crm = str(Path(sys.executable).with_name("crm"))
    process_env = {**os.environ, "CRM_MODE": "distributed", "CRM_DATABASE_URL": store.url,
                   "CRM_REDIS_URL": redis_url, "CRM_SECRET_KEY": secrets.token_hex(32),
                   "CRM_BLOB_DIR": str(folder / "blobs"), "CRM_SWEEP_MINUTES": "0"}
    processes = Processes(folder)
    monitor = LagMonitor(store.url)
    load = Load()
    try:
        for n in range(WORKERS):
            processes.start(f"worker{n + 1}", [crm, "worker"], process_env)
        for n, port in enumerate(ports):
            processes.start(f"api{n + 1}", [crm, "api", "--port", str(port)], process_env)
        env.console.print(f"  B3: {WORKERS} workers, {API_PROCESSES} API processes on ports "
                          f"{', '.join(map(str, ports))}, Redis db {db}; waiting for them …")
        wait_healthy(ports, processes)
        monitor.start()
        head = store_head(store.url)
        wait_for(lambda: monitor.reached(head), 120, processes, "the read models to reach the head")
        env.console.print(f"  B3: {len(accounts)} clients ({who}) for {scale.b3_seconds:g} s …")
        snapshots: list[dict[str, float]] = []
        started, ended = asyncio.run(drive(ports, accounts, scale.b3_seconds, load,
                                           lambda: snapshots.append(cpu_snapshot(processes))))
        cpu = cpu_use(snapshots[0], snapshots[1])
        highest = max((p for p, _ in load.writes), default=0)
        settle_started = time.perf_counter()
        wait_for(lambda: monitor.reached(highest), SETTLE_SECONDS, processes, "", raise_on_timeout=False)
        settle = time.perf_counter() - settle_started
        monitor.stop()
        processes.check()
        tracebacks = processes.tracebacks()
        if tracebacks:
            first = next(iter(tracebacks))
            env.console.print(f"[yellow]tracebacks in the server logs {tracebacks}; {first}:[/yellow]\n"
                              f"{processes.tail(first, 30)}")
    finally:
        monitor.stopping.set()
        processes.stop()
        flush_redis(redis_url)
    return figures(load, started, ended, settle, monitor, tracebacks, ports, db, who, store.summary, targets3,
                   cpu)


def store_head(url: str) -> int:
    from commands.adapters.store import open_store

    store = open_store(url)
    try:
        return store.head()
    finally:
        store.engine.dispose()


def wait_for(condition: Any, timeout: float, processes: Processes, what: str,
             raise_on_timeout: bool = True) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        processes.check()
        if time.monotonic() > deadline:
            if raise_on_timeout:
                raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
            return
        time.sleep(0.05)


def flush_redis(redis_url: str) -> None:
    try:
        import redis

        redis.Redis.from_url(redis_url, socket_connect_timeout=1).flushdb()
    except Exception:
        pass


def figures(load: Load, started: float, ended: float, settle: float, monitor: LagMonitor,
            tracebacks: dict[str, int], ports: list[int], db: int, who: str, summary: dict[str, Any],
            targets: dict[str, str], cpu: str) -> list[Row]:
    samples = load.samples
    seconds = ended - started
    reads = [s for s in samples if s.kind == "read"]
    writes = [s for s in samples if s.kind == "write"]
    accepted_writes = [s for s in writes if 200 <= s.status < 300]
    server_errors = [s for s in samples if s.status >= 500]
    failed = [s for s in samples if s.status == 0]
    refused: dict[str, int] = {}
    for s in samples:
        if 400 <= s.status < 500:
            key = f"{s.status} {s.code} ({s.op})"
            refused[key] = refused.get(key, 0) + 1
    every = [s.seconds for s in samples]
    p99 = percentile(every, 99)
    write_rate = rate(len(accepted_writes), seconds)

    def spread(values: list[float]) -> str:
        return (f"p50 {ms(percentile(values, 50))} · p95 {ms(percentile(values, 95))} · "
                f"p99 {ms(percentile(values, 99))}")

    per_op: dict[str, list[float]] = {}
    for s in samples:
        per_op.setdefault(s.op, []).append(s.seconds)
    rows = [
        Row(B3, "set-up", f"{API_PROCESSES} `crm api` (ports {', '.join(map(str, ports))}), "
            f"{WORKERS} `crm worker`, Redis db {db}; {who}; store of {summary['events']:,} generated events; "
            f"clients: asyncio tasks in the benchmark process, one keep-alive connection each"),
        Row(B3, "requests", f"{len(samples):,} in {seconds:.1f} s: {num(rate(len(samples), seconds))} requests/s "
            f"({num(rate(len(reads), seconds))} reads/s, {num(rate(len(writes), seconds))} writes/s sent)",
            targets["requests"], rate(len(samples), seconds) >= 450),
        Row(B3, "accepted writes", f"{num(write_rate, 1)} writes/s ({len(accepted_writes):,} of {len(writes):,})",
            targets["writes"], write_rate >= 90),
        Row(B3, "latency, all requests", spread(every), targets["p99"], p99 < 0.25),
        Row(B3, "latency, reads", spread([s.seconds for s in reads])),
        Row(B3, "latency, writes", spread([s.seconds for s in writes])),
        Row(B3, "responses ≥ 500", f"{len(server_errors)}" + (
            " (" + ", ".join(sorted({f'{s.status} {s.code}'.strip() for s in server_errors})) + ")"
            if server_errors else ""), targets["errors"], not server_errors),
        Row(B3, "4xx responses by status and code",
            ", ".join(f"{k} {v}" for k, v in sorted(refused.items(), key=lambda i: -i[1])) or "none"),
        Row(B3, "search and pool under the load (p95)", " · ".join(
            f"{op} {ms(percentile(per_op.get(op, []), 95))}" for op in SEARCHED), targets["search"],
            all(percentile(per_op.get(op, []), 95) < 0.05 for op in SEARCHED)),
        Row(B3, "per operation (count, p50 / p95)", " · ".join(
            f"{op} {len(v):,} {ms(percentile(v, 50))} / {ms(percentile(v, 95))}"
            for op, v in sorted(per_op.items(), key=lambda i: -len(i[1])))),
        Row(B3, f"CPU seconds used during the {seconds:.0f} s load", cpu),
    ]
    during = [(a, w) for moment, a, w in monitor.activity if started <= moment <= ended]
    if during:
        rows.append(Row(B3, "PostgreSQL backends of the store, sampled every 20 ms",
                        f"running a statement: mean {sum(a for a, _ in during) / len(during):.1f}, "
                        f"max {max(a for a, _ in during)} · waiting for a lock: mean "
                        f"{sum(w for _, w in during) / len(during):.1f}, max {max(w for _, w in during)}"))
    kinds = Counter(kind for moment, kind in monitor.statements if started <= moment <= ended)
    if kinds:
        seen = sum(kinds.values())
        rows.append(Row(B3, "what the backends were running (share of sampled running statements)", " · ".join(
            f"{kind} {count / seen:.0%}" for kind, count in kinds.most_common(10))))
    if failed or load.client_errors or tracebacks:
        rows.append(Row(B3, "other errors", f"no response {len(failed)}; "
                        f"client exceptions {load.client_errors or 0}; "
                        f"tracebacks in server logs {tracebacks or 0}"))
    found, missing = lags(monitor.samples, load.writes)
    lag99 = percentile(found, 99)
    rows += [
        Row(B5, "lag: visible in every read model − response of the write",
            f"p50 {ms(percentile(found, 50))} · p95 {ms(percentile(found, 95))} · p99 {ms(lag99)} · "
            f"max {ms(max(found, default=float('nan')))} ({len(found):,} writes)", "p99 < 250 ms",
            bool(found) and lag99 < 0.25 and not missing),
        Row(B5, "how", f"{len(monitor.samples):,} samples of min(projection_state.position) every "
            f"{MONITOR_SECONDS * 1000:.0f} ms (failed samples {monitor.failures}); "
            f"commit time ≈ response arrival; caught up {settle:.1f} s after the load"),
    ]
    if missing:
        rows.append(Row(B5, "writes not visible", f"{missing} writes not in every read model "
                        f"{SETTLE_SECONDS} s after the load", "0", False))
    return rows


def main(argv: list[str] | None = None) -> int:
    return run_only("B3", argv)


if __name__ == "__main__":
    sys.exit(main())
