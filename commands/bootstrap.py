"""The one place that wires the adapters: event store, projector, credentials, clock."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from commands.adapters.clock import Clock, SystemClock
from commands.adapters.infra import Credentials, ImportRecords, LoginThrottle, Sequences, add_missing_columns
from commands.adapters.infra import metadata as infra_metadata
from commands.adapters.organisation import StoredOrganisation
from commands.adapters.photos import BlobStore
from commands.adapters.store import EventStore, open_store
from commands.base import Deps
from commands.config import Config, signing_key
from commands.organisation import ensure_settings
from commands.schema import schema_lock
from projections.base import Projector
from projections.chain import Chains, seal_key
from projections.customers import customers_projection
from projections.handoff import handoff
from projections.inbox import inbox
from projections.organisation import organisation
from projections.sales import products_projection, sales
from projections.stats import stats
from projections.targets import targets_projection
from readmodels.adapters import ReadModelLegacyNames, ReadModelPoolCandidates, ReadModelTargetFigures

log = logging.getLogger("crm")

PROJECTIONS = [organisation, customers_projection, sales, products_projection, inbox, stats, targets_projection,
               handoff]


@dataclass
class Service:
    config: Config
    store: EventStore
    projector: Projector
    deps: Deps
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def embedded(self) -> bool:
        return self.config.mode == "embedded"

    def start_background(self) -> None:
        """Embedded mode: a thread catches up whatever a request did not (e.g. after a crash)
        and runs the scheduled pool sweep (A-4)."""
        if self._thread is not None:
            return
        from commands.handlers import handle
        from commands.messages import SweepPool
        from commands.pool import SYSTEM

        sweep_every = self.config.sweep_minutes * 60
        next_sweep = time.monotonic() + sweep_every

        def loop() -> None:
            nonlocal next_sweep
            while not self._stop.wait(self.config.poll_seconds):
                try:
                    self.projector.catch_up()
                except Exception:  # keep polling; the next round retries
                    log.exception("background catch-up failed")
                if sweep_every > 0 and time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + sweep_every
                    try:
                        done = handle(SweepPool(), SYSTEM, self.deps)
                        log.info("pool sweep: %d warned, %d returned", done.warned, done.returned)
                    except Exception:
                        log.exception("pool sweep failed")

        self._thread = threading.Thread(target=loop, name="crm-projector", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.store.engine.dispose()


def bootstrap(
    config: Config | None = None,
    clock: Clock | None = None,
    kick: Callable[[int], None] | None = None,
) -> Service:
    """Wire the service. In the embedded mode commands catch the projections up before
    they answer; in the distributed mode they call `kick` (a message to the workers)."""
    config = config or Config()
    # Refuses to start without an acceptable signing key; the embedded SQLite store makes its own.
    config = config.model_copy(update={"secret_key": signing_key(config)})
    url = make_url(config.database_url)
    if url.drivername.startswith("sqlite") and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    # Processes starting at once (on an empty database, or after a release) create the
    # schema one at a time; see commands/schema.py.
    with schema_lock(config.database_url):
        store = open_store(config.database_url, config.db_pool_size, config.db_max_overflow)
        infra_metadata.create_all(store.engine)
        add_missing_columns(store.engine)
        projector = Projector(store, PROJECTIONS, batch=config.projection_batch)
        # The tamper-evident log: chained wherever catch-up runs, sealed under the service's key.
        projector.chain = Chains(store.engine, seal_key(config.secret_key))
        projector.setup()
    deps = Deps(
        store=store,
        clock=clock or SystemClock(),
        credentials=Credentials(store.engine),
        sequences=Sequences(store.engine),
        blobs=BlobStore(config.blob_dir),
        throttle=LoginThrottle(store.engine),
        organisation=StoredOrganisation(store),
        pool_candidates=ReadModelPoolCandidates(store.engine),
        target_figures=ReadModelTargetFigures(store.engine),
        legacy_names=ReadModelLegacyNames(store.engine),
        imports=ImportRecords(store.engine),
        max_photo_bytes=config.max_photo_bytes,
    )
    service = Service(config=config, store=store, projector=projector, deps=deps)
    if service.embedded:
        def catch_up(_position: int) -> None:
            try:
                projector.catch_up(chain_backlog=False)  # a chain's backlog is the thread's work
            except Exception:  # the command stands; the background thread catches up
                log.exception("catch-up after a command failed")

        deps.after_commit = catch_up
    elif kick is not None:
        deps.after_commit = kick
    ensure_settings(deps)
    return service
