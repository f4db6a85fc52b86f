"""The fingerprint each build of a projection was made with (its logic version and the shape
of its tables, see `Projection.fingerprint`), kept per build version beside the tracking
state, so a start with other code can tell that the live build is out of date."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Column, Integer, MetaData, String, Table, delete, select
from sqlalchemy.engine import Connection

fingerprint_metadata = MetaData()

projection_fingerprints = Table(
    "projection_fingerprints",
    fingerprint_metadata,
    Column("name", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),  # the build version, as in projection_state
    Column("fingerprint", String(64), nullable=False),
)


def stored_fingerprint(conn: Connection, name: str, version: int) -> str | None:
    """The fingerprint the build was made with; None for a build made before they were kept."""
    return conn.execute(select(projection_fingerprints.c.fingerprint).where(
        projection_fingerprints.c.name == name, projection_fingerprints.c.version == version)).scalar()


def record_fingerprint(conn: Connection, name: str, version: int, fingerprint: str) -> None:
    forget_fingerprints(conn, name, [version])
    conn.execute(projection_fingerprints.insert().values(name=name, version=version, fingerprint=fingerprint))


def forget_fingerprints(conn: Connection, name: str, versions: Iterable[int]) -> None:
    conn.execute(delete(projection_fingerprints).where(
        projection_fingerprints.c.name == name, projection_fingerprints.c.version.in_(list(versions))))
