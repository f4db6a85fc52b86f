"""Seed 002 §2.2.5 against real stores (SQLite and PostgreSQL): `Customer.SharesChanged`
version 1 events, stored before departments could be shared with (O-2), are read as version 2
by the aggregate, the projections and the history; the read models of department shares and of
a deactivation's notice are the same rebuilt as built one event at a time (O-1)."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from sqlalchemy import select

from aggregates.customer import Customer
from commands import messages as m
from commands.actor import Actor
from commands.base import context
from commands.bootstrap import Service
from commands.customers import customer_events
from commands.handlers import handle
from readmodels.history import history_items
from readmodels.tables import customer_department_shares, customer_shares, customers, notifications
from tests.conftest import SYSTEM, read_model_snapshot


def stored_as_version_1(service: Service, event: Any) -> StoredEvent:
    """What the code before version 2 wrote: people only, no class_version."""
    stored = service.store.mapper.to_stored_event(event)
    state = json.loads(stored.state)
    assert state.pop("class_version") == 2
    assert state.pop("departments_added") == [] and state.pop("departments_removed") == []
    return StoredEvent(originator_id=stored.originator_id, originator_version=stored.originator_version,
                       topic=stored.topic, state=json.dumps(state).encode())


def team(service: Service) -> tuple[str, Actor, Actor, Actor]:
    deps = service.deps
    handle(m.ChangeSettings(rules={"approval_required": []}, dictionaries={}), SYSTEM, deps)
    dept = handle(m.CreateDepartment(name="销售部"), SYSTEM, deps).ids["id"]
    made = {}
    for username, roles in (("boss", ["manager"]), ("alice", ["sales"]), ("bob", ["sales"])):
        made[username] = Actor(handle(m.CreatePerson(name=username, username=username, password="password123",
                                                     roles=roles, department_id=dept), SYSTEM, deps).ids["id"],
                               username, frozenset(roles), dept)
    return dept, made["boss"], made["alice"], made["bob"]


def test_version_1_share_changes_are_read_as_version_2(service: Service) -> None:
    deps = service.deps
    _, _, alice, bob = team(service)
    cid = handle(m.RegisterCustomer(name="老共享"), alice, deps).ids["id"]
    customer = deps.store.find(UUID(cid), Customer)
    assert customer is not None
    customer.change_shares(context(deps, alice), [bob.person_id], [])
    [event] = customer.collect_events()
    service.store.recorder.insert_events([stored_as_version_1(service, event)])
    raw = service.store.recorder.select_events(customer.id)[-1]
    assert b"departments_added" not in raw.state and b"class_version" not in raw.state

    loaded = deps.store.find(customer.id, Customer)
    assert loaded is not None and (loaded.shared_with, loaded.shared_departments) == ([bob.person_id], [])
    upcast = customer_events(deps, customer.id)[-1]
    assert (upcast.added, upcast.departments_added, upcast.departments_removed) == ([bob.person_id], [], [])

    for name in service.projector.names:
        service.projector.rebuild(name)
    with service.store.engine.connect() as conn:
        assert conn.execute(select(customer_shares.c.person_id).where(customer_shares.c.customer_id == cid)
                            ).scalars().all() == [bob.person_id]
        assert conn.execute(select(customers.c.share_count).where(customers.c.id == cid)).scalar() == 1

    item = history_items(customer_events(deps, customer.id), {})[-1]
    assert (item["type"], item["data"]["departments_added"]) == ("SharesChanged", [])
    assert {c["field"] for c in item["changes"]} == {"shared_with"}
    assert service.store.recorder.select_events(customer.id)[-1].state == raw.state


def test_department_shares_and_leavers_rebuild_to_the_same_read_models(service: Service) -> None:
    deps = service.deps
    dept, boss, alice, bob = team(service)
    support = handle(m.CreateDepartment(name="客服部", parent_id=dept), SYSTEM, deps).ids["id"]
    ids = [handle(m.RegisterCustomer(name=f"客户{i}"), alice, deps).ids["id"] for i in range(3)]
    handle(m.ShareCustomers(ids, add_departments=[support, dept]), alice, deps)
    handle(m.ChangeShares(ids[0], add=[bob.person_id], remove_departments=[dept]), alice, deps)
    handle(m.ReturnCustomersToPool([ids[2]], "released"), alice, deps)
    handle(m.TransferCustomers([ids[1]], bob.person_id), boss, deps)
    handle(m.ChangePerson(alice.person_id, {"active": False}), SYSTEM, deps)
    handle(m.ChangePerson(bob.person_id, {"active": False}), SYSTEM, deps)
    service.projector.catch_up()

    with service.store.engine.connect() as conn:
        shared = sorted(conn.execute(select(customer_department_shares.c.customer_id,
                                            customer_department_shares.c.department_id)).tuples())
        told = conn.execute(select(notifications.c.person_id, notifications.c.ref_id).where(
            notifications.c.kind == "owner_deactivated")).all()
        counts = dict(conn.execute(select(customers.c.id, customers.c.share_count)).tuples().all())
    assert shared == sorted([(ids[0], support), (ids[1], support), (ids[1], dept)])
    assert counts == {ids[0]: 2, ids[1]: 2, ids[2]: 0}
    assert sorted(told) == sorted([(boss.person_id, alice.person_id), (boss.person_id, bob.person_id)])

    incremental = read_model_snapshot(service)
    for name in service.projector.names:
        service.projector.rebuild(name)
    assert read_model_snapshot(service) == incremental
