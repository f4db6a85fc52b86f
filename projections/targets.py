"""Sales targets (T-1) and work reports (W-1) as rows."""

from __future__ import annotations

from typing import Any

from aggregates.target import SalesTarget, WorkReport
from projections.definition import Projection
from projections.writer import Writer
from readmodels.tables import targets, work_reports

targets_projection = Projection("targets", [targets, work_reports], version=1)


def _figures(figures: dict[str, Any]) -> dict[str, Any]:
    return {name: figures[name] for name in ("new_customers", "visits", "deal_amount", "collected_amount")}


@targets_projection.on(SalesTarget.Set)
def target_set(w: Writer, e: SalesTarget.Set) -> None:
    w.put(w.targets, id=str(e.originator_id), person_id=e.person_id, period=e.period, starts_on=e.start,
          ends_on=e.end, cancelled=False, set_by=e.actor_id, approved_by=e.approved_by, updated_at=e.timestamp,
          version=e.originator_version, **_figures(e.figures))


@targets_projection.on(SalesTarget.Revised)
def target_revised(w: Writer, e: SalesTarget.Revised) -> None:
    w.set(w.targets, (str(e.originator_id),), period=e.period, starts_on=e.start, ends_on=e.end,
          approved_by=e.approved_by, updated_at=e.timestamp, version=e.originator_version, **_figures(e.figures))


@targets_projection.on(SalesTarget.Cancelled)
def target_cancelled(w: Writer, e: SalesTarget.Cancelled) -> None:
    w.set(w.targets, (str(e.originator_id),), cancelled=True, updated_at=e.timestamp, version=e.originator_version)


REPORT_FIGURES = ("new_customers", "visits", "deals", "deal_amount", "collected_amount")


def _report_figures(figures: dict[str, Any]) -> dict[str, Any]:
    return {name: figures[name] for name in REPORT_FIGURES}


@targets_projection.on(WorkReport.Submitted)
def report_submitted(w: Writer, e: WorkReport.Submitted) -> None:
    w.put(w.work_reports, id=str(e.originator_id), person_id=e.person_id, kind=e.kind, starts_on=e.start,
          ends_on=e.end, summary=e.summary, plan=e.plan, revision=1, submitted_at=e.timestamp,
          revised_at=e.timestamp, **_report_figures(e.figures))


@targets_projection.on(WorkReport.Revised)
def report_revised(w: Writer, e: WorkReport.Revised) -> None:
    w.set(w.work_reports, (str(e.originator_id),), summary=e.summary, plan=e.plan, revision=e.originator_version,
          revised_at=e.timestamp, **_report_figures(e.figures))
