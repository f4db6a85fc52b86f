"""Dramatiq over Redis: the projection actor, the coalescing kick the API sends after each
commit, and the scheduler's periodic jobs. Workers also poll, so a lost kick or a Redis
outage only delays the read models (N-4)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from commands.bootstrap import Service

log = logging.getLogger("crm.workers")

QUEUE = "crm-projections"
JOBS_QUEUE = "crm-jobs"
KICK_KEY = "crm:projections:kick-pending"


def make_broker(redis_url: str) -> RedisBroker:
    return RedisBroker(url=redis_url, socket_connect_timeout=0.5, socket_timeout=2)


def projection_actor(broker: RedisBroker, run: Callable[[], object], redis_client: redis.Redis) -> dramatiq.Actor:
    """The actor a kick enqueues: clear the pending flag, then catch every projection up."""

    def catch_up_projections() -> None:
        redis_client.delete(KICK_KEY)
        run()

    return dramatiq.Actor(
        catch_up_projections, broker=broker, actor_name="catch_up_projections", queue_name=QUEUE,
        priority=0, options={"max_retries": 0},
    )


class Kicker:
    """Sent after every commit in the distributed mode. While one kick waits in the queue
    no other is sent; while Redis is down, kicks are skipped for a few seconds at a time
    so commands do not wait on it."""

    def __init__(self, redis_url: str, pause_after_failure: float = 5.0) -> None:
        self.redis = redis.Redis.from_url(redis_url, socket_connect_timeout=0.3, socket_timeout=0.3)
        self.broker = make_broker(redis_url)
        self.actor = projection_actor(self.broker, lambda: None, self.redis)
        self.pause_after_failure = pause_after_failure
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def __call__(self, position: int) -> None:
        if time.monotonic() < self._paused_until:
            return
        try:
            if self.redis.set(KICK_KEY, position, nx=True, ex=30):
                self.actor.send()
        except Exception as error:  # the broker is optional for correctness
            with self._lock:
                self._paused_until = time.monotonic() + self.pause_after_failure
            log.warning("projection kick not sent (%s); workers will poll", error)


def sweep_actor(broker: RedisBroker, run: Callable[[], object]) -> dramatiq.Actor:
    """The scheduled pool sweep (A-4); one message, one worker runs it."""

    def sweep_pool() -> None:
        run()

    return dramatiq.Actor(sweep_pool, broker=broker, actor_name="sweep_pool", queue_name=JOBS_QUEUE,
                          priority=0, options={"max_retries": 0, "time_limit": 15 * 60 * 1000})


def start_worker(service: Service, redis_url: str) -> dramatiq.Worker:
    """A dramatiq worker consuming kicks for this process's projector, and the sweeps."""
    from commands.handlers import handle
    from commands.messages import SweepPool
    from commands.pool import SYSTEM

    broker = make_broker(redis_url)
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=0.5, socket_timeout=2)
    projection_actor(broker, service.projector.catch_up, client)
    sweep_actor(broker, lambda: handle(SweepPool(), SYSTEM, service.deps))
    worker = dramatiq.Worker(broker, queues={QUEUE, JOBS_QUEUE}, worker_threads=1, worker_timeout=500)
    worker.start()
    return worker


def run_scheduler(redis_url: str, stop: threading.Event, every: float, sweep_every: float = 0) -> None:
    """Enqueue the periodic jobs: a projection catch-up as a safety net, and the pool sweep."""
    kick = Kicker(redis_url, pause_after_failure=0)
    sweep = sweep_actor(kick.broker, lambda: None)
    next_sweep = time.monotonic() + sweep_every
    while not stop.wait(every):
        kick(-1)
        if sweep_every > 0 and time.monotonic() >= next_sweep:
            next_sweep = time.monotonic() + sweep_every
            try:
                sweep.send()
            except Exception as error:  # Redis down: the next round tries again
                log.warning("pool sweep not enqueued (%s)", error)
