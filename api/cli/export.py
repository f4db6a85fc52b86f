"""`crm export`: a report, every row, written to a CSV or XLSX file."""

from __future__ import annotations

from pathlib import Path

import typer

from api.cli.common import AUDITOR, console, read_service

app = typer.Typer(help="Exports of reports to CSV or XLSX files.", no_args_is_help=True)


@app.command("report")
def export_report(
    report_id: str = typer.Argument(..., help="a report id, e.g. S-4"),
    output: Path = typer.Option(..., "-o", "--output", help="the file to write: .csv or .xlsx"),
    year: int = typer.Option(None, help="the year (default: this year)"),
    month: int = typer.Option(None, help="the month, 1 to 12 (default: this month, for monthly reports)"),
) -> None:
    """Write one report, every row, with Chinese column titles."""
    from aggregates.base import DomainError
    from api.exports import table_bytes
    from commands.base import business_day, load_settings
    from readmodels.org import current_settings
    from readmodels.reports import REPORTS, run_report

    format = output.suffix.lower().lstrip(".")
    if format not in ("csv", "xlsx"):
        console.print("[red]the output file must end in .csv or .xlsx[/red]")
        raise typer.Exit(2)
    service = read_service()
    try:
        today = business_day(service.deps.clock.now(), load_settings(service.deps))
        with service.store.engine.connect() as conn:
            tree = current_settings(conn)["dictionaries"]["customer_types"]
            try:
                result = run_report(conn, AUDITOR, report_id, today=today, type_tree=tree, year=year, month=month,
                                    page_size=None)
            except DomainError as error:
                console.print(f"[red]{error.message}[/red]")
                raise typer.Exit(2) from None
        columns = [(c.key, c.title, c.kind) for c in REPORTS[report_id].columns]
        output.write_bytes(table_bytes(columns, result["rows"], format, sheet=report_id))
        console.print(f"{report_id} {result['title']}: {result['total']} rows written to {output}")
    finally:
        service.close()
