"""What every benchmark shares: the sizes of a scale, the rows of a result table, fresh
databases (a SQLite file in a temporary folder, or a PostgreSQL database created for the run
and dropped at its end), the generated stores several benchmarks measure, optional
profiles, and small statistics helpers.

Timings use `time.perf_counter`; nothing here asserts on them."""

from __future__ import annotations

import cProfile
import hashlib
import io
import json
import math
import os
import pstats
import secrets
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
SEED = 1

# Benchmarks run the distributed configuration, which needs a signing key: one for this run
# (and the processes it starts), unless one is given.
os.environ.setdefault("CRM_SECRET_KEY", secrets.token_urlsafe(48))


@dataclass(frozen=True)
class Scale:
    """The sizes one run works at. Targets are judged at the full scale only."""

    name: str
    customers: int  # generated store (B2, B4, B3/B5)
    events: int
    b1_commands: int  # commands per backend through the command handlers
    b1_salespeople: int
    b1_history_commands: int  # on the generated store, whose profiles carry long histories
    b3_seconds: float
    b3_clients: int
    b4_calls: int
    b6_rows: int
    read_batch: int = 1000  # notifications per select in B2's raw read


SCALES: dict[str, Scale] = {
    "small": Scale("small", customers=2_000, events=20_000, b1_commands=1_500, b1_salespeople=10,
                   b1_history_commands=500,
                   b3_seconds=20, b3_clients=32, b4_calls=20, b6_rows=1_000),
    # Big enough for the per-event costs of the full scale, small enough to profile.
    "medium": Scale("medium", customers=20_000, events=200_000, b1_commands=3_000, b1_salespeople=50,
                    b1_history_commands=1_000,
                    b3_seconds=30, b3_clients=32, b4_calls=20, b6_rows=5_000),
    "full": Scale("full", customers=100_000, events=1_000_000, b1_commands=10_000, b1_salespeople=100,
                  b1_history_commands=2_000,
                  b3_seconds=60, b3_clients=32, b4_calls=20, b6_rows=10_000),
}


@dataclass
class Row:
    """One line of a benchmark's table. `met` is None where there is no target (or the
    part was skipped)."""

    bench: str
    what: str
    figure: str
    target: str = ""
    met: bool | None = None

    @property
    def met_text(self) -> str:
        return "—" if self.met is None else ("yes" if self.met else "no")


def skipped(bench: str, what: str, reason: str, target: str = "") -> Row:
    return Row(bench, what, f"skipped: {reason}", target, None)


# ---- statistics and formatting ---------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of the values; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "n/a"
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def rate(count: float, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def num(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


# ---- databases -------------------------------------------------------------------------------


class PgServer:
    """A PostgreSQL server reached as a superuser (trust auth): creates databases named
    `bench_<random>` for one run and drops them again. Never touches any other database."""

    def __init__(self, admin_url: str) -> None:
        url = make_url(admin_url)
        self.host = url.host or "127.0.0.1"
        self.port = url.port or 5432
        self.user = url.username or "postgres"
        self.password = url.password
        self.created: list[str] = []

    def connect(self, dbname: str = "postgres") -> Any:
        import psycopg2

        conn = psycopg2.connect(host=self.host, port=self.port, user=self.user, password=self.password,
                                dbname=dbname, connect_timeout=3)
        conn.autocommit = True
        return conn

    def version(self) -> str:
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW server_version")
                return str(cur.fetchone()[0])
        finally:
            conn.close()

    def create(self, label: str) -> str:
        name = f"bench_{label}_{uuid.uuid4().hex[:10]}".lower()
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        self.created.append(name)
        return self.url_of(name)

    def exists(self, name: str) -> bool:
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                return cur.fetchone() is not None
        finally:
            conn.close()

    def url_of(self, name: str) -> str:
        auth = self.user if self.password is None else f"{self.user}:{self.password}"
        return f"postgresql+psycopg2://{auth}@{self.host}:{self.port}/{name}"

    def copy(self, source: str, target: str, keep: bool = False) -> str:
        """A copy of database `source` (no one may be connected to it) named `target`; dropped
        at the end of the run unless `keep`."""
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = %s AND pid <> pg_backend_pid()", (source,))
                if keep:
                    cur.execute(f'DROP DATABASE IF EXISTS "{target}"')
                cur.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
        finally:
            conn.close()
        if not keep:
            self.created.append(target)
        return self.url_of(target)

    def drop_all(self) -> list[str]:
        """Drop every database this object created; the names it could not drop."""
        failed = []
        for name in list(self.created):
            try:
                conn = self.connect()
                try:
                    with conn.cursor() as cur:
                        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
                        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
                finally:
                    conn.close()
                self.created.remove(name)
            except Exception:
                failed.append(name)
        return failed


def postgres_unreachable(admin_url: str) -> str | None:
    """None when the server answers, else why not."""
    try:
        PgServer(admin_url).connect().close()
    except Exception as error:
        url = make_url(admin_url)
        why = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return f"PostgreSQL at {url.host}:{url.port or 5432} unreachable ({why})"
    return None


def redis_unreachable(redis_url: str) -> str | None:
    try:
        import redis

        redis.Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1).ping()
    except Exception as error:
        return f"Redis at {redis_url} unreachable ({type(error).__name__}: {error})"
    return None


@dataclass
class GeneratedStore:
    """A store filled by `benchmarks.generate`; `caught_up` once every read model is at the head."""

    kind: str
    url: str
    summary: dict[str, Any]
    seconds: float
    caught_up: bool = False
    # The event chain at the head as well (a rebuild leaves it where it was).
    chained: bool = False


class Env:
    """The resources of one benchmark run; `close()` drops every database it created and
    removes its temporary folder (also after a failure)."""

    def __init__(self, scale: Scale, pg_url: str, redis_url: str, console: Console | None = None,
                 profile: bool = False, keep_stores: Path | None = None) -> None:
        self.scale = scale
        self.keep_stores = keep_stores
        self.console = console or Console()
        self.tmp = Path(tempfile.mkdtemp(prefix="crm-bench-"))
        self.pg_url = pg_url
        self.redis_url = redis_url
        self.pg_problem = postgres_unreachable(pg_url)
        self.pg = PgServer(pg_url) if self.pg_problem is None else None
        self.redis_problem = redis_unreachable(redis_url)
        self.profile = profile
        self.profiles: dict[str, str] = {}
        self.stores: dict[str, GeneratedStore] = {}
        self.notes: list[str] = []

    # -- databases

    def kinds(self) -> list[str]:
        return ["sqlite", "postgresql"]

    def database(self, kind: str, label: str) -> str:
        """The URL of a new, empty database of that kind."""
        if kind == "sqlite":
            return f"sqlite:///{self.tmp / f'{label}-{uuid.uuid4().hex[:8]}.db'}"
        if self.pg is None:
            raise RuntimeError(self.pg_problem or "PostgreSQL unavailable")
        return self.pg.create(label)

    def unavailable(self, kind: str) -> str | None:
        return self.pg_problem if kind == "postgresql" else None

    @property
    def blob_dir(self) -> str:
        return str(self.tmp / "blobs")

    # -- kept stores (--keep-stores): generating 1,000,000 events takes minutes, so a run may
    # start from a copy of a store an earlier run generated (and caught up) with the same code.

    def _kept(self, kind: str, stage: str) -> tuple[str, str] | None:
        """(name, url) of the kept store for `stage` ("gen", or "up" once caught up), keyed by the
        scale and a digest of the code that shapes it: the generator and the domain for "gen",
        and the read side as well for "up"."""
        if self.keep_stores is None:
            return None
        parts = ["aggregates", "commands", "benchmarks/generate.py"]
        if stage == "up":
            parts += ["projections", "readmodels"]
        digest = hashlib.sha256()
        for part in parts:
            path = ROOT / part
            for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
                digest.update(str(file.relative_to(ROOT)).encode() + b"\0" + file.read_bytes())
        name = f"benchkeep_{self.scale.name}_{stage}_{digest.hexdigest()[:12]}"
        if kind == "sqlite":
            return name, f"sqlite:///{self.keep_stores / (name + '.db')}"
        assert self.pg is not None
        return name, self.pg.url_of(name)

    def _kept_exists(self, kind: str, name: str, url: str) -> bool:
        if kind == "sqlite":
            return Path(make_url(url).database or "").exists()
        assert self.pg is not None
        return self.pg.exists(name)

    def _copy_kept(self, kind: str, name: str, url: str, keep_as: str | None = None) -> str:
        """A working copy of the kept store (or, with `keep_as`, a new kept store copied from it)."""
        if kind == "sqlite":
            file = (self.keep_stores / f"{keep_as}.db" if keep_as and self.keep_stores
                    else self.tmp / f"{name}-{uuid.uuid4().hex[:8]}.db")
            shutil.copyfile(make_url(url).database or "", file)
            return f"sqlite:///{file}"
        assert self.pg is not None
        target = keep_as or f"bench_{name}_{uuid.uuid4().hex[:6]}".lower()
        return self.pg.copy(name, target, keep=keep_as is not None)

    def _from_kept(self, kind: str, stage: str) -> GeneratedStore | None:
        """A working copy of the kept store of that stage, with the generation's summary, or
        None when there is none."""
        kept, gen = self._kept(kind, stage), self._kept(kind, "gen")
        if kept is None or gen is None or self.keep_stores is None or not self._kept_exists(kind, *kept):
            return None
        summary_file = self.keep_stores / f"{gen[0]}.summary"
        if not summary_file.exists():
            return None
        self.console.print(f"  copying the kept store {kept[0]} ({kind}) …")
        saved = json.loads(summary_file.read_text())
        store = GeneratedStore(kind, self._copy_kept(kind, *kept), saved["summary"], saved["seconds"],
                               caught_up=stage == "up", chained=stage == "up")
        self.stores[kind] = store
        return store

    def generated(self, kind: str) -> GeneratedStore:
        """The generated store of that kind, made on first use (the scale's customers and events)."""
        if kind in self.stores:
            return self.stores[kind]
        from benchmarks.generate import generate

        found = self._from_kept(kind, "gen")
        if found is not None:
            return found
        kept = self._kept(kind, "gen")
        url = self.database(kind, "gen")
        scale = self.scale
        self.console.print(f"  generating {scale.customers:,} customers / {scale.events:,} events on {kind} …")
        started = time.perf_counter()
        progress = every_15_seconds(self.console, "    {done:>10,} / {total:,} events")
        summary = generate(url, scale.customers, scale.events, SEED, progress)
        seconds = time.perf_counter() - started
        self.console.print(f"  generated {summary['events']:,} events in {seconds:.1f} s")
        store = GeneratedStore(kind, url, summary, seconds)
        self.stores[kind] = store
        if kept is not None and self.keep_stores is not None:
            self._copy_kept(kind, kind_name(kind, url), url, keep_as=kept[0])
            (self.keep_stores / f"{kept[0]}.summary").write_text(
                json.dumps({"summary": summary, "seconds": seconds}, default=str))
        return store

    def caught_up(self, kind: str) -> GeneratedStore:
        """The generated store with every read model at the head (caught up here when needed)."""
        found = None if kind in self.stores else self._from_kept(kind, "up")
        if found is not None:
            return found
        kept = self._kept(kind, "up")
        store = self.generated(kind)
        if not store.caught_up or not store.chained:
            from commands.bootstrap import bootstrap
            from commands.config import Config

            service = bootstrap(Config(database_url=store.url, mode="distributed", blob_dir=self.blob_dir))
            try:
                started = time.perf_counter()
                self.console.print(f"  catching up the read models and the event chain on {kind} …")
                # A rebuild (B2) leaves the chain where it was: a chain behind the read models
                # gets a slice per catch-up in the service; here it runs to the head at once, so
                # that the load after this measures the steady state, not the chain's backlog.
                service.projector.chain_slice_seconds = float("inf")
                service.projector.catch_up()
                self.console.print(f"  caught up in {time.perf_counter() - started:.1f} s")
            finally:
                service.close()
            store.caught_up = store.chained = True
            if kept is not None:
                self._copy_kept(kind, kind_name(kind, store.url), store.url, keep_as=kept[0])
        return store

    # -- profiles

    @contextmanager
    def profiled(self, label: str) -> Iterator[None]:
        """With --profile, profile the block (cProfile) and keep its top functions."""
        if not self.profile:
            yield
            return
        profiler = cProfile.Profile()
        profiler.enable()
        try:
            yield
        finally:
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("cumulative").print_stats(30)
            stats.sort_stats("tottime").print_stats(20)
            self.profiles[label] = _trim_profile(out.getvalue())

    def close(self) -> None:
        if self.pg is not None:
            failed = self.pg.drop_all()
            if failed:
                self.console.print(f"[red]could not drop {', '.join(failed)}; drop them by hand[/red]")
        shutil.rmtree(self.tmp, ignore_errors=True)


def kind_name(kind: str, url: str) -> str:
    """The database name in a store's URL (a SQLite file's stem)."""
    database = make_url(url).database or ""
    return Path(database).stem if kind == "sqlite" else database


def every_15_seconds(console: Console, line: str) -> Callable[[int, int], None]:
    """A progress callback (done, total) that prints `line` (with {done} and {total}) and the
    seconds since it was made, at most every 15 seconds."""
    started = time.perf_counter()
    last = [started]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] >= 15:
            last[0] = now
            console.print(line.format(done=done, total=total) + f"  {now - started:6.0f} s")

    return progress


def run_only(bench: str, argv: list[str] | None) -> int:
    """`python -m benchmarks.bN_…`: benchmarks/run.py with only that benchmark."""
    from benchmarks.run import main as run_main

    return run_main(["--only", bench, *(argv if argv is not None else sys.argv[1:])])


def _trim_profile(text: str) -> str:
    root = str(ROOT) + "/"
    return "\n".join(line.replace(root, "") for line in text.splitlines() if line.strip())


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


@dataclass
class Outcome:
    """Commands tried, refused (by code) and the events they wrote."""

    done: int = 0
    events: int = 0
    refused: dict[str, int] = field(default_factory=dict)

    def refuse(self, code: str) -> None:
        self.refused[code] = self.refused.get(code, 0) + 1
