"""Approval requests and the notifications inbox (N-1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from aggregates.approval import Approval
from aggregates.customer import Customer
from aggregates.delivery_request import DeliveryRequest
from aggregates.organisation import Department, Person
from aggregates.problem import ProblemReport
from commands.adapters.organisation import below
from projections.definition import Projection
from projections.writer import Writer
from readmodels.i18n import N_
from readmodels.tables import approvals, inbox_customers, inbox_problems, notifications
from readmodels.tables.handoff import handoff_keepers, handoff_notices
from readmodels.tables.staff import staff_departments, staff_holdings, staff_people

inbox = Projection("inbox", [approvals, notifications, inbox_customers, inbox_problems], version=3)
inbox.preload(approvals, lambda e: str(e.originator_id), Approval.Decided)
inbox.preload(inbox_customers, lambda e: str(e.originator_id), Customer.InfoChanged, Customer.Restored,
              Customer.PoolWarned, Customer.ReturnedToPool, Customer.Transferred, Customer.Assigned)
inbox.preload(inbox_customers, lambda e: e.customer_id, ProblemReport.Reported)
inbox.preload(inbox_problems, lambda e: str(e.originator_id), ProblemReport.Resolved)
# A decision's notice, with and without the approver's comment (which goes with the decision,
# a rejection's reason above all).
DECIDED = {"approved": (N_("已批准：{kind} — {summary}"), N_("已批准：{kind} — {summary}；意见：{comment}")),
           "rejected": (N_("已驳回：{kind} — {summary}"), N_("已驳回：{kind} — {summary}；意见：{comment}"))}


def notify(w: Writer, source: str, person_id: str, kind: str, message: str, params: dict[str, Any], ref_id: str,
           at: datetime) -> None:
    """One notification; its id derives from the event, so a rebuild gives the same ids. It keeps
    the message id and its values, rendered in the reader's locale when read
    (`readmodels.inbox.notification_text`)."""
    nid = str(uuid5(NAMESPACE_URL, f"urn:crm:notification:{source}:{person_id}"))
    w.append(w.notifications, id=nid, person_id=person_id, kind=kind, message=message, params=_plain(params),
             ref_id=ref_id, created_at=at)


@inbox.on(Approval.Requested)
def requested(w: Writer, e: Approval.Requested) -> None:
    aid = str(e.originator_id)
    w.put(w.approvals, id=aid, kind=e.kind, target_id=e.target_id, summary=e.summary, payload=_plain(e.payload),
          requester_id=e.actor_id, approver_ids=list(e.approver_ids), status="pending", requested_at=e.timestamp,
          base=_plain(e.base))
    for person_id in e.approver_ids:
        notify(w, f"{aid}:1", person_id, "approval_requested", N_("待审批：{kind} — {summary}"),
               {"approval_kind": e.kind, "summary": e.summary}, aid, e.timestamp)


@inbox.on(Approval.Decided)
def decided(w: Writer, e: Approval.Decided) -> None:
    aid = str(e.originator_id)
    row = w.set(w.approvals, (aid,), status=e.status, decided_by=e.actor_id, decided_at=e.timestamp,
                comment=e.comment)
    if row is not None and e.status in ("approved", "rejected"):
        plain, commented = DECIDED[e.status]
        params = {"approval_kind": row["kind"], "summary": row["summary"]}
        message = commented if e.comment else plain
        if e.comment:
            params["comment"] = e.comment
        notify(w, f"{aid}:{e.originator_version}", row["requester_id"], "approval_decided", message, params, aid,
               e.timestamp)


def _customer(w: Writer, customer_id: str) -> dict[str, Any]:
    """The customer a notice names, by name and number as they were then (its id when unknown)."""
    row = w.get(w.inbox_customers, customer_id)
    if row is None:
        return {"customer_name": customer_id, "customer_number": None}
    return {"customer_name": row["name"], "customer_number": row["number"]}


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
    notify(w, _source(e), e.owner_id, "pool_warning", N_("客户{customer}将于 {date} 到期退回公海"),
           {**_customer(w, cid), "date": e.deadline.date().isoformat()}, cid, e.timestamp)


@inbox.on(Customer.ReturnedToPool)
def returned_to_pool(w: Writer, e: Customer.ReturnedToPool) -> None:
    if e.reason == "released" or e.previous_owner_id == e.actor_id:
        return  # the owner gave it back themselves
    cid = str(e.originator_id)
    if e.reason == "overdue":
        message = N_("客户{customer}超期未成交，已自动退回公海")
    else:
        message = N_("客户{customer}已被收回公海")
    notify(w, _source(e), e.previous_owner_id, "returned_to_pool", message, _customer(w, cid), cid, e.timestamp)


@inbox.on(Customer.Transferred)
def transferred(w: Writer, e: Customer.Transferred) -> None:
    cid = str(e.originator_id)
    if e.reason:
        message, params = N_("收到转交的客户{customer}（{reason}）"), {**_customer(w, cid), "reason": e.reason}
    else:
        message, params = N_("收到转交的客户{customer}"), _customer(w, cid)
    notify(w, _source(e), e.to_person_id, "transfer_received", message, params, cid, e.timestamp)


@inbox.on(Customer.Assigned)
def assigned(w: Writer, e: Customer.Assigned) -> None:
    cid = str(e.originator_id)
    notify(w, _source(e), e.to_person_id, "assignment_received", N_("被指派客户{customer}"), _customer(w, cid),
           cid, e.timestamp)


@inbox.on(ProblemReport.Reported)
def problem_assigned(w: Writer, e: ProblemReport.Reported) -> None:
    w.put(w.inbox_problems, id=str(e.originator_id), reporter_id=e.actor_id, customer_id=e.customer_id,
          kind=e.kind)
    if e.responsible_id == e.actor_id:
        return
    notify(w, _source(e), e.responsible_id, "problem_assigned",
           N_("客户{customer}的问题报告（{problem_kind}）由你处理"),
           {**_customer(w, e.customer_id), "problem_kind": e.kind}, str(e.originator_id), e.timestamp)


@inbox.on(ProblemReport.Resolved)
def problem_resolved(w: Writer, e: ProblemReport.Resolved) -> None:
    """G-7: the reporter is told how their problem was resolved (not when they resolved it themselves)."""
    pid = str(e.originator_id)
    problem = w.get(w.inbox_problems, pid)
    if problem is None or problem["reporter_id"] == e.actor_id:
        return
    resolution = e.resolution if len(e.resolution) <= 120 else e.resolution[:119] + "…"
    notify(w, _source(e), problem["reporter_id"], "problem_resolved",
           N_("你报告的客户{customer}的问题（{problem_kind}）已解决：{resolution}"),
           {**_customer(w, problem["customer_id"]), "problem_kind": problem["kind"], "resolution": resolution},
           pid, e.timestamp)


def _plain(value: object) -> object:
    """JSON columns take plain values: decimals and dates as strings."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


# ---- the hand-off from sales to the warehouse (seed 000 §5.6.1-§5.6.3) ------------------------
# The keepers hear of every new request, and of its cancelling; the requester hears when it is
# done. Who is a keeper the inbox follows from the people's events (`handoff_keepers`), so a
# request reaches the keepers of its moment, in a rebuild as first time.
inbox.tables.extend([handoff_keepers, handoff_notices])


@inbox.on(Person.Created)
def keeper_created(w: Writer, e: Person.Created) -> None:
    w.put(w.handoff_keepers, person_id=str(e.originator_id), keeper="warehouse" in e.roles, active=True)


@inbox.on(Person.Changed)
def keeper_changed(w: Writer, e: Person.Changed) -> None:
    values: dict[str, bool] = {}
    for change in e.changes:
        if change["field"] == "roles":
            values["keeper"] = "warehouse" in (change["new"] or [])
        elif change["field"] == "active":
            values["active"] = bool(change["new"])
    if values:
        w.set(w.handoff_keepers, (str(e.originator_id),), **values)


def _keepers(w: Writer) -> list[str]:
    return [str(row["person_id"]) for row in w.select_by(w.handoff_keepers, keeper=True, active=True)]


def _request_params(w: Writer, notice: dict[str, Any], **more: Any) -> dict[str, Any]:
    """What a notice about a request to the warehouse names (its kind's word is the reader's)."""
    return {"request_kind": notice["kind"], "number": notice["number"], **_customer(w, notice["customer_id"]),
            "contract_number": notice["contract_number"], **more}


@inbox.on(DeliveryRequest.Requested)
def warehouse_request_made(w: Writer, e: DeliveryRequest.Requested) -> None:
    rid = str(e.originator_id)
    notice = {"id": rid, "number": e.number, "kind": e.kind, "requester_id": e.actor_id,
              "customer_id": e.customer_id, "contract_number": e.contract_number}
    w.put(w.handoff_notices, **notice)
    message = N_("{request} {number}待办（{lines} 行）：客户{customer}，合同{contract_number}")
    params = _request_params(w, notice, lines=len(e.lines))
    for person_id in _keepers(w):
        if person_id != e.actor_id:
            notify(w, _source(e), person_id, "warehouse_request", message, params, rid, e.timestamp)


@inbox.on(DeliveryRequest.CarriedOut)
def warehouse_request_done(w: Writer, e: DeliveryRequest.CarriedOut) -> None:
    rid = str(e.originator_id)
    notice = w.get(w.handoff_notices, rid)
    if notice is None or e.status != "done" or notice["requester_id"] == e.actor_id:
        return
    notify(w, _source(e), notice["requester_id"], "warehouse_request_done",
           N_("{request} {number}已办完：客户{customer}，合同{contract_number}"), _request_params(w, notice), rid,
           e.timestamp)


@inbox.on(DeliveryRequest.Cancelled)
def warehouse_request_cancelled(w: Writer, e: DeliveryRequest.Cancelled) -> None:
    rid = str(e.originator_id)
    notice = w.get(w.handoff_notices, rid)
    if notice is None:
        return
    if e.reason:
        message = N_("{request} {number}已取消（{reason}）：客户{customer}，合同{contract_number}")
        params = _request_params(w, notice, reason=e.reason)
    else:
        message = N_("{request} {number}已取消：客户{customer}，合同{contract_number}")
        params = _request_params(w, notice)
    told = set(_keepers(w)) | {notice["requester_id"]}
    for person_id in sorted(told - {e.actor_id}):
        notify(w, _source(e), person_id, "warehouse_request_cancelled", message, params, rid, e.timestamp)


# ---- people leave: the managers hear of a deactivated person's customers -------------------------
# The inbox follows the people, the departments and who holds which customer from the events
# (`staff_*`), so a deactivation reaches the managers of its moment, in a rebuild as first time.
inbox.tables.extend([staff_people, staff_departments, staff_holdings])
inbox.preload(staff_people, lambda e: str(e.originator_id), Person.Changed)
inbox.preload(staff_departments, lambda e: str(e.originator_id), Department.Changed)
inbox.preload(staff_holdings, lambda e: str(e.originator_id), Customer.Claimed, Customer.Transferred,
              Customer.Assigned, Customer.ReturnedToPool)
PERSON_COLUMNS = ("name", "department_id", "roles", "active")
DEPARTMENT_COLUMNS = ("parent_id", "manager_ids")


@inbox.on(Person.Created)
def staff_person_created(w: Writer, e: Person.Created) -> None:
    w.put(w.staff_people, id=str(e.originator_id), name=e.name, department_id=e.department_id,
          roles=list(e.roles), active=True)


@inbox.on(Person.Changed)
def staff_person_changed(w: Writer, e: Person.Changed) -> None:
    person = w.get(w.staff_people, str(e.originator_id))
    if person is None:
        return
    deactivated = any(c["field"] == "active" and c["old"] and not c["new"] for c in e.changes)
    if deactivated:
        _tell_managers_of_leaver(w, e, dict(person))  # as the person stood before the change
    values = {c["field"]: c["new"] for c in e.changes if c["field"] in PERSON_COLUMNS}
    if values:
        w.set(w.staff_people, (str(e.originator_id),), **values)


def _tell_managers_of_leaver(w: Writer, e: Person.Changed, person: dict[str, Any]) -> None:
    """Someone holding customers is deactivated: their managers (those who manage their
    department, R-4; the admins when nobody does) are told how many customers wait for a new
    owner, listed for them by `GET /customers?owner_inactive=true`."""
    held = len(w.select_by(w.staff_holdings, owner_id=person["id"]))
    if not held:
        return
    people = [p for p in w.select_by(w.staff_people, active=True) if p["id"] != person["id"]]
    departments = w.select_by(w.staff_departments)
    managers = sorted(p["id"] for p in people if "manager" in (p["roles"] or [])
                      and person["department_id"] in _managed_departments(departments, p))
    told = managers or sorted(p["id"] for p in people if "admin" in (p["roles"] or []))
    message = N_("{name}已停用，名下仍有 {held} 个客户待转交或收回")
    params = {"name": person["name"], "held": held}
    for manager_id in told:
        if manager_id != e.actor_id:  # never for one's own action
            notify(w, _source(e), manager_id, "owner_deactivated", message, params, person["id"], e.timestamp)


def _managed_departments(departments: list[Any], manager: dict[str, Any]) -> set[str]:
    """R-4 as `commands.adapters.organisation` decides it: the departments naming the manager,
    else their own, with every department below."""
    roots = [d["id"] for d in departments if manager["id"] in (d["manager_ids"] or [])]
    if not roots and manager["department_id"]:
        roots = [manager["department_id"]]
    return below({d["id"]: d["parent_id"] for d in departments}, roots)


@inbox.on(Department.Created)
def staff_department_created(w: Writer, e: Department.Created) -> None:
    w.put(w.staff_departments, id=str(e.originator_id), parent_id=e.parent_id, manager_ids=list(e.manager_ids))


@inbox.on(Department.Changed)
def staff_department_changed(w: Writer, e: Department.Changed) -> None:
    values = {k: v for k, v in e.changes.items() if k in DEPARTMENT_COLUMNS}
    if values:
        w.set(w.staff_departments, (str(e.originator_id),), **values)


@inbox.on(Customer.Registered)
def staff_customer_registered(w: Writer, e: Customer.Registered) -> None:
    if e.owner_id:
        w.put(w.staff_holdings, customer_id=str(e.originator_id), owner_id=e.owner_id)


@inbox.on(Customer.Claimed)
def staff_customer_claimed(w: Writer, e: Customer.Claimed) -> None:
    w.put(w.staff_holdings, customer_id=str(e.originator_id), owner_id=e.person_id)


@inbox.on(Customer.Transferred, Customer.Assigned)
def staff_customer_handed_over(w: Writer, e: Any) -> None:
    w.put(w.staff_holdings, customer_id=str(e.originator_id), owner_id=e.to_person_id)


@inbox.on(Customer.ReturnedToPool)
def staff_customer_returned(w: Writer, e: Customer.ReturnedToPool) -> None:
    w.remove(w.staff_holdings, str(e.originator_id))
