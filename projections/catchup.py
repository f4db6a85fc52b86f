"""Catching up: every projection's live version runs to the head in batches, one read of
each batch serving all of them, each projection committing its own batch with its position."""

from __future__ import annotations

import logging

from projections.faults import MovedOn
from projections.parking import Parking
from projections.physical import analyze

log = logging.getLogger("crm.projections")

# Events after which a catch-up refreshes the planner's statistics (PostgreSQL).
ANALYZE_AFTER = 100_000


class CatchingUp(Parking):
    """Running the live versions to the head."""

    def catch_up(self) -> int:
        """Run every projection's live version to the head; the lowest position reached.
        One read of each batch serves every projection, each event decoded once. A
        projection whose handler fails is logged and left at its position; the others
        go on."""
        with self._lock:
            failed: set[str] = set()
            first: int | None = None
            while True:
                live = {n: v for n, v in self._live().items() if n not in failed}
                if not live:
                    break
                start = min(position for _, position in live.values())
                first = start if first is None else first
                notifications, events = self._read(start, self.batch, live)
                if not notifications:
                    break
                last = int(notifications[-1].id)
                progressed = False
                for name, (version, position) in live.items():
                    if position >= last:
                        continue
                    try:
                        self._advance(name, version, events, last)
                        progressed = True
                    except MovedOn:
                        progressed = True
                    except Exception:  # a transient fault: this projection waits, the others go on
                        log.exception("projection %s failed after position %d; it waits there", name, position)
                        failed.add(name)
                        # The others may be a batch or more ahead of it: read on from theirs.
                        progressed = True
                if len(notifications) < self.batch or not progressed:
                    break
            reached = min(self.positions().values(), default=0)
            if first is not None and reached - first >= ANALYZE_AFTER:
                # A long catch-up (a restored or imported store) grew the tables by orders of
                # magnitude; the planner needs to know before the next request.
                for name, (version, _) in self._live().items():
                    analyze(self.store.engine, list(self.projections[name].tables_of(version).values()))
            return reached
