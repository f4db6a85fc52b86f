"""The projection worker of the distributed mode: polls the event store and runs every
projection to the head. Several workers may run; the tracking-row lock lets only one
apply a given batch."""

from __future__ import annotations

import logging
import threading

from commands.bootstrap import Service

log = logging.getLogger("crm.worker")


def run_projection_worker(service: Service, stop: threading.Event, poll_seconds: float) -> None:
    while not stop.is_set():
        try:
            service.projector.catch_up()
        except Exception:  # a database outage only delays; the next round retries
            log.exception("projection catch-up failed")
        stop.wait(poll_seconds)
