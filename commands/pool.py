"""Pool automation (A-1..A-4): customers held past their owner's `max_follow_days` without
a deal go back to the pool with reason `overdue`; inside the warning window the owner is
warned once per holding. Sweeping twice for the same `now` changes nothing the second time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aggregates import bounds
from aggregates.base import Context, Invalid, NotFound
from aggregates.customer import Customer
from aggregates.organisation import Salesperson
from commands.actor import Actor
from commands.base import Deps, as_utc, load_settings, parse_uuid, retrying, save
from commands.messages import SweepPool

SYSTEM = Actor("system", "system", frozenset({"admin"}), None)


@dataclass
class SweepResult:
    now: datetime
    warned: int = 0
    returned: int = 0
    position: int = 0


def sweep_pool(cmd: SweepPool, actor: Actor, deps: Deps) -> SweepResult:
    """Sweep as of `now` (the clock's time when not given). The read models only pick the
    candidates; each customer is decided on its own events, so a lagging read model can
    delay a return but never cause a wrong one."""
    settings = load_settings(deps)
    bounds.day(cmd.now, "now")  # a moment past the business range cannot even be moved to UTC
    moment = as_utc(cmd.now, settings) or deps.clock.now()
    if moment > deps.clock.now() + timedelta(minutes=5):
        # A sweep "as of" the future would hand customers back before their time.
        raise Invalid("now_in_future", "a sweep cannot run as of a moment still to come", field="now")
    warning_days = int(settings.rules["pool_warning_days"])
    default_days = int(settings.rules["default_max_follow_days"])
    candidates = deps.pool_candidates.due(moment, default_days, warning_days)
    result = SweepResult(now=moment, position=deps.store.head())
    command_id = f"sweep:{moment.isoformat()}"
    for customer_id in candidates:
        def attempt(customer_id: str = customer_id) -> tuple[str | None, int]:
            customer = deps.store.find(parse_uuid(customer_id, "customer_id"), Customer)
            if customer is None or customer.owner_id is None:
                return None, 0
            profile = deps.store.find(Salesperson.id_for(customer.owner_id), Salesperson)
            limit = profile.max_follow_days if profile is not None else None
            ctx = Context(actor_id=actor.person_id, command_id=command_id, at=deps.clock.now())
            outcome = customer.sweep(ctx, moment, int(limit or default_days), warning_days)
            if outcome is None:
                return None, 0
            if outcome == "returned" and profile is not None:
                profile.let_go(ctx, customer_id, "overdue")
            return outcome, save(deps, customer, profile, announce=False)

        try:
            outcome, position = retrying(attempt)
        except NotFound:
            continue
        if outcome == "warned":
            result.warned += 1
        elif outcome == "returned":
            result.returned += 1
        result.position = max(result.position, position)
    if result.warned or result.returned:
        deps.after_commit(result.position)
    return result
