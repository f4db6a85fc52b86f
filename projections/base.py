"""The projector: read events after the tracked position, apply a batch, commit rows and
position in one transaction; rebuild a projection into its next version while readers keep
reading the live one, then switch in one transaction (O-1).

The parts live in their own modules, joined here into one `Projector`: `batches` (positions,
reading, applying a batch), `parking` (poison events), `catchup`, `lease` (one build at a
time), `rebuilds` (rebuilds and checks), `startup` (schema and out-of-date builds). A projection
itself is defined in `definition`; the names other packages import are re-exported here."""

from __future__ import annotations

from projections.batches import Progress
from projections.catchup import ANALYZE_AFTER
from projections.definition import Handler, Projection
from projections.faults import MovedOn, Undecodable, transient
from projections.lease import LEASE_SECONDS, ProjectionBusy
from projections.physical import physical_name, physical_tables
from projections.source import EventSource
from projections.startup import SettingUp

__all__ = [
    "ANALYZE_AFTER", "LEASE_SECONDS", "EventSource", "Handler", "MovedOn", "Progress", "Projection",
    "ProjectionBusy", "Projector", "Undecodable", "physical_name", "physical_tables", "transient",
]


class Projector(SettingUp):
    """Runs projections against one event source. Events a projection ignores still
    advance its position. Each projection's batch commits in its own transaction with
    its position, which moves only from the position the batch started at, so two
    runners never apply an event twice (on SQLite as on PostgreSQL, where the state row is
    also locked); a projection whose handler fails stops alone, the others go on. Builds
    of new versions hold a lease, so two of them never run for one projection at once."""
