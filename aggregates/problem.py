"""Problem reports (G-7): reported, assigned to a responsible person, resolved."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from aggregates import bounds
from aggregates.base import Conflict, Context, CrmAggregate, Invalid


class ProblemReport(CrmAggregate):

    TEXT_LIMITS: ClassVar[dict[str, int]] = {"kind": bounds.SHORT_TEXT}
    customer_id: str
    kind: str
    description: str
    responsible_id: str
    status: str
    resolution: str | None

    def __init__(self) -> None:
        """Empty: the Created event's apply() sets the state."""

    class Reported(CrmAggregate.Created):
        customer_id: str
        kind: str
        description: str
        responsible_id: str

        def apply(self, p: ProblemReport) -> None:
            p.customer_id, p.kind, p.description = self.customer_id, self.kind, self.description
            p.responsible_id, p.status, p.resolution = self.responsible_id, "open", None

    class Resolved(CrmAggregate.Event):
        resolution: str

        def apply(self, p: ProblemReport) -> None:
            p.status, p.resolution = "resolved", self.resolution

    @classmethod
    def report(cls, ctx: Context, *, id: UUID, customer_id: str, kind: str, description: str,
               responsible_id: str) -> ProblemReport:
        if not description.strip():
            raise Invalid("validation_error", "describe the problem", field="description")
        return cls._create_by(ctx, cls.Reported, id=id, customer_id=customer_id, kind=kind,
                              description=description, responsible_id=responsible_id)

    def resolve(self, ctx: Context, resolution: str) -> None:
        if self.status == "resolved":
            raise Conflict("already_resolved", "the problem is resolved already")
        if not resolution.strip():
            raise Invalid("validation_error", "say how it was resolved", field="resolution")
        self._record(ctx, self.Resolved, resolution=resolution)
