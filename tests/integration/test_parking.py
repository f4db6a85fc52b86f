"""A projection never stops for good on one event: what a handler cannot apply for a reason
retrying does not cure is parked (recorded, skipped) and the projection goes on; a transient
failure waits and retries; `crm projections retry` applies parked events once their cause is
fixed. A rebuild parks the same events, so rebuilt equals incremental throughout."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.utils import get_topic
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from aggregates import bounds
from aggregates.customer import Customer
from api.cli import app as cli
from api.main import create_app
from commands import messages as m
from commands.adapters.clock import ManualClock
from commands.bootstrap import Service
from commands.handlers import handle
from projections.customers import customers_projection
from readmodels.tables import customer_contacts, products, stock
from tests.conftest import SYSTEM, make_service

POISON = "有毒的联系人"


@pytest.fixture
def env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The CLI reads the same store from the environment."""
    monkeypatch.setenv("CRM_DATABASE_URL", database_url)
    monkeypatch.setenv("CRM_MODE", "embedded")
    monkeypatch.setenv("CRM_LANG", "en")  # the command line's English words are checked below
    if not database_url.startswith("sqlite"):
        monkeypatch.setenv("CRM_SECRET_KEY", secrets.token_hex(32))
    return database_url


@pytest.fixture
def faulty(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The customers projection's ContactAdded handler fails on one contact's name (a bug that
    a release fixes), or with a transient database error while `transient` is set."""
    topic = get_topic(Customer.ContactAdded)
    original = customers_projection.handlers[topic]
    fault: dict[str, Any] = {"on": True, "transient": False}

    def handler(writer: Any, event: Any) -> None:
        if fault["transient"]:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
        if fault["on"] and event.contact["name"] == POISON:
            raise ValueError("the handler cannot take this contact")
        original(writer, event)

    monkeypatch.setitem(customers_projection.handlers, topic, handler)
    yield fault


def contact_names(service: Service) -> set[str]:
    with service.store.engine.connect() as conn:
        return set(conn.execute(select(customer_contacts.c.name)).scalars())


def test_a_failing_event_is_parked_and_retried_after_the_fix(
        env: str, faulty: dict[str, Any], clock: ManualClock, tmp_path: Path) -> None:
    service = make_service(env, clock, tmp_path / "blobs")
    try:
        cid = handle(m.RegisterCustomer(name="停车场", to_pool=True), SYSTEM, service.deps).ids["id"]
        poisoned = handle(m.AddContact(cid, contact={"name": POISON}), SYSTEM, service.deps).position
        handle(m.AddContact(cid, contact={"name": "正常联系人"}), SYSTEM, service.deps)
        service.projector.catch_up()

        parked = service.projector.parked()["customers"]
        assert [(p["position"], p["topic"], p["originator_id"]) for p in parked] == [
            (poisoned, get_topic(Customer.ContactAdded), cid)]
        assert "cannot take this contact" in parked[0]["error"]
        head = service.store.head()
        assert set(service.projector.positions().values()) == {head}
        assert contact_names(service) == {"正常联系人"}
        assert {name for name, found in service.projector.parked().items() if found} == {"customers"}
        # A rebuild parks the same event, so the check finds the live read models equal to it.
        assert service.projector.verify() == {name: [] for name in service.projector.names}

        with TestClient(create_app(service, background=False)) as client:
            health = client.get("/healthz").json()
            assert health["status"] == "degraded" and health["parked"] == {"customers": 1}
            assert 'crm_projection_parked{projection="customers"} 1' in client.get("/metrics").text
        status = CliRunner().invoke(cli, ["projections", "status"])
        assert status.exit_code == 0 and "Parked events" in status.output, status.output
        check = CliRunner().invoke(cli, ["check"])
        assert check.exit_code == 1 and "parked in customers" in check.output, check.output

        # Still failing: the retry rebuilds, the event stays parked, the exit code says so.
        still = CliRunner().invoke(cli, ["projections", "retry", "customers"])
        assert still.exit_code == 1 and "1 still parked" in still.output, still.output

        faulty["on"] = False  # the release that fixes the handler
        retried = CliRunner().invoke(cli, ["projections", "retry", "customers"])
        assert retried.exit_code == 0, retried.output
        assert "1 of 1 parked events now apply" in retried.output
        assert service.projector.parked()["customers"] == []
        assert contact_names(service) == {POISON, "正常联系人"}
        assert service.projector.verify() == {name: [] for name in service.projector.names}
        with TestClient(create_app(service, background=False)) as client:
            assert client.get("/healthz").json()["status"] == "ok"
    finally:
        service.close()


def test_a_transient_failure_waits_and_is_never_parked(
        database_url: str, faulty: dict[str, Any], clock: ManualClock, tmp_path: Path) -> None:
    service = make_service(database_url, clock, tmp_path / "blobs")
    try:
        cid = handle(m.RegisterCustomer(name="等一等", to_pool=True), SYSTEM, service.deps).ids["id"]
        faulty["transient"] = True
        added = handle(m.AddContact(cid, contact={"name": "稍后"}), SYSTEM, service.deps).position
        service.projector.catch_up()
        assert service.projector.positions()["customers"] < added
        assert service.projector.positions()["organisation"] == service.store.head()
        assert service.projector.parked()["customers"] == []
        faulty["transient"] = False  # the database is back
        service.projector.catch_up()
        assert service.projector.positions()["customers"] == service.store.head()
        assert contact_names(service) == {"稍后"}
    finally:
        service.close()


def test_a_store_with_poison_events_from_before_starts_parks_them_and_catches_up(
        database_url: str, clock: ManualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Events recorded before the bounds existed: a stock-in whose value no column holds."""
    service = make_service(database_url, clock, tmp_path / "blobs")
    product = handle(m.CreateProduct(name="旧产品"), SYSTEM, service.deps).ids["id"]
    with monkeypatch.context() as old_release:  # the domain as it was: no bounds
        old_release.setattr(bounds, "check_event_data", lambda data, limits: None)
        old_release.setattr(bounds, "amount", lambda value, field, limit=None: value)
        old_release.setattr(bounds, "within", lambda total, field, limit=None: total)
        service.deps.after_commit = lambda position: None
        poison = handle(m.StockIn(product_id=product, warehouse="总仓", quantity=Decimal("999999999999"),
                                  cost=Decimal("99999999")), SYSTEM, service.deps).position
    healthy = handle(m.CreateProduct(name="新产品"), SYSTEM, service.deps).ids["id"]
    handle(m.StockIn(product_id=healthy, warehouse="总仓", quantity=Decimal("2"), cost=Decimal("10")),
           SYSTEM, service.deps)
    service.close()

    restarted = make_service(database_url, clock, tmp_path / "blobs")
    try:
        restarted.projector.catch_up()
        assert set(restarted.projector.positions().values()) == {restarted.store.head()}
        assert [p["position"] for p in restarted.projector.parked()["products"]] == [poison]
        with restarted.store.engine.connect() as conn:
            assert sorted(conn.execute(select(products.c.name)).scalars()) == ["新产品", "旧产品"]
            assert sorted(str(q) for q in conn.execute(select(stock.c.quantity)).scalars()) == ["0.0000", "2.0000"]
        assert restarted.projector.verify() == {name: [] for name in restarted.projector.names}
    finally:
        restarted.close()
