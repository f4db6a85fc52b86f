"""The store's recorders against the event-sourcing library's own recorder cases: the
prepared reads and the one-round-trip append must answer every call the library's recorder
answers, with the same events, positions and errors, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.tests.persistence import AggregateRecorderTestCase, ApplicationRecorderTestCase

from commands.adapters.store import SnapshotRecorder, StoreDatastore, StoreRecorder


@pytest.fixture
def datastore(database_url: str) -> Iterator[StoreDatastore]:
    store = StoreDatastore(database_url, pool_size=4, max_overflow=4)
    try:
        yield store
    finally:
        if store.engine is not None:
            store.engine.dispose()


def _table() -> str:
    # Each case its own table: the PostgreSQL database is shared by the run.
    return f"recorder_case_{uuid4().hex[:12]}"


def _run(case: Any) -> None:
    # unittest's debug(): setUp, the test, tearDown, and any failure raised as it is.
    case.debug()


def test_the_librarys_aggregate_recorder_case(datastore: StoreDatastore) -> None:
    table = _table()

    class Case(AggregateRecorderTestCase):
        def create_recorder(self) -> SnapshotRecorder:
            recorder = SnapshotRecorder(datastore, events_table_name=table)
            recorder.create_table()
            return recorder

    _run(Case("test_insert_and_select"))


def test_the_librarys_application_recorder_case(datastore: StoreDatastore) -> None:
    table = _table()

    class Case(ApplicationRecorderTestCase[StoreRecorder]):
        def create_recorder(self) -> StoreRecorder:
            recorder = StoreRecorder(datastore, events_table_name=table)
            recorder.create_table()
            return recorder

    _run(Case("test_insert_select"))


def test_prepared_reads_combine_every_filter(datastore: StoreDatastore) -> None:
    recorder = StoreRecorder(datastore, events_table_name=_table())
    recorder.create_table()
    who, other = uuid4(), uuid4()
    recorder.insert_events([StoredEvent(who, v, "topic", f"state-{v}".encode()) for v in range(1, 8)]
                           + [StoredEvent(other, 1, "topic", b"other")])
    versions = lambda **kw: [e.originator_version for e in recorder.select_events(who, **kw)]  # noqa: E731
    assert versions() == [1, 2, 3, 4, 5, 6, 7]
    assert versions(gt=2, lte=5) == [3, 4, 5]
    assert versions(desc=True, limit=2) == [7, 6]
    assert versions(lte=4, desc=True, limit=1) == [4]
    assert versions(gt=6, limit=5) == [7]
    assert versions(gt=7) == []
    # The same shape again reuses its statement with new values, not the first call's.
    assert versions(gt=3, lte=4) == [4]
    assert recorder.select_events(who, lte=1)[0].state == b"state-1"
    assert isinstance(recorder.select_events(who, lte=1)[0].state, bytes)
    # A version already taken is still the library's integrity error, and nothing of the batch stays.
    with pytest.raises(IntegrityError):
        recorder.insert_events([StoredEvent(other, 2, "topic", b"new"), StoredEvent(who, 3, "topic", b"dup")])
    assert [e.originator_version for e in recorder.select_events(other)] == [1]


def test_a_snapshot_recorder_on_a_file(tmp_path: Path) -> None:
    # The snapshots' table in the embedded mode's own file, read back newest first.
    store = StoreDatastore(f"sqlite:///{tmp_path}/snapshots.db", pool_size=2, max_overflow=2)
    recorder = SnapshotRecorder(store, events_table_name="snapshots", for_snapshots=True)
    recorder.create_table()
    who = uuid4()
    recorder.insert_events([StoredEvent(who, 3, "snap", b"three")])
    recorder.insert_events([StoredEvent(who, 9, "snap", b"nine")])
    newest = recorder.select_events(who, desc=True, limit=1)
    assert [(e.originator_version, e.state) for e in newest] == [(9, b"nine")]
    assert [e.originator_version for e in recorder.select_events(who, lte=8, desc=True, limit=1)] == [3]
    assert store.engine is not None
    store.engine.dispose()
