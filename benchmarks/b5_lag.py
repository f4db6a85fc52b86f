"""B5: projection lag under the B3 load. It is measured inside B3's run (benchmarks/b3_http.py):
a monitor samples the lowest live projection position every 20 ms while the clients write,
and each accepted write's lag is the time from its response to the first sample at which
every read model had reached its position. Running B5 alone runs B3 too."""

from __future__ import annotations

import sys

from benchmarks.b3_http import B5
from benchmarks.b3_http import run as run_b3
from benchmarks.common import Env, Row, run_only


def run(env: Env) -> list[Row]:
    """B3's run; only the B5 rows."""
    return [row for row in run_b3(env) if row.bench == B5]


def main(argv: list[str] | None = None) -> int:
    return run_only("B5", argv)


if __name__ == "__main__":
    sys.exit(main())
