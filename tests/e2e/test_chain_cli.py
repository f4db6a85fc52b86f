"""`crm audit verify` and `crm check` over the tamper-evident log, on a store the API wrote:
a sound store verifies (exit 0, its heads and last seals printed); an event edited in the
database, an operation-log entry edited, a tail cut or a store verified under another key
each end in one refusal naming the position, exit 1; `crm check` fails on a broken chain."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text, update
from typer.testing import CliRunner

from api.cli import app as cli
from commands.adapters.infra import operation_log
from commands.bootstrap import Service
from tests.conftest import Http
from tests.e2e.helpers import org_with_two_salespeople


@pytest.fixture
def store(http: Http, service: Service, monkeypatch: pytest.MonkeyPatch) -> Service:
    """A store the API wrote to (events and operation-log entries), chained and sealed; the
    command line pointed at it with the service's own key."""
    org_with_two_salespeople(http)
    for n in range(3):
        assert http.post("/departments", "root", json={"name": f"链部门{n}"}).status_code == 201
    assert http.post("/departments", "root", json={"name": ""}).status_code == 422  # a refusal, logged
    assert service.projector.chain is not None
    service.projector.chain.seal_seconds = 0
    service.projector.catch_up()
    monkeypatch.setenv("CRM_DATABASE_URL", service.config.database_url)
    monkeypatch.setenv("CRM_SECRET_KEY", service.config.secret_key)
    monkeypatch.setenv("CRM_BLOB_DIR", service.config.blob_dir)
    monkeypatch.setenv("CRM_LANG", "en")
    return service


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), env={"COLUMNS": "250"})


def refusal(result: Any, code: str) -> str:
    lines = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"error: {code}: "), result.output
    return str(lines[0])


def positions(service: Service) -> list[int]:
    with service.store.engine.connect() as conn:
        return list(conn.execute(text("SELECT id FROM crm_events ORDER BY id")).scalars())


def test_a_sound_store_verifies_and_prints_heads_and_seals(store: Service) -> None:
    result = run("audit", "verify")
    assert result.exit_code == 0, result.output
    head = store.store.head()
    assert f"the event store: head at position {head}, {len(positions(store))} links" in result.output
    assert f"at position {head}," in result.output  # its last seal covers the head
    assert "the operation log: head at position" in result.output
    assert "no seal yet" not in result.output and "error:" not in result.output


def test_an_event_edited_in_the_database_is_named(store: Service) -> None:
    victim = positions(store)[len(positions(store)) // 2]
    with store.store.engine.begin() as conn:
        state = conn.execute(text("SELECT state FROM crm_events WHERE id = :id"), {"id": victim}).scalar_one()
        conn.execute(text("UPDATE crm_events SET state = :state WHERE id = :id"),
                     {"state": bytes(state).replace(b'"2026-', b'"2025-', 1), "id": victim})
    result = run("audit", "verify")
    assert result.exit_code == 1
    assert f"position {victim} was edited" in refusal(result, "edited")
    checked = run("check")
    assert checked.exit_code == 1
    assert f"position {victim} was edited" in checked.output


def test_the_first_of_several_deletions_is_named(store: Service) -> None:
    stored = positions(store)
    with store.store.engine.begin() as conn:
        conn.execute(text("DELETE FROM crm_events WHERE id = :id"), {"id": stored[3]})
    assert f"position {stored[3]} was deleted" in refusal(run("audit", "verify"), "deleted")
    with store.store.engine.begin() as conn:
        conn.execute(text("DELETE FROM crm_events WHERE id < :id"), {"id": stored[3]})
        conn.execute(text("DELETE FROM crm_events WHERE id > :id"), {"id": stored[-3]})
    # The first position that no longer matches is the first one deleted.
    line = refusal(run("audit", "verify"), "deleted")
    assert f"position {stored[0]} was deleted" in line


def test_a_cut_tail_is_found_by_the_seal(store: Service) -> None:
    stored = positions(store)
    with store.store.engine.begin() as conn:
        conn.execute(text("DELETE FROM crm_events WHERE id >= :id"), {"id": stored[-2]})
    line = refusal(run("audit", "verify"), "tail_deleted")
    assert f"the store ends at position {stored[-3]}, before position {stored[-1]}" in line


def test_an_edited_oplog_entry_is_named(store: Service) -> None:
    with store.store.engine.connect() as conn:
        refused = conn.execute(text("SELECT id FROM crm_operation_log WHERE status = 422")).scalar()
    assert refused is not None
    with store.store.engine.begin() as conn:
        conn.execute(update(operation_log).where(operation_log.c.id == refused)
                     .values(status=201, outcome="accepted"))
    result = run("audit", "verify")
    assert result.exit_code == 1
    line = refusal(result, "edited")
    assert f"the operation log: position {refused} was edited" in line
    assert "the event store: head at position" in result.output  # the events' chain is sound


def test_another_key_cannot_verify_the_seals(store: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_SECRET_KEY", "another-key-" + "x" * 40)
    result = run("audit", "verify")
    assert result.exit_code == 1
    assert "made under another key" in refusal(result, "seal_key_differs")


def test_verify_writes_nothing(store: Service) -> None:
    with store.store.engine.connect() as conn:
        before = conn.execute(text("SELECT COUNT(*) FROM crm_chain_seals")).scalar()
        entries = conn.execute(text("SELECT COUNT(*) FROM crm_operation_log")).scalar()
    assert run("audit", "verify").exit_code == 0
    with store.store.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM crm_chain_seals")).scalar() == before
        assert conn.execute(text("SELECT COUNT(*) FROM crm_operation_log")).scalar() == entries
