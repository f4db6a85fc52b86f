"""The 12 query reports and 19 statistical reports (SPEC §10), each one SQL query over the
facts and pre-aggregated tables of the stats projection (or another read model for current
state), with the visibility rules R-7, filters, sorting and paging applied in SQL.

Visibility: facts belong to the person they are credited to (D-5): admins and auditors see
everybody's, managers their subtree's and their own, other people their own; warehouse
keepers see every goods movement and stock. Reports over current customers follow the
customer lists: the owners one may see, plus the pool, whose counted fields are public (R-3).

- `registry`: what a report is (`Report`, `ReportColumn`), the request (`Query`, `Period`),
  and `REPORTS`, filled by the `@report` decorator
- `query_reports`: Q-1..Q-12
- `stat_reports`: S-1..S-19, with their charts
- `runner`: `run_report` for one viewer, `choose_period`, `catalogue`
- `past`: the rows the reports over current state read, as they were at `as_of` (the version
  tables the projections keep beside the live rows)
"""

from __future__ import annotations

# Importing the report modules registers their reports, queries first: `REPORTS` (and so the
# catalogue and the OpenAPI document) lists Q-1..Q-12, then S-1..S-19.
from readmodels.reports import query_reports, stat_reports  # noqa: F401
from readmodels.reports.registry import REPORTS, Period, Query, Report, ReportColumn, report
from readmodels.reports.runner import DIMENSIONS, EXPORT_LIMIT, FOUR, catalogue, choose_period, run_report
from readmodels.reports.stat_reports import MONTHS

__all__ = [
    "DIMENSIONS",
    "EXPORT_LIMIT",
    "FOUR",
    "MONTHS",
    "REPORTS",
    "Period",
    "Query",
    "Report",
    "ReportColumn",
    "catalogue",
    "choose_period",
    "report",
    "run_report",
]
