"""Shared pieces of the domain: who and when a change is made, errors, the aggregate base."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Self
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from aggregates.bounds import check_event_data

# The errors live in aggregates.errors (bounds raises them too); they are named from here as well.
from aggregates.errors import Conflict as Conflict
from aggregates.errors import DomainError as DomainError
from aggregates.errors import Forbidden as Forbidden
from aggregates.errors import Invalid as Invalid
from aggregates.errors import NotFound as NotFound

ID_NAMESPACE = uuid5(NAMESPACE_URL, "urn:crm")


def derived_id(kind: str, key: str) -> UUID:
    """A stable id for an index aggregate (unique names, usernames, profiles)."""
    return uuid5(ID_NAMESPACE, f"{kind}:{key}")


@dataclass(frozen=True)
class Context:
    """Who makes a change, under which command, at which moment (H-1)."""

    actor_id: str
    command_id: str
    at: datetime


class CrmAggregate(Aggregate):
    """Base aggregate: every event carries the actor and the command id, and its
    timestamp is the command's clock time, so tests can travel in time."""

    # Text limits of this aggregate's event data by key or dotted path (see aggregates.bounds);
    # every event's data is checked against them and the other bounds before it is recorded.
    TEXT_LIMITS: ClassVar[dict[str, int]] = {}

    class Event(Aggregate.Event):
        actor_id: str
        command_id: str

    class Created(Event, Aggregate.Created):
        pass

    @classmethod
    def _create_by(
        cls, ctx: Context, event_class: type[Aggregate.Created], *, id: UUID, **data: Any
    ) -> Self:
        check_event_data(data, cls.TEXT_LIMITS)
        return cls._create(
            event_class,
            id=id,
            timestamp=ctx.at,
            actor_id=ctx.actor_id,
            command_id=ctx.command_id,
            **data,
        )

    def view(self) -> dict[str, Any]:
        """The record's fields as plain values (copies, so a later event cannot change them),
        for history diffs and past states (H-2, H-3)."""
        return {k: copy.deepcopy(v) for k, v in vars(self).items() if not k.startswith("_")}

    def _record(self, ctx: Context, event_class: type[Aggregate.Event], **data: Any) -> None:
        check_event_data(data, self.TEXT_LIMITS)
        self.trigger_event(
            event_class,
            timestamp=ctx.at,
            actor_id=ctx.actor_id,
            command_id=ctx.command_id,
            **data,
        )
