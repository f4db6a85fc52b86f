"""O-2: `Contract.Exchanged` version 1 events (like for like, no prices recorded) are read as
version 2 — the replacement is the returned product, no price difference — by the aggregate
and by every projection after a rebuild; the stored row stays as it was."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from eventsourcing.persistence import StoredEvent
from sqlalchemy import select

from aggregates.contract import Contract
from commands import messages as m
from commands.actor import Actor
from commands.base import context, parse_uuid
from commands.bootstrap import Service
from commands.handlers import handle
from readmodels.tables import contracts, goods_moves
from tests.conftest import SYSTEM

V2_ONLY = ("out_product_id", "unit_price", "back_amount", "out_amount")


def stored_as_version_1(service: Service, event: Any) -> StoredEvent:
    stored = service.store.mapper.to_stored_event(event)
    state = json.loads(stored.state)
    assert state.pop("class_version") == 2
    del state["price_difference"]
    for line in state["lines"]:
        for name in V2_ONLY:
            del line[name]
    return StoredEvent(originator_id=stored.originator_id, originator_version=stored.originator_version,
                       topic=stored.topic, state=json.dumps(state).encode())


def test_version_1_exchanges_are_read_as_like_for_like(service: Service) -> None:
    deps = service.deps
    handle(m.ChangeSettings(rules={}, dictionaries={"warehouses": ["W1"]}), SYSTEM, deps)
    person = handle(m.CreatePerson(name="业务员", username="seller", password="password123",
                                   roles=["sales", "warehouse"]), SYSTEM, deps).ids["id"]
    seller = Actor(person, "业务员", frozenset({"sales", "warehouse"}), None)
    customer = handle(m.RegisterCustomer(name="老客户"), seller, deps).ids["id"]
    product = handle(m.CreateProduct(name="旧产品"), seller, deps).ids["id"]
    handle(m.StockIn(product, "W1", Decimal("5"), Decimal("10")), seller, deps)
    cid = handle(m.SignContract(customer, "HT-OLD", "旧合同", lines=[
        {"product_id": product, "quantity": "2", "unit_price": "50"}]), seller, deps).ids["id"]
    delivery = handle(m.Deliver(cid, [{"product_id": product, "warehouse": "W1", "quantity": "2"}]),
                      seller, deps).ids["delivery_id"]

    # An exchange as the old code wrote it, straight into the store.
    contract = deps.store.find(parse_uuid(cid, "id"), Contract)
    assert contract is not None
    contract.exchange(context(deps, seller), "x-old", delivery, contract.signed_on, [
        {"product_id": product, "quantity": Decimal("1"), "back_warehouse": "W1", "back_cost": Decimal("10"),
         "out_warehouse": "W1", "out_cost": Decimal("10")}])
    [event] = contract.collect_events()
    service.store.recorder.insert_events([stored_as_version_1(service, event)])
    raw = service.store.recorder.select_events(contract.id, desc=True, limit=1)[0]
    assert b"price_difference" not in raw.state and b"class_version" not in raw.state

    loaded = deps.store.find(contract.id, Contract)
    assert loaded is not None
    assert (loaded.exchange_difference, loaded.net_amount) == (0, Decimal("100.00"))
    assert loaded.delivery_lines("x-old") == [{"product_id": product, "warehouse": "W1",
                                               "quantity": Decimal("1"), "unit_cost": Decimal("10")}]
    assert loaded.ordered() == {product: Decimal("2")}

    for name in service.projector.names:
        service.projector.rebuild(name)
    with service.store.engine.connect() as conn:
        moves = conn.execute(select(goods_moves.c.kind, goods_moves.c.product_id)
                             .where(goods_moves.c.ref_id == "x-old").order_by(goods_moves.c.line)).all()
        amount = conn.execute(select(contracts.c.amount).where(contracts.c.id == cid)).scalar()
    assert [tuple(row) for row in moves] == [("exchange_in", product), ("exchange_out", product)]
    assert amount == Decimal("100.00")
    assert service.store.recorder.select_events(contract.id, desc=True, limit=1)[0].state == raw.state
