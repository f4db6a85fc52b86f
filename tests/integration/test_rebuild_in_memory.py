"""A rebuild keeps the new version's rows in memory and writes them at the end
(projections/memory.py): what it builds must equal what the projections built event by event,
over many small batches; an event whose row the database refuses only at the end is still
parked, as the live projection parks it; a handler that asks for a connection still rebuilds."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.utils import get_topic
from sqlalchemy import Table, select

from aggregates.customer import Customer
from api.demo import seed_demo
from commands import messages as m
from commands.bootstrap import Service
from commands.handlers import handle
from projections.customers import customers_projection
from readmodels.tables import customer_contacts, customers, people, visits
from tests.conftest import SYSTEM

REFUSED = "数据库拒收的联系人"


def contents(service: Service, table: Table) -> list[tuple[Any, ...]]:
    with service.store.engine.connect() as conn:
        return sorted((tuple(row) for row in conn.execute(select(table))), key=repr)


def test_a_rebuild_in_small_batches_equals_the_read_models_built_event_by_event(service: Service) -> None:
    seed_demo(service)
    cid = handle(m.RegisterCustomer(name="改来改去", to_pool=True), SYSTEM, service.deps).ids["id"]
    for n in range(5):  # one row changed many times across the batches of the rebuild
        handle(m.AddContact(cid, contact={"name": f"联系人{n}", "primary": n % 2 == 0}), SYSTEM, service.deps)
    service.projector.catch_up()
    before = {table.name: contents(service, table) for table in (customers, customer_contacts, people, visits)}
    assert len(before["rm_customer_contacts"]) >= 5

    service.projector.rebuild_batch = 7
    assert service.projector.verify() == {name: [] for name in service.projector.names}
    service.projector.rebuild_all()
    after = {table.name: contents(service, table) for table in (customers, customer_contacts, people, visits)}
    assert after == before
    assert set(service.projector.positions().values()) == {service.store.head()}


@pytest.fixture
def refused_by_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """A handler bug that only the database notices: one contact's row gets no `seq`, which
    the column does not allow (NOT NULL)."""
    topic = get_topic(Customer.ContactAdded)
    original = customers_projection.handlers[topic]

    def handler(writer: Any, event: Any) -> None:
        original(writer, event)
        if event.contact["name"] == REFUSED:
            writer.set(writer.customer_contacts, (str(event.originator_id), event.contact["id"]), seq=None)

    monkeypatch.setitem(customers_projection.handlers, topic, handler)


def test_a_row_the_database_refuses_at_the_end_of_a_rebuild_is_parked_as_live(
        service: Service, refused_by_the_database: None) -> None:
    cid = handle(m.RegisterCustomer(name="拒收", to_pool=True), SYSTEM, service.deps).ids["id"]
    handle(m.AddContact(cid, contact={"name": "之前"}), SYSTEM, service.deps)
    refused = handle(m.AddContact(cid, contact={"name": REFUSED}), SYSTEM, service.deps).position
    handle(m.AddContact(cid, contact={"name": "之后"}), SYSTEM, service.deps)
    service.projector.catch_up()
    assert [p["position"] for p in service.projector.parked()["customers"]] == [refused]
    live = contents(service, customer_contacts)
    assert sorted(row[2] for row in live) == ["之前", "之后"]

    assert service.projector.verify() == {name: [] for name in service.projector.names}
    service.projector.rebuild("customers")
    assert [p["position"] for p in service.projector.parked()["customers"]] == [refused]
    assert contents(service, customer_contacts) == live
    assert service.projector.positions()["customers"] == service.store.head()


def test_a_handler_that_queries_the_database_itself_still_rebuilds(
        service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    topic = get_topic(Customer.ContactAdded)
    original = customers_projection.handlers[topic]
    asked: list[int] = []

    def handler(writer: Any, event: Any) -> None:
        asked.append(writer.conn.execute(select(customers.c.id).limit(1)).first() is not None)
        original(writer, event)

    monkeypatch.setitem(customers_projection.handlers, topic, handler)
    cid = handle(m.RegisterCustomer(name="自己查库", to_pool=True), SYSTEM, service.deps).ids["id"]
    for name in ("甲", "乙", "丙"):
        handle(m.AddContact(cid, contact={"name": name}), SYSTEM, service.deps)
    service.projector.catch_up()
    live = contents(service, customer_contacts)
    asked.clear()

    service.projector.rebuild("customers")
    assert len(asked) >= 3  # the rebuild ran the handler, with a connection
    assert contents(service, customer_contacts) == live
    assert sorted(row[2] for row in live) == ["丙", "乙", "甲"]
    assert service.projector.parked()["customers"] == []
