"""The customer search on its own: `readmodels.customers.list_customers` with a search word,
one client, on a store whose read models are caught up (a generated store: `--keep-stores`
of `benchmarks.run` keeps one). Prints p50 / p95 per viewer and scope over eight words of one
to four characters (Chinese, Latin, digits), the salesperson being the one with most customers.

    .venv/bin/python -m benchmarks.search --url postgresql+psycopg2://postgres@127.0.0.1/STORE

Nothing here asserts on the figures; `tests/e2e/test_search_equivalence.py` checks what the
search finds."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime

from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Connection

from benchmarks.common import ms, percentile
from commands.actor import Actor
from commands.adapters.store import engine_options
from readmodels.customers import list_customers
from readmodels.tables import customers, people

WORDS = ("华", "科技", "上海市", "1380", "a", "公司", "东方贸易", "00012")


def actor_of(conn: Connection, role: str) -> Actor | None:
    """The person of that role holding the most customers (any, for those who hold none)."""
    held = (select(people.c.id, func.count(customers.c.id).label("n"))
            .select_from(people.outerjoin(customers, customers.c.owner_id == people.c.id))
            .group_by(people.c.id).subquery())
    rows = conn.execute(select(people.c.id, people.c.name, people.c.roles, people.c.department_id)
                        .join(held, held.c.id == people.c.id).order_by(held.c.n.desc(), people.c.id)).all()
    for row in rows:
        if role in row.roles:
            return Actor(str(row.id), row.name, frozenset(row.roles), row.department_id)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.search", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="a caught-up store")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    engine = create_engine(args.url, **engine_options(args.url, 2, 0))
    with engine.connect() as conn:
        views = [("salesperson", "mine"), ("salesperson", "pool"), ("manager", "all"), ("admin", "all")]
        for role, scope in views:
            who = actor_of(conn, {"salesperson": "sales"}.get(role, role))
            if who is None:
                print(f"{role:12} {scope:5} no such person in the store")
                continue
            times = []
            for _ in range(args.rounds):
                for word in WORDS:
                    started = time.perf_counter()
                    list_customers(conn, who, scope=scope, now=datetime.now(UTC), default_follow_days=30, q=word,
                                   page_size=20)
                    times.append(time.perf_counter() - started)
            print(f"{role:12} {scope:5} p50 {ms(percentile(times, 50))} · p95 {ms(percentile(times, 95))} "
                  f"({len(times)} searches)")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
