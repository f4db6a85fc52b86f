"""O-1, O-3 over HTTP and the CLI: projection status, metrics, rebuilds."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app as cli
from commands.bootstrap import Service
from tests.conftest import Http, assert_error


def test_status_metrics_and_rebuild_over_http(http: Http, service: Service) -> None:
    http.post("/customers", "root", json={"name": "运维客户", "to_pool": True})
    status = http.get("/admin/projections", "root").json()
    head = service.store.head()
    assert {(s["name"], s["version"], s["position"], s["lag"]) for s in status} == {
        (name, 1, head, 0) for name in service.projector.names}
    metrics = http.client.get("/metrics").text
    assert f"crm_event_store_head {head}" in metrics
    assert 'crm_projection_lag{projection="customers"} 0' in metrics
    assert re.search(r'crm_projection_version\{projection="organisation"\} 1', metrics)

    started = http.post("/admin/projections/customers/rebuild", "root")
    assert started.status_code == 202
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        versions = {s["name"]: s["version"] for s in http.get("/admin/projections", "root").json()}
        if versions["customers"] == 2:
            break
        time.sleep(0.05)
    assert versions == {name: 2 if name == "customers" else 1 for name in service.projector.names}
    listed = http.get("/customers", "root", params={"scope": "pool"}).json()
    assert [r["name"] for r in listed["items"]] == ["运维客户"]
    assert_error(http.post("/admin/projections/nothing/rebuild", "root"), 404)


def test_cli_status_and_rebuild(service: Service, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CRM_DATABASE_URL", service.config.database_url)
    runner = CliRunner()
    shown = runner.invoke(cli, ["projections", "status"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    head = service.store.head()
    assert re.search(rf"customers\s*│\s*1\s*│\s*{head}\s*│\s*{head}\s*│\s*0", shown.output), shown.output
    rebuilt = runner.invoke(cli, ["projections", "rebuild", "--all"], env={"COLUMNS": "200"})
    assert rebuilt.exit_code == 0, rebuilt.output
    assert set(service.projector.versions().values()) == {2}
    assert runner.invoke(cli, ["projections", "rebuild", "nothing"]).exit_code == 2
