"""Catching up: every projection's live version runs to the head in batches, one read of
each batch serving all of them, each projection committing its own batch with its position.
The tamper-evident log's chain (projections/chain.py) is one more consumer of each batch,
with a position of its own; after the events, the operation log is chained and sealed."""

from __future__ import annotations

import logging
import time

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
    # How long one catch-up spends on a chain that lags behind every projection.
    chain_slice_seconds = 0.25

    def catch_up(self, chain_backlog: bool = True) -> int:
        """Run every projection's live version to the head; the lowest position reached.
        One read of each batch serves every projection, each event decoded once. A
        projection whose handler fails is logged and left at its position; the others
        go on. A chain that lags behind every projection gets a slice of its backlog
        afterwards, unless `chain_backlog` is false (a catch-up a request waits for)."""
        with self._lock:
            failed: set[str] = set()
            first: int | None = None
            chained = self.chain is not None
            chain_behind = False
            while True:
                live = {n: v for n, v in self._live().items() if n not in failed}
                chain_at = self._chain_position() if chained else None
                if chain_at is None:
                    chained = False
                lowest = min((p for _, p in live.values()), default=None)
                if chain_at is not None and (lowest is None or chain_at < lowest):
                    # The chain lags behind every projection (a store it never saw, or the chain
                    # waited after a fault): the projections go on to the head without it, and
                    # it reads on alone afterwards, a slice per catch-up, so that its backlog
                    # never holds the read models back.
                    chain_behind, chained, chain_at = True, False, None
                if not live:
                    break
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
            if chain_behind and chain_backlog:
                self._chain_alone()
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

    def _chain_alone(self) -> None:
        """Chain the events after the chain's head, undecoded, in bigger batches, for at most
        `chain_slice_seconds` (at least one batch); the next catch-up (a kick or the worker's
        poll) goes on from there, with the projections once the chain has reached them."""
        assert self.chain is not None
        until = time.monotonic() + self.chain_slice_seconds
        while True:
            chain_at = self._chain_position()
            if chain_at is None:
                return
            raw = list(self.store.recorder.select_notifications(start=chain_at + 1, limit=self.rebuild_batch))
            if not raw:
                return
            try:
                self.chain.advance(raw, int(raw[-1].id))
            except ChainMoved:  # another runner chained these: read on from where it got
                pass
            except Exception:
                log.exception("the event chain failed after position %d; it waits there", chain_at)
                return
            if time.monotonic() >= until:
                return

    def _chain_position(self) -> int | None:
        """The event chain's position; None when it cannot be read (the chain waits)."""
        assert self.chain is not None
        try:
            return self.chain.position()
        except Exception:
            log.exception("the event chain's head cannot be read; the projections go on without it")
            return None
