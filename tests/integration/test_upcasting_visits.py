"""O-2: `Customer.VisitRecorded` version 1 events (before visits carried their region and
distance check) are read as version 2 — unchecked, not flagged, the customer's region — by the
aggregate, by every projection after a rebuild, by Q-3 and by the history; `Settings` events of
version 1 read with the visit rules at their defaults. Stored rows stay as they were."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from sqlalchemy import select

from aggregates.customer import Customer
from aggregates.settings import SETTINGS_ID, Settings
from commands import messages as m
from commands.actor import Actor
from commands.base import context, load_settings, parse_uuid, save
from commands.bootstrap import Service
from commands.customers import customer_events
from commands.handlers import handle
from readmodels.history import history_items
from readmodels.org import current_settings
from readmodels.reports import run_report
from readmodels.tables import fact_visits, visits
from tests.conftest import SYSTEM

VISIT_V2_ONLY = ("region", "far_from_customer", "distance_m", "distance_check")


def stored_as_version_1(service: Service, event: Any, strip: Any) -> StoredEvent:
    stored = service.store.mapper.to_stored_event(event)
    state = json.loads(stored.state)
    assert state.pop("class_version") == type(event).class_version
    strip(state)
    return StoredEvent(originator_id=stored.originator_id, originator_version=stored.originator_version,
                       topic=stored.topic, state=json.dumps(state).encode())


def _without_visit_fields(state: dict[str, Any]) -> None:
    for name in VISIT_V2_ONLY:
        del state[name]


def test_version_1_visits_are_read_as_unchecked(service: Service) -> None:
    deps = service.deps
    person = handle(m.CreatePerson(name="老员工", username="old", password="password123", roles=["sales"]),
                    SYSTEM, deps).ids["id"]
    seller = Actor(person, "老员工", frozenset({"sales"}), None)
    cid = handle(m.RegisterCustomer(name="老客户", region="华南", address="广州市天河路1号", lat=23.1, lng=113.3),
                 seller, deps).ids["id"]

    # A visit written by the old code, straight into the store: a photo far away, no check.
    customer = deps.store.find(parse_uuid(cid, "id"), Customer)
    assert customer is not None
    customer.record_visit(context(deps, seller), visited_at=deps.clock.now(), late_entry_hours=24, address=None,
                          photo="a" * 64, photo_exif={"taken_at": None, "lat": 40.0, "lng": 116.0})
    [event] = customer.collect_events()
    assert event.far_from_customer is True  # what the new code would have said
    service.store.recorder.insert_events([stored_as_version_1(service, event, _without_visit_fields)])
    [raw] = [r for r in service.store.recorder.select_events(UUID(cid))
             if r.originator_version == event.originator_version]
    assert b"distance_check" not in raw.state and b"class_version" not in raw.state
    fresh = handle(m.RecordVisit(cid, notes="新拜访"), seller, deps).ids
    assert fresh["distance_check"] == "no_photo"

    loaded = deps.store.find(UUID(cid), Customer)
    assert loaded is not None and loaded.visit_count == 2
    old = [e for e in customer_events(deps, UUID(cid)) if isinstance(e, Customer.VisitRecorded)][0]
    assert (old.region, old.far_from_customer, old.distance_m, old.distance_check) == (None, False, None,
                                                                                       "unchecked")

    for name in service.projector.names:
        service.projector.rebuild(name)
    with service.store.engine.connect() as conn:
        listed = {r.visit_id: r for r in conn.execute(select(visits))}
        facts = {r.visit_id: r for r in conn.execute(select(fact_visits))}
        q3 = run_report(conn, SYSTEM, "Q-3", today=deps.clock.now().date(), type_tree=[], year=2026)
    assert (listed[old.visit_id].distance_check, listed[old.visit_id].far_from_customer,
            listed[old.visit_id].region) == ("unchecked", False, "华南")
    assert (facts[old.visit_id].distance_check, facts[old.visit_id].region) == ("unchecked", "华南")
    assert listed[fresh["visit_id"]].address == "广州市天河路1号"  # new visits take the customer's address
    rows = {r["visit_id"]: r for r in q3["rows"]}
    assert (rows[old.visit_id]["distance_note"], rows[old.visit_id]["distance_m"]) == ("早期记录，未核验", None)
    assert rows[old.visit_id]["address"] == "广州市天河路1号"  # an old visit without one: the customer's

    [item] = [i for i in history_items(customer_events(deps, UUID(cid)), {person: "老员工"})
              if i["type"] == "VisitRecorded" and i["data"]["visit_id"] == old.visit_id]
    assert item["data"]["distance_check"] == "unchecked"
    [stored] = [r for r in service.store.recorder.select_events(UUID(cid))
                if r.originator_version == event.originator_version]
    assert stored.state == raw.state


def test_version_1_settings_read_with_the_visit_rules_at_their_defaults(service: Service) -> None:
    deps = service.deps
    handle(m.ChangeSettings(rules={"visit_photo_required": True, "visit_max_distance_m": 200}, dictionaries={}),
           SYSTEM, deps)
    settings = load_settings(deps)
    settings.change(context(deps, SYSTEM), {"late_entry_hours": 30}, {})
    [event] = settings.collect_events()

    def _old_rules(state: dict[str, Any]) -> None:
        # Version 1 had neither the visit rules nor the business locale (version 3).
        del state["rules"]["visit_photo_required"]
        del state["rules"]["visit_max_distance_m"]
        del state["rules"]["locale"]

    service.store.recorder.insert_events([stored_as_version_1(service, event, _old_rules)])
    again = deps.store.find(SETTINGS_ID, Settings)
    assert again is not None
    assert (again.rules["late_entry_hours"], again.rules["visit_photo_required"],
            again.rules["visit_max_distance_m"], again.rules["locale"]) == (30, False, 1000, "zh_CN")
    service.projector.rebuild("organisation")
    with service.store.engine.connect() as conn:
        rules = current_settings(conn)["rules"]
    assert (rules["visit_photo_required"], rules["visit_max_distance_m"]) == (False, 1000)
    # A change after it is stored as the current version (3) with the rules in full.
    again.change(context(deps, SYSTEM), {"visit_max_distance_m": 500}, {})
    save(deps, again)
    assert json.loads(service.store.recorder.select_events(SETTINGS_ID)[-1].state)["class_version"] == 3
