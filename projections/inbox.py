"""Approval requests and the notifications inbox (N-1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from aggregates.approval import KINDS, Approval
from aggregates.customer import Customer
from aggregates.problem import ProblemReport
from projections.definition import Projection
from projections.writer import Writer
from readmodels.tables import approvals, inbox_customers, notifications

inbox = Projection("inbox", [approvals, notifications, inbox_customers], version=1)
inbox.preload(approvals, lambda e: str(e.originator_id), Approval.Decided)
inbox.preload(inbox_customers, lambda e: str(e.originator_id), Customer.InfoChanged, Customer.Restored,
              Customer.PoolWarned, Customer.ReturnedToPool, Customer.Transferred, Customer.Assigned)
inbox.preload(inbox_customers, lambda e: e.customer_id, ProblemReport.Reported)
STATUS_WORDS = {"approved": "已批准", "rejected": "已驳回", "withdrawn": "已撤回"}


def notify(w: Writer, source: str, person_id: str, kind: str, text: str, ref_id: str, at: datetime) -> None:
    """One notification; its id derives from the event, so a rebuild gives the same ids."""
    nid = str(uuid5(NAMESPACE_URL, f"urn:crm:notification:{source}:{person_id}"))
    w.append(w.notifications, id=nid, person_id=person_id, kind=kind, text=text, ref_id=ref_id, created_at=at)


@inbox.on(Approval.Requested)
def requested(w: Writer, e: Approval.Requested) -> None:
    aid = str(e.originator_id)
    w.put(w.approvals, id=aid, kind=e.kind, target_id=e.target_id, summary=e.summary, payload=_plain(e.payload),
          requester_id=e.actor_id, approver_ids=list(e.approver_ids), status="pending", requested_at=e.timestamp)
    for person_id in e.approver_ids:
        notify(w, f"{aid}:1", person_id, "approval_requested",
               f"待审批：{KINDS.get(e.kind, e.kind)} — {e.summary}", aid, e.timestamp)


@inbox.on(Approval.Decided)
def decided(w: Writer, e: Approval.Decided) -> None:
    aid = str(e.originator_id)
    row = w.set(w.approvals, (aid,), status=e.status, decided_by=e.actor_id, decided_at=e.timestamp,
                comment=e.comment)
    if row is not None and e.status in ("approved", "rejected"):
        notify(w, f"{aid}:{e.originator_version}", row["requester_id"], "approval_decided",
               f"{STATUS_WORDS[e.status]}：{KINDS.get(row['kind'], row['kind'])} — {row['summary']}", aid,
               e.timestamp)


def _customer(w: Writer, customer_id: str) -> str:
    row = w.get(w.inbox_customers, customer_id)
    return f"{row['name']}（{row['number']}）" if row else customer_id


def _source(e: object) -> str:
    return f"{e.originator_id}:{e.originator_version}"  # type: ignore[attr-defined]


@inbox.on(Customer.Registered)
def customer_registered(w: Writer, e: Customer.Registered) -> None:
    w.put(w.inbox_customers, id=str(e.originator_id), number=e.number, name=e.name)


@inbox.on(Customer.InfoChanged, Customer.Restored)
def customer_renamed(w: Writer, e: Any) -> None:
    for change in e.changes:
        if change["field"] == "name":
            w.set(w.inbox_customers, (str(e.originator_id),), name=change["new"])


@inbox.on(Customer.PoolWarned)
def pool_warned(w: Writer, e: Customer.PoolWarned) -> None:
    cid = str(e.originator_id)
    notify(w, _source(e), e.owner_id, "pool_warning",
           f"客户{_customer(w, cid)}将于 {e.deadline.date().isoformat()} 到期退回公海", cid, e.timestamp)


@inbox.on(Customer.ReturnedToPool)
def returned_to_pool(w: Writer, e: Customer.ReturnedToPool) -> None:
    if e.reason == "released" or e.previous_owner_id == e.actor_id:
        return  # the owner gave it back themselves
    cid = str(e.originator_id)
    words = "超期未成交，已自动退回公海" if e.reason == "overdue" else "已被收回公海"
    notify(w, _source(e), e.previous_owner_id, "returned_to_pool", f"客户{_customer(w, cid)}{words}", cid,
           e.timestamp)


@inbox.on(Customer.Transferred)
def transferred(w: Writer, e: Customer.Transferred) -> None:
    cid = str(e.originator_id)
    reason = f"（{e.reason}）" if e.reason else ""
    notify(w, _source(e), e.to_person_id, "transfer_received", f"收到转交的客户{_customer(w, cid)}{reason}", cid,
           e.timestamp)


@inbox.on(Customer.Assigned)
def assigned(w: Writer, e: Customer.Assigned) -> None:
    cid = str(e.originator_id)
    notify(w, _source(e), e.to_person_id, "assignment_received", f"被指派客户{_customer(w, cid)}", cid,
           e.timestamp)


@inbox.on(ProblemReport.Reported)
def problem_assigned(w: Writer, e: ProblemReport.Reported) -> None:
    if e.responsible_id == e.actor_id:
        return
    notify(w, _source(e), e.responsible_id, "problem_assigned",
           f"客户{_customer(w, e.customer_id)}的问题报告（{e.kind}）由你处理", str(e.originator_id), e.timestamp)


def _plain(value: object) -> object:
    """JSON columns take plain values: decimals and dates as strings."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
