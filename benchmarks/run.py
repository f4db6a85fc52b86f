"""Run the benchmarks B1–B6, print one table per benchmark and write them, with the date,
the machine and the commit, to a file of their own in benchmarks/history/; a full-scale run
also rewrites the summary at the top of benchmarks/RESULTS.md (its rows with a target).

    .venv/bin/python -m benchmarks.run [--scale small|full] [--only B1,B4]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--redis-url redis://127.0.0.1:6379]
        [--profile] [--no-append]

`small` (the default, a few minutes) checks that every path runs; the targets are judged
at `full` (100 salespeople, 100,000 customers, 1,000,000 events). Every database is made
for the run (a SQLite file in a temporary folder, or `bench_*` PostgreSQL databases) and
dropped at its end; parts whose PostgreSQL or Redis cannot be reached are skipped."""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import signal
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from rich.console import Console
from rich.table import Table

from benchmarks.common import ROOT, SCALES, Env, Row, Scale

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HISTORY = RESULTS.parent / "history"
# RESULTS.md's summary of the latest full-scale run lies between these lines.
SUMMARY_START = "<!-- latest full-scale run: written by benchmarks/run.py -->"
SUMMARY_END = "<!-- end of the latest full-scale run -->"
TITLES = {
    "B1": "command path through commands/, against a bare eventsourcing application",
    "B2": "full rebuild of every read model, against the raw read+decode rate",
    "B3": "HTTP load, distributed mode (PostgreSQL + Redis, 2 API processes, 2 workers)",
    "B4": "every report, p50/p95 over repeated calls",
    "B5": "projection lag under the B3 load",
    "B6": "import of customers from CSV on the embedded SQLite store",
}
MODULES = {"B1": "benchmarks.b1_commands", "B2": "benchmarks.b2_rebuild", "B3": "benchmarks.b3_http",
           "B4": "benchmarks.b4_reports", "B6": "benchmarks.b6_import"}
# B2 first: its rebuild leaves the generated stores caught up for B4; B1 (which adds events
# to the generated stores) after B4, and B3 (which catches the PostgreSQL one up again and
# writes to it) last. B5 is measured inside B3's run.
ORDER = ["B2", "B4", "B1", "B6", "B3"]


def machine() -> dict[str, str]:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0
    try:
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load = "unknown"
    return {"cpu": cpu, "cores": str(cores), "memory": memory, "load": load,
            "os": f"{platform.system()} {platform.release()}", "python": platform.python_version()}


def git_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head or 'unknown'}{' + uncommitted changes' if dirty else ''}"


def versions(env: Env) -> str:
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for package in ("eventsourcing", "eventsourcing-sqlalchemy", "SQLAlchemy"):
        try:
            found.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            pass
    if env.pg is not None:
        try:
            found.append(f"PostgreSQL {env.pg.version()}")
        except Exception:
            pass
    if env.redis_problem is None:
        try:
            import redis

            info = redis.Redis.from_url(env.redis_url, socket_connect_timeout=1).info("server")
            found.append(f"Redis {info.get('redis_version', '?')}")
        except Exception:
            pass
    return ", ".join(found)


def sizes(scale: Scale) -> str:
    return (f"generated store {scale.customers:,} customers / {scale.events:,} events; "
            f"B1 {scale.b1_commands:,} commands by {scale.b1_salespeople} salespeople per backend on a fresh "
            f"store and {scale.b1_history_commands:,} on the generated one; "
            f"B3 {scale.b3_clients} clients for {scale.b3_seconds:g} s; B4 {scale.b4_calls} calls per report "
            f"and viewer; B6 {scale.b6_rows:,} rows")


def table(bench: str, rows: list[Row]) -> Table:
    shown = Table(title=f"{bench} — {TITLES[bench]}", title_justify="left", show_lines=False)
    shown.add_column("what", overflow="fold", ratio=3)
    shown.add_column("figure", overflow="fold", ratio=4)
    shown.add_column("target", overflow="fold")
    shown.add_column("met", justify="center")
    for row in rows:
        colour = {"yes": "green", "no": "red"}.get(row.met_text)
        shown.add_row(row.what, row.figure, row.target, f"[{colour}]{row.met_text}[/{colour}]" if colour
                      else row.met_text)
    return shown


def markdown(bench: str, rows: list[Row]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [f"### {bench} — {TITLES[bench]}", "", "| what | figure | target | met |", "|---|---|---|---|"]
    lines += [f"| {cell(r.what)} | {cell(r.figure)} | {cell(r.target)} | {r.met_text} |" for r in rows]
    return "\n".join(lines) + "\n"


def append_results(env: Env, started_at: datetime, seconds: float, results: dict[str, list[Row]],
                   argv: list[str], info: dict[str, str]) -> Path:
    """Write the run to benchmarks/history/<date>-<time>-<scale>.md, and for a full-scale run
    the summary in RESULTS.md; the history file's path."""
    scale = env.scale
    parts = [
        f"# Benchmark run {started_at:%Y-%m-%d %H:%M} UTC — scale `{scale.name}`",
        "",
        f"- machine: {info['cpu']}, {info['cores']} cores, {info['memory']} memory; {info['os']}; "
        f"load average at the start {info['load']} (other work on the machine skews the figures)",
        f"- Python {info['python']}; {versions(env)}",
        f"- commit: {git_commit()}",
        f"- command: `python -m benchmarks.run {' '.join(argv)}`".rstrip(),
        f"- sizes: {sizes(scale)}",
        f"- wall time of the run: {seconds / 60:.1f} min",
    ]
    if scale.name != "full":
        parts.append("- targets are judged at the full scale; at this scale `met` is only indicative")
    parts += [f"- {note}" for note in env.notes]
    parts.append("")
    for bench in sorted(results):
        parts.append(markdown(bench, results[bench]))
    for label, text in env.profiles.items():
        parts += [f"<details><summary>profile: {label}</summary>", "", "```", text, "```", "", "</details>", ""]
    HISTORY.mkdir(exist_ok=True)
    path = HISTORY / f"{started_at:%Y-%m-%d-%H%M}-{scale.name}.md"
    path.write_text("\n".join(parts) + "\n")
    if scale.name == "full":
        write_summary(started_at, results, path)
    return path


def write_summary(started_at: datetime, results: dict[str, list[Row]], path: Path) -> None:
    """Replace RESULTS.md's summary with this run's rows that have a target (the benchmarks
    this run left out keep theirs from the run before)."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    text = RESULTS.read_text() if RESULTS.exists() else f"# Benchmark results\n\n{SUMMARY_START}\n{SUMMARY_END}\n"
    if SUMMARY_START not in text or SUMMARY_END not in text:
        text = text.rstrip() + f"\n\n{SUMMARY_START}\n{SUMMARY_END}\n"
    before, rest = text.split(SUMMARY_START, 1)
    block, after = rest.split(SUMMARY_END, 1)
    kept = [line for line in block.splitlines()
            if line.startswith("| B") and line.split("|")[1].strip() not in results]
    lines = ["", "| bench | what | figure | target | met | run |", "|---|---|---|---|---|---|"]
    rows = [f"| {r.bench} | {cell(r.what)} | {cell(r.figure)} | {cell(r.target)} | {r.met_text} | "
            f"[{started_at:%Y-%m-%d %H:%M}](history/{path.name}) |"
            for bench in sorted(results) for r in results[bench] if r.target]
    merged = sorted(rows + kept, key=lambda line: line.split("|")[1].strip())
    RESULTS.write_text(before + SUMMARY_START + "\n".join(lines + merged) + "\n" + SUMMARY_END + after)


def wanted(only: str | None) -> set[str]:
    if not only:
        return set(TITLES)
    chosen = {part.strip().upper() for part in only.split(",") if part.strip()}
    unknown = chosen - set(TITLES)
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))}; choose from B1..B6")
    return chosen


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--only", help="comma-separated benchmark ids, e.g. B1,B4 (B3 and B5 run together)")
    parser.add_argument("--pg-url", default=os.environ.get("CRM_BENCH_PG_URL",
                                                           "postgresql://postgres@127.0.0.1:5432/postgres"),
                        help="a PostgreSQL server to create bench_* databases on (superuser)")
    parser.add_argument("--redis-url", default=os.environ.get("CRM_BENCH_REDIS_URL", "redis://127.0.0.1:6379"),
                        help="the Redis server for B3 (an empty database number on it is used, then flushed)")
    parser.add_argument("--profile", action="store_true",
                        help="profile the measured parts of B1, B2, B4 and B6 (cProfile; slows them) and "
                             "write the top functions with the run")
    parser.add_argument("--keep-stores", metavar="DIR", type=Path,
                        default=os.environ.get("CRM_BENCH_KEEP_STORES") or None,
                        help="keep the generated (and caught-up) stores between runs: SQLite files in DIR and "
                             "benchkeep_* PostgreSQL databases, keyed by a digest of the code that shapes "
                             "them; a run copies them instead of generating again")
    parser.add_argument("--no-append", action="store_true",
                        help="write nothing to benchmarks/history/ or RESULTS.md")
    args = parser.parse_args(argv)
    chosen = wanted(args.only)
    scale = SCALES[args.scale]
    console = Console()
    if not console.is_terminal:  # make, a pipe or a log file: wide enough for the tables
        console = Console(width=int(os.environ.get("COLUMNS", "160")))

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    started_at = datetime.now(UTC)
    info = machine()
    started = time.perf_counter()
    console.rule(f"CRM benchmarks — scale {scale.name}")
    console.print(f"machine: {info['cpu']}, {info['cores']} cores, {info['memory']}; load average {info['load']}")
    console.print(f"sizes: {sizes(scale)}")
    if scale.name != "full":
        console.print("[yellow]targets are judged at --scale full; "
                      "at this scale 'met' is only indicative[/yellow]")
    if args.keep_stores is not None:
        args.keep_stores = Path(args.keep_stores)
        args.keep_stores.mkdir(parents=True, exist_ok=True)
    env = Env(scale, args.pg_url, args.redis_url, console, profile=args.profile, keep_stores=args.keep_stores)
    if env.pg_problem:
        console.print(f"[yellow]{env.pg_problem}: the PostgreSQL parts are skipped[/yellow]")
    if env.redis_problem:
        console.print(f"[yellow]{env.redis_problem}: B3/B5 are skipped[/yellow]")
    if args.profile:
        env.notes.append("run with --profile: the profiled parts ran under cProfile and are slower than usual")
    results: dict[str, list[Row]] = {}
    interrupted = False
    try:
        for bench in ORDER:
            if bench not in chosen and not (bench == "B3" and "B5" in chosen):
                continue
            console.rule(f"{bench}{' + B5' if bench == 'B3' else ''} — {TITLES[bench]}")
            bench_started = time.perf_counter()
            try:
                rows = importlib.import_module(MODULES[bench]).run(env)
            except KeyboardInterrupt:
                raise
            except Exception as error:
                console.print(traceback.format_exc())
                rows = [Row(bench, "error", f"failed: {type(error).__name__}: {error}")]
            console.print(f"  ({time.perf_counter() - bench_started:.0f} s)")
            for row in rows:
                results.setdefault(row.bench, []).append(row)
            for shown in sorted({row.bench for row in rows}):
                console.print(table(shown, results[shown]))
    except KeyboardInterrupt:
        interrupted = True
        console.print("[red]interrupted; cleaning up[/red]")
    finally:
        env.close()
    seconds = time.perf_counter() - started
    if interrupted:
        return 130
    if not args.no_append and results:
        path = append_results(env, started_at, seconds, results, argv, info)
        console.print(f"written to {path.relative_to(ROOT)} ({seconds / 60:.1f} min)"
                      + (f"; summary in {RESULTS.relative_to(ROOT)}" if scale.name == "full" else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
