"""O-2: `Customer.Registered` version 1 events, stored before the credit (D-5) was part of
the event, are read as version 2 by the aggregate, by every projection after a rebuild and
by the history; stored events are never rewritten."""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

from eventsourcing.persistence import StoredEvent
from sqlalchemy import select

from aggregates.customer import Customer
from commands import messages as m
from commands.actor import Actor
from commands.base import context, parse_uuid
from commands.bootstrap import Service
from commands.customers import customer_events
from commands.handlers import handle
from readmodels.history import history_items
from readmodels.tables import customers, fact_new_customers
from tests.conftest import SYSTEM


def stored_as_version_1(service: Service, event: Any) -> StoredEvent:
    """What the code before version 2 wrote: no `credited_to`, no class_version."""
    stored = service.store.mapper.to_stored_event(event)
    state = json.loads(stored.state)
    assert state.pop("class_version") == 2
    del state["credited_to"]
    return StoredEvent(originator_id=stored.originator_id, originator_version=stored.originator_version,
                       topic=stored.topic, state=json.dumps(state).encode())


def test_version_1_registrations_are_read_as_version_2(service: Service) -> None:
    deps = service.deps
    person = handle(m.CreatePerson(name="老员工", username="old", password="password123",
                                   roles=["sales"]), SYSTEM, deps).ids["id"]
    seller = Actor(person, "老员工", frozenset({"sales"}), None)
    fresh = handle(m.RegisterCustomer(name="新客户", region="华东"), seller, deps).ids["id"]

    # A registration written by the old code, straight into the store.
    old_id = uuid4()
    ctx = context(deps, seller)
    old = Customer.register(ctx, id=old_id, number="KH202501000001", name="旧客户", fields={"region": "华南"},
                            contacts=[], owner_id=None, shared_with=[])
    [event] = old.collect_events()
    service.store.recorder.insert_events([stored_as_version_1(service, event)])
    raw = service.store.recorder.select_events(old_id)[0]
    assert b"credited_to" not in raw.state and b"class_version" not in raw.state
    new_raw = service.store.recorder.select_events(parse_uuid(fresh, "id"))[0]
    assert json.loads(new_raw.state)["class_version"] == 2

    # The aggregate reads it as version 2.
    loaded = deps.store.find(old_id, Customer)
    assert loaded is not None and (loaded.name, loaded.registered_by) == ("旧客户", person)
    [upcast] = customer_events(deps, old_id)
    assert upcast.credited_to == person

    # Every projection, rebuilt from the events, reads it the same way.
    for name in service.projector.names:
        service.projector.rebuild(name)
    with service.store.engine.connect() as conn:
        credited = dict(conn.execute(select(fact_new_customers.c.customer_id, fact_new_customers.c.person_id)).all())
        listed = conn.execute(select(customers.c.name).where(customers.c.id == str(old_id))).scalar()
    assert credited == {str(old_id): person, fresh: person}
    assert listed == "旧客户"

    # The history shows the event as version 2 does; the stored row is untouched.
    [item] = history_items(customer_events(deps, old_id), {person: "老员工"})
    assert (item["type"], item["data"]["credited_to"], item["actor_name"]) == ("Registered", person, "老员工")
    assert service.store.recorder.select_events(old_id)[0].state == raw.state
