"""N-1 by fuzzing: schemathesis generates requests for every operation of /openapi.json and
sends each as an admin and as a salesperson; no response may be a server error, and every
response must have a documented status code, content type and schema. The examples are
derandomised, so a run is repeatable; the count per operation keeps the run above 1,000
cases and bounded in time."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from argon2 import PasswordHasher
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.deps import issue_token
from api.main import create_app
from commands import messages as m
from commands.actor import Actor
from commands.adapters.clock import ManualClock
from commands.bootstrap import bootstrap
from commands.config import Config
from commands.handlers import handle
from tests.conftest import SYSTEM

EXAMPLES_PER_OPERATION = 8
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CALLS: list[int] = []


# The schema is read from the app when the module is collected (schemathesis makes one test
# per operation from it); the store behind the app is a throw-away SQLite file.
FOLDER = Path(tempfile.mkdtemp(prefix="crm-fuzz-"))
atexit.register(shutil.rmtree, FOLDER, True)
SERVICE = bootstrap(Config(database_url=f"sqlite:///{FOLDER}/crm.db", blob_dir=str(FOLDER / "blobs")),
                    clock=ManualClock(datetime(2026, 11, 2, 1, 0, tzinfo=UTC)))
APP = create_app(SERVICE, background=False)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[dict[str, Any]]:
    service = SERVICE
    service.deps.credentials.hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    deps = service.deps
    dept = handle(m.CreateDepartment(name="模糊测试部"), SYSTEM, deps).ids["id"]
    ids = {}
    for username, roles in (("admin", ["admin"]), ("boss", ["manager"]), ("sales", ["sales"]),
                            ("keeper", ["warehouse"])):
        ids[username] = handle(m.CreatePerson(name=username, username=username, password="password123",
                                              roles=roles, department_id=dept), SYSTEM, deps).ids["id"]
    seller = Actor(ids["sales"], "sales", frozenset({"sales"}), dept)
    owned = handle(m.RegisterCustomer(name="模糊客户", region="华东"), seller, deps).ids["id"]
    handle(m.RegisterCustomer(name="公海客户", to_pool=True), seller, deps)
    keeper = Actor(ids["keeper"], "keeper", frozenset({"warehouse"}), dept)
    product = handle(m.CreateProduct(name="服务器", spec="R740", unit="台"), keeper, deps).ids["id"]
    handle(m.StockIn(product_id=product, warehouse="总仓", quantity=Decimal("10"), cost=Decimal("100.00")),
           keeper, deps)
    handle(m.SignContract(customer_id=owned, number="HT-FUZZ", name="合同",
                          lines=[{"product_id": product, "quantity": "2", "unit_price": "150.00"}]),
           seller, deps)
    yield {"ids": ids}
    service.close()
    # At least 1,000 generated requests per run (N-1); each case is sent twice.
    assert len(CALLS) >= 1000, f"only {len(CALLS)} requests were generated"
    print(f"fuzzing sent {len(CALLS)} requests")


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_every_operation_as_admin_and_salesperson(case: Any, fuzzed: dict[str, Any]) -> None:
    for who in ("admin", "sales"):
        # A fresh token for every call: a fuzzed sign-out or password change ends the one it came with.
        token = issue_token(SERVICE, fuzzed["ids"][who])[0]
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
        CALLS.append(1)
