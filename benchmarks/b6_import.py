"""B6: a bulk import of historical customers — a CSV in the template of
`commands.imports.TEMPLATE`, about 60% of the rows with an owner, every row with a
historical `created_at`, one row in a hundred refused (an unknown region, or a name the
file already has) — through `commands.imports.import_customers` on a fresh embedded SQLite
store, where the command catches the read models up before it returns, as in production.
The dry run (checks only) is timed separately, before the import."""

from __future__ import annotations

import csv
import io
import random
import sys
import time
from datetime import UTC, datetime, timedelta

from benchmarks.common import Env, Row, num, rate, run_only
from benchmarks.org import build_org
from commands import messages as m
from commands.bootstrap import bootstrap
from commands.config import Config
from commands.handlers import handle
from commands.imports import TEMPLATE

BENCH = "B6"
FULL_ROWS = 10_000
TARGET_SECONDS = 60.0
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "西安", "南京", "沈阳", "天津", "重庆"]
WORDS = ["华信", "恒通", "博远", "瑞丰", "金诚", "天合", "中科", "宏达", "远景", "明德", "汇智", "鼎盛"]
KINDS = ["科技有限公司", "贸易有限公司", "实业有限公司", "信息技术有限公司", "制造有限公司"]
REGIONS = ["华北", "华东", "华南", "华中", "西南", "西北", "东北"]
TYPES = ["国有企业", "民营企业", "外资企业", "地方政府"]
SOURCES = ["展会", "网络推广", "客户介绍", "电话营销"]


def make_csv(rows: int, owners: list[str], seed: int = 1) -> tuple[bytes, int]:
    """The file, and how many of its rows are meant to be refused."""
    rng = random.Random(seed)
    today = datetime.now(UTC).date()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TEMPLATE)
    names: list[str] = []
    bad = 0
    for n in range(rows):
        city = rng.choice(CITIES)
        name = f"{city}{rng.choice(WORDS)}{rng.choice(WORDS)}{n + 1}号{rng.choice(KINDS)}"
        region = rng.choice(REGIONS)
        if n % 100 == 50:
            region, bad = "火星", bad + 1  # unknown_value
        elif n % 100 == 99 and names:
            name, bad = rng.choice(names), bad + 1  # duplicate_in_file
        names.append(name)
        created = today - timedelta(days=rng.randint(30, 700))
        values = {
            "name": name, "type": rng.choice(TYPES), "source": rng.choice(SOURCES), "region": region,
            "address": f"{city}市人民路{rng.randint(1, 999)}号", "building": f"{rng.randint(1, 30)}栋",
            "contact_name": "王经理" if rng.random() < 0.8 else "", "contact_phone": "",
            "owner_username": rng.choice(owners) if rng.random() < 0.6 else "",
            "created_at": created.isoformat() if rng.random() < 0.7 else f"{created.isoformat()} 10:30",
        }
        if values["contact_name"]:
            values["contact_phone"] = f"139{rng.randrange(10 ** 8):08d}"
        writer.writerow([values[k] for k in TEMPLATE])
    return out.getvalue().encode("utf-8-sig"), bad


def run(env: Env) -> list[Row]:
    rows = env.scale.b6_rows
    url = env.database("sqlite", "b6")
    service = bootstrap(Config(database_url=url, mode="embedded", blob_dir=env.blob_dir))
    try:
        org = build_org(service, salespeople=10, cap=max(FULL_ROWS, rows))
        service.projector.catch_up()
        data, bad = make_csv(rows, list(org.usernames.values()))
        deps = service.deps
        catching_up = [0.0]
        after_commit = deps.after_commit

        def timed_after_commit(position: int) -> None:
            started = time.perf_counter()
            after_commit(position)
            catching_up[0] += time.perf_counter() - started

        deps.after_commit = timed_after_commit
        env.console.print(f"  B6: {rows:,} rows ({len(data) / 1024:.0f} KiB CSV), dry run then import …")
        with env.profiled("B6 dry run"):
            started = time.perf_counter()
            dry = handle(m.ImportCustomers(data=data, filename="customers.csv", dry_run=True), org.admin, deps)
            dry_seconds = time.perf_counter() - started
        with env.profiled("B6 import"):
            started = time.perf_counter()
            done = handle(m.ImportCustomers(data=data, filename="customers.csv", dry_run=False), org.admin, deps)
            seconds = time.perf_counter() - started
        positions = service.projector.positions()
        head = service.store.head()
    finally:
        service.close()
    extrapolated = seconds * FULL_ROWS / rows
    target = f"< {TARGET_SECONDS:.0f} s for {FULL_ROWS:,} rows"
    result = [
        Row(BENCH, f"dry run of {rows:,} rows (read, check every row)",
            f"{dry_seconds:.1f} s ({num(rate(rows, dry_seconds))} rows/s; {dry.accepted:,} good, "
            f"{len(dry.errors)} errors)"),
        Row(BENCH, f"import of {rows:,} rows, read models caught up before it returns",
            f"{seconds:.1f} s ({num(rate(rows, seconds))} rows/s; {done.accepted:,} imported, "
            f"{len(done.errors)} errors for {bad} bad rows; projections catch-up {catching_up[0]:.1f} s of it)",
            target if rows == FULL_ROWS else "", extrapolated < TARGET_SECONDS if rows == FULL_ROWS else None),
    ]
    if rows != FULL_ROWS:
        result.append(Row(BENCH, f"import time for {FULL_ROWS:,} rows (extrapolated linearly)",
                          f"{extrapolated:.1f} s", target, extrapolated < TARGET_SECONDS))
    if min(positions.values(), default=0) < head:
        result.append(Row(BENCH, "note",
                          f"read models at {min(positions.values())} after the import, head {head}"))
    return result


def main(argv: list[str] | None = None) -> int:
    return run_only(BENCH, argv)


if __name__ == "__main__":
    sys.exit(main())
