"""`crm export`: a report, every row, written to a CSV or XLSX file."""

from __future__ import annotations

from pathlib import Path

import typer

from api.cli.common import AUDITOR, console, iso_moment, read_service, refuse
from readmodels.i18n import N_, t

app = typer.Typer(help="Exports of reports to CSV or XLSX files.", no_args_is_help=True)


@app.command("report")
def export_report(
    report_id: str = typer.Argument(..., help="a report id, e.g. S-4"),
    output: Path = typer.Option(..., "-o", "--output", help="the file to write: .csv or .xlsx"),
    year: int = typer.Option(None, help="the year (default: this year)"),
    month: int = typer.Option(None, help="the month, 1 to 12 (default: this month, for monthly reports)"),
    as_of: str = typer.Option(None, "--as-of", help="S-12..S-16, S-19, Q-4, Q-11: the report as recorded by "
                                                     "this moment (ISO 8601 with its UTC offset)"),
) -> None:
    """Write one report, every row, with its column titles in the output's language."""
    from aggregates.base import DomainError
    from api.errors import localised
    from api.exports import table_bytes, titled
    from commands.base import business_day, load_settings
    from readmodels.org import current_settings
    from readmodels.reports import REPORTS, run_report

    format = output.suffix.lower().lstrip(".")
    if format not in ("csv", "xlsx"):
        refuse("invalid_value", t(N_("the output file must end in .csv or .xlsx")), 2)
    moment = iso_moment(as_of)
    service = read_service()
    try:
        today = business_day(service.deps.clock.now(), load_settings(service.deps))
        with service.store.engine.connect() as conn:
            tree = current_settings(conn)["dictionaries"]["customer_types"]
            try:
                result = run_report(conn, AUDITOR, report_id, today=today, type_tree=tree, year=year, month=month,
                                    page_size=None, as_of=moment)
            except DomainError as error:  # no such report, a period it cannot take: a usage error
                refuse(error.code, localised(error), 2)
        columns = titled((c.key, c.title, c.kind) for c in REPORTS[report_id].columns)
        output.write_bytes(table_bytes(columns, result["rows"], format, sheet=report_id))
        console.print(t(N_("{report} {title}: {total} rows written to {path}"), report=report_id,
                        title=result["title"], total=result["total"], path=output), markup=False)
    finally:
        service.close()
