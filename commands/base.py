"""What every handler needs: dependencies, the actor's context, saving with retries."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import sqlalchemy.exc
from eventsourcing.persistence import IntegrityError

from aggregates.base import Conflict, Context, Invalid, NotFound
from aggregates.customer import Customer
from aggregates.organisation import Person, Salesperson
from aggregates.settings import SETTINGS_ID, Settings
from commands.actor import Actor
from commands.adapters.store import EventStore
from commands.ports import (
    Blobs,
    Clock,
    Credentials,
    ImportLog,
    LegacyNames,
    Organisation,
    PoolCandidates,
    Sequences,
    SignInThrottle,
    TargetFigures,
)

T = TypeVar("T")
RETRIES = 60


@dataclass
class Deps:
    """The event store and the ports a handler may use; wired once by `bootstrap()`, and
    with fakes in the handler tests."""

    store: EventStore
    clock: Clock
    credentials: Credentials
    sequences: Sequences
    blobs: Blobs
    throttle: SignInThrottle
    organisation: Organisation
    pool_candidates: PoolCandidates
    target_figures: TargetFigures
    legacy_names: LegacyNames
    imports: ImportLog
    max_photo_bytes: int = 10 * 1024 * 1024
    # Called with the new head position after every successful command.
    after_commit: Callable[[int], None] = field(default=lambda position: None)
    # Aggregates every save of this command includes (an approval's decision with the change
    # it approves), the command id its events carry, and a dry run (check, save nothing).
    enlisted: tuple[Any, ...] = ()
    command_id: str | None = None
    dry_run: bool = False


@dataclass
class Result:
    position: int
    ids: dict[str, Any] = field(default_factory=dict)
    # Filed for approval instead of applied (AP-1): `ids` holds the `approval_id`.
    pending: bool = False


Handler = Callable[[Any, Actor, Deps], Any]


def context(deps: Deps, actor: Actor) -> Context:
    return Context(actor_id=actor.person_id, command_id=deps.command_id or uuid4().hex, at=deps.clock.now())


def save(deps: Deps, *aggregates: Any, announce: bool = True, **kwargs: Any) -> int:
    """Save the aggregates atomically; then (unless a batch announces once at its end) let
    the read side know: catch up (embedded) or kick the workers (distributed)."""
    if deps.dry_run:
        return 0
    recordings = deps.store.save(*deps.enlisted, *[a for a in aggregates if a is not None], **kwargs)
    position = recordings[-1].notification.id if recordings else deps.store.head()
    if announce:
        deps.after_commit(position)
    return position


_attempting: ContextVar[bool] = ContextVar("attempting", default=False)


def retrying(attempt: Callable[[], T]) -> T:
    """Run a load-decide-save attempt again when another writer got there first.
    Each attempt reloads and re-checks, so retrying is always safe. Inside another
    attempt (an approval running the command it approves) the outer one retries the whole."""
    if _attempting.get():
        return attempt()
    token = _attempting.set(True)
    try:
        for n in range(RETRIES):
            try:
                return attempt()
            except (IntegrityError, sqlalchemy.exc.IntegrityError):
                time.sleep(random.uniform(0, 0.002 * (n + 1)))
    finally:
        _attempting.reset(token)
    raise Conflict("concurrent_change", "the data changed meanwhile; try again")


def load_settings(deps: Deps) -> Settings:
    found = deps.store.find(SETTINGS_ID, Settings)
    if found is None:
        raise NotFound("not_found", "settings are missing")
    return found


def business_tz(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.rules.get("timezone") or "Asia/Shanghai")


def business_day(moment: datetime, settings: Settings) -> date:
    return moment.astimezone(business_tz(settings)).date()


def as_utc(moment: datetime | None, settings: Settings) -> datetime | None:
    """Datetimes without an offset are business time; everything is stored in UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=business_tz(settings))
    return moment.astimezone(UTC)


def parse_uuid(value: str, field_name: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise Invalid("validation_error", "not a valid id", field=field_name) from None


def check_people(deps: Deps, person_ids: list[str], field_name: str) -> None:
    for person_id in person_ids:
        if deps.store.find(parse_uuid(person_id, field_name), Person) is None:
            raise Invalid("unknown_person", "no such person {person_id}", field=field_name, person_id=person_id)


def load_customer(deps: Deps, customer_id: str) -> Customer:
    customer = deps.store.find(parse_uuid(customer_id, "customer_id"), Customer)
    if customer is None or customer.deleted:
        raise NotFound("not_found", "no such customer")
    return customer


def load_salesperson(deps: Deps, person_id: str, field_name: str = "person_id") -> Salesperson:
    sp = deps.store.find(Salesperson.id_for(person_id), Salesperson)
    if sp is None:
        raise Invalid("not_a_salesperson", "that person has no salesperson profile", field=field_name)
    return sp


def cap_of(sp: Salesperson, settings: Settings) -> int:
    limit = sp.max_customers
    return int(settings.rules["default_max_customers"] if limit is None else limit)


def check_in(value: str | None, allowed: Sequence[str], field_name: str) -> None:
    if value is not None and value not in allowed:
        raise Invalid("unknown_value", "{value!r} is not a known {field}", field=field_name, value=value)
