"""The build lease: a build of a new version of a projection (a rebuild, or a check's scratch
build) holds a lease row it renews as it goes, so two builds of one projection never run at
once in any process; a lease whose holder stopped renewing it is taken over."""

from __future__ import annotations

import time

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from projections.batches import ProjectorCore
from readmodels.tables import projection_builds

LEASE_SECONDS = 120.0


class ProjectionBusy(Exception):
    """A build of this projection (a rebuild, or a check's scratch build) runs elsewhere."""

    def __init__(self, name: str) -> None:
        super().__init__(f"a build of {name} is running")
        self.name = name


class BuildLease(ProjectorCore):
    """Taking, renewing and letting go of the build lease of projections."""

    def building(self, name: str) -> bool:
        """Whether a build of the projection holds a live lease (here or elsewhere)."""
        with self.store.engine.connect() as conn:
            beat = conn.execute(select(projection_builds.c.heartbeat)
                                .where(projection_builds.c.name == name)).scalar()
        return beat is not None and time.time() - beat < LEASE_SECONDS

    def _take_lease(self, names: list[str]) -> None:
        taken: list[str] = []
        try:
            for name in names:
                with self.store.engine.begin() as conn:
                    beat = conn.execute(select(projection_builds.c.heartbeat)
                                        .where(projection_builds.c.name == name).with_for_update()).scalar()
                    now = time.time()
                    if beat is None:
                        conn.execute(projection_builds.insert().values(name=name, owner=self.owner, heartbeat=now))
                    elif now - beat < LEASE_SECONDS:
                        raise ProjectionBusy(name)
                    else:  # a build that stopped without letting go
                        moved = conn.execute(update(projection_builds).where(
                            projection_builds.c.name == name, projection_builds.c.heartbeat == beat)
                            .values(owner=self.owner, heartbeat=now))
                        if moved.rowcount != 1:
                            raise ProjectionBusy(name)
                taken.append(name)
        except (ProjectionBusy, IntegrityError):
            self._release_lease(taken)
            raise ProjectionBusy(names[len(taken)]) from None

    def _renew(self, names: list[str]) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(update(projection_builds).where(
                projection_builds.c.name.in_(names), projection_builds.c.owner == self.owner)
                .values(heartbeat=time.time()))

    def _release_lease(self, names: list[str]) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(delete(projection_builds).where(
                projection_builds.c.name.in_(names), projection_builds.c.owner == self.owner))
