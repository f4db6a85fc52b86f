"""Queries over the operation log (H-5): who did what, when, to which target, with which
outcome; searchable by actor, period, outcome, operation and target."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

from aggregates.base import Forbidden
from commands.actor import Actor
from commands.adapters.infra import operation_log
from readmodels.customers import like_pattern, utc
from readmodels.org import visible_people
from readmodels.tables import people

COLUMNS = (("at", "时间", "datetime"), ("actor_id", "操作人ID", "id"), ("actor_name", "操作人", "text"),
           ("operation", "操作", "text"), ("target_id", "对象", "text"), ("status", "状态码", "int"),
           ("outcome", "结果", "text"), ("error_code", "错误代码", "text"), ("message", "说明", "text"),
           ("position", "事件位置", "int"), ("duration_ms", "耗时(ms)", "int"))


def list_operations(
    conn: Connection, viewer: Actor, *, actor_id: str | None = None, start: datetime | None = None,
    end: datetime | None = None, outcome: str | None = None, operation: str | None = None,
    target_id: str | None = None, page: int = 1, page_size: int | None = 50,
) -> tuple[list[dict[str, Any]], int]:
    """Newest first. Admins and auditors read every entry, managers those of their people
    and their own."""
    log = operation_log
    conditions: list[ColumnElement[bool]] = []
    if not (viewer.sees_everything or viewer.is_manager):
        raise Forbidden("forbidden", "the operation log is for managers, admins and auditors")
    allowed = visible_people(conn, viewer)
    if allowed is not None:
        conditions.append(log.c.actor_id.in_(allowed))
    if actor_id:
        conditions.append(log.c.actor_id == actor_id)
    if start is not None:
        conditions.append(log.c.at >= start)
    if end is not None:
        conditions.append(log.c.at <= end)
    if outcome:
        conditions.append(log.c.outcome == outcome)
    if operation:
        conditions.append(func.lower(log.c.operation).like(like_pattern(operation), escape="\\"))
    if target_id:
        conditions.append(log.c.target_id == target_id)
    total = conn.execute(select(func.count()).select_from(log).where(*conditions)).scalar_one()
    query = (select(log, people.c.name.label("actor_name"))
             .select_from(log.outerjoin(people, people.c.id == log.c.actor_id))
             .where(*conditions).order_by(log.c.at.desc(), log.c.id.desc()))
    if page_size is not None:
        query = query.limit(page_size).offset((page - 1) * page_size)
    rows = [{**dict(row), "at": utc(row["at"])} for row in conn.execute(query).mappings()]
    return rows, int(total)
