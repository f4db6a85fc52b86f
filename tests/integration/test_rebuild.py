"""O-1: a rebuild never shows readers an empty or half-built read model, and writes made
during the rebuild are in the new version."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

from api.demo import seed_demo
from commands import messages as m
from commands.actor import Actor
from commands.adapters.clock import ManualClock
from commands.bootstrap import Service
from commands.handlers import handle
from readmodels.tables import customers, people, visits
from tests.conftest import make_service


def counts(service: Service) -> tuple[int, int, int]:
    with service.store.engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(customers)).scalar_one(),
            conn.execute(select(func.count()).select_from(visits)).scalar_one(),
            conn.execute(select(func.count()).select_from(people)).scalar_one(),
        )


def test_readers_never_see_a_partial_model_during_rebuild(service: Service) -> None:
    seed_demo(service)
    expected = counts(service)
    assert expected[0] == 200
    seen: list[tuple[int, int, int]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def read_continuously() -> None:
        while not stop.is_set():
            try:
                seen.append(counts(service))
            except BaseException as error:  # a missing view would show up here
                errors.append(error)

    reader = threading.Thread(target=read_continuously)
    reader.start()
    service.projector.batch = service.projector.rebuild_batch = 25
    try:
        for name in service.projector.names:
            service.projector.rebuild(name)
    finally:
        stop.set()
        reader.join()
    assert errors == []
    assert len(seen) > 20
    assert set(seen) == {expected}


def test_writes_during_a_rebuild_land_in_the_new_version(service: Service) -> None:
    seed_demo(service)
    with service.store.engine.connect() as conn:
        row = conn.execute(select(people.c.id, people.c.department_id).where(people.c.username == "sales1")).one()
    seller = Actor(row.id, "sales1", frozenset({"sales"}), row.department_id)
    written: list[str] = []

    def progress(position: int, head: int) -> None:
        if len(written) < 3:  # write while the new version is half-built
            written.append(handle(
                m.RegisterCustomer(name=f"重建期间客户{len(written)}", to_pool=True), seller, service.deps
            ).ids["id"])

    service.projector.batch = service.projector.rebuild_batch = 50
    service.projector.rebuild("customers", progress=progress)
    with service.store.engine.connect() as conn:
        ids = set(conn.execute(select(customers.c.id)).scalars())
    assert len(written) == 3 and set(written) <= ids and len(ids) == 203
    assert service.projector.positions()["customers"] == service.store.head()


@pytest.mark.postgres
def test_a_rebuild_leaves_planner_statistics_for_its_tables(pg_url: str, clock: ManualClock, tmp_path: Path) -> None:
    # PostgreSQL plans with table statistics; a table filled by a rebuild has none until
    # autovacuum comes round (if it is on), and list queries then scan 100,000 rows.
    service = make_service(pg_url, clock, tmp_path / "blobs")
    try:
        seed_demo(service)
        version = service.projector.rebuild("customers")
        with service.store.engine.connect() as conn:
            analysed = dict(conn.execute(text(
                "SELECT relname, last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname LIKE :pattern"),
                {"pattern": f"rm_%_v{version}"}).all())
        assert analysed and all(analysed.values()), analysed
        assert f"rm_customers_v{version}" in analysed
    finally:
        service.close()


def test_a_store_built_before_a_release_added_columns_and_indexes_starts_and_rebuilds(
        database_url: str, clock: ManualClock, tmp_path: Path) -> None:
    # The live build of the customers projection as an earlier release made it: without the
    # search columns (and so without their indexes) and with another fingerprint. A start of
    # this release must not create an index on a column that build lacks; it rebuilds instead.
    from projections.fingerprints import record_fingerprint
    from projections.physical import physical_name

    service = make_service(database_url, clock, tmp_path / "blobs")
    try:
        seed_demo(service)
        before = counts(service)
        version = service.projector.versions()["customers"]
        physical = physical_name(customers, version)
        with service.store.engine.begin() as conn:
            conn.execute(text("DROP VIEW rm_customers"))
            for index in ("rm_customers_grams_idx", "rm_customers_contact_grams_idx", "rm_customers_pool_page_idx",
                          "rm_customers_pool_new_idx", "rm_customers_owner_cover_idx"):
                conn.execute(text(f'DROP INDEX IF EXISTS "{index}_v{version}"'))
            for column in ("grams", "contact_grams"):
                conn.execute(text(f'ALTER TABLE "{physical}" DROP COLUMN {column}'))
            conn.execute(text(f'CREATE VIEW rm_customers AS SELECT * FROM "{physical}"'))
            record_fingerprint(conn, "customers", version, "an earlier release")
    finally:
        service.close()

    service = make_service(database_url, clock, tmp_path / "blobs")
    try:
        assert service.projector.versions()["customers"] > version
        assert counts(service) == before
        with service.store.engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns(
                physical_name(customers, service.projector.versions()["customers"]))}
            with_grams = conn.execute(select(func.count()).select_from(customers)
                                      .where(customers.c.grams.is_not(None))).scalar_one()
        assert {"grams", "contact_grams"} <= columns
        # Filled by the rebuild where they are used (PostgreSQL); left empty on SQLite.
        assert with_grams == (before[0] if database_url.startswith("postgresql") else 0)
    finally:
        service.close()
