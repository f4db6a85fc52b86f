"""Aggregates through their methods: given these events, when this command, then these
events or this refusal. No store, no I/O."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from aggregates.base import Conflict, Forbidden, Invalid
from aggregates.names import CustomerName, normalise_name
from aggregates.organisation import Salesperson
from aggregates.settings import DEFAULT_DICTIONARIES, Settings, type_with_subtypes
from tests.unit.helpers import T0, ctx, customer, event_names


@pytest.mark.parametrize(
    "raw", ["华为技术有限公司", "  华为技术有限公司 ", "华为技术有限公司\u3000", "华为技术　有限公司"]
)
def test_names_normalise_spaces_and_width(raw: str) -> None:
    assert normalise_name(raw).replace(" ", "") == "华为技术有限公司"
    assert CustomerName.id_for(raw) == CustomerName.id_for(raw.strip())


def test_names_fold_case_and_full_width_letters() -> None:
    assert normalise_name("ＡＢＣ  Trading") == normalise_name("abc trading")
    assert normalise_name("ABC Trading") != normalise_name("ABC Trade")


def test_claim_only_from_the_pool() -> None:
    c = customer(owner=None)
    assert c.in_pool
    c.claim(ctx("bob"), "bob", cooldown_days=0)
    assert c.owner_id == "bob" and not c.in_pool
    with pytest.raises(Conflict) as refused:
        c.claim(ctx("carol"), "carol", cooldown_days=0)
    assert refused.value.code == "not_in_pool"
    assert event_names(c) == ["Registered", "Claimed"]


def test_return_to_pool_clears_owner_and_shares_and_starts_the_cooldown() -> None:
    c = customer(shared_with=["bob"])
    assert c.shared_with == ["bob"]
    assert c.return_to_pool(ctx(), "released") == "alice"
    assert c.owner_id is None and c.shared_with == [] and c.pool_reason == "released"
    with pytest.raises(Conflict) as refused:
        c.claim(ctx("alice", T0 + timedelta(days=1)), "alice", cooldown_days=2)
    assert refused.value.code == "claim_cooldown"
    c.claim(ctx("bob", T0 + timedelta(days=1)), "bob", cooldown_days=2)
    assert c.owner_id == "bob"


def test_a_new_owner_is_no_longer_a_sharee() -> None:
    c = customer(shared_with=["bob", "carol"])
    c.transfer(ctx(), "bob", "调岗")
    assert c.owner_id == "bob" and c.shared_with == ["carol"]


def test_shares_need_an_owner_and_never_include_the_owner() -> None:
    c = customer()
    with pytest.raises(Invalid):
        c.change_shares(ctx(), ["alice"], [])
    c.change_shares(ctx(), ["bob"], [])
    with pytest.raises(Invalid) as nothing:
        c.change_shares(ctx(), ["bob"], [])
    assert nothing.value.code == "no_change"
    pooled = customer(owner=None)
    with pytest.raises(Conflict):
        pooled.change_shares(ctx(), ["bob"], [])


def test_only_owner_or_manager_changes() -> None:
    c = customer(shared_with=["bob"])
    with pytest.raises(Forbidden) as refused:
        c.ensure_changeable_by("bob", is_manager_of_owner=False)
    assert refused.value.code == "not_owner"
    c.ensure_changeable_by("alice", is_manager_of_owner=False)
    c.ensure_changeable_by("boss", is_manager_of_owner=True)


def test_info_change_records_old_and_new_per_field_and_refuses_dealt() -> None:
    c = customer()
    changes = c.change_info(ctx(), {"region": "华东", "name": "华为", "status": "lost"}, "复核")
    assert changes == [{"field": "region", "old": None, "new": "华东"},
                       {"field": "status", "old": "potential", "new": "lost"}]
    with pytest.raises(Invalid) as refused:
        c.change_info(ctx(), {"status": "dealt"}, "")
    assert refused.value.code == "invalid_status"


def test_delete_only_from_the_pool_and_then_nothing_else() -> None:
    owned = customer()
    with pytest.raises(Conflict):
        owned.delete(ctx())
    pooled = customer(owner=None)
    pooled.delete(ctx())
    with pytest.raises(Conflict) as refused:
        pooled.claim(ctx("bob"), "bob", 0)
    assert refused.value.code == "deleted"


def test_visit_moves_potential_to_following_and_flags_late_entries() -> None:
    c = customer()
    _, late, _ = c.record_visit(ctx(at=T0 + timedelta(hours=1)), visited_at=T0, late_entry_hours=24, stage="签约")
    assert not late and c.status == "following" and c.stage == "签约" and c.visit_count == 1
    _, late, _ = c.record_visit(ctx(at=T0 + timedelta(days=3)), visited_at=T0 + timedelta(hours=2),
                                late_entry_hours=24)
    assert late and c.last_visit_at == T0 + timedelta(hours=2)
    with pytest.raises(Conflict):
        customer(owner=None).record_visit(ctx(), visited_at=T0, late_entry_hours=24)


def test_contacts_one_primary() -> None:
    c = customer(contacts=[{"name": "甲"}, {"name": "乙"}])
    assert [x["primary"] for x in c.contacts] == [True, False]
    new = c.add_contact(ctx(), {"name": "丙", "primary": True})
    assert [x["primary"] for x in c.contacts] == [False, False, True]
    c.remove_contact(ctx(), new)
    assert [x["primary"] for x in c.contacts] == [True, False]
    with pytest.raises(Invalid):
        customer(contacts=[{"name": "甲", "primary": True}, {"name": "乙", "primary": True}])


def test_salesperson_cap_and_daily_limit() -> None:
    sp = Salesperson.create(ctx(), "bob", max_customers=2, max_follow_days=None)
    sp.take(ctx(), "c1", how="claim", cap=2, day="2026-11-01", daily_limit=2)
    sp.take(ctx(), "c1", how="claim", cap=2, day="2026-11-01", daily_limit=2)  # already held: no-op
    assert sp.held == ["c1"]
    with pytest.raises(Conflict) as limit:
        sp.take(ctx(), "c2", how="claim", cap=5, day="2026-11-01", daily_limit=1)
    assert limit.value.code == "daily_claim_limit"
    sp.take(ctx(), "c2", how="claim", cap=2, day="2026-11-02", daily_limit=1)
    with pytest.raises(Conflict) as cap:
        sp.take(ctx(), "c3", how="transfer", cap=2, day="2026-11-02")
    assert cap.value.code == "cap_reached" and cap.value.details == {"held": 2, "max_customers": 2}
    sp.let_go(ctx(), "c1", "released")
    sp.take(ctx(), "c3", how="transfer", cap=2, day="2026-11-02")
    assert sp.held == ["c2", "c3"]


def test_name_index_refuses_a_second_holder() -> None:
    index = CustomerName.reserve(ctx(), "华为", "c1", "KH1")
    with pytest.raises(Conflict) as refused:
        index.retake(ctx(), "c2", "KH2")
    assert refused.value.code == "duplicate_name" and refused.value.details == {"number": "KH1"}
    index.free(ctx())
    index.retake(ctx(), "c2", "KH2")
    assert index.customer_id == "c2"


def test_settings_validate_and_types_include_subtypes() -> None:
    s = Settings.create_default(ctx())
    with pytest.raises(Invalid):
        s.change(ctx(), {"default_max_follow_days": 0}, {})
    with pytest.raises(Invalid):
        s.change(ctx(), {"nonsense": 1}, {})
    s.change(ctx(), {"daily_claim_limit": 3}, {})
    assert s.rules["daily_claim_limit"] == 3
    assert type_with_subtypes(DEFAULT_DICTIONARIES["customer_types"], "企业客户") == [
        "企业客户", "国有企业", "民营企业", "外资企业"]
    assert type_with_subtypes(DEFAULT_DICTIONARIES["customer_types"], "医院") == ["医院"]
    assert type_with_subtypes(DEFAULT_DICTIONARIES["customer_types"], "none") == []


def test_contract_limits_count_split_lines_together() -> None:
    from decimal import Decimal

    from aggregates.contract import Contract

    c = Contract.sign(ctx(), id=uuid4(), customer_id="c1", number="HT", name="n", signed_on=T0.date(),
                      amount=None, lines=[{"product_id": "p", "quantity": Decimal(5), "unit_price": Decimal(10)}],
                      salesperson_id="alice")
    assert c.amount == Decimal("50.00")
    with pytest.raises(Conflict) as over:
        c.check_delivery([{"product_id": "p", "quantity": Decimal(3)}, {"product_id": "p", "quantity": Decimal(3)}])
    assert over.value.code == "over_delivered"
    c.deliver(ctx(), "d1", T0.date(), [{"product_id": "p", "warehouse": "W", "quantity": Decimal(3),
                                        "unit_cost": Decimal(1)}])
    two = [{"product_id": "p", "warehouse": "W", "quantity": Decimal(2)}] * 2
    with pytest.raises(Conflict) as back:
        c.check_return("d1", two)
    assert back.value.code == "over_returned"
    c.check_return("d1", two[:1])


def test_a_dealt_customer_keeps_its_status_and_a_closed_one_takes_no_invoice() -> None:
    from datetime import date
    from decimal import Decimal

    c = customer()
    c.record_deal(ctx(), "c1", "HT-1", Decimal("10.00"), date(2026, 11, 1))
    with pytest.raises(Conflict) as refused:
        c.change_info(ctx(), {"status": "lost"}, "")
    assert refused.value.code == "dealt"
    pooled = customer(owner=None)
    pooled.delete(ctx())
    with pytest.raises(Conflict):
        pooled.record_invoice(ctx(), "c1", "i1", Decimal("1.00"), date(2026, 11, 1))


def test_claiming_a_dealt_customer_is_not_held_against_the_cap_but_counts_for_the_day() -> None:
    s = Salesperson.create(ctx(), "bob", 1, None)
    s.take(ctx(), "c1", how="claim", cap=1, day="2026-11-01", daily_limit=2)
    s.take(ctx(), "dealt", how="claim", cap=1, day="2026-11-01", daily_limit=2, counted=False)
    assert s.held == ["c1"] and s.claims_that_day == 2
    with pytest.raises(Conflict) as refused:
        s.take(ctx(), "dealt2", how="claim", cap=1, day="2026-11-01", daily_limit=2, counted=False)
    assert refused.value.code == "daily_claim_limit"
