"""The approval flow through `handle` with fakes (AP-1, AP-2, R-6): a command the policy
holds back is checked and filed when its actor is no manager; an eligible manager approves
it — the command runs then, as the requester, with the approver recorded — or rejects it;
nobody decides their own; the requester withdraws."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

from aggregates.approval import Approval
from aggregates.customer import Customer
from aggregates.product import Product
from aggregates.target import SalesTarget
from commands import messages as m
from tests.unit.fakes import Team, World


def approval(w: World, approval_id: str) -> Approval:
    return w.find(approval_id, Approval)


def ask_region(w: World, team: Team, cid: str, region: str = "华北") -> str:
    done = w.do(m.ChangeCustomerInfo(cid, {"region": region}, reason="搬迁"), team.alice)
    assert done.pending is True
    return str(done.ids["approval_id"])



# ---- filing (AP-1) -----------------------------------------------------------------------------


def test_a_salespersons_info_change_is_filed_not_applied(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "审批客户", region="华东")
    head = w.store.head()
    done = w.do(m.ChangeCustomerInfo(cid, {"region": "华北"}, reason="搬迁"), team.alice)
    assert done.pending is True and set(done.ids) == {"approval_id"}
    assert w.store.head() == head + 1 == done.position  # the request only
    assert w.customer_state(cid).region == "华东"
    request = approval(w, done.ids["approval_id"])
    assert (request.kind, request.target_id, request.status, request.requester_id) == (
        "customer_info_change", cid, "pending", team.alice.person_id)
    assert request.approver_ids == [team.boss.person_id]
    assert request.payload == {"customer_id": cid, "changes": {"region": "华北"}, "reason": "搬迁"}
    assert request.summary == "region（搬迁）"
    assert w.organisation.asked_approvers == [team.alice.person_id]


def test_managers_admins_and_an_empty_policy_apply_at_once(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "直接变更")
    assert w.do(m.ChangeCustomerInfo(cid, {"region": "华北"}), team.boss).pending is False
    assert w.do(m.ChangeCustomerInfo(cid, {"region": "华南"}), w.root).pending is False
    assert w.customer_state(cid).region == "华南"
    w.rules(approval_required=[])
    assert w.do(m.ChangeCustomerInfo(cid, {"region": "西南"}), team.alice).pending is False
    assert w.customer_state(cid).region == "西南"


def test_a_request_that_could_never_pass_is_refused_at_once(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "不合格请求", region="华东")
    w.customer(team.bob, "已占用")
    for changes, code in (({"region": "华东"}, "no_change"), ({"owner_id": "x"}, "unknown_field"),
                          ({"region": "火星"}, "unknown_value"), ({"name": "已占用"}, "duplicate_name")):
        assert w.refused(m.ChangeCustomerInfo(cid, changes), team.alice).code == code
    w.do(m.ChangeShares(cid, add=[team.bob.person_id]), team.boss)
    assert w.refused(m.ChangeCustomerInfo(cid, {"region": "华北"}), team.bob).code == "not_owner"


def test_without_managers_the_admins_approve(w: World) -> None:
    lonely = w.department("无经理部")
    carol = w.person("carol", ["sales"], department=lonely)
    other_admin = w.person("admin2", ["admin"])
    cid = w.customer(carol, "孤立客户")
    approval_id = w.do(m.ChangeCustomerInfo(cid, {"region": "华北"}), carol).ids["approval_id"]
    assert approval(w, approval_id).approver_ids == sorted([w.root.person_id, other_admin.person_id])


# ---- approving (AP-2) --------------------------------------------------------------------------


def test_an_approval_runs_the_command_as_the_requester(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "旧名")
    done = w.do(m.ChangeCustomerInfo(cid, {"name": "新名", "region": "华北"}, reason="工商变更"), team.alice)
    approval_id = done.ids["approval_id"]
    requested_on = approval(w, approval_id).created_on
    w.clock.advance(hours=3)
    approved = w.do(m.ApproveRequest(approval_id, comment="同意"), team.boss)
    assert approved.ids == {"id": approval_id} and approved.position == w.store.head()
    customer = w.customer_state(cid)
    assert (customer.name, customer.region) == ("新名", "华北")
    [changed] = [e for e in w.events(cid) if isinstance(e, Customer.InfoChanged)]
    assert (changed.actor_id, changed.approved_by, changed.reason) == (
        team.alice.person_id, team.boss.person_id, "工商变更")
    assert changed.requested_at == requested_on
    request = approval(w, approval_id)
    assert (request.status, request.decided_by, request.comment) == ("approved", team.boss.person_id, "同意")
    decided = w.events(approval_id)[-1]
    assert decided.command_id == changed.command_id  # the decision and the change commit together
    w.customer(team.bob, "旧名")  # the old name was freed by the approved rename
    assert w.refused(m.ApproveRequest(approval_id), team.boss).code == "not_pending"
    assert w.refused(m.RejectRequest(approval_id), team.boss).code == "not_pending"


def test_nobody_approves_their_own_request_or_one_outside_their_departments(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "越权审批")
    approval_id = ask_region(w, team, cid)
    assert w.refused(m.ApproveRequest(approval_id), team.alice).code == "own_request"
    assert w.refused(m.ApproveRequest(approval_id), team.bob).code == "forbidden"  # a colleague
    south = w.department("华南部")
    south_boss = w.person("southboss", ["manager"], department=south)
    refused = w.refused(m.ApproveRequest(approval_id), south_boss)
    assert refused.code == "forbidden"
    assert w.refused(m.RejectRequest(approval_id), south_boss).code == "forbidden"
    assert approval(w, approval_id).status == "pending"
    assert w.customer_state(cid).region is None
    w.do(m.ApproveRequest(approval_id), w.root)  # an admin decides any request
    assert w.customer_state(cid).region == "华北"


def test_a_manager_of_a_parent_department_approves(w: World, team: Team) -> None:
    child = w.department("上海组", parent=team.dept)
    carol = w.person("carol", ["sales"], department=child)
    cid = w.customer(carol, "子部门审批")
    approval_id = w.do(m.ChangeCustomerInfo(cid, {"region": "华北"}), carol).ids["approval_id"]
    assert approval(w, approval_id).approver_ids == [team.boss.person_id]
    w.do(m.ApproveRequest(approval_id), team.boss)
    assert w.customer_state(cid).region == "华北"


def test_checks_run_again_at_approval_time(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "重名审批")
    approval_id = w.do(m.ChangeCustomerInfo(cid, {"name": "新名"}), team.alice).ids["approval_id"]
    w.customer(team.boss, "新名", to_pool=True)  # taken meanwhile
    assert w.refused(m.ApproveRequest(approval_id), team.boss).code == "duplicate_name"
    assert approval(w, approval_id).status == "pending"  # the decision did not commit either
    assert w.customer_state(cid).name == "重名审批"


def test_a_requester_who_lost_the_customer_meanwhile_is_refused(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "易手客户")
    approval_id = ask_region(w, team, cid)
    w.do(m.TransferCustomer(cid, team.bob.person_id), team.alice)
    assert w.refused(m.ApproveRequest(approval_id), team.boss).code == "not_owner"
    assert approval(w, approval_id).status == "pending"


def test_a_price_change_waits_for_a_manager(w: World, team: Team) -> None:
    product = w.do(m.CreateProduct(name="服务器"), team.boss).ids["id"]
    w.do(m.ChangePrice(product, Decimal("100.00")), team.boss)
    asked = w.do(m.ChangePrice(product, Decimal("120.00"), reason="成本上涨"), team.alice)
    assert asked.pending is True
    assert w.find(product, Product).price == Decimal("100.00")
    request = approval(w, asked.ids["approval_id"])
    assert (request.kind, request.target_id, request.payload["price"]) == ("price_change", product, Decimal("120.00"))
    assert w.refused(m.ChangePrice(product, Decimal("100")), team.alice).code == "no_change"  # checked at once
    w.do(m.ApproveRequest(asked.ids["approval_id"]), team.boss)
    assert w.find(product, Product).price == Decimal("120.00")
    changed = w.events(product)[-1]
    assert (changed.old_price, changed.price, changed.actor_id, changed.approved_by) == (
        Decimal("100.00"), Decimal("120.00"), team.alice.person_id, team.boss.person_id)


def test_a_salesperson_proposes_a_target_and_a_manager_approves(w: World, team: Team) -> None:
    w.rules(approval_required=["target"])
    command = m.SetTarget(person_id=team.alice.person_id, period="十一月", start=date(2026, 11, 1),
                          end=date(2026, 11, 30), figures={"new_customers": 5, "deal_amount": Decimal("20000.00")})
    proposed = w.do(command, team.alice)
    assert proposed.pending is True
    assert w.store.find(UUID(command.target_id), SalesTarget) is None
    assert approval(w, proposed.ids["approval_id"]).target_id == command.target_id
    w.do(m.ApproveRequest(proposed.ids["approval_id"]), team.boss)
    target = w.find(command.target_id, SalesTarget)
    assert (target.person_id, target.figures["deal_amount"], target.figures["new_customers"]) == (
        team.alice.person_id, Decimal("20000.00"), 5)
    [made] = w.events(command.target_id)
    assert (made.actor_id, made.approved_by) == (team.alice.person_id, team.boss.person_id)
    # A manager's own setting needs no approval.
    assert w.do(m.SetTarget(person_id=team.bob.person_id, period="十一月", start=date(2026, 11, 1),
                            end=date(2026, 11, 30)), team.boss).pending is False


# ---- rejecting and withdrawing -----------------------------------------------------------------


def test_a_rejected_request_changes_nothing(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "驳回客户")
    approval_id = ask_region(w, team, cid)
    assert w.refused(m.RejectRequest(approval_id), team.alice).code == "own_request"
    assert w.refused(m.RejectRequest(approval_id), team.bob).code == "forbidden"
    w.do(m.RejectRequest(approval_id, comment="不对"), team.boss)
    request = approval(w, approval_id)
    assert (request.status, request.decided_by, request.comment) == ("rejected", team.boss.person_id, "不对")
    assert w.customer_state(cid).region is None
    assert w.refused(m.ApproveRequest(approval_id), team.boss).code == "not_pending"
    assert w.refused(m.WithdrawRequest(approval_id), team.alice).code == "not_pending"


def test_only_the_requester_withdraws(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "撤回客户")
    approval_id = ask_region(w, team, cid)
    assert w.refused(m.WithdrawRequest(approval_id), team.boss).code == "forbidden"
    assert w.refused(m.WithdrawRequest(approval_id), w.root).code == "forbidden"
    w.do(m.WithdrawRequest(approval_id, comment="不改了"), team.alice)
    request = approval(w, approval_id)
    assert (request.status, request.decided_by) == ("withdrawn", team.alice.person_id)
    assert w.refused(m.WithdrawRequest(approval_id), team.alice).code == "not_pending"
    assert w.refused(m.ApproveRequest(approval_id), team.boss).code == "not_pending"


def test_unknown_approvals(w: World, team: Team) -> None:
    for command in (m.ApproveRequest, m.RejectRequest, m.WithdrawRequest):
        assert w.refused(command(str(uuid4())), team.boss).code == "not_found"
        assert w.refused(command("nope"), team.boss).code == "validation_error"
    # Another aggregate's id is no approval.
    assert w.refused(m.ApproveRequest(team.alice.person_id), team.boss).code == "not_found"


def test_a_comment_is_bounded(w: World, team: Team) -> None:
    approval_id = ask_region(w, team, w.customer(team.alice, "长评论"))
    assert w.refused(m.RejectRequest(approval_id, comment="评" * 5001), team.boss).code == "too_long"
    assert w.refused(m.RejectRequest(approval_id, comment="\x00"), team.boss).code == "control_character"
    w.do(m.RejectRequest(approval_id, comment="多行\n评论"), team.boss)
