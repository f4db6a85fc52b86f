"""Operations: liveness, projection status and rebuilds, Prometheus metrics."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from aggregates import bounds
from aggregates.base import Conflict, NotFound
from api.deps import ConnDep, CurrentUser, ServiceDep, require
from api.exports import XLSX, table_download, titled
from api.params import After, PageNo, PageSize, next_cursor, read_cursor
from api.schemas import Health, OperationEntry, Page, SweepIn, SweepOut
from commands.actor import Actor
from commands.base import as_utc, business_tz, load_settings
from commands.bootstrap import Service
from commands.handlers import handle
from commands.messages import SweepPool
from readmodels.i18n import N_, t
from readmodels.oplog import COLUMNS as OPLOG_COLUMNS
from readmodels.oplog import list_operations
from readmodels.reports import EXPORT_LIMIT

router = APIRouter(tags=["operations"])
log = logging.getLogger("crm.api")


class ParkedEvent(BaseModel):
    """An event the projection could not apply and skipped (see docs/operations.md)."""

    position: int
    topic: str
    originator_id: str
    originator_version: int
    error: str
    parked_at: datetime


class RebuildProgress(BaseModel):
    """The latest rebuild of the read model, as the build last recorded it (whichever process
    runs it; a build records its position at most twice a second)."""

    version: int = Field(description="the version being built (live once done)")
    phase: Literal["reading", "switching", "done", "failed"] = Field(
        description="reading the events; indexing and switching the readers to it; or how it ended")
    position: int = Field(description="the position read to")
    head: int = Field(description="the event store head when the position was recorded")
    percent: float = Field(description="position / head × 100, 100 once done")
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None
    running: bool = Field(description="a build holds the lease now (false for one that stopped without ending)")
    error: str | None = Field(None, description="why a failed build failed")


class ProjectionStatus(BaseModel):
    name: str
    version: int
    position: int
    head: int
    lag: int
    parked: int = Field(0, description="events this version parked; `crm projections retry` applies them "
                                       "once the cause is fixed")
    parked_events: list[ParkedEvent] = Field([], description="the first 100 parked events, oldest first")
    rebuild: RebuildProgress | None = Field(None, description="added: the latest rebuild, none before the first")


class RebuildStarted(BaseModel):
    name: str
    status: str


def _epoch(seconds: Any) -> datetime:
    return datetime.fromtimestamp(float(seconds), UTC)


def rebuild_progress(service: Service, name: str, row: dict[str, Any] | None) -> RebuildProgress | None:
    if row is None:
        return None
    done = row["phase"] == "done"
    head = int(row["head"])
    percent = 100.0 if done or head <= 0 else min(100.0, round(int(row["position"]) * 100 / head, 1))
    return RebuildProgress(
        version=row["version"], phase=row["phase"], position=row["position"], head=head, percent=percent,
        started_at=_epoch(row["started_at"]), updated_at=_epoch(row["updated_at"]),
        finished_at=None if row["finished_at"] is None else _epoch(row["finished_at"]), error=row["error"],
        running=row["finished_at"] is None and service.projector.building(name))


def projection_status(service: Service) -> list[ProjectionStatus]:
    head = service.store.head()
    versions = service.projector.versions()
    parked = service.projector.parked()
    rebuilds = service.projector.rebuilds()
    return [
        ProjectionStatus(name=name, version=versions[name], position=position, head=head,
                         lag=max(0, head - position), parked=len(parked[name]),
                         parked_events=[ParkedEvent(**{**row, "parked_at": datetime.fromtimestamp(
                             row["parked_at"], UTC)}) for row in parked[name][:100]],
                         rebuild=rebuild_progress(service, name, rebuilds.get(name)))
        for name, position in service.projector.positions().items()
    ]


@router.get("/healthz", response_model=Health)
def healthz(service: ServiceDep) -> Health:
    """Liveness, with the event store head and each projection's position. `degraded` when a
    projection has parked events: the service works, but some events are not in its read models."""
    parked = {name: len(rows) for name, rows in service.projector.parked().items() if rows}
    return Health(status="degraded" if parked else "ok", head=service.store.head(),
                  positions=service.projector.positions(), parked=parked)


@router.get("/admin/projections", response_model=list[ProjectionStatus])
def projections(service: ServiceDep,
                _: Annotated[Actor, require("admin", "auditor")]) -> list[ProjectionStatus]:
    """Each read model's live version, position, the event store head and the lag (O-3)."""
    return projection_status(service)


@router.get("/admin/projections/{name}/rebuild", response_model=RebuildProgress)
def rebuild_status(service: ServiceDep, name: str,
                   _: Annotated[Actor, require("admin", "auditor")]) -> RebuildProgress:
    """How the latest rebuild of a read model goes or went: its phase, the position read to
    against the head, when it started and ended; 404 `not_found` for a read model that has
    never been rebuilt (or no such read model)."""
    if name not in service.projector.names:
        raise NotFound("not_found", "no projection {name}", field="name", name=name)
    found = rebuild_progress(service, name, service.projector.rebuilds().get(name))
    if found is None:
        raise NotFound("not_found", "{name} has not been rebuilt", field="name", name=name)
    return found


@router.post("/admin/projections/{name}/rebuild", response_model=RebuildStarted,
             status_code=status.HTTP_202_ACCEPTED)
def rebuild(service: ServiceDep, name: str, _: Annotated[Actor, require("admin")]) -> RebuildStarted:
    """Start rebuilding a read model into its next version; readers keep the current one
    until the switch. Follow it with GET /admin/projections (the version goes up)."""
    if name not in service.projector.names:
        raise NotFound("not_found", "no projection {name}", field="name", name=name)
    if service.projector.building(name):
        raise Conflict("rebuild_running", "a build of {name} is running; wait for it", field="name", name=name)

    def run() -> None:
        try:
            service.projector.rebuild(name)
        except Exception:
            log.exception("rebuild of %s failed", name)

    threading.Thread(target=run, name=f"rebuild-{name}", daemon=True).start()
    return RebuildStarted(name=name, status="started")


@router.post("/admin/pool/sweep", response_model=SweepOut)
def pool_sweep(service: ServiceDep, user: Annotated[Actor, require("admin")],
               body: SweepIn | None = None) -> SweepOut:
    """Run the pool sweep now, or as of a given moment (A-4): overdue customers return to the
    pool, owners inside the warning window are warned once. Idempotent for the same `now`."""
    done = handle(SweepPool(body.now if body else None), user, service.deps)
    return SweepOut(now=done.now, warned=done.warned, returned=done.returned, position=done.position)


def _moment(value: date | datetime | None, service: Service, end: bool, field: str) -> datetime | None:
    """A date means the business day (through its last microsecond for `to`); a bare
    datetime is business time. Outside the business range (1900-2199) → 422 `date_out_of_range`:
    year 1 or 9999 cannot even be moved to UTC."""
    if value is None:
        return None
    bounds.day(value, field)
    settings = load_settings(service.deps)
    if not isinstance(value, datetime):
        value = datetime.combine(value + timedelta(days=1), time()) - timedelta(microseconds=1) if end \
            else datetime.combine(value, time())
    return as_utc(value, settings)


@router.get("/operation-log", response_model=Page[OperationEntry],
            responses={200: {"content": {"text/csv": {}, XLSX: {}}}})
def operation_log(
    request: Request,
    service: ServiceDep,
    user: Annotated[Actor, require("manager", "admin", "auditor")],
    conn: ConnDep,
    actor_id: Annotated[str | None, Query(max_length=36)] = None,
    from_: Annotated[date | datetime | None, Query(alias="from")] = None,
    to: date | datetime | None = None,
    outcome: Literal["accepted", "refused", "failed"] | None = None,
    operation: Annotated[str | None, Query(max_length=100)] = None,
    target_id: Annotated[str | None, Query(max_length=200)] = None,
    format: Literal["json", "csv", "xlsx"] = "json",
    page: PageNo = 1,
    page_size: PageSize = 50,
    after: After = None,
) -> Any:
    """Every command, accepted or refused, newest first (H-5, R-8): searchable by actor, period
    (`from`, `to`: dates or datetimes), outcome, operation and target; CSV or XLSX with `format`.
    Admins and auditors read all of it, managers their people's."""
    items, total, last = list_operations(
        conn, user, actor_id=actor_id, start=_moment(from_, service, False, "from"),
        end=_moment(to, service, True, "to"),
        outcome=outcome, operation=operation, target_id=target_id, page=page,
        page_size=page_size if format == "json" else EXPORT_LIMIT,
        after=read_cursor(service, "operation-log", "-at", after, page) if format == "json" else None)
    if format != "json":
        request.state.op_export = True
        return table_download(titled(OPLOG_COLUMNS), items, "operation-log", t(N_("操作日志")), format, total,
                              zone=business_tz(load_settings(service.deps)))
    return {"items": items, "total": total, "page": page, "page_size": page_size,
            "next": next_cursor(service, "operation-log", "-at", last)}


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(service: ServiceDep, _: CurrentUser) -> str:
    """Prometheus text: event store head, and per projection its position, version and lag."""
    return prometheus_text(service)


def prometheus_text(service: Service) -> str:
    rows = projection_status(service)
    head = rows[0].head if rows else service.store.head()
    lines = [
        "# HELP crm_event_store_head Position of the newest event in the store.",
        "# TYPE crm_event_store_head gauge",
        f"crm_event_store_head {head}",
    ]
    for metric, text, attr in (
        ("crm_projection_position", "Last event position a projection has applied.", "position"),
        ("crm_projection_lag", "Events a projection has still to apply.", "lag"),
        ("crm_projection_version", "Live version of a projection's tables.", "version"),
        ("crm_projection_parked", "Events a projection could not apply and parked.", "parked"),
    ):
        lines += [f"# HELP {metric} {text}", f"# TYPE {metric} gauge"]
        lines += [f'{metric}{{projection="{r.name}"}} {getattr(r, attr)}' for r in rows]
    return "\n".join(lines) + "\n"
