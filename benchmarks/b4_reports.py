"""B4: every report of `readmodels.reports.REPORTS`, called directly through `run_report`
(no HTTP: the same query an API request runs, with the settings lookup the route does
and a pooled connection per call), as the admin and as a department manager, for the
default period with `today` the generator's last business day (2026-11-23, so this month
and this year hold data), page size 50, on the generated store with its read models caught
up. One untimed call first, then the timed ones (5 instead of 20 for a report whose first
call took over 2 s); p50 and p95 per report and viewer.

Then the reports over current state that take `as_of` (S-12..S-16, S-19, Q-4, Q-11), each
asked with `as_of` the recorded time of the event in the middle of the store (by position),
the same way: their rows from the version tables as they stood then."""

from __future__ import annotations

import sys
import time
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from benchmarks.common import Env, GeneratedStore, Row, ms, percentile, run_only, skipped
from commands.actor import Actor
from commands.bootstrap import bootstrap
from commands.config import Config
from readmodels.org import current_settings
from readmodels.reports import REPORTS, run_report
from readmodels.tables import people

BENCH = "B4"
TODAY = date(2026, 11, 23)
TARGET_SECONDS = 0.05
TARGET = "p95 < 50 ms"
SLOW_SECONDS = 2.0


def viewer_of(conn: Any, username: str) -> Actor:
    row = conn.execute(select(people).where(people.c.username == username)).mappings().first()
    if row is None:
        raise RuntimeError(f"no person {username!r} in the read models")
    return Actor(str(row["id"]), row["name"], frozenset(row["roles"] or []), row["department_id"])


def measure(env: Env, kind: str, store: GeneratedStore) -> list[Row]:
    label = "SQLite" if kind == "sqlite" else "PostgreSQL"
    calls = env.scale.b4_calls
    service = bootstrap(Config(database_url=store.url, mode="distributed", blob_dir=env.blob_dir))
    engine = service.store.engine
    rows: list[Row] = []
    worst: list[tuple[float, str]] = []
    try:
        with engine.connect() as conn:
            viewers = {"admin": viewer_of(conn, "admin"), "manager": viewer_of(conn, "manager01")}
        env.console.print(f"  B4 {label}: {len(REPORTS)} reports × {len(viewers)} viewers × {calls} calls …")

        def call(report_id: str, viewer: Actor) -> dict[str, Any]:
            with engine.connect() as conn:
                tree = current_settings(conn)["dictionaries"]["customer_types"]
                return run_report(conn, viewer, report_id, today=TODAY, type_tree=tree, page_size=50,
                                  as_of=as_of)

        as_of: datetime | None = None
        middle = middle_moment(service)
        for pass_ in ("live", "as_of"):
            if pass_ == "as_of":
                as_of = middle
                env.console.print(f"  B4 {label}: the reports over current state as of {middle.isoformat()} …")
            measured = [(report_id, spec) for report_id, spec in REPORTS.items() if pass_ == "live" or spec.past]
            rows += timed(env, label, pass_, measured, viewers, calls, call, worst)
    finally:
        service.close()
    failing = [r for r in rows if r.met is False]
    slowest = sorted(worst, reverse=True)[:3]
    summary = Row(BENCH, f"{label}: reports with p95 < 100 ms for both viewers",
                  f"{len(rows) - len(failing)} of {len(rows)}; slowest: "
                  + ", ".join(f"{what} {ms(p95)}" for p95, what in slowest), TARGET, not failing)
    return [summary, *rows]


def middle_moment(service: Any) -> datetime:
    """The recorded time of the event halfway through the store, by position."""
    recorder, mapper = service.store.recorder, service.store.mapper
    head = recorder.max_notification_id() or 1
    [notification] = list(recorder.select_notifications(start=max(head // 2, 1), limit=1))
    moment: datetime = mapper.to_domain_event(notification).timestamp
    return moment


def timed(env: Env, label: str, pass_: str, measured: list[tuple[str, Any]], viewers: dict[str, Actor],
          calls: int, call: Any, worst: list[tuple[float, str]]) -> list[Row]:
    rows: list[Row] = []
    suffix = " (as_of)" if pass_ == "as_of" else ""
    with env.profiled(f"B4 {label} reports{suffix}"):
        for report_id, spec in measured:
            figures, p95s, totals = [], [], []
            for name, viewer in viewers.items():
                started = time.perf_counter()
                totals.append(f"{call(report_id, viewer)['total']:,}")
                # A report far over its target is called fewer times, so a run cannot take hours.
                times = calls if time.perf_counter() - started < SLOW_SECONDS else min(calls, 5)
                seconds = []
                for _ in range(times):
                    started = time.perf_counter()
                    call(report_id, viewer)
                    seconds.append(time.perf_counter() - started)
                p50, p95 = percentile(seconds, 50), percentile(seconds, 95)
                p95s.append(p95)
                worst.append((p95, f"{report_id}{suffix} as {name}"))
                fewer = f" ({times} calls)" if times < calls else ""
                figures.append(f"{name} {ms(p50)} / {ms(p95)}{fewer}")
            rows.append(Row(BENCH, f"{label}: {report_id} {spec.title}{suffix}",
                            f"{' · '.join(figures)} (p50 / p95; rows {' / '.join(totals)})",
                            TARGET, max(p95s) < TARGET_SECONDS))
    return rows


def run(env: Env) -> list[Row]:
    rows: list[Row] = []
    for kind in env.kinds():
        label = "SQLite" if kind == "sqlite" else "PostgreSQL"
        problem = env.unavailable(kind)
        if problem:
            rows.append(skipped(BENCH, f"{label}: reports", problem, TARGET))
            continue
        rows += measure(env, kind, env.caught_up(kind))
    return rows


def main(argv: list[str] | None = None) -> int:
    return run_only(BENCH, argv)


if __name__ == "__main__":
    sys.exit(main())
