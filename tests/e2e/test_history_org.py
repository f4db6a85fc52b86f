"""The history and the past states of the organisation's records (H-2, H-3): people with their
salesperson limits, departments, the settings and targets. Each test makes changes at several
moments, keeps what the live read showed after each, and then asks the history, `version=N`
and `as_of=` for the same: the past states equal the live answers where their fields overlap."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from eventsourcing.persistence import StoredEvent

from aggregates.settings import SETTINGS_ID, Settings
from commands.adapters.clock import ManualClock
from commands.base import context
from commands.bootstrap import Service
from tests.conftest import SYSTEM, Http, assert_error
from tests.e2e.helpers import ok

UNKNOWN = "00000000-0000-4000-8000-000000000000"
CHINA = timezone(timedelta(hours=8))


def person_body(username: str, roles: list[str], dept: str | None, **more: Any) -> dict[str, Any]:
    return {"name": username.title(), "username": username, "password": "password123",
            "department_id": dept, "roles": roles, **more}


def shown(record: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """The fields of a live answer that the past state holds too."""
    return {key: record[key] for key in state if key in record}


def at(http: Http, path: str, who: str = "root", **params: Any) -> Any:
    return http.get(path, who, params=params)


def moments(clock: ManualClock) -> datetime:
    """A moment between two changes: half an hour after the last one, then an hour on."""
    middle = clock.now() + timedelta(minutes=30)
    clock.advance(hours=1)
    return middle


def org(http: Http) -> dict[str, str]:
    ids = {"east": ok(http.post("/departments", "root", json={"name": "华东"}))["id"],
           "south": ok(http.post("/departments", "root", json={"name": "华南"}))["id"]}
    ids["east_sub"] = ok(http.post("/departments", "root", json={"name": "上海", "parent_id": ids["east"]}))["id"]
    for username, roles, dept in (("boss", ["manager"], "east"), ("zed", ["manager"], "south"),
                                  ("sam", ["sales"], "east"), ("audi", ["auditor"], None),
                                  ("kee", ["warehouse"], "east")):
        ids[username] = ok(http.post("/people", "root", json=person_body(username, roles, ids[dept] if dept else None)))["id"]
    ok(http.patch(f"/departments/{ids['east']}", "root", json={"manager_ids": [ids["boss"]]}), 200)
    ok(http.patch(f"/departments/{ids['south']}", "root", json={"manager_ids": [ids["zed"]]}), 200)
    return ids


def test_a_persons_history_and_past_states_hold_roles_department_activity_and_limits(
        http: Http, clock: ManualClock) -> None:
    ids = org(http)
    clock.advance(hours=1)
    amy = ok(http.post("/people", "root", json=person_body("amy", ["sales"], ids["east"], max_customers=5)))["id"]
    live = [ok(http.get(f"/people/{amy}", "root"), 200)]  # after versions 2 (the person and the profile)
    between = [moments(clock)]
    assert ok(http.patch(f"/people/{amy}", "root", json={"roles": ["sales", "warehouse"]}), 200)
    live.append(ok(http.get(f"/people/{amy}", "root"), 200))
    between.append(moments(clock))
    # A new password is no event of the person: no history item, no credential anywhere.
    ok(http.patch(f"/people/{amy}", "root", json={"password": "a-new-secret-1"}), 200)
    ok(http.patch(f"/people/{amy}", "root", json={"department_id": ids["east_sub"]}), 200)
    live.append(ok(http.get(f"/people/{amy}", "root"), 200))
    between.append(moments(clock))
    ok(http.patch(f"/people/{amy}", "boss", json={"max_customers": 8, "max_follow_days": 30}), 200)
    live.append(ok(http.get(f"/people/{amy}", "root"), 200))
    between.append(moments(clock))
    # Her customers come and go on the profile: not steps of the person.
    http.tokens["amy"] = http.login("amy", "a-new-secret-1")["Authorization"]
    customer = ok(http.post("/customers", "amy", json={"name": "甲公司", "region": "华东"}))["id"]
    assert ok(http.get(f"/people/{amy}", "root"), 200)["held_customers"] == 1
    clock.advance(hours=1)
    ok(http.patch(f"/people/{amy}", "root", json={"active": False}), 200)
    live.append(ok(http.get(f"/people/{amy}", "root"), 200))
    assert [r["roles"] for r in live] == [["sales"], ["sales", "warehouse"]] + [["sales", "warehouse"]] * 3
    assert (live[2]["department_id"], live[3]["max_customers"], live[4]["active"]) == (ids["east_sub"], 8, False)

    history = ok(http.get(f"/people/{amy}/history", "root"), 200)["items"]
    assert [(i["version"], i["type"]) for i in history] == [
        (1, "Created"), (2, "Created"), (3, "Changed"), (4, "Changed"), (5, "LimitsChanged"), (6, "Changed")]
    assert [i["actor_name"] for i in history] == ["管理员"] * 4 + ["Boss", "管理员"]
    assert history[0]["command_id"] == history[1]["command_id"]  # the person and the profile, one command
    assert len({i["command_id"] for i in history[1:]}) == 5 and all(i["command_id"] for i in history)
    changes = [{c["field"]: (c["old"], c["new"]) for c in i["changes"]} for i in history]
    assert changes[1] == {"is_salesperson": (False, True), "max_customers": (None, 5)}
    assert changes[2] == {"roles": (["sales"], ["sales", "warehouse"])}
    assert changes[3] == {"department_id": (ids["east"], ids["east_sub"])}
    assert changes[4] == {"max_customers": (5, 8), "max_follow_days": (None, 30)}
    assert changes[5] == {"active": (True, False)}
    text = json.dumps(history, ensure_ascii=False)
    assert "password" not in text and "a-new-secret-1" not in text and customer not in text

    for version, record in zip((2, 3, 4, 5, 6), live, strict=True):
        past = ok(at(http, f"/people/{amy}", version=version), 200)
        assert (past["id"], past["version"]) == (amy, version)
        assert past["at"] == history[version - 1]["at"]
        assert past["state"] == shown(record, past["state"]) and len(past["state"]) == 11
    for moment, record, version in zip(between, live, (2, 3, 4, 5), strict=False):
        for when in (moment, moment.astimezone(CHINA)):  # one moment, in UTC and in +08:00
            past = ok(at(http, f"/people/{amy}", as_of=when.isoformat()), 200)
            assert (past["version"], past["state"]) == (version, shown(record, past["state"]))
    assert ok(at(http, f"/people/{amy}", version=1), 200)["state"]["is_salesperson"] is False
    future = ok(at(http, f"/people/{amy}", as_of="2099-01-01T00:00:00+00:00"), 200)
    assert future["version"] == 6 and future["state"] == shown(live[-1], future["state"])
    assert "password" not in json.dumps(future)

    # The careless and the hostile.
    assert_error(at(http, f"/people/{amy}", version=7), 404, "not_found")
    assert_error(at(http, f"/people/{amy}", version=0), 422)
    assert_error(at(http, f"/people/{amy}", as_of="2026-11-02T00:00:00+00:00"), 404, "not_found")
    assert_error(at(http, f"/people/{amy}", as_of="2026-11-03T00:00:00"), 422, "validation_error")
    assert_error(at(http, f"/people/{amy}", as_of="yesterday"), 422)
    assert_error(at(http, f"/people/{amy}", "sam", version=1), 403, "forbidden")
    assert_error(at(http, f"/people/{amy}", "kee", as_of="2099-01-01T00:00:00+00:00"), 403, "forbidden")
    for who in ("boss", "zed", "audi"):
        assert ok(at(http, f"/people/{amy}", who, version=3), 200)["state"]["roles"] == ["sales", "warehouse"]
    assert ok(http.get(f"/people/{amy}", "sam"), 200)["name"] == "Amy"  # today's directory: everybody
    for path in (f"/people/{UNKNOWN}", f"/people/{ids['east']}", f"/people/{customer}"):
        assert_error(http.get(path, "root"), 404, "not_found")
        assert_error(http.get(path, "root", params={"version": 1}), 404, "not_found")
        assert_error(http.get(path + "/history", "root"), 404, "not_found")
    assert_error(http.get("/people/not-an-id", "root"), 422)

    # Who reads a person's history: admins, auditors, their managers (a department above
    # theirs too), the person themselves.
    assert len(ok(http.get(f"/people/{amy}/history", "audi"), 200)["items"]) == 6
    assert len(ok(http.get(f"/people/{amy}/history", "boss"), 200)["items"]) == 6
    assert ok(http.get(f"/people/{ids['sam']}/history", "sam"), 200)["items"][0]["type"] == "Created"
    assert_error(http.get(f"/people/{amy}/history", "zed"), 403, "forbidden")
    assert_error(http.get(f"/people/{amy}/history", "sam"), 403, "forbidden")
    assert_error(http.get(f"/people/{amy}/history", "kee"), 403, "forbidden")


def test_a_departments_history_and_past_states_hold_renames_moves_and_managers(
        http: Http, clock: ManualClock) -> None:
    ids = org(http)
    clock.advance(hours=1)
    north = ok(http.post("/departments", "root", json={"name": "华北", "parent_id": ids["east"]}))["id"]
    live = [ok(http.get(f"/departments/{north}", "root"), 200)]
    east = ok(http.get(f"/departments/{ids['east']}", "sam"), 200)
    assert sorted(c["id"] for c in east["children"]) == sorted([north, ids["east_sub"]])
    between = [moments(clock)]
    ok(http.patch(f"/departments/{north}", "root", json={"name": "华北区"}), 200)
    live.append(ok(http.get(f"/departments/{north}", "root"), 200))
    between.append(moments(clock))
    ok(http.patch(f"/departments/{north}", "root", json={"parent_id": ids["south"]}), 200)
    live.append(ok(http.get(f"/departments/{north}", "root"), 200))
    between.append(moments(clock))
    ok(http.patch(f"/departments/{north}", "root", json={"manager_ids": [ids["boss"]]}), 200)
    live.append(ok(http.get(f"/departments/{north}", "root"), 200))
    assert [(d["name"], d["parent_id"], d["manager_ids"]) for d in live] == [
        ("华北", ids["east"], []), ("华北区", ids["east"], []), ("华北区", ids["south"], []),
        ("华北区", ids["south"], [ids["boss"]])]
    south = ok(http.get(f"/departments/{ids['south']}", "root"), 200)
    assert [c["id"] for c in south["children"]] == [north]

    history = ok(http.get(f"/departments/{north}/history", "root"), 200)["items"]
    assert [(i["version"], i["type"], i["actor_name"]) for i in history] == [
        (1, "Created", "管理员"), (2, "Changed", "管理员"), (3, "Changed", "管理员"), (4, "Changed", "管理员")]
    assert [{c["field"]: (c["old"], c["new"]) for c in i["changes"]} for i in history[1:]] == [
        {"name": ("华北", "华北区")}, {"parent_id": (ids["east"], ids["south"])}, {"manager_ids": ([], [ids["boss"]])}]
    assert len({i["command_id"] for i in history}) == 4
    for version, record in enumerate(live, 1):
        past = ok(at(http, f"/departments/{north}", version=version), 200)
        assert (past["id"], past["version"], past["at"]) == (north, version, history[version - 1]["at"])
        assert past["state"] == shown(record, past["state"]) and set(past["state"]) == {
            "name", "parent_id", "manager_ids"}
    for version, (moment, record) in enumerate(zip(between, live, strict=False), 1):
        past = ok(at(http, f"/departments/{north}", "audi", as_of=moment.isoformat()), 200)
        assert (past["version"], past["state"]) == (version, shown(record, past["state"]))
    future = ok(at(http, f"/departments/{north}", "boss", as_of="2100-01-01T08:00:00+08:00"), 200)
    assert future["version"] == 4 and future["state"] == shown(live[-1], future["state"])

    assert_error(at(http, f"/departments/{north}", version=5), 404, "not_found")
    assert_error(at(http, f"/departments/{north}", as_of=(between[0] - timedelta(hours=2)).isoformat()), 404)
    assert_error(at(http, f"/departments/{north}", as_of="2026-11-03T00:00:00"), 422, "validation_error")
    assert_error(at(http, f"/departments/{north}", "sam", version=1), 403, "forbidden")
    for path in (f"/departments/{UNKNOWN}", f"/departments/{ids['sam']}"):
        assert_error(http.get(path, "root"), 404, "not_found")
        assert_error(http.get(path, "root", params={"version": 1}), 404, "not_found")
        assert_error(http.get(path + "/history", "root"), 404, "not_found")

    # Its history: admins, auditors, its managers and the managers of a department above it.
    assert len(ok(http.get(f"/departments/{north}/history", "audi"), 200)["items"]) == 4
    assert len(ok(http.get(f"/departments/{north}/history", "zed"), 200)["items"]) == 4  # manages 华南 above
    assert len(ok(http.get(f"/departments/{north}/history", "boss"), 200)["items"]) == 4  # its manager now
    assert_error(http.get(f"/departments/{ids['south']}/history", "boss"), 403, "forbidden")
    assert_error(http.get(f"/departments/{north}/history", "sam"), 403, "forbidden")
    assert_error(http.get(f"/departments/{north}/history", "kee"), 403, "forbidden")


def old_settings_change(service: Service, rules: dict[str, Any]) -> None:
    """A `Settings.Changed` as the code before the visit rules and the locale wrote it, straight
    into the store: no `class_version`, rules without those keys."""
    deps = service.deps
    settings = deps.store.find(SETTINGS_ID, Settings)
    assert settings is not None
    old_rules = {k: v for k, v in {**settings.rules, **rules}.items()
                 if k not in ("visit_photo_required", "visit_max_distance_m", "locale")}
    settings.trigger_event(Settings.Changed, timestamp=deps.clock.now(), actor_id=SYSTEM.person_id,
                           command_id=context(deps, SYSTEM).command_id, rules=old_rules,
                           dictionaries=dict(settings.dictionaries))
    [event] = settings.collect_events()
    stored = service.store.mapper.to_stored_event(event)
    state = json.loads(stored.state)
    assert state.pop("class_version") == 3
    service.store.recorder.insert_events([StoredEvent(
        originator_id=stored.originator_id, originator_version=stored.originator_version, topic=stored.topic,
        state=json.dumps(state).encode())])


def test_the_settings_history_and_past_states_hold_rules_and_dictionaries(
        http: Http, clock: ManualClock, service: Service) -> None:
    ids = org(http)
    created = ok(at(http, "/settings", version=1), 200)
    assert created["id"] == str(SETTINGS_ID) and created["state"]["rules"]["pool_warning_days"] == 3
    clock.advance(hours=1)
    old_settings_change(service, {"pool_warning_days": 7})  # version 2, read through the upcasters
    clock.advance(hours=1)
    live = []
    between = []
    for change in ({"rules": {"late_entry_hours": 12}}, {"dictionaries": {"sources": ["展会", "转介绍"]}},
                   {"rules": {"daily_claim_limit": 3, "locale": "en"}, "dictionaries": {"regions": ["华东"]}}):
        ok(http.put("/settings", "root", json=change), 200)
        live.append(ok(http.get("/settings", "sam"), 200))
        between.append(moments(clock))
    assert [s["rules"]["pool_warning_days"] for s in live] == [7, 7, 7]
    assert (live[0]["rules"]["late_entry_hours"], live[1]["dictionaries"]["sources"],
            live[2]["rules"]["locale"]) == (12, ["展会", "转介绍"], "en")

    history = ok(http.get("/settings/history", "audi"), 200)["items"]
    assert [(i["version"], i["type"]) for i in history] == [
        (1, "Created"), (2, "Changed"), (3, "Changed"), (4, "Changed"), (5, "Changed")]
    assert [i["actor_name"] for i in history[2:]] == ["管理员"] * 3
    assert history[1]["data"]["rules"]["locale"] == "zh_CN"  # the old event, upcast
    assert history[1]["data"]["rules"]["visit_photo_required"] is False
    assert {c["field"] for c in history[1]["changes"]} == {"rules"}
    rules_change = {c["field"]: c for c in history[2]["changes"]}["rules"]
    assert (rules_change["old"]["late_entry_hours"], rules_change["new"]["late_entry_hours"]) == (24, 12)
    assert [c["field"] for c in history[3]["changes"]] == ["dictionaries"]
    assert {c["field"] for c in history[4]["changes"]} == {"rules", "dictionaries"}

    old = ok(at(http, "/settings", "boss", version=2), 200)["state"]
    assert old["rules"]["pool_warning_days"] == 7 and old["rules"]["locale"] == "zh_CN"
    assert old["rules"]["visit_max_distance_m"] == 1000
    for version, record in zip((3, 4, 5), live, strict=True):
        past = ok(at(http, "/settings", version=version), 200)
        assert (past["version"], past["at"], past["state"]) == (version, history[version - 1]["at"], record)
    for version, (moment, record) in zip((3, 4, 5), zip(between, live, strict=True), strict=True):
        assert ok(at(http, "/settings", "audi", as_of=moment.isoformat()), 200)["state"] == record
        assert ok(at(http, "/settings", "audi", as_of=moment.isoformat()), 200)["version"] == version
    assert ok(at(http, "/settings", as_of="2099-12-31T23:59:59+08:00"), 200)["state"] == live[-1]

    assert_error(at(http, "/settings", version=6), 404, "not_found")
    assert_error(at(http, "/settings", as_of="2020-01-01T00:00:00+00:00"), 404, "not_found")
    assert_error(at(http, "/settings", as_of="2026-11-03T00:00:00"), 422, "validation_error")
    assert_error(at(http, "/settings", "sam", version=1), 403, "forbidden")
    assert_error(http.get("/settings/history", "sam"), 403, "forbidden")
    assert_error(http.get("/settings/history", "kee"), 403, "forbidden")
    assert len(ok(http.get("/settings/history", "zed"), 200)["items"]) == 5
    assert ids  # the organisation above is who asks


def test_a_targets_history_and_past_states_hold_its_setting_revisions_and_cancellation(
        http: Http, clock: ManualClock) -> None:
    ids = org(http)
    target = ok(http.post("/targets", "boss", json={
        "person_id": ids["sam"], "period": "2026年12月", "start": "2026-12-01", "end": "2026-12-31",
        "visits": 10, "deal_amount": "50000.00"}))["id"]
    live = [ok(http.get(f"/targets/{target}", "boss"), 200)]
    between = [moments(clock)]
    for change in ({"visits": 12, "deal_amount": "60000.50"}, {"period": "2026年12月（修订）", "end": "2026-12-20"}):
        ok(http.patch(f"/targets/{target}", "boss", json=change), 200)
        live.append(ok(http.get(f"/targets/{target}", "boss"), 200))
        between.append(moments(clock))
    ok(http.client.request("DELETE", f"/api/v1/targets/{target}", headers=http.as_("root"),
                           json={"reason": "调岗"}), 200)
    live.append(ok(http.get(f"/targets/{target}", "boss"), 200))
    assert [(t["visits"], t["deal_amount"], t["end"], t["cancelled"]) for t in live] == [
        (10, "50000.00", "2026-12-31", False), (12, "60000.50", "2026-12-31", False),
        (12, "60000.50", "2026-12-20", False), (12, "60000.50", "2026-12-20", True)]

    history = ok(http.get(f"/targets/{target}/history", "audi"), 200)["items"]
    assert [(i["version"], i["type"], i["actor_name"]) for i in history] == [
        (1, "Set", "Boss"), (2, "Revised", "Boss"), (3, "Revised", "Boss"), (4, "Cancelled", "管理员")]
    assert history[3]["data"]["reason"] == "调岗" and len({i["command_id"] for i in history}) == 4
    changes = [{c["field"]: (c["old"], c["new"]) for c in i["changes"]} for i in history]
    assert changes[2]["period"] == ("2026年12月", "2026年12月（修订）")
    assert changes[2]["end"] == ("2026-12-31", "2026-12-20")
    assert changes[3] == {"cancelled": (False, True)}
    figures = changes[1]["figures"]
    assert (figures[0]["visits"], figures[1]["visits"]) == (10, 12)

    for version, record in enumerate(live, 1):
        past = ok(at(http, f"/targets/{target}", version=version), 200)
        assert (past["id"], past["version"], past["at"]) == (target, version, history[version - 1]["at"])
        assert past["state"] == shown(record, past["state"]) and len(past["state"]) == 9
    for version, (moment, record) in enumerate(zip(between, live, strict=False), 1):
        past = ok(at(http, f"/targets/{target}", "boss", as_of=moment.isoformat()), 200)
        assert (past["version"], past["state"]) == (version, shown(record, past["state"]))
    future = ok(at(http, f"/targets/{target}", "audi", as_of="2100-01-01T00:00:00Z"), 200)
    assert future["version"] == 4 and future["state"]["cancelled"] is True

    assert_error(at(http, f"/targets/{target}", version=5), 404, "not_found")
    assert_error(at(http, f"/targets/{target}", as_of="2026-11-01T00:00:00+00:00"), 404, "not_found")
    assert_error(at(http, f"/targets/{target}", as_of="2026-12-01T00:00:00"), 422, "validation_error")
    # The target's person sees it and its history today, but no past state.
    assert ok(http.get(f"/targets/{target}", "sam"), 200)["id"] == target
    assert len(ok(http.get(f"/targets/{target}/history", "sam"), 200)["items"]) == 4
    assert_error(at(http, f"/targets/{target}", "sam", version=1), 403, "forbidden")
    # Outside the viewer's people it is not there at all, past or present.
    for who in ("zed", "kee"):
        assert_error(http.get(f"/targets/{target}", who), 404, "not_found")
        assert_error(at(http, f"/targets/{target}", who, version=1), 404, "not_found")
        assert_error(http.get(f"/targets/{target}/history", who), 404, "not_found")
    for path in (f"/targets/{UNKNOWN}", f"/targets/{ids['sam']}", f"/targets/{ids['east']}"):
        assert_error(http.get(path, "root"), 404, "not_found")
        assert_error(http.get(path, "root", params={"version": 1}), 404, "not_found")
        assert_error(http.get(path + "/history", "root"), 404, "not_found")
    # The fixed routes beside `{target_id}` stay theirs.
    rollup = http.get("/targets/departments", "boss")
    assert rollup.status_code == 200 and isinstance(rollup.json(), list)
