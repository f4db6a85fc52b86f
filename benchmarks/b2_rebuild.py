"""B2: a full rebuild of every read model from the event store of a generated data set,
against the raw rate at which the same store's events are read and decoded in the same
run (`recorder.select_notifications` in batches, `mapper.to_domain_event` for each).
On SQLite and on PostgreSQL. The rebuild leaves the read models caught up, which B4 uses."""

from __future__ import annotations

import sys
import time
from typing import Any

from benchmarks.common import Env, GeneratedStore, Row, every_15_seconds, num, rate, run_only, skipped
from commands.bootstrap import Service, bootstrap
from commands.config import Config

BENCH = "B2"
RATIO_TARGET = 0.5
FULL_EVENTS = 1_000_000
FULL_SECONDS = 90


def read_and_decode(service: Service, batch: int) -> tuple[int, float]:
    """Every event of the store read in batches and decoded; (events, seconds)."""
    recorder, mapper = service.store.recorder, service.store.mapper
    position, count = 0, 0
    started = time.perf_counter()
    while True:
        notifications = recorder.select_notifications(start=position + 1, limit=batch)
        for notification in notifications:
            mapper.to_domain_event(notification)
        count += len(notifications)
        if len(notifications) < batch:
            break
        position = notifications[-1].id
    return count, time.perf_counter() - started


READING = "reading and decoding events"


def time_parts(projector: Any) -> dict[str, float]:
    """Seconds spent reading events and in each projection's handlers and writes, added up
    while a rebuild runs (a clock read around each batch: no profiler, no skew)."""
    parts: dict[str, float] = {}
    read, apply = getattr(projector, "_read", None), getattr(projector, "_apply", None)
    if not callable(read) or not callable(apply):
        return parts

    def timed_read(*args: Any, **kwargs: Any) -> Any:
        begun = time.perf_counter()
        try:
            return read(*args, **kwargs)
        finally:
            parts[READING] = parts.get(READING, 0.0) + time.perf_counter() - begun

    def timed_apply(conn: Any, name: str, *args: Any) -> Any:
        begun = time.perf_counter()
        try:
            return apply(conn, name, *args)
        finally:
            parts[name] = parts.get(name, 0.0) + time.perf_counter() - begun

    projector._read, projector._apply = timed_read, timed_apply
    return parts


def parts_text(parts: dict[str, float], seconds: float) -> str:
    rest = seconds - sum(parts.values())
    shown = sorted(parts.items(), key=lambda i: -i[1]) + [("commits and the rest", rest)]
    return " · ".join(f"{name} {s:.1f} s ({s / seconds:.0%})" for name, s in shown)


def rebuild_everything(env: Env, service: Service, label: str) -> tuple[float, dict[str, float], str]:
    """Rebuild every projection: `rebuild_all` when the projector has it, else one by one.
    (seconds, seconds per projection when rebuilt one by one, how)."""
    projector: Any = service.projector
    started = time.perf_counter()
    progress = every_15_seconds(env.console, f"    {label}: {{done:>10,}} / {{total:,}}")
    each: dict[str, float] = {}
    rebuild_all = getattr(projector, "rebuild_all", None)
    if callable(rebuild_all):
        how = "rebuild_all"
        rebuild_all(progress=progress)
    else:
        how = "rebuild per projection"
        for name in projector.names:
            begun = time.perf_counter()
            projector.rebuild(name, progress=progress)
            each[name] = time.perf_counter() - begun
    return time.perf_counter() - started, each, how


def measure(env: Env, kind: str, store: GeneratedStore) -> list[Row]:
    label = "SQLite" if kind == "sqlite" else "PostgreSQL"
    batch = env.scale.read_batch
    service = bootstrap(Config(database_url=store.url, mode="distributed", blob_dir=env.blob_dir))
    try:
        head = service.store.head()
        env.console.print(f"  B2 {label}: raw read+decode of {head:,} events …")
        events, raw_seconds = read_and_decode(service, batch)
        env.console.print(f"  B2 {label}: rebuilding every read model …")
        parts = time_parts(service.projector)
        with env.profiled(f"B2 {label} rebuild"):
            seconds, each, how = rebuild_everything(env, service, label)
        positions = service.projector.positions()
    finally:
        service.close()
    store.caught_up = min(positions.values(), default=0) >= head
    raw_rate, rebuild_rate = rate(events, raw_seconds), rate(events, seconds)
    ratio = rate(rebuild_rate, raw_rate)
    per_million = seconds * FULL_EVENTS / events if events else float("nan")
    generated = store.summary
    rows = [
        Row(BENCH, f"{label}: generated store",
            f"{generated['events']:,} events, {generated['customers']:,} customers, "
            f"{generated['salespeople']} salespeople, written in {store.seconds:.1f} s "
            f"({num(rate(generated['events'], store.seconds))} events/s)"),
        Row(BENCH, f"{label}: raw read+decode (select_notifications by {batch}, to_domain_event)",
            f"{num(raw_rate)} events/s ({events:,} events, {raw_seconds:.1f} s)"),
        Row(BENCH, f"{label}: full rebuild of every read model ({how}, batch {service.projector.batch})",
            f"{num(rebuild_rate)} events/s ({seconds:.1f} s)"),
        Row(BENCH, f"{label}: ratio rebuild ÷ raw read+decode", f"{ratio:.2f}", f"≥ {RATIO_TARGET}",
            ratio >= RATIO_TARGET),
        Row(BENCH, f"{label}: time for 1M events" + (" (extrapolated linearly)" if events < FULL_EVENTS else ""),
            f"{per_million:.0f} s", f"< {FULL_SECONDS} s", per_million < FULL_SECONDS),
    ]
    if parts:
        rows.append(Row(BENCH, f"{label}: where the rebuild's time goes (each projection: its handlers, "
                        "the rows it preloads and writes)", parts_text(parts, seconds)))
    if each:
        rows.append(Row(BENCH, f"{label}: seconds per projection",
                        " · ".join(f"{name} {s:.1f}" for name, s in sorted(each.items(), key=lambda i: -i[1]))))
    if not store.caught_up:
        rows.append(Row(BENCH, f"{label}: note", f"after the rebuild the read models are at {positions}, "
                        f"the head at {head}"))
    return rows


def run(env: Env) -> list[Row]:
    rows: list[Row] = []
    for kind in env.kinds():
        label = "SQLite" if kind == "sqlite" else "PostgreSQL"
        problem = env.unavailable(kind)
        if problem:
            rows.append(skipped(BENCH, f"{label}: full rebuild", problem, f"ratio ≥ {RATIO_TARGET}"))
            continue
        rows += measure(env, kind, env.generated(kind))
    return rows


def main(argv: list[str] | None = None) -> int:
    return run_only(BENCH, argv)


if __name__ == "__main__":
    sys.exit(main())
