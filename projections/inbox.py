"""Approval requests and the notifications inbox (N-1)."""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, uuid5

from sqlalchemy import select, update

from aggregates.approval import KINDS, Approval
from projections.base import Projection, Writer
from readmodels.tables import approvals, notifications

inbox = Projection("inbox", [approvals, notifications])
STATUS_WORDS = {"approved": "已批准", "rejected": "已驳回", "withdrawn": "已撤回"}


def notify(w: Writer, source: str, person_id: str, kind: str, text: str, ref_id: str, at: datetime) -> None:
    """One notification; its id derives from the event, so a rebuild gives the same ids."""
    nid = str(uuid5(NAMESPACE_URL, f"urn:crm:notification:{source}:{person_id}"))
    w.conn.execute(w.notifications.insert().values(id=nid, person_id=person_id, kind=kind, text=text,
                                                   ref_id=ref_id, created_at=at))


@inbox.on(Approval.Requested)
def requested(w: Writer, e: Approval.Requested) -> None:
    aid = str(e.originator_id)
    w.conn.execute(w.approvals.insert().values(
        id=aid, kind=e.kind, target_id=e.target_id, summary=e.summary, payload=_plain(e.payload),
        requester_id=e.actor_id, approver_ids=list(e.approver_ids), status="pending", requested_at=e.timestamp,
    ))
    for person_id in e.approver_ids:
        notify(w, f"{aid}:1", person_id, "approval_requested",
               f"待审批：{KINDS.get(e.kind, e.kind)} — {e.summary}", aid, e.timestamp)


@inbox.on(Approval.Decided)
def decided(w: Writer, e: Approval.Decided) -> None:
    aid = str(e.originator_id)
    w.conn.execute(update(w.approvals).where(w.approvals.c.id == aid).values(
        status=e.status, decided_by=e.actor_id, decided_at=e.timestamp, comment=e.comment))
    if e.status in ("approved", "rejected"):
        row = w.conn.execute(select(w.approvals.c.requester_id, w.approvals.c.kind, w.approvals.c.summary)
                             .where(w.approvals.c.id == aid)).one()
        notify(w, f"{aid}:{e.originator_version}", row.requester_id, "approval_decided",
               f"{STATUS_WORDS[e.status]}：{KINDS.get(row.kind, row.kind)} — {row.summary}", aid, e.timestamp)


def _plain(value: object) -> object:
    """JSON columns take plain values: decimals and dates as strings."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
