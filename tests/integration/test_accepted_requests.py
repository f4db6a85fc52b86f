"""Property: whatever the API accepts, the read side can hold. Hypothesis sends requests that
the schemas let through — decimals up to their bounds, long and astral-plane Unicode,
combining marks, dates at the ends of the business range — for registrations, changes,
contracts, invoices, payments, stock-ins, deliveries, visits and work reports; after each one,
every projection has reached the head and nothing is parked. One store per backend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from aggregates import bounds
from api.main import create_app
from commands import messages as m
from commands.adapters.clock import ManualClock
from commands.handlers import handle
from tests.conftest import ADMIN_PASSWORD, SYSTEM, Http, make_service, postgres_url

# Any character but lone surrogates (which JSON text cannot carry as UTF-8): astral planes,
# combining marks, controls (refused with a 422, which is fine: only 5xx and a stuck read side fail).
CHARS = st.characters(exclude_categories=("Cs",))
WIDE = st.sampled_from(["\ufdfa", "\U0001f600", "e\u0301", "\u0e01\u0e34\u0e4a", "𠀀", "Ａ", "\u200b", "ß", "ﬃ"])
text = st.one_of(st.text(CHARS, max_size=60), st.lists(WIDE, max_size=250).map("".join))


def amount(high: Decimal, places: int) -> st.SearchStrategy[str]:
    low = Decimal(1).scaleb(-places)
    return st.one_of(st.decimals(min_value=low, max_value=high, places=places), st.just(high), st.just(low)).map(str)


money = amount(bounds.MONEY_MAX, 2)
quantity = amount(bounds.QUANTITY_MAX, 4)
day = st.one_of(st.dates(min_value=bounds.DATE_MIN, max_value=bounds.DATE_MAX),
                st.sampled_from([bounds.DATE_MIN, bounds.DATE_MAX, date(2026, 11, 2)])).map(date.isoformat)
moment = st.one_of(
    st.datetimes(min_value=datetime.combine(bounds.DATE_MIN, time()), max_value=datetime(2026, 11, 2),
                 timezones=st.sampled_from([UTC])),
    st.sampled_from(["1900-01-01T00:00:00+14:00", "2026-11-01T23:59:59-12:00"]),
).map(lambda value: value if isinstance(value, str) else value.isoformat())

request = st.one_of(
    st.tuples(st.just("register"), text, text, text),
    st.tuples(st.just("change"), text, text),
    st.tuples(st.just("contract"), text, quantity, money, day),
    st.tuples(st.just("invoice"), money, day),
    st.tuples(st.just("payment"), money, day),
    st.tuples(st.just("stock_in"), quantity, amount(bounds.UNIT_COST_MAX, 4), day),
    st.tuples(st.just("delivery"), quantity, day),
    st.tuples(st.just("visit"), moment, text, text),
    st.tuples(st.just("work_report"), st.sampled_from(["daily", "weekly", "monthly"]), day, text),
)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder: Path = tmp_path_factory.mktemp("accepted")
    url = f"sqlite:///{folder}/crm.db" if request.param == "sqlite" else postgres_url()
    if request.param != "sqlite":
        mp = pytest.MonkeyPatch()
        mp.setenv("CRM_SECRET_KEY", "k" * 8 + "test-only-" + folder.name.ljust(40, "x"))
        request.addfinalizer(mp.undo)
    service = make_service(url, ManualClock(datetime(2026, 11, 2, 1, 0, tzinfo=UTC)), folder / "blobs")
    handle(m.CreatePerson(name="管理员", username="root", password=ADMIN_PASSWORD, roles=["admin"]),
           SYSTEM, service.deps)
    with TestClient(create_app(service, background=False)) as client:
        http = Http(client)
        http.tokens["root"] = http.login("root", ADMIN_PASSWORD)["Authorization"]
        for username, roles in (("alice", ["sales"]), ("keeper", ["warehouse"])):
            assert http.post("/people", "root", json={"name": username, "username": username,
                                                      "password": "password123", "roles": roles}).status_code == 201
        customer = http.post("/customers", "alice", json={"name": "性质测试客户"}).json()["id"]
        product = http.post("/products", "keeper", json={"name": "性质测试产品"}).json()["id"]
        assert http.post(f"/products/{product}/stock-ins", "keeper",
                         json={"warehouse": "总仓", "quantity": "1000", "unit_cost": "1"}).status_code == 201
        contract = http.post("/contracts", "alice", json={
            "customer_id": customer, "number": "PROP-0", "name": "大合同",
            "lines": [{"product_id": product, "quantity": "1000", "unit_price": "9999999.99"}]}).json()["id"]
        yield {"http": http, "service": service, "customer": customer, "product": product, "contract": contract,
               "count": [0]}
    service.close()


def send(w: dict[str, Any], op: tuple[Any, ...]) -> Any:
    http: Http = w["http"]
    kind, *args = op
    w["count"][0] += 1
    n = w["count"][0]
    if kind == "register":
        name, address, region = args
        return http.post("/customers", "alice", json={"name": name or "空", "address": address, "building": region})
    if kind == "change":
        name, address = args
        return http.post(f"/customers/{w['customer']}/changes", "alice",
                         json={"changes": {"address": address, "building": name[:200]}})
    if kind == "contract":
        name, qty, price, signed = args
        return http.post("/contracts", "alice", json={
            "customer_id": w["customer"], "number": f"PROP-{n}", "name": name or "合同", "signed_on": signed,
            "lines": [{"product_id": w["product"], "quantity": qty, "unit_price": price}]})
    if kind == "invoice":
        value, on = args
        return http.post(f"/contracts/{w['contract']}/invoices", "alice", json={"amount": value, "invoiced_on": on})
    if kind == "payment":
        value, on = args
        return http.post("/payments", "alice", json={"customer_id": w["customer"], "amount": value, "received_on": on})
    if kind == "stock_in":
        qty, cost, on = args
        return http.post(f"/products/{w['product']}/stock-ins", "keeper",
                         json={"warehouse": "总仓", "quantity": qty, "unit_cost": cost, "received_on": on})
    if kind == "delivery":
        qty, on = args
        return http.post(f"/contracts/{w['contract']}/deliveries", "keeper", json={
            "delivered_on": on, "lines": [{"product_id": w["product"], "warehouse": "总仓", "quantity": qty}]})
    if kind == "visit":
        at, notes, address = args
        return http.post(f"/customers/{w['customer']}/visits", "alice",
                         json={"visited_at": at, "notes": notes, "address": address})
    kind_of_report, on, summary = args
    return http.post("/work-reports", "alice", json={"kind": kind_of_report, "date": on, "summary": summary})


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(op=request)
def test_every_accepted_request_reaches_every_read_model(world: dict[str, Any], op: tuple[Any, ...]) -> None:
    response = send(world, op)
    assert response.status_code < 500, (op, response.text)
    event(f"{op[0]} {response.status_code}")
    service = world["service"]
    service.projector.catch_up()
    head = service.store.head()
    assert service.projector.positions() == {name: head for name in service.projector.names}, op
    assert {name: rows for name, rows in service.projector.parked().items() if rows} == {}, op
