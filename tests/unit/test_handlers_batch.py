"""Batches of customers through `handle` with fakes (seed 002: 全选 batch actions; C-4..C-7,
P-3) and department shares (seed 002 §2.2.5). Given customers in and out of reach, when one
batch command, then a result per customer (ok, pending with its approval, or the refusal),
each customer done or refused on its own; and who sees a customer shared with a department
as people join and leave it."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from aggregates.approval import Approval
from commands import messages as m
from commands.customers import BATCH_MAX, BatchItem
from tests.unit.fakes import Team, World


@pytest.fixture
def team(w: World) -> Team:
    w.rules(approval_required=[])  # applied at once; the approval policy has its own tests below
    return w.team(cap=3)


def pool(w: World, team: Team, *names: str) -> list[str]:
    return [w.customer(team.boss, name, to_pool=True) for name in names]


def outcome(result: Any) -> list[tuple[str, str, str | None]]:
    """(customer id, status, refusal code) per customer, in the batch's order."""
    items: list[BatchItem] = result.ids["results"]
    return [(i.customer_id, i.status, i.error.code if i.error else None) for i in items]


# ---- batch claim (C-5, P-3) ---------------------------------------------------------------------


def test_a_batch_claim_claims_each_customer_on_its_own_up_to_the_cap(w: World, team: Team) -> None:
    ids = pool(w, team, "一", "二", "三", "四")
    held = w.customer(team.bob, "鲍勃的")
    w.commits.clear()

    done = w.do(m.ClaimCustomers([ids[0], held, ids[1], ids[2], ids[3]]), team.alice)

    assert outcome(done) == [(ids[0], "ok", None), (held, "error", "not_found"), (ids[1], "ok", None),
                             (ids[2], "ok", None), (ids[3], "error", "cap_reached")]
    assert w.profile(team.alice).held == ids[:3]
    assert w.customer_state(ids[3]).in_pool and w.customer_state(held).owner_id == team.bob.person_id
    assert w.commits == [done.position] == [w.store.head()]  # the read side is told once
    error = done.ids["results"][4].error
    assert error.details == {"held": 3, "max_customers": 3}


def test_a_batch_claim_counts_the_daily_limit_across_its_customers(w: World, team: Team) -> None:
    w.rules(daily_claim_limit=2)
    ids = pool(w, team, "一", "二", "三")
    assert [s for _, s, _ in outcome(w.do(m.ClaimCustomers(ids), team.alice))] == ["ok", "ok", "error"]
    assert outcome(w.do(m.ClaimCustomers([ids[2]]), team.alice)) == [(ids[2], "error", "daily_claim_limit")]


def test_a_batch_names_each_customer_once_and_refuses_bad_ids_one_by_one(w: World, team: Team) -> None:
    [cid] = pool(w, team, "一")
    done = w.do(m.ClaimCustomers([cid.upper(), cid, "not-an-id", str(uuid4())]), team.alice)
    assert [(s, c) for _, s, c in outcome(done)] == [("ok", None), ("error", "validation_error"),
                                                     ("error", "not_found")]
    assert done.ids["results"][0].customer_id == cid


def test_an_empty_batch_is_refused(w: World, team: Team) -> None:
    for command in (m.ClaimCustomers([]), m.ReturnCustomersToPool([], "released"),
                    m.TransferCustomers([], team.bob.person_id), m.ShareCustomers([], add=[team.bob.person_id])):
        error = w.refused(command, team.alice)
        assert (error.code, error.field) == ("validation_error", "customer_ids")


def test_a_batch_is_at_most_one_page(w: World, team: Team) -> None:
    ids = [str(uuid4()) for _ in range(BATCH_MAX + 1)]
    for command in (m.ClaimCustomers(ids), m.ReturnCustomersToPool(ids, "released"),
                    m.TransferCustomers(ids, team.bob.person_id), m.ShareCustomers(ids, add=[team.bob.person_id])):
        error = w.refused(command, team.alice)
        assert (error.code, error.field, error.details) == ("out_of_range", "customer_ids", {"limit": BATCH_MAX})
    assert [s for _, s, _ in outcome(w.do(m.ClaimCustomers(ids[:BATCH_MAX]), team.alice))] == ["error"] * BATCH_MAX


def test_only_salespeople_claim_in_batches(w: World, team: Team) -> None:
    [cid] = pool(w, team, "一")
    assert w.refused(m.ClaimCustomers([cid]), team.boss).code == "not_a_salesperson"


# ---- batch release and recall (C-6) -------------------------------------------------------------


def test_a_batch_release_gives_back_only_the_owners_customers(w: World, team: Team) -> None:
    mine = [w.customer(team.alice, "甲"), w.customer(team.alice, "乙")]
    shared = w.customer(team.bob, "共享给我", share_with=[team.alice.person_id])
    [public] = pool(w, team, "公海")
    done = w.do(m.ReturnCustomersToPool([mine[0], shared, public, mine[1]], "released", "不再跟进"), team.alice)
    assert outcome(done) == [(mine[0], "ok", None), (shared, "error", "not_owner"), (public, "error", "not_owner"),
                             (mine[1], "ok", None)]
    assert all(w.customer_state(c).pool_reason == "released" for c in mine)
    assert w.customer_state(shared).owner_id == team.bob.person_id and w.profile(team.alice).held == []


def test_a_batch_recall_is_a_managers_and_the_reason_is_checked(w: World, team: Team) -> None:
    ids = [w.customer(team.alice, "甲"), w.customer(team.bob, "乙")]
    other = w.team(name="华南销售部")
    theirs = w.customer(other.alice, "别部门的")
    done = w.do(m.ReturnCustomersToPool([*ids, theirs], "recalled"), team.boss)
    assert outcome(done) == [(ids[0], "ok", None), (ids[1], "ok", None), (theirs, "error", "not_found")]
    assert outcome(w.do(m.ReturnCustomersToPool([w.customer(team.bob, "丙")], "recalled"), team.alice))[0][2] == \
        "not_found"
    assert w.refused(m.ReturnCustomersToPool(ids, "overdue"), team.boss).field == "reason"


# ---- batch transfer (C-7, P-3) ------------------------------------------------------------------


def test_a_batch_transfer_fills_the_receiver_up_to_the_cap(w: World, team: Team) -> None:
    ids = [w.customer(team.alice, n) for n in ("一", "二", "三")]
    shared = w.customer(team.bob, "鲍勃的", share_with=[team.alice.person_id])  # bob holds 1 of 3
    done = w.do(m.TransferCustomers([*ids, shared], team.bob.person_id, "调岗"), team.alice)
    assert outcome(done) == [(ids[0], "ok", None), (ids[1], "ok", None), (ids[2], "error", "cap_reached"),
                             (shared, "error", "not_owner")]
    assert w.customer_state(ids[2]).owner_id == team.alice.person_id
    assert w.profile(team.bob).held == [shared, *ids[:2]] and w.profile(team.alice).held == [ids[2]]


def test_a_manager_transfers_the_customers_of_their_people(w: World, team: Team) -> None:
    ids = [w.customer(team.alice, "甲"), w.customer(team.alice, "乙")]
    other = w.team(name="华南销售部")
    done = w.do(m.TransferCustomers(ids, team.bob.person_id), team.boss)
    assert [s for _, s, _ in outcome(done)] == ["ok", "ok"]
    refused = w.do(m.TransferCustomers(ids, other.alice.person_id), other.boss)
    assert [c for _, _, c in outcome(refused)] == ["not_found", "not_found"]  # not their people's


def test_a_batch_transfer_to_someone_without_a_profile_is_refused_whole(w: World, team: Team) -> None:
    [cid] = [w.customer(team.alice, "甲")]
    for to, code in ((team.boss.person_id, "not_a_salesperson"), ("nobody", "validation_error")):
        error = w.refused(m.TransferCustomers([cid], to), team.alice)
        assert (error.code, error.field) == (code, "to_person_id")


# ---- the approval policy, customer by customer (AP-1) ---------------------------------------------


def test_a_batch_claim_under_the_claim_policy_files_one_request_per_customer(w: World, team: Team) -> None:
    w.rules(approval_required=["claim"])
    ids = pool(w, team, "一", "二")
    held = w.customer(team.bob, "鲍勃的")
    done = w.do(m.ClaimCustomers([*ids, held]), team.alice)
    assert [(s, c) for _, s, c in outcome(done)] == [("pending", None), ("pending", None), ("error", "not_found")]
    approvals = [item.approval_id for item in done.ids["results"][:2]]
    assert all(w.find(a, Approval).status == "pending" for a in approvals)
    assert all(w.customer_state(c).in_pool for c in ids)  # nothing claimed yet
    w.do(m.ApproveRequest(str(approvals[1])), team.boss)
    assert w.customer_state(ids[1]).owner_id == team.alice.person_id and w.customer_state(ids[0]).in_pool


def test_a_managers_batch_transfer_applies_at_once_under_the_transfer_policy(w: World, team: Team) -> None:
    w.rules(approval_required=["transfer"])
    ids = [w.customer(team.alice, "甲"), w.customer(team.alice, "乙")]
    assert [s for _, s, _ in outcome(w.do(m.TransferCustomers(ids[:1], team.bob.person_id), team.alice))] == [
        "pending"]
    assert [s for _, s, _ in outcome(w.do(m.TransferCustomers(ids, team.bob.person_id), team.boss))] == ["ok", "ok"]


# ---- department shares (seed 002 §2.2.5) ----------------------------------------------------------


def test_a_department_share_reaches_its_members_now_and_later(w: World, team: Team) -> None:
    support = w.department("客服部")
    night = w.department("夜班组", parent=support)
    carol = w.person("carol", ["sales"], department=support)
    dave = w.person("dave", ["sales"], department=night)
    erin = w.person("erin", ["sales"], department=team.dept)
    cid = w.customer(team.alice, "共享客户")
    contact = m.AddContact(cid, {"name": "某人"})  # changing it: 403 for a sharee, 404 for one who cannot see it

    assert w.refused(contact, carol).code == "not_found"
    w.do(m.ChangeShares(cid, add_departments=[support]), team.alice)
    assert w.customer_state(cid).shared_departments == [support]
    assert w.refused(contact, carol).code == "not_owner"
    assert w.refused(contact, dave).code == "not_owner"  # a department below shares in it
    assert w.refused(contact, erin).code == "not_found"

    w.do(m.ChangePerson(erin.person_id, {"department_id": night}), w.root)  # joins later
    w.do(m.ChangePerson(carol.person_id, {"department_id": team.dept}), w.root)  # leaves
    assert w.refused(contact, w.actor(erin.person_id)).code == "not_owner"
    assert w.refused(contact, w.actor(carol.person_id)).code == "not_found"

    w.do(m.ChangeShares(cid, add=[carol.person_id]), team.alice)  # by name, wherever she is
    w.do(m.ChangeShares(cid, remove_departments=[support]), team.alice)
    assert w.refused(contact, w.actor(carol.person_id)).code == "not_owner"
    assert w.refused(contact, w.actor(erin.person_id)).code == "not_found"


def test_a_sharee_by_department_records_visits(w: World, team: Team) -> None:
    """Seed 002 §5.2 1.4: the department shared with records its contacts with the customer."""
    support = w.department("客服部")
    carol = w.person("carol", ["sales"], department=support)
    cid = w.customer(team.alice, "共享客户")
    assert w.refused(m.RecordVisit(cid, notes="来电"), carol).code == "not_found"
    w.do(m.ChangeShares(cid, add_departments=[support]), team.alice)
    w.do(m.RecordVisit(cid, notes="来电"), carol)
    assert w.customer_state(cid).visit_count == 1


def test_a_sharee_by_department_sees_it_whatever_their_token_says(w: World, team: Team) -> None:
    """The commands read the person's department from the store, not from who they said they were."""
    support = w.department("客服部")
    carol = w.person("carol", ["sales"], department=support)
    cid = w.customer(team.alice, "共享客户")
    w.do(m.ChangeShares(cid, add_departments=[support]), team.alice)
    w.do(m.ChangePerson(carol.person_id, {"department_id": team.dept}), w.root)
    assert w.refused(m.AddContact(cid, {"name": "某人"}), carol).code == "not_found"  # carol's Actor is stale


def test_department_share_changes_are_checked(w: World, team: Team) -> None:
    support = w.department("客服部")
    cid = w.customer(team.alice, "共享客户")
    for command, code, field in (
        (m.ChangeShares(cid, add_departments=[str(uuid4())]), "unknown_department", "add_departments"),
        (m.ChangeShares(cid, add_departments=["nope"]), "validation_error", "add_departments"),
        (m.ChangeShares(cid, remove_departments=[support]), "no_change", None),
    ):
        error = w.refused(command, team.alice)
        assert (error.code, error.field) == (code, field)
    w.do(m.ChangeShares(cid, add_departments=[support, support]), team.alice)
    assert w.refused(m.ChangeShares(cid, add_departments=[support]), team.alice).code == "no_change"
    assert w.refused(m.ChangeShares(cid, add_departments=[support]), team.bob).code == "not_found"
    [event] = [e for e in w.events(cid) if type(e).__name__ == "SharesChanged"]
    assert (event.added, event.removed, event.departments_added, event.departments_removed) == ([], [], [support], [])


def test_the_pool_clears_department_shares_and_a_transfer_keeps_them(w: World, team: Team) -> None:
    support = w.department("客服部")
    cid = w.customer(team.alice, "共享客户")
    w.do(m.ChangeShares(cid, add_departments=[support]), team.alice)
    w.do(m.TransferCustomer(cid, team.bob.person_id), team.alice)
    assert w.customer_state(cid).shared_departments == [support]
    w.do(m.ReturnToPool(cid, "released"), team.bob)
    assert w.customer_state(cid).shared_departments == []
    w.do(m.ClaimCustomer(cid), team.alice)
    assert w.customer_state(cid).shared_departments == []


def test_a_batch_share_with_a_department_goes_customer_by_customer(w: World, team: Team) -> None:
    support = w.department("客服部")
    ids = [w.customer(team.alice, "甲"), w.customer(team.alice, "乙")]
    bobs = w.customer(team.bob, "鲍勃的")
    w.do(m.ChangeShares(ids[1], add_departments=[support]), team.alice)
    done = w.do(m.ShareCustomers([ids[0], ids[1], bobs], add_departments=[support]), team.alice)
    assert [c for _, _, c in outcome(done)] == [None, "no_change", "not_found"]
    assert w.refused(m.ShareCustomers(ids, add_departments=[str(uuid4())]), team.alice).code == "unknown_department"


def test_an_owners_share_change_waits_under_the_info_change_policy(w: World, team: Team) -> None:
    support = w.department("客服部")
    w.rules(approval_required=["customer_info_change"])
    ids = [w.customer(team.alice, "甲"), w.customer(team.alice, "乙")]
    done = w.do(m.ShareCustomers(ids, add_departments=[support]), team.alice)
    assert [s for _, s, _ in outcome(done)] == ["pending", "pending"]
    assert all(w.customer_state(c).shared_departments == [] for c in ids)
    w.do(m.ApproveRequest(str(done.ids["results"][0].approval_id)), team.boss)
    assert w.customer_state(ids[0]).shared_departments == [support]
