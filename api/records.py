"""The two audit reads every record kind shares (H-2, H-3): its history, and its state at a
past version or moment. The routes decide who may see the record today; these only read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Query
from sqlalchemy.engine import Connection

from aggregates.base import Forbidden
from commands.actor import Actor
from commands.bootstrap import Service
from commands.records import Replay, record_at, record_steps
from readmodels.history import history_items
from readmodels.org import people_names

# Who may see a record as it was (H-3).
OVERSIGHT = frozenset({"manager", "admin", "auditor"})

AsOf = Annotated[datetime | None, Query(description="the record as the service had recorded it by this moment "
                                        "(ISO 8601 with its UTC offset); managers, admins, auditors")]
AtVersion = Annotated[int | None, Query(ge=1, description="the record as it was after this many of its events")]


def wants_past(as_of: datetime | None, version: int | None) -> bool:
    return as_of is not None or version is not None


def check_oversight(user: Actor) -> None:
    if not user.roles & OVERSIGHT:
        raise Forbidden("forbidden", "time travel is for managers, admins and auditors")


def past_record(service: Service, user: Actor, kind: str, record_id: UUID, as_of: datetime | None,
                version: int | None) -> dict[str, Any]:
    """`{id, version, at, state}`: the record after `version` of its events, or with what had been
    recorded by `as_of`. The caller has checked that the viewer may see the record today."""
    check_oversight(user)
    replay = record_at(service.deps, kind, record_id, version=version, as_of=as_of)
    return {"id": str(record_id), "version": replay.version, "at": replay.at, "state": replay.view()}


def history_of(service: Service, conn: Connection, kind: str, record_id: UUID) -> dict[str, Any] | None:
    """`{items}`: every event of the record with actor, time, command id and old → new per field;
    None when there is no such record."""
    steps = record_steps(service.deps, kind, record_id)
    if not steps:
        return None
    names = people_names(conn, {s.event.actor_id for s in steps})
    return {"items": history_items(steps, names, Replay(kind))}
