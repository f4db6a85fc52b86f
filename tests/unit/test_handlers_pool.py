"""Pool moves through `handle` with fakes (C-5..C-7, P-3, A-1..A-4): claim with its cap,
daily limit and cooldown; release and recall; transfer and assign; the sweep, for which
the pool-candidates port is only a hint and each customer is decided on its own events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from commands import messages as m
from tests.unit.fakes import Team, World


@pytest.fixture
def team(w: World) -> Team:
    return w.team(cap=3)


def pool_customers(w: World, team: Team, *names: str) -> list[str]:
    return [w.customer(team.boss, name, to_pool=True) for name in names]


# ---- claim (C-5, P-3) --------------------------------------------------------------------------


def test_a_claim_takes_a_pool_customer_into_hand(w: World, team: Team) -> None:
    [cid] = pool_customers(w, team, "公海一")
    w.do(m.ClaimCustomer(cid), team.alice)
    customer = w.customer_state(cid)
    assert (customer.owner_id, customer.in_pool, customer.pool_reason) == (team.alice.person_id, False, None)
    assert customer.owner_since is not None and customer.owner_since > customer.created_at
    assert w.profile(team.alice).held == [cid]
    assert w.refused(m.ClaimCustomer(cid), team.bob).code == "not_found"  # a held customer is hidden from bob
    assert w.refused(m.ClaimCustomer(cid), team.alice).code == "not_in_pool"


def test_claims_stop_at_the_cap(w: World, team: Team) -> None:
    ids = pool_customers(w, team, "一", "二", "三", "四")
    for cid in ids[:3]:
        w.do(m.ClaimCustomer(cid), team.alice)
    refused = w.refused(m.ClaimCustomer(ids[3]), team.alice)
    assert (refused.code, refused.details) == ("cap_reached", {"held": 3, "max_customers": 3})
    assert w.customer_state(ids[3]).in_pool
    w.do(m.ReturnToPool(ids[0], "released"), team.alice)
    w.do(m.ClaimCustomer(ids[3]), team.alice)
    assert sorted(w.profile(team.alice).held) == sorted(ids[1:])


def test_a_manager_without_a_profile_cannot_claim(w: World, team: Team) -> None:
    [cid] = pool_customers(w, team, "经理认领")
    assert w.refused(m.ClaimCustomer(cid), team.boss).code == "not_a_salesperson"


def test_the_daily_claim_limit_counts_business_days(w: World, team: Team) -> None:
    w.rules(daily_claim_limit=2)
    ids = pool_customers(w, team, "一", "二", "三")
    w.clock.set(datetime(2026, 11, 2, 15, 0, tzinfo=UTC))  # 23:00 in Shanghai
    w.do(m.ClaimCustomer(ids[0]), team.alice)
    w.do(m.ClaimCustomer(ids[1]), team.alice)
    refused = w.refused(m.ClaimCustomer(ids[2]), team.alice)
    assert (refused.code, refused.details) == ("daily_claim_limit", {"daily_claim_limit": 2})
    w.do(m.ClaimCustomer(ids[2]), team.bob)  # the limit is per person
    w.do(m.ReturnToPool(ids[2], "released"), team.bob)
    w.clock.set(datetime(2026, 11, 2, 16, 0, 1, tzinfo=UTC))  # past midnight in Shanghai: a new day
    w.do(m.ClaimCustomer(ids[2]), team.alice)
    assert w.profile(team.alice).claims_that_day == 1


def test_a_daily_limit_of_zero_stops_claims_and_none_lifts_it(w: World, team: Team) -> None:
    ids = pool_customers(w, team, "一", "二")
    w.rules(daily_claim_limit=0)
    assert w.refused(m.ClaimCustomer(ids[0]), team.alice).code == "daily_claim_limit"
    w.rules(daily_claim_limit=None)
    w.do(m.ClaimCustomer(ids[0]), team.alice)
    w.do(m.ClaimCustomer(ids[1]), team.alice)


def test_the_previous_owner_waits_out_the_cooldown(w: World, team: Team) -> None:
    w.rules(reclaim_cooldown_days=2)
    [cid] = pool_customers(w, team, "冷却客户")
    w.do(m.ClaimCustomer(cid), team.alice)
    w.do(m.ReturnToPool(cid, "released", note="不想要了"), team.alice)
    released_at = w.customer_state(cid).last_lost_at
    assert released_at is not None
    refused = w.refused(m.ClaimCustomer(cid), team.alice)
    assert refused.code == "claim_cooldown"
    assert refused.details == {"until": (released_at + timedelta(days=2)).isoformat()}
    w.clock.set(released_at + timedelta(days=2) - timedelta(seconds=1))
    assert w.refused(m.ClaimCustomer(cid), team.alice).code == "claim_cooldown"
    w.clock.set(released_at + timedelta(days=2))
    w.do(m.ClaimCustomer(cid), team.alice)
    assert w.customer_state(cid).owner_id == team.alice.person_id


def test_the_cooldown_binds_only_the_previous_owner(w: World, team: Team) -> None:
    w.rules(reclaim_cooldown_days=30)
    [cid] = pool_customers(w, team, "冷却他人")
    w.do(m.ClaimCustomer(cid), team.alice)
    w.do(m.ReturnToPool(cid, "released"), team.alice)
    w.do(m.ClaimCustomer(cid), team.bob)
    assert w.customer_state(cid).owner_id == team.bob.person_id


def test_a_dealt_customer_in_the_pool_does_not_count_against_the_cap(w: World, team: Team) -> None:
    w.rules(daily_claim_limit=5)
    dealt = w.customer(team.bob, "成交客户")
    w.do(m.SignContract(dealt, number="HT-1", name="合同", amount=Decimal("100")), team.bob)
    w.do(m.ReturnToPool(dealt, "released"), team.bob)
    for cid in pool_customers(w, team, "一", "二", "三"):
        w.do(m.ClaimCustomer(cid), team.alice)
    w.do(m.ClaimCustomer(dealt), team.alice)  # at the cap, but dealt
    assert w.customer_state(dealt).owner_id == team.alice.person_id
    profile = w.profile(team.alice)
    assert (len(profile.held), profile.claims_that_day) == (3, 4)  # the claim counts for the day


# ---- release and recall (C-6) ------------------------------------------------------------------


def test_only_the_owner_releases(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "释放客户", share_with=[team.bob.person_id])
    assert w.refused(m.ReturnToPool(cid, "released"), team.bob).code == "not_owner"  # a sharee
    assert w.refused(m.ReturnToPool(cid, "released"), team.boss).code == "not_owner"  # even the manager
    w.do(m.ReturnToPool(cid, "released", note="客户无意向"), team.alice)
    customer = w.customer_state(cid)
    assert (customer.owner_id, customer.pool_reason, customer.shared_with) == (None, "released", [])
    assert customer.last_owner_id == team.alice.person_id
    assert w.profile(team.alice).held == []
    [returned] = [e for e in w.events(cid) if type(e).__name__ == "ReturnedToPool"]
    assert (returned.note, returned.previous_owner_id) == ("客户无意向", team.alice.person_id)
    assert w.refused(m.ReturnToPool(cid, "released"), team.alice).code == "not_owner"
    assert w.refused(m.ReturnToPool(cid, "recalled"), w.root).code == "in_pool"


def test_a_manager_of_the_owner_recalls(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "收回客户")
    assert w.refused(m.ReturnToPool(cid, "recalled"), team.alice).code == "forbidden"  # not a manager
    other = w.department("华南部")
    stranger = w.person("southboss", ["manager"], department=other)
    assert w.refused(m.ReturnToPool(cid, "recalled"), stranger).code == "not_found"  # cannot even see it
    w.do(m.ReturnToPool(cid, "recalled", note="长期未跟进"), team.boss)
    assert w.customer_state(cid).pool_reason == "recalled"
    assert w.profile(team.alice).held == []


def test_a_manager_of_a_parent_department_recalls_and_an_admin_too(w: World, team: Team) -> None:
    child = w.department("上海组", parent=team.dept)
    carol = w.person("carol", ["sales"], department=child)
    first = w.customer(carol, "子部门客户一")
    second = w.customer(carol, "子部门客户二")
    w.do(m.ReturnToPool(first, "recalled"), team.boss)
    w.do(m.ReturnToPool(second, "recalled"), w.root)
    assert w.profile(carol).held == []


def test_managers_named_on_a_department_manage_it_wherever_they_sit(w: World, team: Team) -> None:
    overseer = w.person("overseer", ["manager"])  # in no department
    east = w.department("东区", managers=[overseer.person_id])
    dave = w.person("dave", ["sales"], department=east)
    cid = w.customer(dave, "东区客户")
    assert w.refused(m.ReturnToPool(cid, "recalled"), team.boss).code == "not_found"
    w.do(m.ReturnToPool(cid, "recalled"), overseer)
    assert w.customer_state(cid).in_pool


def test_an_unknown_reason_is_refused(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "理由客户")
    refused = w.refused(m.ReturnToPool(cid, "bored"), team.alice)
    assert (refused.code, refused.field) == ("validation_error", "reason")


def test_nobody_returns_a_customer_as_overdue_by_hand(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "逾期客户", share_with=[team.bob.person_id])
    refused = w.refused(m.ReturnToPool(cid, "overdue"), team.bob)  # a sharee
    assert refused.code in ("forbidden", "not_owner", "validation_error")


# ---- transfer (C-7) ----------------------------------------------------------------------------


def test_the_owner_transfers_to_a_colleague(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "转交客户", share_with=[team.bob.person_id])
    w.do(m.TransferCustomer(cid, team.bob.person_id, reason="区域调整"), team.alice)
    customer = w.customer_state(cid)
    assert (customer.owner_id, customer.shared_with) == (team.bob.person_id, [])  # no longer a sharee
    assert (w.profile(team.alice).held, w.profile(team.bob).held) == ([], [cid])
    [moved] = [e for e in w.events(cid) if type(e).__name__ == "Transferred"]
    assert (moved.from_person_id, moved.to_person_id, moved.reason) == (
        team.alice.person_id, team.bob.person_id, "区域调整")
    assert w.refused(m.TransferCustomer(cid, team.alice.person_id), team.alice).code == "not_found"


def test_transfer_refusals(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "转交拒绝", share_with=[team.bob.person_id])
    assert w.refused(m.TransferCustomer(cid, team.alice.person_id), team.alice).code == "same_owner"
    refused = w.refused(m.TransferCustomer(cid, team.boss.person_id), team.alice)
    assert (refused.code, refused.field) == ("not_a_salesperson", "to_person_id")
    assert w.refused(m.TransferCustomer(cid, "bob"), team.alice).field == "to_person_id"
    assert w.refused(m.TransferCustomer(cid, str(uuid4())), team.alice).code == "not_a_salesperson"
    assert w.refused(m.TransferCustomer(cid, team.bob.person_id), team.bob).code == "not_owner"  # the sharee
    pool = w.customer(team.alice, "公海转交", to_pool=True)
    assert w.refused(m.TransferCustomer(pool, team.bob.person_id), w.root).code == "in_pool"


def test_the_receivers_cap_holds_on_transfer_except_for_dealt_customers(w: World, team: Team) -> None:
    for name in ("一", "二", "三"):
        w.customer(team.bob, name)
    cid = w.customer(team.alice, "满额转交")
    refused = w.refused(m.TransferCustomer(cid, team.bob.person_id), team.alice)
    assert refused.code == "cap_reached"
    assert w.customer_state(cid).owner_id == team.alice.person_id
    w.do(m.SignContract(cid, number="HT-T", name="合同", amount=Decimal("1")), team.alice)
    w.do(m.TransferCustomer(cid, team.bob.person_id), team.alice)
    assert w.customer_state(cid).owner_id == team.bob.person_id
    assert len(w.profile(team.bob).held) == 3


def test_a_manager_transfers_between_their_people(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "经理转交")
    w.do(m.TransferCustomer(cid, team.bob.person_id), team.boss)
    assert w.customer_state(cid).owner_id == team.bob.person_id


# ---- assign (C-7) ------------------------------------------------------------------------------


def test_a_manager_assigns_pool_and_team_customers(w: World, team: Team) -> None:
    [pool] = pool_customers(w, team, "指派公海")
    w.do(m.AssignCustomer(pool, team.alice.person_id), team.boss)
    held = w.customer(team.bob, "指派在手")
    w.do(m.AssignCustomer(held, team.alice.person_id), team.boss)
    assert w.customer_state(held).owner_id == team.alice.person_id
    assert (sorted(w.profile(team.alice).held), w.profile(team.bob).held) == (sorted([pool, held]), [])
    [assigned] = [e for e in w.events(held) if type(e).__name__ == "Assigned"]
    assert (assigned.from_person_id, assigned.to_person_id) == (team.bob.person_id, team.alice.person_id)
    assert w.refused(m.AssignCustomer(held, team.alice.person_id), team.boss).code == "same_owner"


def test_assign_refusals(w: World, team: Team) -> None:
    [pool] = pool_customers(w, team, "指派拒绝")
    refused = w.refused(m.AssignCustomer(pool, team.bob.person_id), team.alice)
    assert (refused.code, refused.field) == ("forbidden", "to_person_id")  # a salesperson assigns nothing
    south = w.department("华南部")
    carol = w.person("carol", ["sales"], department=south)
    refused = w.refused(m.AssignCustomer(pool, carol.person_id), team.boss)
    assert (refused.code, refused.field) == ("forbidden", "to_person_id")  # outside the departments
    assert w.refused(m.AssignCustomer(pool, team.boss.person_id), team.boss).code == "not_a_salesperson"
    assert w.refused(m.AssignCustomer(pool, "alice"), team.boss).code == "validation_error"
    # A customer held outside, which the manager sees only as a sharee, is not theirs to assign.
    outside = w.customer(carol, "外部客户", share_with=[team.boss.person_id])
    refused = w.refused(m.AssignCustomer(outside, team.alice.person_id), team.boss)
    assert (refused.code, refused.field) == ("forbidden", None)
    hidden = w.customer(carol, "隐藏客户")
    assert w.refused(m.AssignCustomer(hidden, team.alice.person_id), team.boss).code == "not_found"
    w.do(m.AssignCustomer(outside, team.alice.person_id), w.root)  # an admin assigns anything
    assert w.customer_state(outside).owner_id == team.alice.person_id


def test_the_receivers_cap_holds_on_assign(w: World, team: Team) -> None:
    for name in ("一", "二", "三"):
        w.customer(team.alice, name)
    [pool] = pool_customers(w, team, "满额指派")
    assert w.refused(m.AssignCustomer(pool, team.alice.person_id), team.boss).code == "cap_reached"
    assert w.customer_state(pool).in_pool


# ---- the sweep (A-1..A-4) ----------------------------------------------------------------------


def sweep(w: World, now: datetime | None = None) -> tuple[int, int]:
    done = w.do(m.SweepPool(now=now), w.root)
    return done.warned, done.returned


def test_overdue_customers_return_after_one_warning(w: World, team: Team) -> None:
    w.do(m.ChangePerson(team.bob.person_id, {"max_follow_days": 30}), w.root)
    day0 = w.clock.now()
    held = w.customer(team.bob, "跟进客户")
    w.pool_candidates.ids = [held]
    w.clock.set(day0 + timedelta(days=26, hours=23))
    assert sweep(w, w.clock.now()) == (0, 0)
    assert w.pool_candidates.calls[-1][1:] == (90, 3)  # the default follow days and the warning window
    w.clock.set(day0 + timedelta(days=27, minutes=1))
    assert sweep(w, w.clock.now()) == (1, 0)
    [warned] = [e for e in w.events(held) if type(e).__name__ == "PoolWarned"]
    since = w.customer_state(held).owner_since
    assert since is not None
    assert (warned.owner_id, warned.deadline) == (team.bob.person_id, since + timedelta(days=30))
    w.clock.advance(hours=5)
    assert sweep(w, w.clock.now()) == (0, 0)  # warned once per holding
    w.clock.set(day0 + timedelta(days=30, minutes=1))
    assert sweep(w, w.clock.now()) == (0, 1)
    customer = w.customer_state(held)
    assert (customer.in_pool, customer.pool_reason, customer.last_owner_id) == (True, "overdue", team.bob.person_id)
    assert w.profile(team.bob).held == []
    assert sweep(w, w.clock.now()) == (0, 0)  # the same sweep again changes nothing
    assert w.event_types(held).count("ReturnedToPool") == 1


def test_the_candidates_are_only_a_hint(w: World, team: Team) -> None:
    fresh = w.customer(team.alice, "新客户")
    dealt = w.customer(team.alice, "成交客户")
    w.do(m.SignContract(dealt, number="HT-1", name="合同", amount=Decimal("1")), team.alice)
    [pool] = pool_customers(w, team, "公海客户")
    deleted = w.customer(team.boss, "已删客户", to_pool=True)
    w.do(m.DeleteCustomer(deleted), team.boss)
    w.pool_candidates.ids = [fresh, dealt, pool, deleted, str(uuid4()), team.alice.person_id]
    w.clock.advance(days=200)
    head = w.store.head()
    # Held 200 days, but only the fresh customer is due: dealt ones stay, the rest are no holdings.
    assert sweep(w, w.clock.now()) == (0, 1)
    assert w.customer_state(fresh).in_pool and not w.customer_state(dealt).in_pool
    assert w.store.head() == head + 2  # the customer and the profile, nothing else
    # A customer that is due but not named by the port waits for the next sweep that names it.
    late = w.customer(team.bob, "未提示客户")
    w.clock.advance(days=200)
    w.pool_candidates.ids = []
    assert sweep(w, w.clock.now()) == (0, 0)
    assert not w.customer_state(late).in_pool


def test_a_candidate_not_yet_due_is_not_returned(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "未到期")
    w.pool_candidates.ids = [cid, cid]  # even named twice
    w.clock.advance(days=86)
    assert sweep(w, w.clock.now()) == (0, 0)
    w.clock.advance(days=1, minutes=1)
    assert sweep(w, w.clock.now()) == (1, 0)
    assert not w.customer_state(cid).in_pool


def test_a_new_holding_is_warned_again(w: World, team: Team) -> None:
    w.rules(default_max_follow_days=10, pool_warning_days=2)
    start = w.clock.now()
    cid = w.customer(team.alice, "轮转客户")
    w.pool_candidates.ids = [cid]
    w.clock.set(start + timedelta(days=8, hours=1))
    assert sweep(w, w.clock.now()) == (1, 0)
    w.do(m.TransferCustomer(cid, team.bob.person_id), team.alice)
    w.clock.set(start + timedelta(days=12))
    assert sweep(w, w.clock.now()) == (0, 0)
    w.clock.set(start + timedelta(days=16, hours=2))
    assert sweep(w, w.clock.now()) == (1, 0)
    assert w.event_types(cid).count("PoolWarned") == 2


def test_a_sweep_as_of_a_past_moment_decides_as_of_then(w: World, team: Team) -> None:
    w.rules(default_max_follow_days=10)
    cid = w.customer(team.alice, "回溯客户")
    w.pool_candidates.ids = [cid]
    registered = w.customer_state(cid).owner_since
    assert registered is not None
    w.clock.advance(days=30)
    assert sweep(w, registered + timedelta(days=5)) == (0, 0)
    # A naive moment is business time: 09:00 in Shanghai 11 days on is past the deadline.
    naive = (registered + timedelta(days=11)).astimezone(UTC).replace(tzinfo=None) + timedelta(hours=8)
    assert sweep(w, naive) == (0, 1)
    assert w.pool_candidates.calls[-1][0] == registered + timedelta(days=11)


def test_a_sweep_cannot_run_as_of_the_future_or_outside_the_calendar(w: World, team: Team) -> None:
    assert w.refused(m.SweepPool(now=w.clock.now() + timedelta(minutes=6)), w.root).code == "now_in_future"
    sweep(w, w.clock.now() + timedelta(minutes=4))  # clock skew is tolerated
    for moment in (datetime(9999, 12, 31, 23, 59), datetime(1, 1, 1)):
        refused = w.refused(m.SweepPool(now=moment), w.root)
        assert (refused.code, refused.field) == ("date_out_of_range", "now")


def test_the_read_side_is_told_once_per_sweep_and_only_of_changes(w: World, team: Team) -> None:
    w.rules(default_max_follow_days=5)
    ids = [w.customer(team.alice, f"批量{i}") for i in range(3)]
    w.pool_candidates.ids = ids
    w.clock.advance(days=6)
    told = len(w.commits)
    done = w.do(m.SweepPool(), w.root)  # as of the clock's time
    assert (done.warned, done.returned) == (0, 3)
    assert w.commits[told:] == [w.store.head()] == [done.position]
    assert sweep(w) == (0, 0)
    assert len(w.commits) == told + 1


def test_the_owners_own_follow_days_win_over_the_default(w: World, team: Team) -> None:
    w.rules(default_max_follow_days=100)
    w.do(m.ChangePerson(team.alice.person_id, {"max_follow_days": 5}), team.boss)
    short = w.customer(team.alice, "短期")
    long = w.customer(team.bob, "长期")
    w.pool_candidates.ids = [short, long]
    w.clock.advance(days=6)
    assert sweep(w) == (0, 1)
    assert w.customer_state(short).in_pool and not w.customer_state(long).in_pool
