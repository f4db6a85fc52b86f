"""Reports (SPEC §10): the catalogue, each report in JSON, CSV or XLSX, and its page with chart."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from aggregates.base import NotFound
from api.deps import CurrentUser, ServiceDep
from api.errors import ApiError
from api.exports import table_download, titled
from api.params import PageNo, PageSize, forwards_query
from api.report_models import AnyReport, CatalogueEntry
from api.report_page import report_page
from commands.base import business_day, load_settings
from readmodels import reports as rm
from readmodels.org import current_settings

router = APIRouter(tags=["reports"])
EXPORTERS = {"manager", "admin", "auditor"}
ASSET = "/api/v1/reports/assets/plotly.min.js"


@router.get("/reports", response_model=list[CatalogueEntry])
def catalogue(_: CurrentUser) -> Any:
    """Every report: its id, title, kind and chart type."""
    return rm.catalogue()


@lru_cache(maxsize=1)
def _plotly() -> bytes:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().encode()


@router.get("/reports/assets/plotly.min.js", response_class=Response, include_in_schema=False)
def chart_library() -> Response:
    """The chart library, from the installed plotly package: report pages need no internet."""
    return Response(_plotly(), media_type="application/javascript",
                    headers={"Cache-Control": "public, max-age=86400"})


@router.get("/reports/{report_id}", response_model=AnyReport,
            responses={200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument"
                                                        ".spreadsheetml.sheet": {}}}})
def get_report(
    request: Request,
    service: ServiceDep,
    user: CurrentUser,
    report_id: str,
    year: Annotated[int | None, Query(ge=1900, le=9999)] = None,
    month: Annotated[int | None, Query(ge=1, le=12)] = None,
    from_: Annotated[date | None, Query(alias="from", description=(
        "query reports: the first business day (inclusive); alone, or within year/month"))] = None,
    to: Annotated[date | None, Query(description="query reports: the last business day (inclusive)")] = None,
    as_of: Annotated[datetime | None, Query(description=(
        "S-12..S-16, S-19, Q-4, Q-11: the report as the service had recorded it by this moment "
        "(an ISO 8601 time with its UTC offset)"))] = None,
    format: Literal["json", "csv", "xlsx"] = "json",
    sort: Annotated[str | None, Query(max_length=40)] = None,
    page: PageNo = 1,
    page_size: PageSize = 50,
    region: Annotated[str | None, Query(max_length=100)] = None,
    type: Annotated[str | None, Query(max_length=100)] = None,
    source: Annotated[str | None, Query(max_length=100)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    stage: Annotated[str | None, Query(max_length=100)] = None,
    person_id: Annotated[str | None, Query(max_length=36)] = None,
    product_id: Annotated[str | None, Query(max_length=36)] = None,
    warehouse: Annotated[str | None, Query(max_length=100)] = None,
    late_entry: bool | None = None,
    far_from_customer: bool | None = None,
    distance_check: Annotated[str | None, Query(max_length=32)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Any:
    """One report for the period (`year`, `month`; default the current year or month in the
    business time zone; query reports also `from`, `to`: business days, inclusive, alone or
    narrowing the year or month), with the filters it offers, sorted (`sort=-key`) and paged. Rows
    follow the visibility rules (R-7). The reports over current state (S-12..S-16, S-19, Q-4,
    Q-11) take `as_of`: their rows as they stood at that moment, seen with today's visibility.
    `format=csv|xlsx` exports every row with Chinese column titles (managers, admins, auditors:
    R-5)."""
    if format != "json":
        request.state.op_export = True
        if not user.roles & EXPORTERS:
            raise ApiError(403, "forbidden", "exports are for managers, admins and auditors")
    filters = {"region": region, "type": type, "source": source, "status": status, "stage": stage,
               "person_id": person_id, "product_id": product_id, "warehouse": warehouse, "late_entry": late_entry,
               "far_from_customer": far_from_customer, "distance_check": distance_check, "q": q}
    today = business_day(service.deps.clock.now(), load_settings(service.deps))
    with service.store.engine.connect() as conn:
        tree = current_settings(conn)["dictionaries"]["customer_types"]
        result = rm.run_report(conn, user, report_id, today=today, type_tree=tree, year=year, month=month,
                               filters=filters, sort=sort, page=page,
                               page_size=page_size if format == "json" else rm.EXPORT_LIMIT, since=from_, until=to,
                               as_of=as_of)
    if format == "json":
        return result
    return _export(result, format)


def _export(result: dict[str, Any], format: str) -> Response:
    spec = rm.REPORTS[result["id"]]
    period = result["period"]
    stem = result["id"] + (f"_{period['year']}" + (f"-{period['month']:02d}" if period["month"] else "")
                           if period else "")
    if period and period["year"] is None:  # a range of days alone: named by its first and last
        stem = f"{result['id']}_{period['start']}_{period['end']}"
    if result.get("as_of") is not None:  # as it stood at a moment: named by the moment too
        stem += "_" + result["as_of"].strftime("%Y%m%dT%H%M%S%z")
    columns = titled((c.key, c.title, c.kind) for c in spec.columns)
    return table_download(columns, result["rows"], stem, f"{stem}_{result['title']}", format, result["total"])


@router.get("/reports/{report_id}/view", response_class=HTMLResponse)
@forwards_query
def view(report_id: str) -> HTMLResponse:
    """The report's page: its table and chart, drawn in the browser from the JSON above. The
    page signs in by itself, or takes a token from the fragment `#token=…`."""
    spec = rm.REPORTS.get(report_id)
    if spec is None:
        raise NotFound("not_found", "no report {report_id}", field="report_id", report_id=report_id)
    return HTMLResponse(report_page(spec, "/api/v1", ASSET))
