"""Queries over approval requests and notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from commands.actor import Actor
from readmodels.customers import utc
from readmodels.org import people_names
from readmodels.tables import approvals, notification_reads, notifications


def list_approvals(conn: Connection, viewer: Actor, status: str | None) -> list[dict[str, Any]]:
    """Requests the viewer made or may decide; admins and auditors see all."""
    query = select(approvals).order_by(approvals.c.requested_at.desc())
    if status:
        query = query.where(approvals.c.status == status)
    rows = [dict(r) for r in conn.execute(query).mappings()]
    if not viewer.sees_everything:
        rows = [r for r in rows if r["requester_id"] == viewer.person_id or viewer.person_id in r["approver_ids"]]
    people = {r["requester_id"] for r in rows} | {r["decided_by"] for r in rows if r["decided_by"]}
    names = people_names(conn, people)
    for r in rows:
        r["requested_at"], r["decided_at"] = utc(r["requested_at"]), utc(r["decided_at"])
        r["requester_name"] = names.get(r["requester_id"])
        r["decided_by_name"] = names.get(r["decided_by"]) if r["decided_by"] else None
    return rows


def list_notifications(conn: Connection, person_id: str, unread_only: bool) -> list[dict[str, Any]]:
    reads = {str(n): utc(at) for n, at in conn.execute(
        select(notification_reads.c.notification_id, notification_reads.c.read_at)
        .where(notification_reads.c.person_id == person_id))}
    rows = conn.execute(select(notifications).where(notifications.c.person_id == person_id)
                        .order_by(notifications.c.created_at.desc())).mappings()
    items = [{**dict(r), "created_at": utc(r["created_at"]), "read_at": reads.get(r["id"])} for r in rows]
    return [i for i in items if i["read_at"] is None] if unread_only else items


def mark_read(conn: Connection, person_id: str, notification_id: str, at: datetime) -> bool:
    """Mark one of the person's notifications read; False when it is not theirs."""
    owner = conn.execute(select(notifications.c.person_id).where(notifications.c.id == notification_id)).scalar()
    if owner != person_id:
        return False
    seen = conn.execute(select(notification_reads.c.notification_id)
                        .where(notification_reads.c.notification_id == notification_id)).first()
    if seen is None:
        conn.execute(notification_reads.insert().values(notification_id=notification_id, person_id=person_id,
                                                        read_at=at))
    return True
