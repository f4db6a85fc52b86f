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

    assert {s["rebuild"] for s in status} == {None}
    assert_error(http.get("/admin/projections/customers/rebuild", "root"), 404, "not_found")
    started = http.post("/admin/projections/customers/rebuild", "root")
    assert started.status_code == 202
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rebuild = http.get("/admin/projections/customers/rebuild", "root")
        if rebuild.status_code == 200 and rebuild.json()["phase"] == "done":
            break
        time.sleep(0.05)
    versions = {s["name"]: s["version"] for s in http.get("/admin/projections", "root").json()}
    assert versions == {name: 2 if name == "customers" else 1 for name in service.projector.names}
    done = rebuild.json()
    assert (done["version"], done["phase"], done["percent"], done["running"], done["error"]) == (2, "done", 100.0, False, None)
    assert done["position"] == done["head"] == head and done["started_at"] <= done["finished_at"]
    listed_status = {s["name"]: s["rebuild"] for s in http.get("/admin/projections", "root").json()}
    assert listed_status["customers"] == done and listed_status["organisation"] is None
    listed = http.get("/customers", "root", params={"scope": "pool"}).json()
    assert [r["name"] for r in listed["items"]] == ["运维客户"]
    assert_error(http.post("/admin/projections/nothing/rebuild", "root"), 404)
    assert_error(http.get("/admin/projections/nothing/rebuild", "root"), 404, "not_found")


def test_a_rebuild_tells_its_progress_as_it_goes_and_how_it_failed(
        http: Http, service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(5):
        http.post("/customers", "root", json={"name": f"进度客户{i}", "to_pool": True})
    monkeypatch.setattr(service.projector, "rebuild_batch", 2)
    monkeypatch.setattr(type(service.projector), "_build", type(service.projector)._build_in_batches)
    seen: list[dict] = []

    def watch(position: int, head: int) -> None:
        seen.append(http.get("/admin/projections/customers/rebuild", "root").json() | {"told": position})

    monkeypatch.setattr("projections.rebuilds.RebuildRecord.EVERY", 0.0)
    service.projector.rebuild("customers", progress=watch)
    reading = [s for s in seen if s["phase"] == "reading"]
    assert len(reading) >= 2 and all(s["running"] and s["version"] == 2 for s in reading)
    assert [s["position"] for s in reading] == [s["told"] for s in reading]
    assert [s["percent"] for s in reading] == sorted(s["percent"] for s in reading) and reading[0]["percent"] < 100
    assert http.get("/admin/projections/customers/rebuild", "root").json()["phase"] == "done"

    # a build that fails says so, and why; the live version stays
    def broken(*_: object) -> None:
        raise RuntimeError("索引建不起来")

    monkeypatch.setattr(type(service.projector), "_create_indexes", broken)
    with pytest.raises(RuntimeError):
        service.projector.rebuild("customers")
    failed = http.get("/admin/projections/customers/rebuild", "root").json()
    assert (failed["phase"], failed["version"], failed["running"]) == ("failed", 3, False)
    assert failed["error"] == "RuntimeError: 索引建不起来" and failed["finished_at"] is not None
    assert {s["name"]: s["version"] for s in http.get("/admin/projections", "root").json()}["customers"] == 2


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
