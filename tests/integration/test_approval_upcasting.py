"""O-2: `Approval.Requested` version 1 events, stored before a request recorded the state it
was made against, are read as version 2 with no base: the aggregate, the rebuilt inbox
projection and the approval itself see no base, so such a request is decided by its
command's own checks alone (no `stale_request`); stored events are never rewritten."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from sqlalchemy import select

from aggregates.approval import Approval
from aggregates.base import DomainError
from aggregates.product import Product
from commands import messages as m
from commands.actor import Actor
from commands.base import context
from commands.bootstrap import Service
from commands.handlers import handle
from readmodels.tables import approvals
from tests.conftest import SYSTEM


def stored_as_version_1(service: Service, event: Any) -> StoredEvent:
    """What the code before version 2 wrote: no `base`, no class_version."""
    stored = service.store.mapper.to_stored_event(event)
    state = json.loads(stored.state)
    assert state.pop("class_version") == 2
    del state["base"]
    return StoredEvent(originator_id=stored.originator_id, originator_version=stored.originator_version,
                       topic=stored.topic, state=json.dumps(state).encode())


def test_version_1_requests_have_no_base_and_no_staleness_check(service: Service) -> None:
    deps = service.deps
    dept = handle(m.CreateDepartment(name="定价部"), SYSTEM, deps).ids["id"]
    ids = {}
    for username, roles in (("boss", ["manager"]), ("keeper", ["warehouse"])):
        ids[username] = handle(m.CreatePerson(name=username, username=username, password="password123",
                                              roles=roles, department_id=dept), SYSTEM, deps).ids["id"]
    handle(m.ChangeDepartment(dept, {"manager_ids": [ids["boss"]]}), SYSTEM, deps)
    boss = Actor(ids["boss"], "boss", frozenset({"manager"}), dept)
    keeper = Actor(ids["keeper"], "keeper", frozenset({"warehouse"}), dept)
    product = handle(m.CreateProduct(name="服务器"), boss, deps).ids["id"]
    handle(m.ChangePrice(product, Decimal("150000.00")), boss, deps)
    fresh = handle(m.ChangePrice(product, Decimal("158000.00")), keeper, deps).ids["approval_id"]

    # A request written by the old code, straight into the store.
    old_id = uuid4()
    old = Approval.request(context(deps, keeper), id=old_id, kind="price_change", target_id=product,
                           payload={"product_id": product, "price": Decimal("160000.00"), "reason": "旧"},
                           summary="160000.00（旧）", approver_ids=[ids["boss"]], base={"price": "150000.00"})
    [event] = old.collect_events()
    service.store.recorder.insert_events([stored_as_version_1(service, event)])
    raw = service.store.recorder.select_events(old_id)[0]
    assert b'"base"' not in raw.state and b"class_version" not in raw.state
    assert json.loads(service.store.recorder.select_events(UUID(fresh))[0].state)["class_version"] == 2

    # The aggregate and the rebuilt inbox read it without a base.
    loaded = deps.store.find(old_id, Approval)
    assert loaded is not None and loaded.base is None and loaded.status == "pending"
    service.projector.rebuild("inbox")
    with service.store.engine.connect() as conn:
        bases = dict(conn.execute(select(approvals.c.id, approvals.c.base)).all())
    assert bases == {str(old_id): None, fresh: {"price": "150000.00"}}

    # The price moves on: the new request is stale, the old one is decided by its own checks.
    handle(m.ChangePrice(product, Decimal("155000.00")), boss, deps)
    with pytest.raises(DomainError) as stale:
        handle(m.ApproveRequest(fresh), boss, deps)
    assert stale.value.code == "stale_request"
    handle(m.ApproveRequest(str(old_id)), boss, deps)
    current = deps.store.find(UUID(product), Product)
    assert current is not None and current.price == Decimal("160000.00")
    assert service.store.recorder.select_events(old_id)[0].state == raw.state
