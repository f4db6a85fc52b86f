"""`crm check` passes a sound store and names what is wrong in a damaged one;
`crm backup` and `crm restore` bring back every customer and photo of the embedded store."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from eventsourcing.persistence import StoredEvent
from PIL import Image
from sqlalchemy import select, text
from typer.testing import CliRunner

from aggregates.customer import Customer
from api.cli import app as cli
from commands import messages as m
from commands.actor import Actor
from commands.adapters.clock import ManualClock
from commands.base import parse_uuid
from commands.bootstrap import Service
from commands.handlers import handle
from readmodels.tables import customers
from tests.conftest import SYSTEM, make_service


def populate(service: Service) -> list[str]:
    deps = service.deps
    person = handle(m.CreatePerson(name="甲", username="jia", password="password123", roles=["sales"]),
                    SYSTEM, deps).ids["id"]
    seller = Actor(person, "甲", frozenset({"sales"}), None)
    made = [handle(m.RegisterCustomer(name=f"备份客户{n}", to_pool=n % 2 == 0), seller, deps).ids["id"]
            for n in range(12)]
    photo = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(photo, "JPEG")
    handle(m.RecordVisit(customer_id=made[1], notes="带照片", photo=photo.getvalue()), seller, deps)
    return made


@pytest.fixture
def store(tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> Service:
    service = make_service(f"sqlite:///{tmp_path}/data/crm.db", clock, tmp_path / "data" / "blobs")
    monkeypatch.setenv("CRM_DATABASE_URL", service.config.database_url)
    monkeypatch.setenv("CRM_BLOB_DIR", service.config.blob_dir)
    monkeypatch.setenv("CRM_LANG", "en")  # the checks below read the command line's English
    # The command line seals and verifies with the service's own key, as in a deployment.
    monkeypatch.setenv("CRM_SECRET_KEY", service.config.secret_key)
    return service


def test_check_passes_a_sound_store_and_finds_damage(store: Service) -> None:
    made = populate(store)
    runner = CliRunner()
    sound = runner.invoke(cli, ["check"], env={"COLUMNS": "200"})
    assert sound.exit_code == 0, sound.output
    assert "equals a rebuild" in sound.output and "event store" in sound.output

    # A read model row changed behind the projections' back.
    version = store.projector.versions()["customers"]
    with store.store.engine.begin() as conn:
        conn.execute(text(f"UPDATE rm_customers_v{version} SET name = '篡改' WHERE id = :id"), {"id": made[0]})
    damaged = runner.invoke(cli, ["check"], env={"COLUMNS": "200"})
    assert damaged.exit_code == 1
    assert "rm_customers: 12 rows live, 12 rebuilt; they differ" in damaged.output

    # An event whose version leaves a hole.
    store.projector.rebuild("customers")
    [first] = store.store.recorder.select_events(parse_uuid(made[2], "id"), limit=1)
    hole = StoredEvent(originator_id=first.originator_id, originator_version=5, topic=first.topic, state=first.state)
    store.store.recorder.insert_events([hole])
    broken = runner.invoke(cli, ["check"], env={"COLUMNS": "300"})
    assert broken.exit_code == 1
    assert f"aggregate {made[2]}: version 5 where 2 was due" in broken.output
    store.close()


def test_backup_and_restore_bring_back_every_customer(store: Service, tmp_path: Path) -> None:
    made = populate(store)
    store.projector.catch_up()
    runner = CliRunner()
    saved = runner.invoke(cli, ["backup", str(tmp_path / "backup")])
    assert saved.exit_code == 0, saved.output
    assert runner.invoke(cli, ["backup", str(tmp_path / "backup")]).exit_code == 2  # never over a backup
    store.close()

    shutil.rmtree(tmp_path / "data")
    back = runner.invoke(cli, ["restore", str(tmp_path / "backup")])
    assert back.exit_code == 0, back.output
    again = make_service(f"sqlite:///{tmp_path}/data/crm.db", ManualClock(store.deps.clock.now()),
                         tmp_path / "data" / "blobs")
    try:
        with again.store.engine.connect() as conn:
            listed = set(conn.execute(select(customers.c.id)).scalars())
        assert listed == set(made)
        assert {str(c.id) for c in (again.store.find(parse_uuid(i, "id"), Customer) for i in made) if c} == \
            set(made)
        [photo] = [p for p in (again.deps.blobs.root).rglob("*.jpg")]
        assert again.deps.blobs.get(photo.stem) is not None
        assert runner.invoke(cli, ["check"]).exit_code == 0
    finally:
        again.close()
    assert runner.invoke(cli, ["restore", str(tmp_path / "nothing")]).exit_code == 2


def test_backup_refuses_postgresql(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CRM_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/whatever")
    monkeypatch.setenv("CRM_LANG", "en")
    refused = CliRunner().invoke(cli, ["backup", str(tmp_path / "b")], env={"COLUMNS": "200"})
    assert refused.exit_code == 2 and "pg_dump" in refused.output


def test_backup_of_a_missing_store_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CRM_DATABASE_URL", f"sqlite:///{tmp_path}/none/crm.db")
    monkeypatch.setenv("CRM_LANG", "en")
    refused = CliRunner().invoke(cli, ["backup", str(tmp_path / "b")], env={"COLUMNS": "200"})
    assert refused.exit_code == 2 and "does not exist" in refused.output
    assert not (tmp_path / "none" / "crm.db").exists()
