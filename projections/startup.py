"""Start-up: the state tables, each projection's first version, tables and indexes a release
added, the readers' views; and the rebuild of every projection whose live build is out of
date (a table missing, columns that differ, or another fingerprint: new logic)."""

from __future__ import annotations

import logging
import time

from sqlalchemy import inspect

from projections.definition import Projection
from projections.fingerprints import fingerprint_metadata, record_fingerprint, stored_fingerprint
from projections.lease import ProjectionBusy
from projections.physical import physical_name, point_views
from projections.rebuilds import Rebuilding
from readmodels.tables import projection_state, state_metadata

log = logging.getLogger("crm.projections")


class SettingUp(Rebuilding):
    """The schema at start, and the rebuild of out-of-date builds."""

    def setup(self) -> None:
        state_metadata.create_all(self.store.engine)
        fingerprint_metadata.create_all(self.store.engine)
        changed = []
        for projection in self.projections.values():
            with self.store.engine.begin() as conn:
                version = self._live_version(conn, projection.name)
                new = version is None
                if version is None:
                    version = 1
                    conn.execute(projection_state.insert().values(
                        name=projection.name, version=version, position=0, live=True))
                    record_fingerprint(conn, projection.name, version, projection.fingerprint)
                elif stored_fingerprint(conn, projection.name, version) is None:
                    # Built before fingerprints were kept: by the handlers as they were then,
                    # which is version 1 of every projection. Only a later version rebuilds it.
                    record_fingerprint(conn, projection.name, version, projection.fingerprint_at(1))
                existing = set(inspect(conn).get_table_names())
                missing = [t for t in projection.tables_of(version).values() if t.name not in existing]
                for table in missing:
                    table.create(conn)
                inspector = inspect(conn)
                for table in projection.tables_of(version).values():
                    stored = {c["name"] for c in inspector.get_columns(table.name)}
                    for index in table.indexes:  # indexes a release added
                        # One over a column the live build lacks comes with the rebuild below.
                        if {c.name for c in index.columns} <= stored:
                            index.create(conn, checkfirst=True)
                point_views(conn, projection.tables, version, replace=bool(missing) and not new)
            # A table the live version lacked (added in a release), columns that differ, or
            # handlers of another version: build it again from the events.
            if (missing and not new) or self._out_of_date(projection, version):
                changed.append(projection.name)
        while changed:
            log.warning("read models %s are out of date (tables, columns or version changed); rebuilding them",
                        ", ".join(changed))
            try:
                self.rebuild_all(changed)
                return
            except ProjectionBusy:
                # Another process (an API or a worker starting too) is building them.
                time.sleep(2)
                changed = [p for p in changed if self._out_of_date(self.projections[p], self.versions()[p])]

    def _out_of_date(self, projection: Projection, version: int) -> bool:
        """Whether the build `version` differs from what this code would build."""
        with self.store.engine.connect() as conn:
            if stored_fingerprint(conn, projection.name, version) != projection.fingerprint:
                return True
        return self._schema_changed(projection, version)

    def _schema_changed(self, projection: Projection, version: int) -> bool:
        """Whether the version's tables in the database have other columns than the code's."""
        inspector = inspect(self.store.engine)
        for table in projection.tables:
            stored = {c["name"] for c in inspector.get_columns(physical_name(table, version))}
            if stored != {c.name for c in table.columns}:
                return True
        return False
