"""People, departments and settings through `handle` with fakes (P-1..P-4): the department
tree, usernames and credentials (kept by the fake credentials port, never in an event),
salesperson profiles and limits, who changes whom, and the rules and dictionaries."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from aggregates import bounds
from aggregates.organisation import Department, Person, Salesperson, Username
from aggregates.settings import DEFAULT_RULES
from commands import messages as m
from tests.unit.fakes import PASSWORD, Team, UniqueViolation, World


def create_person(username: str = "carol", **kw: Any) -> m.CreatePerson:
    fields: dict[str, Any] = {"name": "Carol", "password": PASSWORD, "roles": ["sales"], **kw}
    return m.CreatePerson(username=username, **fields)


# ---- departments (P-1) -------------------------------------------------------------------------


def test_departments_form_a_tree(w: World, team: Team) -> None:
    child = w.department("上海组", parent=team.dept, managers=[team.bob.person_id])
    department = w.find(child, Department)
    assert (department.name, department.parent_id, department.manager_ids) == (
        "上海组", team.dept, [team.bob.person_id])
    assert w.organisation.subtree([team.dept]) == {team.dept, child}
    refused = w.refused(m.CreateDepartment("孤儿", parent_id=str(uuid4())), w.root)
    assert (refused.code, refused.field) == ("unknown_department", "parent_id")
    refused = w.refused(m.CreateDepartment("无人", manager_ids=[str(uuid4())]), w.root)
    assert (refused.code, refused.field) == ("unknown_person", "manager_ids")
    assert w.refused(m.CreateDepartment("  "), w.root).code == "validation_error"
    assert w.refused(m.CreateDepartment("部" * 101), w.root).code == "too_long"
    assert w.refused(m.CreateDepartment("x", parent_id="root"), w.root).field == "parent_id"


def test_a_department_never_moves_below_itself(w: World, team: Team) -> None:
    child = w.department("上海组", parent=team.dept)
    grandchild = w.department("浦东组", parent=child)
    for below in (child, grandchild, team.dept):
        refused = w.refused(m.ChangeDepartment(team.dept, {"parent_id": below}), w.root)
        assert (refused.code, refused.field) == ("invalid_parent", "parent_id")
    refused = w.refused(m.ChangeDepartment(team.dept, {"parent_id": str(uuid4())}), w.root)
    assert refused.code == "unknown_department"
    w.do(m.ChangeDepartment(grandchild, {"parent_id": team.dept, "name": "浦东"}), w.root)
    assert (w.find(grandchild, Department).parent_id, w.find(grandchild, Department).name) == (team.dept, "浦东")
    w.do(m.ChangeDepartment(grandchild, {"parent_id": None}), w.root)  # to the top
    assert w.find(grandchild, Department).parent_id is None
    assert w.refused(m.ChangeDepartment(str(uuid4()), {"name": "x"}), w.root).code == "not_found"
    assert w.refused(m.ChangeDepartment(child, {"manager_ids": [str(uuid4())]}), w.root).code == "unknown_person"
    assert w.refused(m.ChangeDepartment(child, {"name": None}), w.root).code == "validation_error"


def test_managers_set_to_nothing_are_refused(w: World, team: Team) -> None:
    refused = w.refused(m.ChangeDepartment(team.dept, {"manager_ids": None}), w.root)
    assert (refused.code, refused.field) == ("validation_error", "manager_ids")


def test_new_managers_of_a_department_manage_its_people(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "换经理")
    carol = w.person("carol", ["manager"], department=w.department("华南部"))
    assert w.refused(m.ReturnToPool(cid, "recalled"), carol).code == "not_found"
    w.do(m.ChangeDepartment(team.dept, {"manager_ids": [carol.person_id]}), w.root)
    w.do(m.ReturnToPool(cid, "recalled"), carol)
    assert w.customer_state(cid).in_pool


# ---- people and credentials (P-2, P-4) ---------------------------------------------------------


def test_creating_a_salesperson_keeps_the_login_beside_the_events(w: World, team: Team) -> None:
    done = w.do(create_person(department_id=team.dept, max_customers=7, max_follow_days=30, mobile="138"), w.root)
    person_id = done.ids["id"]
    person = w.find(person_id, Person)
    assert (person.name, person.username, person.roles, person.department_id, person.active, person.mobile) == (
        "Carol", "carol", ["sales"], team.dept, True, "138")
    profile = w.profile(person_id)
    assert (profile.max_customers, profile.max_follow_days) == (7, 30)
    assert w.find(Username.id_for("CAROL"), Username).person_id == person_id
    assert w.credentials.verify("carol", PASSWORD) == person_id
    assert PASSWORD not in repr([vars(e) for e in w.events(person_id)])  # never in an event
    assert done.position == w.store.head() == w.commits[-1]


def test_a_person_without_the_sales_role_has_no_profile(w: World) -> None:
    done = w.do(create_person("keeper", roles=["warehouse", "warehouse"]), w.root)
    assert w.store.find(Salesperson.id_for(done.ids["id"]), Salesperson) is None
    assert w.find(done.ids["id"], Person).roles == ["warehouse"]


@pytest.mark.parametrize("again", ["carol", "CAROL", "  Carol  ", "\tcarol\n"])
def test_usernames_are_unique_whatever_their_case(w: World, again: str) -> None:
    w.do(create_person("Carol"), w.root)
    refused = w.refused(create_person(again, name="Another"), w.root)
    assert (refused.code, refused.field) == ("duplicate_username", "username")


def test_a_login_clash_in_the_credentials_store_is_a_duplicate_username(w: World) -> None:
    w.credentials.fail_next = UniqueViolation("UNIQUE constraint failed: crm_credentials.username")
    refused = w.refused(create_person("dave"), w.root)
    assert (refused.code, refused.field) == ("duplicate_username", "username")
    assert w.store.find(Username.id_for("dave"), Username) is None
    w.credentials.fail_next = RuntimeError("the disk is full")
    with pytest.raises(RuntimeError, match="disk"):
        w.do(create_person("dave"), w.root)
    assert w.do(create_person("dave"), w.root).ids["id"]


@pytest.mark.parametrize(("command", "code", "field"), [
    (create_person(""), "validation_error", "username"),
    (create_person("   "), "validation_error", "username"),
    (create_person("u" * 65), "validation_error", "username"),
    (create_person(password="short"), "weak_password", "password"),
    (create_person(password="1234567"), "weak_password", "password"),
    (create_person(roles=[]), "invalid_role", "roles"),
    (create_person(roles=["sales", "king"]), "invalid_role", "roles"),
    (create_person(name="  "), "validation_error", "name"),
    (create_person(name="名" * 101), "too_long", "name"),
    (create_person("ca\x00rol"), "control_character", "username"),
    (create_person(department_id=str(uuid4())), "unknown_department", "department_id"),
    (create_person(max_customers=-1), "validation_error", "max_customers"),
    (create_person(max_follow_days=0), "validation_error", "max_follow_days"),
])
def test_person_refusals(w: World, command: m.CreatePerson, code: str, field: str) -> None:
    refused = w.refused(command, w.root)
    assert (refused.code, refused.field) == (code, field)
    assert w.credentials.verify(command.username, command.password) is None


def test_an_odd_unicode_username_and_name(w: World) -> None:
    done = w.do(create_person("用户\u202e名", name="Zoë \U0001f600"), w.root)
    assert w.find(done.ids["id"], Person).name == "Zoë \U0001f600"
    assert w.refused(create_person("用户\u202e名"), w.root).code == "duplicate_username"
    assert w.refused(create_person("\ufdfa" * 4), w.root).code == "too_long"  # 72 once normalised


# ---- changing people (P-2, P-3) ----------------------------------------------------------------


def test_a_manager_changes_the_limits_of_their_people_only(w: World, team: Team) -> None:
    w.do(m.ChangePerson(team.alice.person_id, {"max_customers": 9, "max_follow_days": 45}), team.boss)
    profile = w.profile(team.alice)
    assert (profile.max_customers, profile.max_follow_days) == (9, 45)
    refused = w.refused(m.ChangePerson(team.alice.person_id, {"name": "Alicia"}), team.boss)
    assert (refused.code, refused.message) == ("forbidden", "managers change limits only")
    assert w.refused(m.ChangePerson(team.alice.person_id, {"password": "new-password"}), team.boss).code == "forbidden"
    carol = w.person("carol", ["sales"], department=w.department("华南部"))
    refused = w.refused(m.ChangePerson(carol.person_id, {"max_customers": 1}), team.boss)
    assert (refused.code, refused.message) == ("forbidden", "that person is outside your departments")
    assert w.refused(m.ChangePerson(team.bob.person_id, {"max_customers": 1}), team.alice).code == "forbidden"
    assert w.refused(m.ChangePerson(team.alice.person_id, {"max_customers": -1}), team.boss).code == (
        "validation_error")
    assert w.refused(m.ChangePerson(str(uuid4()), {"max_customers": 1}), team.boss).code == "not_found"


def test_a_lower_limit_applies_to_the_next_claim(w: World, team: Team) -> None:
    ids = [w.customer(team.boss, f"公海{i}", to_pool=True) for i in range(3)]
    w.do(m.ClaimCustomer(ids[0]), team.alice)
    w.do(m.ClaimCustomer(ids[1]), team.alice)
    w.do(m.ChangePerson(team.alice.person_id, {"max_customers": 2}), team.boss)
    assert w.refused(m.ClaimCustomer(ids[2]), team.alice).code == "cap_reached"
    w.do(m.ChangePerson(team.alice.person_id, {"max_customers": None}), team.boss)  # back to the default (50)
    w.do(m.ClaimCustomer(ids[2]), team.alice)


def test_limits_for_a_person_without_a_profile_create_one(w: World, team: Team) -> None:
    w.do(m.ChangePerson(team.boss.person_id, {"max_follow_days": 10}), w.root)
    assert (w.profile(team.boss).max_customers, w.profile(team.boss).max_follow_days) == (None, 10)
    keeper = w.person("keeper", ["warehouse"])
    w.do(m.ChangePerson(keeper.person_id, {"roles": ["warehouse", "sales"]}), w.root)
    assert w.profile(keeper).held == []


def test_admins_change_people_and_end_their_sessions_when_rights_go(w: World, team: Team) -> None:
    w.do(m.ChangePerson(team.alice.person_id, {"name": "Alicia", "position": "主管"}), w.root)
    assert w.credentials.sessions_ended == []
    w.do(m.ChangePerson(team.alice.person_id, {"roles": ["sales", "manager"]}), w.root)  # a role more
    assert w.credentials.sessions_ended == []
    w.do(m.ChangePerson(team.alice.person_id, {"roles": ["manager"]}), w.root)  # a role less
    assert w.credentials.sessions_ended == [team.alice.person_id]
    w.do(m.ChangePerson(team.bob.person_id, {"active": False}), w.root)
    assert w.credentials.sessions_ended == [team.alice.person_id, team.bob.person_id]
    person = w.find(team.alice.person_id, Person)
    assert (person.name, person.position, person.roles) == ("Alicia", "主管", ["manager"])
    assert w.find(team.bob.person_id, Person).active is False


def test_an_admin_sets_a_password(w: World, team: Team) -> None:
    w.do(m.ChangePerson(team.alice.person_id, {"password": "a-new-password"}), w.root)
    assert w.credentials.passwords_set == [(team.alice.person_id, "a-new-password")]
    assert w.credentials.verify(w.find(team.alice.person_id, Person).username, "a-new-password")
    refused = w.refused(m.ChangePerson(team.alice.person_id, {"password": "short"}), w.root)
    assert (refused.code, refused.field) == ("weak_password", "password")
    assert len(w.credentials.passwords_set) == 1


@pytest.mark.parametrize(("changes", "code"), [
    ({"username": "new"}, "unknown_field"),
    ({"roles": []}, "invalid_role"),
    ({"roles": ["emperor"]}, "invalid_role"),
    ({"name": ""}, "validation_error"),
    ({"active": None}, "validation_error"),
    ({"department_id": str(uuid4())}, "unknown_department"),
    ({"mobile": "1" * 51}, "too_long"),
])
def test_person_change_refusals(w: World, team: Team, changes: dict[str, Any], code: str) -> None:
    assert w.refused(m.ChangePerson(team.alice.person_id, changes), w.root).code == code
    assert w.credentials.sessions_ended == []


def test_moving_a_person_moves_who_manages_them(w: World, team: Team) -> None:
    south = w.department("华南部")
    south_boss = w.person("southboss", ["manager"], department=south)
    cid = w.customer(team.alice, "跟人走")
    w.do(m.ChangePerson(team.alice.person_id, {"department_id": south}), w.root)
    assert w.refused(m.ReturnToPool(cid, "recalled"), team.boss).code == "not_found"
    w.do(m.ReturnToPool(cid, "recalled"), south_boss)


# ---- settings ----------------------------------------------------------------------------------


def test_settings_change_and_are_checked(w: World, team: Team) -> None:
    w.do(m.ChangeSettings(rules={"pool_warning_days": 5}, dictionaries={"regions": ["华北", "港澳台"]}), w.root)
    settings = w.settings()
    assert (settings.rules["pool_warning_days"], settings.dictionaries["regions"]) == (5, ["华北", "港澳台"])
    assert settings.rules["default_max_follow_days"] == DEFAULT_RULES["default_max_follow_days"]
    w.customer(team.alice, "台北客户", region="港澳台")
    assert w.refused(m.RegisterCustomer(name="华东客户", region="华东"), team.alice).code == "unknown_value"
    head = w.store.head()
    w.do(m.ChangeSettings(rules={"pool_warning_days": 5}, dictionaries={}), w.root)  # no change, no event
    assert w.store.head() == head


@pytest.mark.parametrize(("rules", "dictionaries", "field"), [
    ({"pool_warning_days": -1}, {}, "rules.pool_warning_days"),
    ({"late_entry_hours": 1.5}, {}, "rules.late_entry_hours"),
    ({"default_max_follow_days": 0}, {}, "rules.default_max_follow_days"),
    ({"timezone": "Mars/Base"}, {}, "rules.timezone"),
    ({"approval_required": ["everything"]}, {}, "rules.approval_required"),
    ({"daily_claim_limit": -1}, {}, "rules.daily_claim_limit"),
    ({"nonsense": 1}, {}, "rules"),
    ({"pool_warning_days": None}, {}, "rules.pool_warning_days"),
    ({}, {"regions": ["华北", "华北"]}, "dictionaries.regions"),
    ({}, {"regions": ["华北", ""]}, "dictionaries.regions"),
    ({}, {"regions": None}, "dictionaries.regions"),
    ({}, {"planets": ["Mars"]}, "dictionaries"),
    ({}, {"customer_types": [{"name": "甲"}, {"name": "乙", "children": [{"name": "甲"}]}]},
     "dictionaries.customer_types"),
    ({}, {"warehouses": ["仓" * 101]}, "warehouses"),
])
def test_bad_settings_are_refused(w: World, rules: dict[str, Any], dictionaries: dict[str, Any], field: str) -> None:
    refused = w.refused(m.ChangeSettings(rules=rules, dictionaries=dictionaries), w.root)
    assert refused.field == field
    assert w.settings().rules == DEFAULT_RULES


HUGE_RULES = ["late_entry_hours", "reclaim_cooldown_days", "default_max_follow_days", "pool_warning_days"]


@pytest.mark.parametrize("rule", HUGE_RULES)
def test_huge_rules_are_refused(w: World, rule: str) -> None:
    refused = w.refused(m.ChangeSettings(rules={rule: 10**9}, dictionaries={}), w.root)
    assert (refused.code, refused.field) == ("out_of_range", f"rules.{rule}")
    assert w.settings().rules == DEFAULT_RULES
    w.rules(**{rule: 3650 * 24 if rule == "late_entry_hours" else 3650})  # the bound itself is taken


@pytest.mark.parametrize("rule", HUGE_RULES)
def test_a_huge_rule_recorded_before_the_bounds_stops_nothing(
        w: World, team: Team, rule: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An accepted command is forever: a store from before the bounds may hold such a rule, and
    the visits, re-claims and sweeps that read it must still answer."""
    cid = w.customer(team.alice, "大数客户")
    with monkeypatch.context() as old_release:
        old_release.setattr(bounds, "at_most", lambda value, field, limit: value)
        w.rules(**{rule: 10**9})
    if rule == "late_entry_hours":
        w.do(m.RecordVisit(cid), team.alice)
    elif rule == "reclaim_cooldown_days":
        w.do(m.ReturnToPool(cid, "released"), team.alice)
        assert w.refused(m.ClaimCustomer(cid), team.alice).code == "claim_cooldown"
    else:
        w.pool_candidates.ids = [cid]
        w.do(m.SweepPool(), w.root)
        assert not w.customer_state(cid).in_pool  # ten years to go at the least


def test_a_huge_follow_limit_is_refused_and_one_from_before_does_not_stop_the_sweep(
        w: World, team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    refused = w.refused(m.ChangePerson(team.alice.person_id, {"max_follow_days": 10**9}), w.root)
    assert (refused.code, refused.field) == ("out_of_range", "max_follow_days")
    cid = w.customer(team.alice, "大数期限")
    other = w.customer(team.bob, "到期客户")
    with monkeypatch.context() as old_release:
        old_release.setattr(bounds, "at_most", lambda value, field, limit: value)
        w.do(m.ChangePerson(team.alice.person_id, {"max_follow_days": 10**9}), w.root)
    w.pool_candidates.ids = [cid, other]
    w.clock.advance(days=91)
    done = w.do(m.SweepPool(), w.root)
    assert done.returned == 1 and w.customer_state(other).in_pool
    assert not w.customer_state(cid).in_pool
