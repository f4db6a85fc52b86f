"""`crm projections`: each read model's status and parked events, retrying a projection's
parked events, and rebuilding read models into a new version while readers keep the old."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli.common import checked_config, console, refuse
from commands.bootstrap import bootstrap
from projections.base import ProjectionBusy
from readmodels.i18n import N_, gettext, t

BUSY = N_("a build of {names} is running elsewhere; try again later")
STATUS_COLUMNS = {"projection": N_("projection"), "version": N_("version"), "position": N_("position"),
                  "head": N_("head"), "lag": N_("lag"), "parked": N_("parked")}
PARKED_COLUMNS = (N_("projection"), N_("position"), N_("event"), N_("originator"), N_("error"))

app = typer.Typer(help="Read-model status and rebuilds.", no_args_is_help=True)


@app.command("status")
def projections_status() -> None:
    """Each projection's version, position, the event store head and the lag."""
    service = bootstrap(checked_config())
    head = service.store.head()
    versions = service.projector.versions()
    parked = service.projector.parked()
    table = Table(title=t(N_("Projections (event store head: {head})"), head=head))
    for column, title in STATUS_COLUMNS.items():
        table.add_column(gettext(title), justify="right" if column != "projection" else "left")
    for name, position in service.projector.positions().items():
        lag = max(0, head - position)
        table.add_row(name, str(versions[name]), str(position), str(head),
                      f"[green]{lag}[/green]" if lag == 0 else f"[yellow]{lag}[/yellow]",
                      f"[red]{len(parked[name])}[/red]" if parked[name] else "0")
    console.print(table)
    print_parked(parked)
    service.close()


def print_parked(parked: dict[str, list[dict[str, Any]]]) -> None:
    """The events each projection parked (at most 200 rows), when there are any."""
    rows = [(name, row) for name, found in parked.items() for row in found]
    if not rows:
        return
    table = Table(title=t(N_("Parked events (fix the cause, then: crm projections retry NAME)")))
    for title in PARKED_COLUMNS:
        table.add_column(gettext(title))
    for name, row in rows[:200]:
        table.add_row(name, str(row["position"]), row["topic"].rsplit(":", 1)[-1],
                      f"{row['originator_id']} v{row['originator_version']}", escape(row["error"][:300]))
    console.print(table)
    if len(rows) > 200:
        console.print(t(N_("… and {count} more"), count=len(rows) - 200))


@app.command("retry")
def projections_retry(name: str = typer.Argument(..., help="projection whose parked events to apply")) -> None:
    """Rebuild a projection whose events were parked, once their cause is fixed: every event is
    applied again in order into a new version (readers keep the current one), then it switches.
    Events that still fail stay parked, and are listed."""
    service = bootstrap(checked_config())
    try:
        if name not in service.projector.names:
            refuse("unknown_projection", t(N_("name one of {names}"), names=", ".join(service.projector.names)), 2)
        before = len(service.projector.parked()[name])
        try:
            version = service.projector.rebuild(name)
        except ProjectionBusy:
            refuse("projection_busy", t(BUSY, names=name), 2)
        still = service.projector.parked()[name]
        console.print(t(N_("{name} rebuilt as version {version}: {applied} of {before} parked events now apply, "
                           "{still} still parked"), name=name, version=version,
                        applied=max(0, before - len(still)), before=before, still=len(still)), markup=False)
        print_parked({name: still})
        if still:
            raise typer.Exit(1)
    finally:
        service.close()


@app.command("rebuild")
def projections_rebuild(
    name: str = typer.Argument(None, help="projection to rebuild"),
    all_: bool = typer.Option(False, "--all", help="rebuild every projection"),
) -> None:
    """Rebuild read models from position 0 into a new version, then switch; readers keep
    reading the current version meanwhile."""
    service = bootstrap(checked_config())
    names = service.projector.names if all_ else [name]
    unknown = [n for n in names if n not in service.projector.names]
    if not names or unknown or (all_ and name):
        service.close()
        known = ", ".join(service.projector.names)
        refuse("unknown_projection", t(N_("name one of {names}, or --all"), names=known), 2)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        # One pass over the events builds them all (each event read and decoded once).
        task = progress.add_task(", ".join(names), total=max(1, service.store.head()))

        def report(position: int, head: int) -> None:
            progress.update(task, completed=position, total=max(1, head))

        try:
            versions = service.projector.rebuild_all(names, progress=report)
        except ProjectionBusy:
            refuse("projection_busy", t(BUSY, names=", ".join(names)), 2)
        finally:
            service.close()
        progress.update(task, description=", ".join(t(N_("{name} → version {version}"), name=n, version=v)
                                                    for n, v in versions.items()))
