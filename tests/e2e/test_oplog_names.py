"""Names a person can read: the operation log names each operation by its command
(`customer.claim`), with the method and route beside it; entries written before names read
with the name their route has; the auditor's command line prints people by name and id."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from api.cli import app as cli
from api.oplog_names import COMMAND_NAMES, ROUTE_NAMES
from commands.adapters.clock import ManualClock
from commands.adapters.infra import operation_log
from commands.bootstrap import Service
from commands.handlers import COMMAND_HANDLERS
from tests.conftest import Http, assert_error, make_service
from tests.e2e.helpers import ok, org_with_two_salespeople

NAME = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")
WRITES = ("post", "put", "patch", "delete")


def log(http: Http, **params: Any) -> list[dict[str, Any]]:
    return list(ok(http.get("/operation-log", "root", params={"page_size": 500, **params}), 200)["items"])


def test_every_command_has_a_name() -> None:
    assert set(COMMAND_HANDLERS) <= set(COMMAND_NAMES)
    names = [*COMMAND_NAMES.values(), *ROUTE_NAMES.values()]
    assert all(NAME.match(n) for n in names), [n for n in names if not NAME.match(n)]
    assert len(set(COMMAND_NAMES.values())) == len(COMMAND_NAMES)


def test_operations_are_named_by_their_command(http: Http) -> None:
    ids = org_with_two_salespeople(http)
    made = ok(http.post("/customers", "alice", json={"name": "命名客户", "region": "华东"}))
    pool = ok(http.post("/customers", "root", json={"name": "公海客户", "to_pool": True}))
    ok(http.post(f"/customers/{pool['id']}/claim", "bob"), 200)
    ok(http.post(f"/customers/{made['id']}/changes", "root", json={"changes": {"region": "华南"}}), 200)
    ok(http.post("/contracts", "alice", json={"customer_id": made["id"], "number": "HT-命名", "name": "合同",
                                              "amount": "100.00"}))
    ok(http.post("/payments", "alice", json={"customer_id": made["id"], "amount": "10.00"}))
    ok(http.post(f"/customers/{made['id']}/visits", "alice", json={}))
    assert_error(http.delete(f"/customers/{made['id']}", "alice"), 403)
    refused = http.client.post("/api/v1/auth/token", data={"username": "alice", "password": "nope-nope"})
    assert refused.status_code == 401
    # Refused before any route ran: too large. The route it was meant for still names it.
    assert_error(http.post(f"/customers/{made['id']}/visits", "alice",
                           json={"notes": "x" * (2 * 1024 * 1024)}), 413)
    assert http.get("/reports/Q-3", "root", params={"format": "csv"}).status_code == 200
    assert_error(http.post("/no-such-thing", "root", json={}), 404)

    entries = log(http)
    named = {(e["operation"], e["route"], e["status"]) for e in entries}
    for expected in (
        ("customer.register", "POST /api/v1/customers", 201),
        ("customer.claim", "POST /api/v1/customers/{customer_id}/claim", 200),
        ("customer.change", "POST /api/v1/customers/{customer_id}/changes", 200),
        ("contract.create", "POST /api/v1/contracts", 201),
        ("payment.record", "POST /api/v1/payments", 201),
        ("visit.record", "POST /api/v1/customers/{customer_id}/visits", 201),
        ("visit.record", "POST /api/v1/customers/{customer_id}/visits", 413),
        ("customer.delete", "DELETE /api/v1/customers/{customer_id}", 403),
        ("session.sign_in", "POST /api/v1/auth/token", 401),
        ("person.create", "POST /api/v1/people", 201),
        ("department.create", "POST /api/v1/departments", 201),
        ("report.export", "GET /api/v1/reports/{report_id}", 200),
        ("unknown", "POST /api/v1/no-such-thing", 404),
    ):
        assert expected in named, expected
    assert not [e for e in entries if "/" in e["operation"]]
    # The path is still the one asked for, the method is still there.
    [claim] = [e for e in entries if e["operation"] == "customer.claim"]
    assert (claim["path"], claim["method"], claim["actor_id"]) == (f"/api/v1/customers/{pool['id']}/claim", "POST",
                                                                  ids["bob"])
    # Searching by name, by part of a name and by route.
    assert {e["operation"] for e in log(http, operation="customer.claim")} == {"customer.claim"}
    assert {e["operation"] for e in log(http, operation="PAYMENT")} == {"payment.record"}
    assert {e["operation"] for e in log(http, operation="/changes")} == {"customer.change"}
    # The export holds the name and the route.
    exported = http.get("/operation-log", "root", params={"format": "csv", "operation": "payment"})
    lines = exported.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and "payment.record" in lines[1] and "POST /api/v1/payments" in lines[1]


def test_every_write_route_has_a_readable_name(http: Http) -> None:
    """Every write of the OpenAPI document, sent without a token: each refusal is logged
    under a name of the tables, never a route's function or a path."""
    document = http.client.get("/openapi.json").json()
    routes = set()
    for path, operations in document["paths"].items():
        for method in operations:
            if method not in WRITES:
                continue
            concrete = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
            http.client.request(method.upper(), concrete)
            routes.add(f"{method.upper()} {path}")
    assert len(routes) > 40
    given = set(COMMAND_NAMES.values()) | set(ROUTE_NAMES.values())
    by_route = {e["route"]: e["operation"] for e in log(http) if e["route"] in routes}
    assert set(by_route) == routes, routes - set(by_route)
    unnamed = {route: name for route, name in by_route.items() if name not in given}
    assert not unnamed, unnamed
    assert by_route["POST /api/v1/customers/{customer_id}/recall"] == "customer.recall"
    assert by_route["POST /api/v1/customers/{customer_id}/release"] == "customer.release"
    assert by_route["PUT /api/v1/settings"] == "settings.change"


def test_entries_written_before_names_still_read(database_url: str, clock: ManualClock, tmp_path: Any) -> None:
    """A database from before: the log without its `route` column, holding method and route
    (or a path) in `operation`. It gains the column at start, and its rows read with names."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from commands import messages as m
    from commands.handlers import handle
    from tests.conftest import ADMIN_PASSWORD, SYSTEM

    first = make_service(database_url, clock, tmp_path / "blobs")
    handle(m.CreatePerson(name="管理员", username="root", password=ADMIN_PASSWORD, roles=["admin"]),
           SYSTEM, first.deps)
    old = [("POST /api/v1/customers/{customer_id}/claim", "/api/v1/customers/abc/claim", 200),
           ("POST /api/v1/customers/3f0c0d5e-0000-4000-8000-000000000001/visits",
            "/api/v1/customers/3f0c0d5e-0000-4000-8000-000000000001/visits", 413),
           ("POST /api/v1/gone", "/api/v1/gone", 404)]
    with first.store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE crm_operation_log DROP COLUMN route"))
        for n, (operation, path, status) in enumerate(old):
            conn.execute(text(
                "INSERT INTO crm_operation_log (at, actor_id, method, operation, path, status, outcome, duration_ms) "
                "VALUES (:at, NULL, 'POST', :operation, :path, :status, :outcome, 1)"),
                {"at": datetime(2026, 1, 1, 0, n, tzinfo=UTC), "operation": operation, "path": path,
                 "status": status, "outcome": "accepted" if status < 400 else "refused"})
    first.close()

    service: Service = make_service(database_url, clock, tmp_path / "blobs")
    try:
        with service.store.engine.connect() as conn:
            stored = conn.execute(operation_log.select().order_by(operation_log.c.id)).mappings().all()
        # The rows stay as they were written.
        assert [(r["operation"], r["route"]) for r in stored] == [(o, None) for o, _, _ in old]
        with TestClient(create_app(service, background=False)) as client:
            http = Http(client)
            http.tokens["root"] = http.login("root", ADMIN_PASSWORD)["Authorization"]
            shown = {e["path"]: (e["operation"], e["route"]) for e in log(http)}
            assert shown["/api/v1/customers/abc/claim"] == ("customer.claim",
                                                            "POST /api/v1/customers/{customer_id}/claim")
            assert shown["/api/v1/customers/3f0c0d5e-0000-4000-8000-000000000001/visits"][0] == "visit.record"
            assert shown["/api/v1/gone"] == ("unknown", "POST /api/v1/gone")
            # Found by their names too.
            assert [e["path"] for e in log(http, operation="customer.claim")] == ["/api/v1/customers/abc/claim"]
            # New entries beside them have both.
            ok(http.post("/departments", "root", json={"name": "新部门"}))
            [made] = log(http, operation="department.create")
            assert made["route"] == "POST /api/v1/departments"
    finally:
        service.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_audit_command_line_names_people(service: Service, http: Http, clock: ManualClock,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    ids = org_with_two_salespeople(http)
    ok(http.patch(f"/people/{ids['bob']}", "root", json={"name": "王芳[bold]"}), 200)
    made = ok(http.post("/customers", "alice", json={"name": "审计命名客户"}))
    ok(http.post(f"/customers/{made['id']}/share", "root", json={"add": [ids["boss"]]}), 200)
    ok(http.post(f"/customers/{made['id']}/transfer", "root", json={"to_person_id": ids["bob"], "reason": "调整"}),
       200)
    monkeypatch.setenv("CRM_DATABASE_URL", service.config.database_url)
    runner = CliRunner()
    shown = runner.invoke(cli, ["audit", "customer", made["number"]], env={"COLUMNS": "400"})
    assert shown.exit_code == 0, shown.output
    alice, bob, boss = (f"{name} ({ids[key]})" for key, name in (("alice", "Alice"), ("bob", "王芳[bold]"),
                                                                   ("boss", "Boss")))
    assert f"shared_with: — → {boss}" in shown.output, shown.output
    assert f"owner_id: {alice} → {bob}" in shown.output, shown.output
    [registered] = [line for line in shown.output.splitlines() if "Registered" in line]
    assert alice in registered  # the actor, by name and id
    then = runner.invoke(cli, ["audit", "customer", made["number"], "--as-of", clock.now().isoformat()],
                         env={"COLUMNS": "400"})
    assert then.exit_code == 0, then.output
    assert re.search(rf"owner_id\s*│\s*{re.escape(bob)}", then.output), then.output
    assert re.search(rf"shared_with\s*│\s*{re.escape(boss)}", then.output), then.output
    assert re.search(rf"registered_by\s*│\s*{re.escape(alice)}", then.output), then.output
