"""Operations: liveness and projection status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import ServiceDep, require
from api.schemas import Health
from readmodels.org import Viewer

router = APIRouter(tags=["operations"])


class ProjectionStatus(BaseModel):
    name: str
    position: int
    head: int
    lag: int


@router.get("/healthz", response_model=Health)
def healthz(service: ServiceDep) -> Health:
    """Liveness, with the event store head and each projection's position."""
    return Health(status="ok", head=service.store.head(), positions=service.projector.positions())


@router.get("/admin/projections", response_model=list[ProjectionStatus])
def projections(service: ServiceDep,
                _: Annotated[Viewer, require("admin", "auditor")]) -> list[ProjectionStatus]:
    """Each read model's position, the event store head and the lag (O-3)."""
    head = service.store.head()
    return [
        ProjectionStatus(name=name, position=position, head=head, lag=max(0, head - position))
        for name, position in service.projector.positions().items()
    ]
