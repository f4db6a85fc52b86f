"""Shared pieces of the domain: who and when a change is made, errors, the aggregate base."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

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


class DomainError(Exception):
    """A refused command. `kind` decides the HTTP status at the edge."""

    kind = "invalid"

    def __init__(
        self,
        code: str,
        message: str,
        field: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.details = details or {}


class Invalid(DomainError):
    """The command is not acceptable as given (422)."""

    kind = "invalid"


class Conflict(DomainError):
    """The command clashes with the current state (409)."""

    kind = "conflict"


class Forbidden(DomainError):
    """The actor may not do this (403)."""

    kind = "forbidden"


class NotFound(DomainError):
    """The target does not exist, or is hidden from the actor (404)."""

    kind = "not_found"


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
        cls, ctx: Context, event_class: type[Any], *, id: UUID, **data: Any
    ) -> Any:
        from aggregates.bounds import check_event_data

        check_event_data(data, cls.TEXT_LIMITS)
        return cls._create(
            event_class,
            id=id,
            timestamp=ctx.at,
            actor_id=ctx.actor_id,
            command_id=ctx.command_id,
            **data,
        )

    def _record(self, ctx: Context, event_class: type[Any], **data: Any) -> None:
        from aggregates.bounds import check_event_data

        check_event_data(data, self.TEXT_LIMITS)
        self.trigger_event(
            event_class,
            timestamp=ctx.at,
            actor_id=ctx.actor_id,
            command_id=ctx.command_id,
            **data,
        )
