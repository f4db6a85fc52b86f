"""The write side's ports that only the read models answer cheaply, over the read-model
tables: candidates for a pool sweep, a person's figures for a work report, and look-alike
names registered before skeletons were reserved. Wired by `commands.bootstrap`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from commands import ports
from readmodels.customers import sweep_candidates
from readmodels.tables import customers
from readmodels.targets import person_figures


class ReadModelPoolCandidates(ports.PoolCandidates):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def due(self, now: datetime, default_follow_days: int, warning_days: int) -> list[str]:
        with self.engine.connect() as conn:
            return sweep_candidates(conn, now, default_follow_days, warning_days)


class ReadModelTargetFigures(ports.TargetFigures):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def of(self, person_ids: list[str], start: date, end: date) -> dict[str, dict[str, Any]]:
        with self.engine.connect() as conn:
            return person_figures(conn, person_ids, start, end)


class ReadModelLegacyNames(ports.LegacyNames):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def holder(self, skeleton_key: str, except_id: str | None) -> str | None:
        query = select(customers.c.number).where(
            customers.c.name_key == skeleton_key, customers.c.deleted.is_(False))
        if except_id is not None:
            query = query.where(customers.c.id != except_id)
        with self.engine.connect() as conn:
            number = conn.execute(query.limit(1)).scalar()
        return None if number is None else str(number)
