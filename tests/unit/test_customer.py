"""The Customer aggregate's registration, info changes, restores, view and money figures
(C-1, C-3, H-4, D-1..D-5): given a customer, when a command, then its state and events or
the refusal."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from aggregates import bounds
from aggregates.base import Conflict, Forbidden, Invalid
from aggregates.customer import Customer
from tests.unit.helpers import T0, ctx, customer, event_names, refused

DAY = date(2026, 11, 1)


def register(**kw: Any) -> Customer:
    args: dict[str, Any] = {"id": uuid4(), "number": "KH202611000001", "name": "华为", "fields": {},
                            "contacts": [], "owner_id": "alice", "shared_with": []}
    args.update(kw)
    return Customer.register(ctx(), **args)


def dealt(owner: str = "alice") -> Customer:
    c = customer(owner)
    c.record_deal(ctx(), "k1", "HT-1", Decimal("100.00"), DAY)
    c.collect_events()
    return c


# ---- registration (C-1) ----------------------------------------------------------------------


def test_a_registration_takes_the_given_fields_and_starts_as_a_potential_customer() -> None:
    fields = {"type": "民营企业", "source": "展会", "region": "华东", "address": "上海", "building": "A座",
              "lat": 31.2, "lng": 121.5, "stage": "初步接触"}

    c = register(fields=fields)

    assert {k: getattr(c, k) for k in fields} == fields
    assert (c.number, c.name, c.status, c.visit_count, c.last_visit_at) == ("KH202611000001", "华为",
                                                                             "potential", 0, None)
    assert (c.registered_by, c.created_at, c.owner_id, c.owner_since) == ("alice", T0, "alice", T0)
    assert (c.deal_total, c.invoiced_total, c.collected_total) == (Decimal("0.00"),) * 3
    assert not c.deleted and not c.in_pool and c.logo is None and c.warned_for is None
    assert (c.pool_entered_at, c.pool_reason, c.last_owner_id, c.last_lost_at) == (None, None, None, None)


def test_fields_left_out_are_empty() -> None:
    c = register(fields={"region": "华北"})

    assert (c.type, c.source, c.address, c.building, c.lat, c.lng, c.stage) == (None,) * 7


def test_a_pool_registration_has_no_owner_and_no_shares_and_is_in_the_pool_from_now() -> None:
    c = register(owner_id=None, shared_with=["bob"])

    assert c.in_pool and c.owner_id is None and c.owner_since is None
    assert c.shared_with == [] and c.pool_entered_at == T0
    [event] = c.collect_events()
    assert event.shared_with == []


def test_shares_at_registration_are_distinct_and_never_the_owner() -> None:
    c = register(shared_with=["bob", "alice", "carol", "bob"])

    assert c.shared_with == ["bob", "carol"]


@pytest.mark.parametrize("name", ["", "   ", "\u3000"])
def test_a_registration_needs_a_name(name: str) -> None:
    with refused(Invalid, "validation_error", field="name"):
        register(name=name)


def test_the_registration_time_defaults_to_the_commands_and_can_be_given() -> None:
    assert register().created_at == T0
    assert register(created_at=T0 - timedelta(days=400)).created_at == T0 - timedelta(days=400)


@pytest.mark.parametrize(("given", "credited"), [("registrant", "alice"), (None, None), ("bob", "bob")])
def test_the_credit_goes_to_the_registrant_unless_given(given: str | None, credited: str | None) -> None:
    c = register(credited_to=given)

    [event] = c.collect_events()
    assert event.credited_to == credited


def test_a_version_1_registration_credits_its_registrant() -> None:
    state: dict[str, Any] = {"actor_id": "alice"}

    Customer.Registered.upcast_v1_v2(state)

    assert state["credited_to"] == "alice"


def test_text_beyond_its_limit_is_refused_before_anything_is_recorded() -> None:
    with refused(Invalid, "too_long", field="name"):
        register(name="名" * (bounds.CUSTOMER_NAME + 1))
    with refused(Invalid, "too_long", field="number"):
        register(number="K" * 33)
    register(name="名" * bounds.CUSTOMER_NAME, number="K" * 32)


# ---- info changes (C-3) ----------------------------------------------------------------------


def test_an_info_change_records_old_and_new_of_each_changed_field_with_its_reason() -> None:
    c = register(fields={"region": "华北", "stage": "初步接触"})
    c.collect_events()

    recorded = c.change_info(ctx("boss"), {"region": "华东", "stage": "初步接触", "lat": 1.5}, "复核",
                             approved_by="boss", requested_at=T0 - timedelta(hours=1))

    assert recorded == [{"field": "region", "old": "华北", "new": "华东"},
                        {"field": "lat", "old": None, "new": 1.5}]
    assert (c.region, c.lat, c.stage) == ("华东", 1.5, "初步接触")
    [event] = c.collect_events()
    assert (event.changes, event.reason, event.approved_by, event.requested_at, event.actor_id) == (
        recorded, "复核", "boss", T0 - timedelta(hours=1), "boss")


def test_a_direct_info_change_has_no_approval() -> None:
    c = customer()
    c.collect_events()

    c.change_info(ctx(), {"source": "展会"}, "")

    [event] = c.collect_events()
    assert event.approved_by is None and event.requested_at is None


def test_an_info_change_that_changes_nothing_is_refused() -> None:
    c = register(fields={"region": "华北"})
    with refused(Invalid, "no_change"):
        c.change_info(ctx(), {"region": "华北", "name": "华为"}, "")
    with refused(Invalid, "no_change"):
        c.change_info(ctx(), {}, "")


def test_only_info_fields_can_be_changed() -> None:
    c = customer()
    for field in ("owner_id", "deleted", "number", "deal_total"):
        with refused(Invalid, "unknown_field", field=field):
            c.change_info(ctx(), {field: "x"}, "")
    assert c.owner_id == "alice" and not c.deleted


@pytest.mark.parametrize("status", ["potential", "following", "lost"])
def test_the_status_can_be_set_to_potential_following_or_lost(status: str) -> None:
    c = customer()
    c.change_info(ctx(), {"status": "following"}, "")

    if status == "following":
        with refused(Invalid, "no_change"):
            c.change_info(ctx(), {"status": status}, "")
    else:
        c.change_info(ctx(), {"status": status}, "")
    assert c.status == status


@pytest.mark.parametrize("status", ["dealt", "closed", None])
def test_the_status_cannot_be_set_to_dealt_or_anything_else(status: str | None) -> None:
    with refused(Invalid, "invalid_status", field="status"):
        customer().change_info(ctx(), {"status": status}, "")


@pytest.mark.parametrize("status", ["potential", "following", "lost"])
def test_a_dealt_customer_keeps_its_status(status: str) -> None:
    c = dealt()
    with refused(Conflict, "dealt", field="status"):
        c.change_info(ctx(), {"status": status}, "")
    assert c.status == "dealt" and c.collect_events() == []


def test_a_dealt_customer_can_change_its_other_fields() -> None:
    c = dealt()

    c.change_info(ctx(), {"region": "华南"}, "")

    assert (c.region, c.status) == ("华南", "dealt")


@pytest.mark.parametrize("name", ["", "  ", None])
def test_an_info_change_cannot_empty_the_name(name: str | None) -> None:
    c = customer()
    with refused(Invalid, "validation_error", field="name"):
        c.change_info(ctx(), {"name": name}, "")
    assert c.name == "华为"


def test_a_rename_is_an_info_change() -> None:
    c = customer()

    assert c.change_info(ctx(), {"name": "华为技术"}, "") == [{"field": "name", "old": "华为", "new": "华为技术"}]
    assert c.name == "华为技术"


def test_a_deleted_customer_takes_no_info_change() -> None:
    c = customer(owner=None)
    c.delete(ctx())
    with refused(Conflict, "deleted"):
        c.change_info(ctx(), {"region": "华东"}, "")


# ---- restoring a version (H-4) -------------------------------------------------------------------


def test_a_restore_puts_back_the_info_fields_of_the_past_version() -> None:
    c = register(fields={"region": "华北", "stage": "初步接触"})
    past = c.view()
    c.change_info(ctx(), {"region": "华东", "name": "华为技术", "status": "lost", "lat": 2.0}, "")
    c.collect_events()

    recorded = c.restore(ctx(), 1, past, "改错了")

    assert recorded == [{"field": "name", "old": "华为技术", "new": "华为"},
                        {"field": "region", "old": "华东", "new": "华北"},
                        {"field": "lat", "old": 2.0, "new": None},
                        {"field": "status", "old": "lost", "new": "potential"}]
    assert (c.name, c.region, c.lat, c.status, c.stage) == ("华为", "华北", None, "potential", "初步接触")
    [event] = c.collect_events()
    assert (type(event).__name__, event.version, event.changes, event.reason) == (
        "Restored", 1, recorded, "改错了")


def test_restoring_a_version_over_a_dealt_status_keeps_the_status() -> None:
    c = register(fields={"region": "华北"})
    past = c.view()
    c.change_info(ctx(), {"region": "华东"}, "")
    c.record_deal(ctx(), "k1", "HT-1", Decimal("1.00"), DAY)

    recorded = c.restore(ctx(), 1, past, "")

    assert recorded == [{"field": "region", "old": "华东", "new": "华北"}]
    assert (c.status, c.region) == ("dealt", "华北")


def test_restoring_a_dealt_version_leaves_todays_status_alone() -> None:
    c = customer()
    past = {**c.view(), "status": "dealt", "region": "华北"}
    c.change_info(ctx(), {"status": "lost"}, "")

    assert c.restore(ctx(), 3, past, "") == [{"field": "region", "old": None, "new": "华北"}]
    assert c.status == "lost"


def test_restoring_the_version_one_has_is_refused() -> None:
    c = customer()
    with refused(Invalid, "no_change"):
        c.restore(ctx(), 1, c.view(), "")
    past = {**c.view(), "status": "dealt"}
    with refused(Invalid, "no_change"):
        c.restore(ctx(), 1, past, "")


def test_a_deleted_customer_is_not_restored() -> None:
    c = customer(owner=None)
    past = c.view()
    c.change_info(ctx(), {"region": "华东"}, "")
    c.delete(ctx())
    with refused(Conflict, "deleted"):
        c.restore(ctx(), 1, past, "")


# ---- the view ----------------------------------------------------------------------------------


def test_the_view_shows_the_customer_as_plain_values() -> None:
    c = register(fields={"region": "华北"}, contacts=[{"name": "甲"}], shared_with=["bob"])
    c.record_deal(ctx(), "k1", "HT-1", Decimal("100.00"), DAY)
    c.record_payment(ctx(), "p1", "k1", Decimal("30.00"), DAY, "alice")

    view = c.view()

    assert list(view) == [
        "number", "name", "type", "source", "region", "address", "building", "lat", "lng", "contacts",
        "owner_id", "owner_since", "in_pool", "pool_entered_at", "pool_reason", "shared_with", "status",
        "stage", "visit_count", "last_visit_at", "registered_by", "created_at", "deleted", "deal_total",
        "invoiced_total", "collected_total", "receivable", "logo", "shared_departments"]
    assert (view["region"], view["owner_id"], view["in_pool"], view["status"]) == ("华北", "alice", False, "dealt")
    assert (view["deal_total"], view["collected_total"], view["receivable"]) == (
        Decimal("100.00"), Decimal("30.00"), Decimal("70.00"))
    assert view["shared_with"] == ["bob"] and [x["name"] for x in view["contacts"]] == ["甲"]


def test_changing_a_view_does_not_change_the_customer() -> None:
    c = register(contacts=[{"name": "甲"}], shared_with=["bob"])

    view = c.view()
    view["contacts"][0]["name"] = "乙"
    view["shared_with"].append("carol")

    assert c.contacts[0]["name"] == "甲" and c.shared_with == ["bob"]


# ---- deals, invoices, payments (D-1..D-5) --------------------------------------------------------


def test_the_first_deal_makes_the_customer_dealt_and_later_ones_add_up() -> None:
    c = customer()
    c.collect_events()

    assert c.record_deal(ctx(), "k1", "HT-1", Decimal("100.00"), DAY) is True
    assert c.record_deal(ctx(), "k2", "HT-2", Decimal("50.50"), DAY) is False

    assert (c.status, c.deal_total) == ("dealt", Decimal("150.50"))
    first, _ = c.collect_events()
    assert (first.contract_id, first.number, first.amount, first.signed_on, first.salesperson_id) == (
        "k1", "HT-1", Decimal("100.00"), DAY, "alice")


def test_a_deal_needs_an_owner_and_a_live_customer() -> None:
    with refused(Conflict, "in_pool"):
        customer(owner=None).record_deal(ctx(), "k1", "HT-1", Decimal("1.00"), DAY)
    gone = customer(owner=None)
    gone.delete(ctx())
    with refused(Conflict, "deleted"):
        gone.record_deal(ctx(), "k1", "HT-1", Decimal("1.00"), DAY)


def test_totals_never_pass_the_largest_total() -> None:
    c = customer()
    c.record_deal(ctx(), "k1", "HT-1", bounds.MONEY_MAX, DAY)
    almost = bounds.TOTAL_MAX - c.deal_total
    c.record_deal(ctx(), "k2", "HT-2", almost, DAY)
    assert c.deal_total == bounds.TOTAL_MAX
    with refused(Invalid, "out_of_range", field="amount"):
        c.record_deal(ctx(), "k3", "HT-3", Decimal("0.01"), DAY)

    c.record_invoice(ctx(), "k1", "i1", bounds.TOTAL_MAX, DAY)
    with refused(Invalid, "out_of_range", field="amount"):
        c.record_invoice(ctx(), "k1", "i2", Decimal("0.01"), DAY)
    assert c.invoiced_total == bounds.TOTAL_MAX


def test_invoices_add_up() -> None:
    c = customer()
    c.collect_events()

    c.record_invoice(ctx(), "k1", "i1", Decimal("10.00"), DAY)
    c.record_invoice(ctx(), "k1", "i2", Decimal("2.50"), DAY)

    assert c.invoiced_total == Decimal("12.50")
    first, _ = c.collect_events()
    assert (first.contract_id, first.invoice_id, first.amount, first.invoiced_on) == (
        "k1", "i1", Decimal("10.00"), DAY)


def test_payments_add_up_and_are_credited_to_the_salesperson_given() -> None:
    c = customer()
    c.collect_events()

    c.record_payment(ctx(), "p1", None, Decimal("10.00"), DAY, "bob")
    c.record_payment(ctx(), "p2", "k1", Decimal("5.00"), DAY, None)

    assert c.collected_total == Decimal("15.00")
    first, second = c.collect_events()
    assert (first.payment_id, first.contract_id, first.amount, first.received_on, first.salesperson_id) == (
        "p1", None, Decimal("10.00"), DAY, "bob")
    assert (second.contract_id, second.salesperson_id) == ("k1", None)


def test_one_payment_is_at_most_the_largest_amount_and_the_total_at_most_the_largest_total() -> None:
    c = customer()
    with refused(Invalid, "out_of_range", field="amount"):
        c.record_payment(ctx(), "p1", None, bounds.MONEY_MAX + Decimal("0.01"), DAY, None)
    c.record_payment(ctx(), "p1", None, bounds.MONEY_MAX, DAY, None)
    for n in range(99):
        c.record_payment(ctx(), f"q{n}", None, bounds.MONEY_MAX, DAY, None)
    rest = bounds.TOTAL_MAX - c.collected_total
    c.record_payment(ctx(), "last", None, rest, DAY, None)
    with refused(Invalid, "out_of_range", field="amount"):
        c.record_payment(ctx(), "over", None, Decimal("0.01"), DAY, None)
    assert c.collected_total == bounds.TOTAL_MAX


def test_a_deleted_customer_takes_no_invoice_or_payment() -> None:
    c = customer(owner=None)
    c.delete(ctx())
    with refused(Conflict, "deleted"):
        c.record_invoice(ctx(), "k1", "i1", Decimal("1.00"), DAY)
    with refused(Conflict, "deleted"):
        c.record_payment(ctx(), "p1", None, Decimal("1.00"), DAY, None)


# ---- logo and who may change (R-2) ---------------------------------------------------------------


def test_a_logo_is_set_changed_and_removed_but_never_set_to_itself() -> None:
    c = customer()
    c.collect_events()

    c.change_logo(ctx(), "sha-1")
    with refused(Invalid, "no_change"):
        c.change_logo(ctx(), "sha-1")
    c.change_logo(ctx(), None)

    assert c.logo is None
    assert [e.photo for e in c.collect_events()] == ["sha-1", None]
    with refused(Invalid, "no_change"):
        c.change_logo(ctx(), None)


def test_a_deleted_customer_takes_no_logo() -> None:
    c = customer(owner=None)
    c.delete(ctx())
    with refused(Conflict, "deleted"):
        c.change_logo(ctx(), "sha-1")


def test_the_owner_and_the_owners_managers_change_a_customer_nobody_else() -> None:
    c = customer(shared_with=["bob"])

    c.ensure_changeable_by("alice", is_manager_of_owner=False)
    c.ensure_changeable_by("boss", is_manager_of_owner=True)
    for someone in ("bob", "carol"):
        with refused(Forbidden, "not_owner"):
            c.ensure_changeable_by(someone, is_manager_of_owner=False)
    with refused(Forbidden, "not_owner"):
        customer(owner=None).ensure_changeable_by("alice", is_manager_of_owner=False)


def test_every_event_carries_the_actor_the_command_and_its_time() -> None:  # H-1
    c = customer()
    command = ctx("boss", T0 + timedelta(hours=3))

    c.change_info(command, {"region": "华东"}, "")

    assert event_names(c) == ["Registered", "InfoChanged"]
    c.change_info(command, {"region": "华南"}, "")
    [event] = c.collect_events()
    assert (event.actor_id, event.command_id, event.timestamp) == ("boss", command.command_id, command.at)


def test_a_registration_keeps_the_given_id_and_command() -> None:
    given = uuid4()
    command = ctx("bob")

    c = Customer.register(command, id=given, number="KH1", name="华为", fields={}, contacts=[], owner_id=None,
                          shared_with=[])

    [event] = c.collect_events()
    assert c.id == given == event.originator_id
    assert (event.actor_id, event.command_id, event.timestamp) == ("bob", command.command_id, command.at)


def test_without_a_credit_given_the_registrant_has_it() -> None:
    c = Customer.register(ctx("bob"), id=uuid4(), number="KH1", name="华为", fields={}, contacts=[],
                          owner_id="alice", shared_with=[])

    [event] = c.collect_events()
    assert event.credited_to == "bob"


def test_a_refused_restore_names_the_version() -> None:
    c = customer()
    with pytest.raises(Invalid) as caught:
        c.restore(ctx(), 7, c.view(), "")
    assert "version 7" in caught.value.message


def test_restoring_over_a_dealt_status_still_restores_the_stage() -> None:
    c = customer()
    past = {**c.view(), "stage": "初步接触"}
    c.record_deal(ctx(), "k1", "HT-1", Decimal("1.00"), DAY)

    assert c.restore(ctx(), 1, past, "") == [{"field": "stage", "old": None, "new": "初步接触"}]
    assert (c.stage, c.status) == ("初步接触", "dealt")
