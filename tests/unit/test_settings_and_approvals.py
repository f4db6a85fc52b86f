"""Rules and dictionaries (one Settings aggregate), approvals (AP-1, AP-2, R-6) and problem
reports (G-7): given the aggregate, when a command, then its state and events or the refusal."""

from __future__ import annotations

import copy
from typing import Any
from uuid import uuid4

import pytest

from aggregates.approval import Approval
from aggregates.base import Conflict, Forbidden, Invalid
from aggregates.problem import ProblemReport
from aggregates.settings import (
    DEFAULT_DICTIONARIES,
    DEFAULT_RULES,
    SETTINGS_ID,
    Settings,
    type_names,
    type_with_subtypes,
)
from tests.unit.helpers import ctx, event_names, refused


def settings() -> Settings:
    s = Settings.create_default(ctx())
    s.collect_events()
    return s


# ---- settings --------------------------------------------------------------------------------------


def test_the_settings_start_from_the_defaults() -> None:
    s = Settings.create_default(ctx())

    assert s.id == SETTINGS_ID
    assert s.rules == DEFAULT_RULES and s.dictionaries == DEFAULT_DICTIONARIES
    s.rules["late_entry_hours"] = 1
    assert DEFAULT_RULES["late_entry_hours"] == 24


def test_a_change_merges_into_the_current_rules_and_dictionaries() -> None:
    s = settings()

    s.change(ctx(), {"late_entry_hours": 12, "daily_claim_limit": None}, {"warehouses": ["总仓", "分仓"]})

    assert s.rules == {**DEFAULT_RULES, "late_entry_hours": 12}
    assert s.dictionaries == {**DEFAULT_DICTIONARIES, "warehouses": ["总仓", "分仓"]}
    [event] = s.collect_events()
    assert (event.rules, event.dictionaries) == (s.rules, s.dictionaries)


def test_a_change_to_what_is_there_records_nothing() -> None:
    s = settings()

    s.change(ctx(), {"late_entry_hours": 24}, {"regions": list(DEFAULT_DICTIONARIES["regions"])})
    s.change(ctx(), {}, {})

    assert s.collect_events() == []


def test_a_dictionary_change_alone_is_recorded() -> None:
    s = settings()

    s.change(ctx(), {}, {"sources": ["展会"]})

    assert event_names(s) == ["Changed"] and s.dictionaries["sources"] == ["展会"]


@pytest.mark.parametrize("key", ["late_entry_hours", "timezone", "approval_required"])
def test_rules_other_than_the_daily_claim_limit_cannot_be_emptied(key: str) -> None:
    with refused(Invalid, "validation_error", field=f"rules.{key}"):
        settings().change(ctx(), {key: None}, {})


def test_a_dictionary_cannot_be_emptied_to_nothing() -> None:
    with refused(Invalid, "validation_error", field="dictionaries.regions"):
        settings().change(ctx(), {}, {"regions": None})


def test_unknown_rules_and_dictionaries_are_refused() -> None:
    with refused(Invalid, "unknown_field", field="rules"):
        settings().change(ctx(), {"nonsense": 1}, {})
    with refused(Invalid, "unknown_field", field="dictionaries"):
        settings().change(ctx(), {}, {"colours": ["红"]})


@pytest.mark.parametrize("key", ["default_max_customers", "pool_warning_days", "reclaim_cooldown_days",
                                 "late_entry_hours"])
@pytest.mark.parametrize("value", [-1, "3", 1.5])
def test_counting_rules_are_whole_numbers_of_zero_or_more(key: str, value: Any) -> None:
    with refused(Invalid, "validation_error", field=f"rules.{key}"):
        settings().change(ctx(), {key: value}, {})


@pytest.mark.parametrize("key", ["default_max_customers", "pool_warning_days", "reclaim_cooldown_days",
                                 "late_entry_hours"])
def test_counting_rules_may_be_zero(key: str) -> None:
    s = settings()

    s.change(ctx(), {key: 0}, {})

    assert s.rules[key] == 0


@pytest.mark.parametrize("value", [0, -1, "30"])
def test_the_follow_period_is_a_whole_number_of_at_least_one_day(value: Any) -> None:
    with refused(Invalid, "validation_error", field="rules.default_max_follow_days"):
        settings().change(ctx(), {"default_max_follow_days": value}, {})


def test_a_follow_period_of_one_day_is_fine() -> None:
    s = settings()
    s.change(ctx(), {"default_max_follow_days": 1}, {})
    assert s.rules["default_max_follow_days"] == 1


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../etc/passwd"])
def test_the_time_zone_is_a_known_one(zone: str) -> None:
    with refused(Invalid, "validation_error", field="rules.timezone"):
        settings().change(ctx(), {"timezone": zone}, {})


def test_a_known_time_zone_is_taken() -> None:
    s = settings()
    s.change(ctx(), {"timezone": "Europe/Berlin"}, {})
    assert s.rules["timezone"] == "Europe/Berlin"


def test_approvals_are_required_only_for_the_kinds_wired_for_them() -> None:
    s = settings()
    with refused(Invalid, "validation_error", field="rules.approval_required"):
        s.change(ctx(), {"approval_required": ["price_change", "everything"]}, {})
    for hostile in ("transfer", [1], [None], {"claim": True}, ["contact_add"]):  # stored kinds are no policies
        with refused(Invalid, "validation_error", field="rules.approval_required"):
            s.change(ctx(), {"approval_required": hostile}, {})
    with pytest.raises(Invalid) as caught:
        s.change(ctx(), {"approval_required": ["everything"]}, {})
    assert caught.value.message.endswith(
        "customer_info_change, price_change, target, transfer, claim, return, exchange")  # every kind AP-1 names
    s.change(ctx(), {"approval_required": ["target", "price_change", "customer_info_change"]}, {})
    s.change(ctx(), {"approval_required": ["transfer", "claim", "return", "exchange"]}, {})
    assert s.rules["approval_required"] == ["transfer", "claim", "return", "exchange"]
    s.change(ctx(), {"approval_required": []}, {})
    assert s.rules["approval_required"] == []


@pytest.mark.parametrize("value", [-1, "5", 2.5])
def test_the_daily_claim_limit_is_empty_or_a_whole_number_of_zero_or_more(value: Any) -> None:
    with refused(Invalid, "validation_error", field="rules.daily_claim_limit"):
        settings().change(ctx(), {"daily_claim_limit": value}, {})


def test_the_daily_claim_limit_may_be_zero_and_emptied_again() -> None:
    s = settings()
    s.change(ctx(), {"daily_claim_limit": 0}, {})
    assert s.rules["daily_claim_limit"] == 0
    s.change(ctx(), {"daily_claim_limit": None}, {})
    assert s.rules["daily_claim_limit"] is None


def test_customer_type_names_are_unique_across_the_tree() -> None:
    tree = copy.deepcopy(DEFAULT_DICTIONARIES["customer_types"])
    tree[0]["children"].append({"name": "医院", "children": []})
    with refused(Invalid, "validation_error", field="dictionaries.customer_types"):
        settings().change(ctx(), {}, {"customer_types": tree})


@pytest.mark.parametrize("key", ["sources", "regions", "stages", "warehouses", "problem_types"])
@pytest.mark.parametrize("values", [["甲", "甲"], ["甲", ""], ["甲", 3]])
def test_dictionary_lists_are_distinct_names(key: str, values: list[Any]) -> None:
    with refused(Invalid, "validation_error", field=f"dictionaries.{key}"):
        settings().change(ctx(), {}, {key: values})


def test_type_names_run_depth_first_and_a_type_includes_its_subtypes() -> None:
    tree = [{"name": "A", "children": [{"name": "A1", "children": [{"name": "A1x"}]}, {"name": "A2"}]},
            {"name": "B", "children": None}]

    assert type_names(tree) == ["A", "A1", "A1x", "A2", "B"]
    assert type_with_subtypes(tree, "A") == ["A", "A1", "A1x", "A2"]
    assert type_with_subtypes(tree, "A1") == ["A1", "A1x"]
    assert type_with_subtypes(tree, "A1x") == ["A1x"]
    assert type_with_subtypes(tree, "B") == ["B"]
    assert type_with_subtypes(tree, "C") == []


# ---- approvals (AP-1, AP-2, R-6) --------------------------------------------------------------------


def approval(requester: str = "alice") -> Approval:
    a = Approval.request(ctx(requester), id=uuid4(), kind="price_change", target_id="p1",
                         payload={"price": "10.00"}, summary="调价", approver_ids=["boss"])
    a.collect_events()
    return a


def test_a_request_keeps_the_command_and_waits() -> None:
    given = uuid4()
    assert Approval.request(ctx(), id=given, kind="target", target_id="t1", payload={}, summary="",
                            approver_ids=[]).id == given
    a = approval()

    assert (a.kind, a.target_id, a.payload, a.summary) == ("price_change", "p1", {"price": "10.00"}, "调价")
    assert (a.requester_id, a.approver_ids, a.status, a.decided_by, a.comment) == (
        "alice", ["boss"], "pending", None, None)


@pytest.mark.parametrize("status", ["approved", "rejected"])
def test_an_eligible_manager_decides_a_request(status: str) -> None:
    a = approval()

    a.decide(ctx("boss"), status, "好", eligible=True)

    assert (a.status, a.decided_by, a.comment) == (status, "boss", "好")
    [event] = a.collect_events()
    assert (event.status, event.comment) == (status, "好")


def test_nobody_decides_their_own_request_not_even_when_eligible() -> None:
    a = approval("boss")
    with refused(Forbidden, "own_request"):
        a.decide(ctx("boss"), "approved", "", eligible=True)
    assert a.status == "pending"


def test_only_an_eligible_person_decides() -> None:
    a = approval()
    with refused(Forbidden, "forbidden"):
        a.decide(ctx("carol"), "approved", "", eligible=False)


def test_a_decided_request_is_decided_for_good() -> None:
    a = approval()
    a.decide(ctx("boss"), "rejected", "不行", eligible=True)
    with refused(Conflict, "not_pending"):
        a.decide(ctx("boss"), "approved", "", eligible=True)
    with refused(Conflict, "not_pending"):
        a.withdraw(ctx("alice"), "")
    assert a.status == "rejected"


def test_the_requester_and_only_the_requester_withdraws_a_waiting_request() -> None:
    a = approval()
    with refused(Forbidden, "forbidden"):
        a.withdraw(ctx("boss"), "")

    a.withdraw(ctx("alice"), "不需要了")

    assert (a.status, a.decided_by, a.comment) == ("withdrawn", "alice", "不需要了")
    with refused(Conflict, "not_pending"):
        a.withdraw(ctx("alice"), "")


# ---- problem reports (G-7) --------------------------------------------------------------------------


def report() -> ProblemReport:
    p = ProblemReport.report(ctx(), id=uuid4(), customer_id="c1", kind="质量问题", description="坏了",
                             responsible_id="bob")
    p.collect_events()
    return p


def test_a_reported_problem_is_open_with_its_responsible_person() -> None:
    given = uuid4()
    assert ProblemReport.report(ctx(), id=given, customer_id="c1", kind="其他", description="x",
                                responsible_id="bob").id == given
    p = report()

    assert (p.customer_id, p.kind, p.description, p.responsible_id, p.status, p.resolution) == (
        "c1", "质量问题", "坏了", "bob", "open", None)


@pytest.mark.parametrize("description", ["", "  "])
def test_a_problem_is_described(description: str) -> None:
    with refused(Invalid, "validation_error", field="description"):
        ProblemReport.report(ctx(), id=uuid4(), customer_id="c1", kind="其他", description=description,
                             responsible_id="bob")


def test_a_problem_is_resolved_once_saying_how() -> None:
    p = report()
    with refused(Invalid, "validation_error", field="resolution"):
        p.resolve(ctx(), " ")

    p.resolve(ctx(), "换货")

    assert (p.status, p.resolution) == ("resolved", "换货")
    with refused(Conflict, "already_resolved"):
        p.resolve(ctx(), "再换")
    assert p.resolution == "换货"
