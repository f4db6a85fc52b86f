"""B1: the command path. A mix of registrations (into one's own hands and into the pool),
claims, visits and deals, for several salespeople, through the handlers in `commands/`,
one command after another, on SQLite and on PostgreSQL. The service is wired in the
distributed mode with no kick, so no read model is caught up inside the measured path.

Twice per backend: on a fresh store with a new organisation, and on the scale's generated
store, where customers and salesperson profiles carry their generated histories (visits and
deals go to customers the generated salespeople hold).

In the same run, a bare `eventsourcing` application (benchmarks/baseline.py) writes the
same events — per command the same aggregates with as many new events each, in one save,
after giving each aggregate the history the CRM's had — into its own fresh store of the
same kind; the figure is the ratio of the two event rates."""

from __future__ import annotations

import random
import sys
import time
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from aggregates.base import DomainError
from aggregates.organisation import Salesperson
from benchmarks.baseline import Bare, SaveRecorder, Shape
from benchmarks.common import Env, Outcome, Row, num, rate, run_only, skipped
from benchmarks.org import build_org
from commands import messages as m
from commands.actor import Actor
from commands.adapters.infra import credentials
from commands.base import load_settings
from commands.bootstrap import Service, bootstrap
from commands.config import Config
from commands.handlers import handle

BENCH = "B1"
LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
TARGET = "ratio ≥ 0.8"
GROWTH = 1.5  # a command kind on the generated store costs at most this many times its cost on a fresh one
WEIGHTS = {"register": 20, "register_to_pool": 10, "claim": 10, "visit": 45, "deal": 15}
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "西安", "南京", "沈阳"]
WORDS = ["华信", "恒通", "博远", "瑞丰", "金诚", "天合", "中科", "宏达", "远景", "明德"]
NOTES = ["上门拜访，介绍产品方案", "电话沟通后现场交流需求", "演示系统功能，客户反馈良好", "商务洽谈，讨论报价"]


class Mix:
    """Chooses and runs the commands; keeps who holds which customer and what is in the pool."""

    def __init__(self, service: Service, salespeople: list[Actor], owned: list[tuple[str, Actor]],
                 seed: int) -> None:
        self.deps = service.deps
        self.salespeople = salespeople
        self.rng = random.Random(seed)
        settings = load_settings(self.deps)
        d = settings.dictionaries
        self.regions: list[str] = list(d["regions"])
        self.sources: list[str] = list(d["sources"])
        self.stages: list[str] = list(d["stages"])
        self.types = [child["name"] for t in d["customer_types"] for child in t.get("children", [])] or \
            [t["name"] for t in d["customer_types"]]
        self.owned = list(owned)
        self.pool: list[str] = []
        self.count = 0
        self.kinds = list(WEIGHTS)
        self.weights = [WEIGHTS[k] for k in self.kinds]
        self.outcome = Outcome()
        self.seconds: dict[str, float] = {}
        self.done: dict[str, int] = {}

    def seller(self) -> Actor:
        return self.rng.choice(self.salespeople)

    def step(self) -> None:
        kind = self.rng.choices(self.kinds, weights=self.weights)[0]
        if kind == "claim" and not self.pool:
            kind = "register_to_pool"
        if kind in ("visit", "deal") and not self.owned:
            kind = "register"
        started = time.perf_counter()
        try:
            getattr(self, kind)()
            self.outcome.done += 1
        except DomainError as error:
            self.outcome.refuse(error.code)
        self.seconds[kind] = self.seconds.get(kind, 0.0) + time.perf_counter() - started
        self.done[kind] = self.done.get(kind, 0) + 1

    def register(self, to_pool: bool = False) -> None:
        rng = self.rng
        self.count += 1
        city = rng.choice(CITIES)
        seller = self.seller()
        command = m.RegisterCustomer(
            name=f"{city}{rng.choice(WORDS)}压测{self.count}号科技有限公司", type=rng.choice(self.types),
            source=rng.choice(self.sources), region=rng.choice(self.regions),
            address=f"{city}市人民路{rng.randint(1, 999)}号", contacts=[
                {"name": "张先生", "phone": f"138{rng.randrange(10 ** 8):08d}", "title": "采购经理"}],
            to_pool=to_pool,
        )
        customer_id = handle(command, seller, self.deps).ids["id"]
        if to_pool:
            self.pool.append(customer_id)
        else:
            self.owned.append((customer_id, seller))

    def register_to_pool(self) -> None:
        self.register(to_pool=True)

    def claim(self) -> None:
        customer_id = self.pool.pop(self.rng.randrange(len(self.pool)))
        seller = self.seller()
        handle(m.ClaimCustomer(customer_id), seller, self.deps)
        self.owned.append((customer_id, seller))

    def visit(self) -> None:
        customer_id, owner = self.rng.choice(self.owned)
        stage = self.rng.choice(self.stages) if self.rng.random() < 0.3 else None
        handle(m.RecordVisit(customer_id=customer_id, notes=self.rng.choice(NOTES), stage=stage,
                             address="客户办公室"), owner, self.deps)

    def deal(self) -> None:
        customer_id, owner = self.rng.choice(self.owned)
        self.count += 1
        command = m.SignContract(customer_id=customer_id, number=f"HT-B1-{self.count:07d}", name="年度采购合同",
                                 amount=Decimal(self.rng.randrange(5_000, 500_000)))
        handle(command, owner, self.deps)


def sellers_of(service: Service) -> list[Actor]:
    """The generated salespeople (`sales001`…), from the credentials and the event store
    alone: B1 does not need the read models."""
    with service.store.engine.connect() as conn:
        rows = conn.execute(select(credentials.c.person_id, credentials.c.username)
                            .where(credentials.c.username.like("sales%")).order_by(credentials.c.username)).all()
    found = []
    for person_id, username in rows:
        if service.store.find(Salesperson.id_for(person_id), Salesperson) is not None:
            found.append(Actor(str(person_id), username, frozenset({"sales"}), None))
    return found


def measure(env: Env, kind: str, url: str, commands: int, fresh: bool) -> tuple[dict[str, Any], list[Shape], int]:
    """Run the mix on the store at `url` (an organisation is made first on a fresh store);
    the figures, the shapes of the saves, how many of them were set-up."""
    service = bootstrap(Config(database_url=url, mode="distributed", blob_dir=env.blob_dir))
    recorder = SaveRecorder(service.store)
    try:
        if fresh:
            salespeople = build_org(service, env.scale.b1_salespeople).salespeople
            owned: list[tuple[str, Actor]] = []
        else:
            salespeople = sellers_of(service)
            owned = []
            for seller in salespeople:
                profile = service.store.find(Salesperson.id_for(seller.person_id), Salesperson)
                owned += [(customer_id, seller) for customer_id in (profile.held if profile else [])]
        setup = len(recorder.shapes)
        mix = Mix(service, salespeople, owned, seed=1)
        head = service.store.head()
        where = "fresh store" if fresh else f"generated store ({head:,} events, {len(owned):,} held customers)"
        env.console.print(f"  B1 {LABELS[kind]}, {where}: {commands:,} commands "
                          f"by {len(salespeople)} salespeople …")
        with env.profiled(f"B1 {LABELS[kind]} command path, {'fresh' if fresh else 'generated'} store"):
            started = time.perf_counter()
            for _ in range(commands):
                mix.step()
            seconds = time.perf_counter() - started
        events = service.store.head() - head
    finally:
        service.close()
    figures = {"commands": commands, "seconds": seconds, "events": events, "mix": mix,
               "salespeople": len(salespeople), "head": head}
    return figures, recorder.shapes, setup


def bare_run(env: Env, kind: str, shapes: list[Shape], setup: int) -> tuple[int, float, int]:
    """The bare application over its own fresh store: the set-up saves and the histories
    untimed, then the measured saves timed; (events, seconds, events written beforehand)."""
    bare = Bare(env.database(kind, "b1bare"))
    try:
        for shape in shapes[:setup]:
            bare.command(shape)
        before = bare.prepare(shapes[setup:])
        started = time.perf_counter()
        events = sum(bare.command(shape) for shape in shapes[setup:])
        return events, time.perf_counter() - started, before
    finally:
        bare.close()


def rows_for(kind: str, fresh: bool, figures: dict[str, Any], saves: int,
             bare: tuple[int, float, int]) -> list[Row]:
    label = f"{LABELS[kind]}, {'fresh store' if fresh else 'generated store'}"
    commands, seconds, events, mix = figures["commands"], figures["seconds"], figures["events"], figures["mix"]
    bare_events, bare_seconds, bare_before = bare
    ratio = rate(rate(events, seconds), rate(bare_events, bare_seconds))
    per_kind = " · ".join(f"{k} {num(rate(mix.done[k], mix.seconds[k]))}/s"
                          for k in mix.kinds if mix.done.get(k))
    where = (f"{figures['salespeople']} new salespeople" if fresh else
             f"{figures['salespeople']} generated salespeople, store of {figures['head']:,} events")
    rows = [
        Row(BENCH, f"{label}: commands through commands/ ({where})",
            f"{num(rate(commands, seconds))} commands/s · {num(rate(events, seconds))} events/s "
            f"({commands:,} commands, {events:,} events, {seconds:.1f} s)"),
        Row(BENCH, f"{label}: bare eventsourcing application, the same events"
            + ("" if fresh else f" (histories as long as the CRM's: {bare_before:,} events written first)"),
            f"{num(rate(saves, bare_seconds))} saves/s · {num(rate(bare_events, bare_seconds))} events/s "
            f"({saves:,} saves, {bare_events:,} events, {bare_seconds:.1f} s)"),
        Row(BENCH, f"{label}: ratio (events/s, commands ÷ bare)", f"{ratio:.2f}", TARGET, ratio >= 0.8),
        Row(BENCH, f"{label}: per command kind", per_kind),
    ]
    if mix.outcome.refused:
        rows.append(Row(BENCH, f"{label}: refused commands",
                        ", ".join(f"{code} {n}" for code, n in sorted(mix.outcome.refused.items()))))
    if saves != mix.outcome.done or bare_events != events:
        rows.append(Row(BENCH, f"{label}: note", f"{saves} saves for {mix.outcome.done} accepted commands; "
                        f"bare wrote {bare_events} events for the CRM's {events}"))
    return rows


def run_backend(env: Env, kind: str, fresh: bool) -> tuple[list[Row], dict[str, float]]:
    if fresh:
        url, commands = env.database(kind, "b1"), env.scale.b1_commands
    else:
        store = env.generated(kind)
        url, commands = store.url, env.scale.b1_history_commands
    try:
        figures, shapes, setup = measure(env, kind, url, commands, fresh)
    finally:
        if not fresh:
            store.caught_up = False  # the mix added events the read models have not seen
    bare = bare_run(env, kind, shapes, setup)
    rates = {k: rate(figures["mix"].done[k], figures["mix"].seconds[k]) for k in figures["mix"].kinds
             if figures["mix"].done.get(k)}
    return rows_for(kind, fresh, figures, len(shapes) - setup, bare), rates


def growth_row(kind: str, fresh: dict[str, float], generated: dict[str, float]) -> Row:
    """Whether a command costs more when its aggregates carry long histories: each kind's cost
    per command on the generated store against the fresh store's."""
    factors = {k: fresh[k] / generated[k] for k in fresh if generated.get(k)}
    worst = max(factors.values(), default=float("nan"))
    return Row(BENCH, f"{LABELS[kind]}: cost per command, generated ÷ fresh store",
               " · ".join(f"{k} {f:.2f}×" for k, f in factors.items()), f"every kind ≤ {GROWTH}×",
               bool(factors) and worst <= GROWTH)


def run(env: Env) -> list[Row]:
    rows: list[Row] = []
    rates: dict[tuple[str, bool], dict[str, float]] = {}
    for fresh in (True, False):
        for kind in env.kinds():
            problem = env.unavailable(kind)
            if problem:
                rows.append(skipped(BENCH, f"{LABELS[kind]}: command path", problem, TARGET))
                continue
            found, rates[kind, fresh] = run_backend(env, kind, fresh)
            rows += found
    for kind in env.kinds():
        if (kind, True) in rates and (kind, False) in rates:
            rows.append(growth_row(kind, rates[kind, True], rates[kind, False]))
    return rows


def main(argv: list[str] | None = None) -> int:
    return run_only(BENCH, argv)


if __name__ == "__main__":
    sys.exit(main())

