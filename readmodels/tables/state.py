"""The projector's own state: each projection's versions and positions, who is building a
new version, and the events parked per version. These tables are physical as they stand
(not versioned read models), in `state_metadata`.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Float, Integer, MetaData, String, Table, Text

# Tables that are physical as they stand (not versioned read models).
state_metadata = MetaData()

projection_state = Table(
    "projection_state",
    state_metadata,
    Column("name", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("position", BigInteger, nullable=False),
    # The one live version per projection is what readers see; others are being built.
    Column("live", Boolean, nullable=False),
)

# Who is building a new version of a projection (a rebuild, a check): one at a time.
projection_builds = Table(
    "projection_builds",
    state_metadata,
    Column("name", String(64), primary_key=True),
    Column("owner", String(100), nullable=False),
    Column("heartbeat", Float, nullable=False),
)

# How the latest rebuild of each projection went, written by the build as it goes (whichever
# process runs it), so an operator anywhere can follow it: the phase, the position it has
# read to against the head when it last wrote, when it started and ended, and how.
projection_rebuilds = Table(
    "projection_rebuilds",
    state_metadata,
    Column("name", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("phase", String(20), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("head", BigInteger, nullable=False),
    Column("started_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("finished_at", Float),
    Column("outcome", String(20)),
    Column("error", Text),
)

# Events a projection could not apply for a reason retrying does not cure: recorded per
# version with the error, skipped, and applied again by a rebuild once the cause is fixed.
projection_parked = Table(
    "projection_parked",
    state_metadata,
    Column("name", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("topic", String(255), nullable=False),
    Column("originator_id", String(36), nullable=False),
    Column("originator_version", Integer, nullable=False),
    Column("error", Text, nullable=False),
    Column("parked_at", Float, nullable=False),
)
