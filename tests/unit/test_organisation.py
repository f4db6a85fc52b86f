"""People and organisation (P-1..P-4, C-5): departments, people, usernames and salesperson
profiles with their cap and the daily claim limit. Through the aggregates' methods only."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from aggregates.base import Conflict, Invalid
from aggregates.organisation import Department, Person, Salesperson, Username
from tests.unit.helpers import ctx, refused

TODAY, TOMORROW = "2026-11-01", "2026-11-02"


def department(**kw: Any) -> Department:
    args: dict[str, Any] = {"id": uuid4(), "name": "华东区", "parent_id": None, "manager_ids": ["boss"]}
    args.update(kw)
    d = Department.create(ctx(), **args)
    d.collect_events()
    return d


def person(**kw: Any) -> Person:
    args: dict[str, Any] = {"id": uuid4(), "name": "张三", "username": "zhang", "department_id": "d1",
                            "roles": ["sales"]}
    args.update(kw)
    p = Person.create(ctx(), **args)
    p.collect_events()
    return p


def salesperson(cap: int | None = 2) -> Salesperson:
    s = Salesperson.create(ctx(), "bob", max_customers=cap, max_follow_days=None)
    s.collect_events()
    return s


# ---- departments -----------------------------------------------------------------------------------


def test_departments_and_people_keep_the_given_id() -> None:
    given = uuid4()

    assert department(id=given).id == given
    assert person(id=given).id == given


def test_a_department_has_a_trimmed_name_a_parent_and_distinct_managers() -> None:
    d = Department.create(ctx(), id=uuid4(), name=" 华东区 ", parent_id="top", manager_ids=["a", "b", "a"])

    assert (d.name, d.parent_id, d.manager_ids) == ("华东区", "top", ["a", "b"])


@pytest.mark.parametrize("name", ["", "  "])
def test_a_department_needs_a_name(name: str) -> None:
    with refused(Invalid, "validation_error", field="name"):
        department(name=name)
    with refused(Invalid, "validation_error", field="name"):
        department().change(ctx(), {"name": name})


def test_a_department_change_records_only_what_changes() -> None:
    d = department()

    d.change(ctx(), {"name": "华东区", "manager_ids": ["boss", "vice"], "parent_id": "top"})

    assert (d.manager_ids, d.parent_id) == (["boss", "vice"], "top")
    [event] = d.collect_events()
    assert event.changes == {"manager_ids": ["boss", "vice"], "parent_id": "top"}
    d.change(ctx(), {"parent_id": "top"})
    assert d.collect_events() == []


def test_a_department_keeps_a_name_and_a_list_of_managers() -> None:
    d = department()
    with refused(Invalid, "validation_error", field="name"):
        d.change(ctx(), {"name": None})
    with refused(Invalid, "validation_error", field="manager_ids"):
        d.change(ctx(), {"manager_ids": None})
    d.change(ctx(), {"manager_ids": []})
    assert d.manager_ids == []


def test_a_department_is_not_its_own_parent() -> None:
    d = department()
    with refused(Invalid, "invalid_parent", field="parent_id"):
        d.change(ctx(), {"parent_id": str(d.id)})
    d.change(ctx(), {"parent_id": None, "name": "华南区"})
    assert d.parent_id is None and d.name == "华南区"


# ---- people ----------------------------------------------------------------------------------------


def test_a_new_person_is_active_with_distinct_roles() -> None:
    p = Person.create(ctx(), id=uuid4(), name=" 张三 ", username="zhang", department_id=None,
                      roles=["sales", "manager", "sales"], position="经理", mobile="138", gender="男")

    assert (p.name, p.username, p.department_id, p.roles) == ("张三", "zhang", None, ["sales", "manager"])
    assert (p.position, p.mobile, p.gender, p.active) == ("经理", "138", "男", True)


def test_a_person_is_created_without_the_optional_fields() -> None:
    p = person()

    assert (p.position, p.mobile, p.gender) == (None, None, None)


@pytest.mark.parametrize("roles", [[], ["sales", "boss"], None, "sales"])
def test_a_person_has_known_roles(roles: Any) -> None:
    with refused(Invalid, "invalid_role", field="roles"):
        person(roles=roles)


def test_an_unknown_role_is_refused_with_the_roles_there_are() -> None:
    with pytest.raises(Invalid) as caught:
        person(roles=["king"])
    assert caught.value.message.endswith("sales, manager, warehouse, admin, auditor")


def test_every_role_is_known() -> None:
    assert person(roles=["sales", "manager", "warehouse", "admin", "auditor"]).roles == [
        "sales", "manager", "warehouse", "admin", "auditor"]


def test_a_person_needs_a_name() -> None:
    with refused(Invalid, "validation_error", field="name"):
        person(name=" ")


def test_person_change_records_old_and_new_of_each_changed_field() -> None:
    p = person()

    p.change(ctx(), {"name": "张三", "roles": ["sales", "manager"], "active": False, "mobile": "139"})

    assert (p.roles, p.active, p.mobile) == (["sales", "manager"], False, "139")
    [event] = p.collect_events()
    assert event.changes == [{"field": "roles", "old": ["sales"], "new": ["sales", "manager"]},
                             {"field": "active", "old": True, "new": False},
                             {"field": "mobile", "old": None, "new": "139"}]


def test_person_change_that_changes_nothing_records_nothing() -> None:
    p = person()

    p.change(ctx(), {"name": "张三", "department_id": "d1"})
    p.change(ctx(), {})

    assert p.collect_events() == []


@pytest.mark.parametrize("field", ["name", "roles", "active"])
@pytest.mark.parametrize("value", [None, ""])
def test_person_change_cannot_empty_name_roles_or_active(field: str, value: Any) -> None:
    p = person()
    with refused(Invalid, "validation_error", field=field):
        p.change(ctx(), {field: value})
    assert p.collect_events() == []


def test_person_change_can_empty_the_optional_fields_and_deactivate() -> None:
    p = person(position="经理")

    p.change(ctx(), {"position": None, "active": False, "department_id": None})

    assert (p.position, p.active, p.department_id) == (None, False, None)


def test_person_change_checks_the_roles() -> None:
    p = person()
    with refused(Invalid, "invalid_role", field="roles"):
        p.change(ctx(), {"roles": ["sales", "king"]})
    with refused(Invalid, "invalid_role", field="roles"):
        p.change(ctx(), {"roles": []})
    assert p.roles == ["sales"]


def test_person_change_refuses_fields_that_are_not_a_persons() -> None:
    p = person()
    for field in ("username", "password", "id"):
        with refused(Invalid, "unknown_field", field=field):
            p.change(ctx(), {field: "x"})


def test_usernames_are_unique_whatever_their_case_and_spacing() -> None:
    u = Username.reserve(ctx(), "Zhang", "p1")

    assert u.person_id == "p1"
    [event] = u.collect_events()
    assert (event.username, event.person_id) == ("Zhang", "p1")
    assert u.id == Username.id_for(" zhang ") == Username.id_for("ZHANG") != Username.id_for("zhang2")


# ---- salesperson profiles: limits (P-2) ------------------------------------------------------------


def test_a_profile_has_its_limits_and_holds_nobody_yet() -> None:
    s = Salesperson.create(ctx(), "bob", max_customers=10, max_follow_days=30)

    assert s.id == Salesperson.id_for("bob") != Salesperson.id_for("carol")
    assert (s.person_id, s.max_customers, s.max_follow_days, s.held) == ("bob", 10, 30, [])
    assert (s.claim_day, s.claims_that_day) == (None, 0)


def test_limits_change_only_when_they_differ() -> None:
    s = salesperson(cap=10)

    s.change_limits(ctx(), 10, None)
    assert s.collect_events() == []
    s.change_limits(ctx(), 5, 60)
    s.change_limits(ctx(), 5, None)

    assert (s.max_customers, s.max_follow_days) == (5, None)
    assert len(s.collect_events()) == 2


def test_a_negative_cap_is_refused_and_none_is_fine() -> None:
    with refused(Invalid, "validation_error", field="max_customers"):
        Salesperson.create(ctx(), "bob", max_customers=-1, max_follow_days=None)
    with refused(Invalid, "validation_error", field="max_customers"):
        salesperson().change_limits(ctx(), -1, None)
    assert Salesperson.create(ctx(), "bob", max_customers=0, max_follow_days=1).max_customers == 0
    assert Salesperson.create(ctx(), "bob", max_customers=None, max_follow_days=None).max_customers is None


def test_a_follow_period_is_at_least_a_day() -> None:
    with refused(Invalid, "validation_error", field="max_follow_days"):
        Salesperson.create(ctx(), "bob", max_customers=None, max_follow_days=0)
    with refused(Invalid, "validation_error", field="max_follow_days"):
        salesperson().change_limits(ctx(), None, -5)
    assert Salesperson.create(ctx(), "bob", max_customers=None, max_follow_days=1).max_follow_days == 1


# ---- the cap (P-3) and the daily claim limit (C-5) -------------------------------------------------


def test_a_cap_of_zero_takes_nobody() -> None:
    s = salesperson(cap=0)
    with refused(Conflict, "cap_reached", held=0, max_customers=0):
        s.take(ctx(), "c1", how="assign", cap=0, day=TODAY)
    assert s.held == []


def test_a_negative_cap_takes_nobody() -> None:
    s = salesperson()
    with refused(Conflict, "cap_reached", held=0, max_customers=-1):
        s.take(ctx(), "c1", how="transfer", cap=-1, day=TODAY)


def test_customers_are_taken_up_to_the_cap() -> None:
    s = salesperson()

    s.take(ctx(), "c1", how="assign", cap=2, day=TODAY)
    s.take(ctx(), "c2", how="transfer", cap=2, day=TODAY)

    assert s.held == ["c1", "c2"]
    first, _ = s.collect_events()
    assert (first.customer_id, first.how, first.day) == ("c1", "assign", TODAY)
    with refused(Conflict, "cap_reached", held=2, max_customers=2):
        s.take(ctx(), "c3", how="claim", cap=2, day=TODAY)


def test_a_customer_already_held_is_taken_again_without_an_event_even_at_the_cap() -> None:
    s = salesperson()
    s.take(ctx(), "c1", how="claim", cap=1, day=TODAY, daily_limit=1)
    s.collect_events()

    s.take(ctx(), "c1", how="claim", cap=1, day=TODAY, daily_limit=1)

    assert s.collect_events() == [] and s.held == ["c1"] and s.claims_that_day == 1


def test_a_dealt_customer_is_not_held_against_the_cap() -> None:
    s = salesperson()
    s.take(ctx(), "c1", how="assign", cap=1, day=TODAY)
    s.collect_events()

    s.take(ctx(), "dealt", how="assign", cap=1, day=TODAY, counted=False)
    s.take(ctx(), "dealt2", how="claim", cap=1, day=TODAY, counted=False)

    assert s.held == ["c1"] and s.collect_events() == []


def test_claims_are_counted_per_day_and_other_moves_are_not_claims() -> None:
    s = salesperson(cap=10)

    s.take(ctx(), "c1", how="claim", cap=10, day=TODAY, daily_limit=2)
    s.take(ctx(), "c2", how="assign", cap=10, day=TODAY, daily_limit=2)
    s.take(ctx(), "c3", how="claim", cap=10, day=TODAY, daily_limit=2)

    assert (s.claim_day, s.claims_that_day, s.claims_on(TODAY), s.claims_on(TOMORROW)) == (TODAY, 2, 2, 0)
    with refused(Conflict, "daily_claim_limit", daily_claim_limit=2):
        s.take(ctx(), "c4", how="claim", cap=10, day=TODAY, daily_limit=2)
    s.take(ctx(), "c4", how="transfer", cap=10, day=TODAY, daily_limit=2)
    assert s.claims_that_day == 2


def test_claims_without_a_daily_limit_are_still_counted() -> None:
    s = salesperson(cap=10)

    s.take(ctx(), "c1", how="claim", cap=10, day=TODAY)

    assert s.claims_on(TODAY) == 1


def test_a_new_day_starts_the_claim_count_afresh() -> None:
    s = salesperson(cap=10)
    s.take(ctx(), "c1", how="claim", cap=10, day=TODAY, daily_limit=1)

    s.take(ctx(), "c2", how="claim", cap=10, day=TOMORROW, daily_limit=1)

    assert (s.claim_day, s.claims_that_day) == (TOMORROW, 1)
    with refused(Conflict, "daily_claim_limit"):
        s.take(ctx(), "c3", how="claim", cap=10, day=TOMORROW, daily_limit=1)


def test_a_daily_limit_of_zero_allows_no_claim() -> None:
    s = salesperson()
    with refused(Conflict, "daily_claim_limit", daily_claim_limit=0):
        s.take(ctx(), "c1", how="claim", cap=2, day=TODAY, daily_limit=0)


def test_a_dealt_claim_counts_for_the_day_only_under_a_daily_limit() -> None:
    s = salesperson()

    s.take(ctx(), "dealt", how="claim", cap=0, day=TODAY, daily_limit=5, counted=False)

    [event] = s.collect_events()
    assert (type(event).__name__, event.customer_id, event.day) == ("DealtClaimed", "dealt", TODAY)
    assert (s.held, s.claims_on(TODAY)) == ([], 1)
    s.take(ctx(), "dealt", how="claim", cap=0, day=TODAY, daily_limit=None, counted=False)
    assert s.collect_events() == []


def test_a_dealt_claim_on_a_new_day_starts_the_count_afresh() -> None:
    s = salesperson(cap=10)
    s.take(ctx(), "c1", how="claim", cap=10, day=TODAY, daily_limit=3)
    s.take(ctx(), "c2", how="claim", cap=10, day=TODAY, daily_limit=3)

    s.take(ctx(), "dealt", how="claim", cap=10, day=TOMORROW, daily_limit=3, counted=False)

    assert (s.claim_day, s.claims_that_day) == (TOMORROW, 1)
    s.take(ctx(), "dealt2", how="claim", cap=10, day=TOMORROW, daily_limit=3, counted=False)
    assert s.claims_on(TOMORROW) == 2


def test_letting_go_frees_a_place_and_letting_go_of_a_stranger_records_nothing() -> None:
    s = salesperson()
    s.take(ctx(), "c1", how="assign", cap=2, day=TODAY)
    s.take(ctx(), "c2", how="assign", cap=2, day=TODAY)
    s.collect_events()

    s.let_go(ctx(), "c1", "released")
    s.let_go(ctx(), "c9", "released")

    assert s.held == ["c2"]
    [event] = s.collect_events()
    assert (type(event).__name__, event.customer_id, event.how) == ("CustomerLeft", "c1", "released")
    s.take(ctx(), "c3", how="assign", cap=2, day=TODAY)
    assert s.held == ["c2", "c3"]
