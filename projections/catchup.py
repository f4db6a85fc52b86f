"""Catching up: every projection's live version runs to the head in batches, one read of
each batch serving all of them, each projection committing its own batch with its position.
The tamper-evident log's chain (projections/chain.py) is one more consumer of each batch,
with a position of its own; after the events, the operation log is chained and sealed."""

from __future__ import annotations

import logging

from projections.chain import ChainMoved, Chains
from projections.faults import MovedOn
from projections.parking import Parking
from projections.physical import analyze

log = logging.getLogger("crm.projections")

# Events after which a catch-up refreshes the planner's statistics (PostgreSQL).
ANALYZE_AFTER = 100_000


class CatchingUp(Parking):
    """Running the live versions to the head."""

    # The hash chains, when the service wired them (commands/bootstrap.py): with no key to
    # seal them, a projector runs the projections alone.
    chain: Chains | None = None

    def catch_up(self) -> int:
        """Run every projection's live version to the head; the lowest position reached.
        One read of each batch serves every projection, each event decoded once. A
        projection whose handler fails is logged and left at its position; the others
        go on."""
        with self._lock:
            failed: set[str] = set()
            first: int | None = None
            chained = self.chain is not None
            while True:
                live = {n: v for n, v in self._live().items() if n not in failed}
                chain_at = self._chain_position() if chained else None
                if chain_at is None:
                    chained = False
                if not live and not chained:
                    break
                if chain_at is not None and chain_at < min((p for _, p in live.values()), default=chain_at + 1):
                    # The chain lags behind every projection (a store it never saw, or the chain
                    # waited after a fault): it reads on alone, undecoded, in bigger batches.
                    assert self.chain is not None
                    ahead = min((p for _, p in live.values()), default=None)
                    raw = list(self.store.recorder.select_notifications(
                        start=chain_at + 1, limit=self.rebuild_batch, stop=ahead))
                    if not raw:
                        break
                    try:
                        self.chain.advance(raw, int(raw[-1].id))
                    except ChainMoved:
                        pass
                    except Exception:
                        log.exception("the event chain failed after position %d; it waits there", chain_at)
                        chained = False
                    continue
                start = min([position for _, position in live.values()] +
                            ([chain_at] if chain_at is not None else []))
                first = start if first is None else first
                notifications, events = self._read(start, self.batch, live)
                if not notifications:
                    break
                last = int(notifications[-1].id)
                progressed = False
                if chain_at is not None and chain_at < last:
                    assert self.chain is not None
                    try:
                        self.chain.advance(notifications, last)
                        progressed = True
                    except ChainMoved:  # another runner chained these: read on from where it got
                        progressed = True
                    except Exception:  # the chain waits at its position, the projections go on
                        log.exception("the event chain failed after position %d; it waits there", chain_at)
                        chained = False
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
            if self.chain is not None:
                try:
                    self.chain.after_catch_up()
                except Exception:  # sealing waits for the next catch-up
                    log.exception("sealing the chains failed")
            reached = min(self.positions().values(), default=0)
            if first is not None and reached - first >= ANALYZE_AFTER:
                # A long catch-up (a restored or imported store) grew the tables by orders of
                # magnitude; the planner needs to know before the next request.
                for name, (version, _) in self._live().items():
                    analyze(self.store.engine, list(self.projections[name].tables_of(version).values()))
            return reached

    def _chain_position(self) -> int | None:
        """The event chain's position; None when it cannot be read (the chain waits)."""
        assert self.chain is not None
        try:
            return self.chain.position()
        except Exception:
            log.exception("the event chain's head cannot be read; the projections go on without it")
            return None
