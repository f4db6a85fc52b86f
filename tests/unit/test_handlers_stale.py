"""AP-2 against a world that moves on: a request records the state it was made against (the
old values of what it changes); approving one whose state has changed since is refused with
`stale_request`, naming what changed, and leaves it pending for a rejection or a fresh
request. AP-1 for every kind it names: transfers and claims under their own policies, the
owner's contact and share edits under the info-change policy (seed 000 §5.1.6)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from typing import Any
from uuid import UUID, uuid4

import pytest

from aggregates.approval import KINDS, Approval
from aggregates.base import DomainError
from aggregates.customer import Customer
from aggregates.product import Product
from aggregates.settings import APPROVAL_KINDS
from aggregates.target import SalesTarget
from commands import messages as m
from commands.base import context, save
from tests.unit.fakes import Team, World


def approval(w: World, approval_id: str) -> Approval:
    return w.find(approval_id, Approval)


def pending(w: World, command: m.Command, actor: Any) -> str:
    done = w.do(command, actor)
    assert done.pending is True, command
    return str(done.ids["approval_id"])


def priced(w: World, team: Team, price: str = "150000.00") -> str:
    product = str(w.do(m.CreateProduct(name="服务器", spec="R740"), team.boss).ids["id"])
    w.do(m.ChangePrice(product, D(price)), team.boss)
    return product


def price_of(w: World, product: str) -> D | None:
    return w.find(product, Product).price


# ---- prices (G-3) ------------------------------------------------------------------------------


def test_a_price_request_records_the_price_it_was_asked_against(w: World, team: Team) -> None:
    keeper = w.person("keeper", ["warehouse"], department=team.dept)
    product = priced(w, team)
    asked = approval(w, pending(w, m.ChangePrice(product, D("160000.00"), reason="成本上涨"), keeper))
    assert asked.base == {"price": "150000.00"}
    unpriced = str(w.do(m.CreateProduct(name="新品"), team.boss).ids["id"])
    assert approval(w, pending(w, m.ChangePrice(unpriced, D("1.00")), keeper)).base == {"price": None}


def test_a_late_approval_does_not_overwrite_a_newer_price(w: World, team: Team) -> None:
    """The keeper asks 160,000; the manager sets 155,000 directly; the old request is stale."""
    keeper = w.person("keeper", ["warehouse"], department=team.dept)
    product = priced(w, team)
    old = pending(w, m.ChangePrice(product, D("160000.00")), keeper)
    w.do(m.ChangePrice(product, D("155000.00"), reason="市场价"), team.boss)
    refused = w.refused(m.ApproveRequest(old, comment="同意"), team.boss)
    assert (refused.code, refused.field) == ("stale_request", "price")
    assert refused.details == {"changed": [{"field": "price", "then": "150000.00", "now": "155000.00"}]}
    assert price_of(w, product) == D("155000.00")
    assert approval(w, old).status == "pending"  # open for a rejection or a fresh request
    assert w.refused(m.ApproveRequest(old), w.root).code == "stale_request"  # an admin too
    fresh = pending(w, m.ChangePrice(product, D("160000.00")), keeper)
    w.do(m.RejectRequest(old, comment="价格已调整，请重新申请"), team.boss)
    assert approval(w, old).status == "rejected"
    w.do(m.ApproveRequest(fresh), team.boss)
    assert price_of(w, product) == D("160000.00")


def test_only_an_eligible_approver_learns_what_changed(w: World, team: Team) -> None:
    keeper = w.person("keeper", ["warehouse"], department=team.dept)
    product = priced(w, team)
    old = pending(w, m.ChangePrice(product, D("160000.00")), keeper)
    w.do(m.ChangePrice(product, D("155000.00")), team.boss)
    assert w.refused(m.ApproveRequest(old), keeper).code == "own_request"
    assert w.refused(m.ApproveRequest(old), team.alice).code == "forbidden"
    # Rejecting and withdrawing a stale request are no approvals: they go through.
    w.do(m.WithdrawRequest(old), keeper)
    assert approval(w, old).status == "withdrawn"


def test_a_price_set_back_to_the_asked_against_value_is_not_stale(w: World, team: Team) -> None:
    """The base is compared by value: the state the request was made against holds again."""
    keeper = w.person("keeper", ["warehouse"], department=team.dept)
    product = priced(w, team)
    asked = pending(w, m.ChangePrice(product, D("160000.00")), keeper)
    w.do(m.ChangePrice(product, D("155000.00")), team.boss)
    w.do(m.ChangePrice(product, D("150000.00")), team.boss)
    w.do(m.ApproveRequest(asked), team.boss)
    assert price_of(w, product) == D("160000.00")


def test_of_two_requests_on_one_price_the_second_approval_is_stale(w: World, team: Team) -> None:
    keeper = w.person("keeper", ["warehouse"], department=team.dept)
    product = priced(w, team)
    first = pending(w, m.ChangePrice(product, D("160000.00")), keeper)
    second = pending(w, m.ChangePrice(product, D("170000.00")), team.alice)
    w.do(m.ApproveRequest(second), team.boss)
    refused = w.refused(m.ApproveRequest(first), team.boss)
    assert refused.details["changed"][0]["now"] == "170000.00"
    assert price_of(w, product) == D("170000.00")


def test_a_change_landing_between_the_check_and_the_save_is_caught(
        w: World, team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    """The base is read again at the moment the approved change is saved: a direct change that
    lands after the first check, before the handler loads the product, cannot be overwritten."""
    keeper = w.person("keeper", ["warehouse"], department=team.dept)
    product = priced(w, team)
    asked = pending(w, m.ChangePrice(product, D("160000.00")), keeper)
    real_find = w.store.find
    loads: list[UUID] = []

    def find(aggregate_id: UUID, kind: type[Any]) -> Any:
        if kind is Product:
            loads.append(aggregate_id)
            if len(loads) == 2:  # the handler's own load, after the approval's first check
                meanwhile = real_find(aggregate_id, Product)
                assert meanwhile is not None
                meanwhile.change_price(context(w.deps, team.boss), D("155000.00"), date(2026, 11, 2), "抢先")
                save(w.deps, meanwhile)
        return real_find(aggregate_id, kind)

    monkeypatch.setattr(w.store, "find", find)
    with pytest.raises(DomainError) as caught:
        w.do(m.ApproveRequest(asked), team.boss)
    assert caught.value.code == "stale_request"
    monkeypatch.undo()
    assert price_of(w, product) == D("155000.00")
    assert approval(w, asked).status == "pending"


def test_a_request_without_a_base_is_decided_by_its_own_checks(w: World, team: Team) -> None:
    """Requests filed before bases were kept (an upcast one has none): no staleness check."""
    keeper = w.person("keeper", ["warehouse"], department=team.dept)
    product = priced(w, team)
    old = Approval.request(context(w.deps, keeper), id=uuid4(), kind="price_change", target_id=product,
                           payload={"product_id": product, "price": D("160000.00"), "reason": ""}, summary="旧请求",
                           approver_ids=[team.boss.person_id])
    save(w.deps, old)
    assert old.base is None
    w.do(m.ChangePrice(product, D("155000.00")), team.boss)
    w.do(m.ApproveRequest(str(old.id)), team.boss)
    assert price_of(w, product) == D("160000.00")


# ---- customer info (C-3) -----------------------------------------------------------------------


def test_an_info_change_is_stale_only_when_its_own_fields_moved(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "基准客户", region="华东", address="上海市1号")
    region = pending(w, m.ChangeCustomerInfo(cid, {"region": "华北"}, reason="搬迁"), team.alice)
    assert approval(w, region).base == {"region": "华东"}
    # A visit, a payment and a change of another field leave the region where it was.
    w.do(m.RecordVisit(customer_id=cid, stage="需求确认"), team.alice)
    w.do(m.RecordPayment(cid, D("100.00")), team.alice)
    w.do(m.ChangeCustomerInfo(cid, {"address": "北京市2号"}), team.boss)
    w.do(m.ApproveRequest(region), team.boss)
    assert w.customer_state(cid).region == "华北"

    address = pending(w, m.ChangeCustomerInfo(cid, {"address": "天津市3号", "building": "A座"}), team.alice)
    assert approval(w, address).base == {"address": "北京市2号", "building": None}
    w.do(m.ChangeCustomerInfo(cid, {"address": "广州市4号"}), team.boss)
    refused = w.refused(m.ApproveRequest(address), team.boss)
    assert refused.details == {"changed": [{"field": "address", "then": "北京市2号", "now": "广州市4号"}]}
    assert w.customer_state(cid).address == "广州市4号"


def test_a_visit_that_moves_the_stage_makes_a_stage_change_stale(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "阶段客户", stage="初步接触")
    asked = pending(w, m.ChangeCustomerInfo(cid, {"stage": "方案报价"}), team.alice)
    w.do(m.RecordVisit(customer_id=cid, stage="需求确认"), team.alice)
    assert w.refused(m.ApproveRequest(asked), team.boss).field == "stage"


def test_odd_values_survive_the_base(w: World, team: Team) -> None:
    """Unicode beyond the BMP, coordinates, a name at its longest: recorded and compared as they are."""
    name = "𠀀" + "客" * 199
    cid = w.customer(team.alice, name, lat=31.2304, lng=121.4737)
    asked = pending(w, m.ChangeCustomerInfo(cid, {"name": "新名𠀁", "lat": -90.0, "lng": 180.0}), team.alice)
    assert approval(w, asked).base == {"name": name, "lat": 31.2304, "lng": 121.4737}
    w.do(m.ApproveRequest(asked), team.boss)
    assert (w.customer_state(cid).name, w.customer_state(cid).lat) == ("新名𠀁", -90.0)


# ---- targets (T-1, T-2) ------------------------------------------------------------------------


def november(person: str, **kw: Any) -> m.SetTarget:
    return m.SetTarget(person_id=person, period="十一月", start=date(2026, 11, 1), end=date(2026, 11, 30),
                       figures={"visits": 10}, **kw)


def test_a_target_proposal_is_stale_once_the_period_is_taken(w: World, team: Team) -> None:
    w.rules(approval_required=["target"])
    proposal = november(team.alice.person_id)
    asked = pending(w, proposal, team.alice)
    assert approval(w, asked).base == {"target": None, "overlapping": []}
    direct = w.do(m.SetTarget(person_id=team.alice.person_id, period="下半月", start=date(2026, 11, 15),
                              end=date(2026, 11, 30), figures={"visits": 3}), team.boss).ids["id"]
    refused = w.refused(m.ApproveRequest(asked), team.boss)
    assert (refused.code, refused.details) == ("stale_request", {"changed": [
        {"field": "overlapping", "then": [], "now": [direct]}]})
    assert w.store.find(UUID(proposal.target_id), SalesTarget) is None
    # The manager's own target is cancelled: the period is as it was asked against again.
    w.do(m.CancelTarget(direct), team.boss)
    w.do(m.ApproveRequest(asked), team.boss)
    assert w.find(proposal.target_id, SalesTarget).figures["visits"] == 10


# ---- contacts and shares: the info-change policy (seed 000 §5.1.6) ------------------------------


def test_an_owners_contact_and_share_edits_wait_for_approval(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "联系人客户", contacts=[{"name": "甲", "phone": "1"}])
    first = w.customer_state(cid).contacts[0]["id"]
    added = pending(w, m.AddContact(cid, {"name": "乙", "phone": "2"}), team.alice)
    edited = pending(w, m.EditContact(cid, first, {"phone": "9"}), team.alice)
    shared = pending(w, m.ChangeShares(cid, add=[team.bob.person_id]), team.alice)
    assert [approval(w, a).kind for a in (added, edited, shared)] == ["contact_add", "contact_change", "share_change"]
    assert approval(w, edited).base == {"phone": "1"}
    assert approval(w, shared).summary == "共享范围变更：共享给1人"
    customer = w.customer_state(cid)
    assert (len(customer.contacts), customer.contacts[0]["phone"], customer.shared_with) == (1, "1", [])
    for request in (added, edited, shared):
        w.do(m.ApproveRequest(request), team.boss)
    customer = w.customer_state(cid)
    assert [(c["name"], c["phone"]) for c in customer.contacts] == [("甲", "9"), ("乙", "2")]
    assert customer.shared_with == [team.bob.person_id]
    changes = [e for e in w.events(cid) if isinstance(e, Customer.ContactAdded | Customer.ContactEdited
                                                      | Customer.SharesChanged)]
    assert {e.actor_id for e in changes} == {team.alice.person_id}  # the requester's (AP-2)
    removed = pending(w, m.RemoveContact(cid, first), team.alice)
    assert approval(w, removed).base == {"name": "甲", "phone": "9", "title": None}
    w.do(m.ApproveRequest(removed), team.boss)
    assert [c["name"] for c in w.customer_state(cid).contacts] == ["乙"]
    # A manager's edits, and an owner's without the info-change policy, apply at once.
    assert w.do(m.AddContact(cid, {"name": "丙"}), team.boss).pending is False
    w.rules(approval_required=["price_change"])
    assert w.do(m.AddContact(cid, {"name": "丁"}), team.alice).pending is False


def test_a_contact_edit_is_stale_once_the_contact_moved(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "联系人变动", contacts=[{"name": "甲", "phone": "1"}, {"name": "乙"}])
    first, second = (c["id"] for c in w.customer_state(cid).contacts)
    edit = pending(w, m.EditContact(cid, first, {"phone": "5", "primary": True}), team.alice)
    removal = pending(w, m.RemoveContact(cid, second), team.alice)
    w.do(m.EditContact(cid, first, {"phone": "7"}), team.boss)
    assert w.refused(m.ApproveRequest(edit), team.boss).details["changed"] == [
        {"field": "phone", "then": "1", "now": "7"}]
    # The removal is not about the first contact's phone: it goes through.
    w.do(m.ApproveRequest(removal), team.boss)
    # A request on a contact that is gone meets the command's own refusal, not a stale one.
    gone = pending(w, m.EditContact(cid, first, {"title": "经理"}), team.alice)
    w.do(m.AddContact(cid, {"name": "丙", "primary": True}), team.boss)
    w.do(m.RemoveContact(cid, first), team.boss)
    assert w.refused(m.ApproveRequest(gone), team.boss).code == "unknown_contact"


def test_contact_and_share_requests_are_checked_when_filed(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "检查客户", contacts=[{"name": "甲"}])
    first = w.customer_state(cid).contacts[0]["id"]
    head = w.store.head()
    assert w.refused(m.AddContact(cid, {"name": ""}), team.alice).code == "validation_error"
    assert w.refused(m.AddContact(cid, {"name": "丁" * 101}), team.alice).code == "too_long"
    assert w.refused(m.EditContact(cid, first, {"primary": False}), team.alice).code == "primary_required"
    assert w.refused(m.EditContact(cid, "nope", {"phone": "1"}), team.alice).code == "unknown_contact"
    assert w.refused(m.ChangeShares(cid, add=[team.alice.person_id]), team.alice).code == "share_with_owner"
    assert w.refused(m.ChangeShares(cid, add=[str(uuid4())]), team.alice).code == "unknown_person"
    assert w.refused(m.AddContact(cid, {"name": "x"}), team.bob).code == "not_found"  # hidden from bob
    assert w.store.head() == head


def test_a_summary_is_cut_for_the_inbox_but_the_request_keeps_everything(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "长理由")
    reason = "理" * 500
    asked = approval(w, pending(w, m.ChangeCustomerInfo(cid, {"region": "华北"}, reason=reason), team.alice))
    assert len(asked.summary) == 200 and asked.summary.endswith("…")
    assert asked.payload["reason"] == reason


# ---- transfers and claims under their policies (AP-1) ------------------------------------------


def test_a_transfer_waits_for_approval_and_is_checked_again(w: World, team: Team) -> None:
    w.rules(approval_required=["transfer"])
    cid = w.customer(team.alice, "转交客户")
    asked = pending(w, m.TransferCustomer(cid, team.bob.person_id, reason="调岗"), team.alice)
    assert (approval(w, asked).kind, approval(w, asked).summary) == ("transfer", "转交客户（调岗）")
    assert w.customer_state(cid).owner_id == team.alice.person_id
    assert w.refused(m.ApproveRequest(asked), team.alice).code == "own_request"
    assert w.refused(m.ApproveRequest(asked), team.bob).code == "forbidden"
    w.do(m.ApproveRequest(asked), team.boss)
    assert w.customer_state(cid).owner_id == team.bob.person_id
    [moved] = [e for e in w.events(cid) if isinstance(e, Customer.Transferred)]
    assert (moved.actor_id, moved.from_person_id, moved.reason) == (team.alice.person_id, team.alice.person_id, "调岗")
    assert cid in w.profile(team.bob).held and cid not in w.profile(team.alice).held
    # A manager transfers at once; a request by someone who lost the customer meanwhile fails.
    second = w.customer(team.alice, "二号转交")
    again = pending(w, m.TransferCustomer(second, team.bob.person_id), team.alice)
    assert w.do(m.TransferCustomer(second, team.bob.person_id), team.boss).pending is False
    assert w.refused(m.ApproveRequest(again), team.boss).code in ("not_found", "not_owner", "same_owner")
    assert approval(w, again).status == "pending"


def test_a_transfer_approved_against_a_full_receiver_is_refused(w: World) -> None:
    team = w.team(cap=1)
    w.rules(approval_required=["transfer"])
    cid = w.customer(team.alice, "满额转交")
    asked = pending(w, m.TransferCustomer(cid, team.bob.person_id), team.alice)
    w.customer(team.bob, "占满")
    assert w.refused(m.ApproveRequest(asked), team.boss).code == "cap_reached"
    assert w.customer_state(cid).owner_id == team.alice.person_id


def test_a_claim_waits_for_approval_and_is_checked_again(w: World, team: Team) -> None:
    w.rules(approval_required=["claim"])
    cid = w.customer(team.boss, "公海客户", to_pool=True)
    alice_asks = pending(w, m.ClaimCustomer(cid), team.alice)
    bob_asks = pending(w, m.ClaimCustomer(cid), team.bob)
    assert approval(w, alice_asks).kind == "claim" and w.customer_state(cid).in_pool
    w.do(m.ApproveRequest(bob_asks), team.boss)
    assert w.customer_state(cid).owner_id == team.bob.person_id
    assert cid in w.profile(team.bob).held  # the requester's claim, against the requester's cap
    [claimed] = [e for e in w.events(cid) if isinstance(e, Customer.Claimed)]
    assert (claimed.actor_id, claimed.person_id) == (team.bob.person_id, team.bob.person_id)
    # Someone else claimed it meanwhile: the claim's own refusal (hidden from alice now, C-5).
    assert w.refused(m.ApproveRequest(alice_asks), team.boss).code == "not_found"
    assert approval(w, alice_asks).status == "pending"
    w.do(m.RejectRequest(alice_asks, comment="已被他人领取"), team.boss)


def test_a_claim_request_that_could_never_pass_is_refused_at_once(w: World) -> None:
    team = w.team(cap=1)
    w.rules(approval_required=["claim"], daily_claim_limit=5)
    w.customer(team.alice, "已满")
    cid = w.customer(team.boss, "公海", to_pool=True)
    assert w.refused(m.ClaimCustomer(cid), team.alice).code == "cap_reached"
    assert w.refused(m.ClaimCustomer(w.customer(team.bob, "自有")), team.alice).code == "not_found"


def test_a_claim_approved_past_the_daily_limit_is_refused(w: World, team: Team) -> None:
    w.rules(approval_required=["claim"], daily_claim_limit=1)
    first, second = (w.customer(team.boss, f"公海{n}", to_pool=True) for n in (1, 2))
    asks = [pending(w, m.ClaimCustomer(c), team.alice) for c in (first, second)]
    w.do(m.ApproveRequest(asks[0]), team.boss)
    assert w.refused(m.ApproveRequest(asks[1]), team.boss).code == "daily_claim_limit"


# ---- the policy's kinds ------------------------------------------------------------------------


def test_every_approvable_command_is_governed_by_a_policy_the_settings_take() -> None:
    for kind, command in m.APPROVABLE.items():
        assert command.KIND == kind and kind in KINDS, kind
        assert command.POLICY in APPROVAL_KINDS, kind
    assert {c.POLICY for c in (m.AddContact, m.EditContact, m.RemoveContact, m.ChangeShares)} == {
        "customer_info_change"}
    assert (m.TransferCustomer.POLICY, m.ClaimCustomer.POLICY, m.ChangePrice.POLICY) == (
        "transfer", "claim", "price_change")


@pytest.mark.parametrize("kinds", [["transfer"], ["claim"], ["return", "exchange"], []])
def test_a_policy_holds_back_only_its_own_kinds(w: World, team: Team, kinds: list[str]) -> None:
    w.rules(approval_required=kinds)
    cid = w.customer(team.alice, "策略客户")
    pool = w.customer(team.boss, "策略公海", to_pool=True)
    assert w.do(m.ChangeCustomerInfo(cid, {"region": "华北"}), team.alice).pending is False
    assert w.do(m.AddContact(cid, {"name": "甲"}), team.alice).pending is False
    assert w.do(m.ClaimCustomer(pool), team.alice).pending is ("claim" in kinds)
    assert w.do(m.TransferCustomer(cid, team.bob.person_id), team.alice).pending is ("transfer" in kinds)
