"""The `crm` command line (typer + rich): serve, work, schedule, operate projections."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from commands.actor import Actor
from commands.bootstrap import Service, bootstrap
from commands.config import Config, ConfigError, check_settings, key_file
from projections.base import ProjectionBusy

app = typer.Typer(help="Sales CRM: serve the API and operate the store.", no_args_is_help=True)
projections_app = typer.Typer(help="Read-model status and rebuilds.", no_args_is_help=True)
app.add_typer(projections_app, name="projections")
pool_app = typer.Typer(help="The customer pool.", no_args_is_help=True)
app.add_typer(pool_app, name="pool")
audit_app = typer.Typer(help="Auditors: a customer's history and its state at any moment.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
export_app = typer.Typer(help="Exports of reports to CSV or XLSX files.", no_args_is_help=True)
app.add_typer(export_app, name="export")
# The command line reads with the store's own rights, as an auditor would.
AUDITOR = Actor("system", "command line", frozenset({"auditor"}), None)
console = Console()


def checked_config() -> Config:
    config = Config()
    if config.mode not in ("embedded", "distributed"):
        console.print(f"[red]CRM_MODE must be embedded or distributed, not {config.mode}[/red]")
        raise typer.Exit(2)
    try:
        check_settings(config)  # the signing key (CRM_SECRET_KEY), trusted proxies
    except ConfigError as error:
        console.print(str(error), style="red", markup=False)
        raise typer.Exit(2) from None
    return config


def open_service(config: Config) -> Service:
    kick = None
    if config.mode == "distributed":
        from workers.tasks import Kicker

        kick = Kicker(config.redis_url)
    return bootstrap(config, kick=kick)


def stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


@app.command()
def api(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
    demo: bool = typer.Option(False, help="create the demo data set when the store is empty"),
) -> None:
    """Serve the HTTP API (embedded mode: projections run in this process too)."""
    import uvicorn

    from api.demo import DEMO_PASSWORD, DEMO_PEOPLE, seed_demo
    from api.main import create_app

    config = checked_config()
    service = open_service(config)
    if demo:
        with console.status("creating the demo data set…"):
            created = seed_demo(service)
        console.print("demo data created" if created else "demo data kept from an earlier run")
        table = Table(title=f"Demo logins (password: {DEMO_PASSWORD})")
        for column in ("username", "name", "roles"):
            table.add_column(column)
        for username, name, roles, _ in DEMO_PEOPLE:
            table.add_row(username, name, ", ".join(roles))
        console.print(table)
    console.print(f"API docs: http://{host}:{port}/docs  (mode: {config.mode})")
    uvicorn.run(create_app(service), host=host, port=port, log_level="info")


@app.command()
def worker(poll: float = typer.Option(1.0, help="seconds between polls of the event store")) -> None:
    """Run the projections (distributed mode): on each kick from Redis, and by polling."""
    from workers.projector import run_projection_worker
    from workers.tasks import start_worker

    logging.basicConfig(level=logging.INFO)
    config = checked_config()
    service = bootstrap(config)
    stop = stop_on_signals()
    dramatiq_worker = None
    try:
        dramatiq_worker = start_worker(service, config.redis_url)
    except Exception as error:  # polling alone still keeps the read models current
        console.print(f"[yellow]no Redis kicks ({error}); polling only[/yellow]")
    console.print(f"projection worker: {', '.join(service.projector.names)}; polling every {poll}s")
    run_projection_worker(service, stop, poll)
    if dramatiq_worker is not None:
        dramatiq_worker.stop()
    service.close()


@app.command()
def scheduler(every: float = typer.Option(10.0, help="seconds between periodic catch-up kicks")) -> None:
    """Enqueue the periodic jobs for the workers (distributed mode): projection catch-ups
    and the pool sweep every CRM_SWEEP_MINUTES."""
    from workers.tasks import run_scheduler

    logging.basicConfig(level=logging.INFO)
    config = checked_config()
    console.print(f"scheduler: a projection catch-up every {every}s, "
                  f"a pool sweep every {config.sweep_minutes} min")
    run_scheduler(config.redis_url, stop_on_signals(), every, config.sweep_minutes * 60)


@pool_app.command("sweep")
def pool_sweep(
    now: datetime = typer.Option(None, help="sweep as of this moment (ISO 8601; business time zone when "
                                 "it has no offset); default: now"),
) -> None:
    """Return overdue customers to the pool and warn owners inside the warning window (A-1..A-4).
    Running it twice for the same moment changes nothing the second time."""
    from commands.pool import SYSTEM, sweep_pool

    service = open_service(checked_config())
    done = sweep_pool(now, SYSTEM, service.deps)
    console.print(f"pool sweep as of {done.now.isoformat()}: {done.warned} warned, {done.returned} returned")
    service.close()


@projections_app.command("status")
def projections_status() -> None:
    """Each projection's version, position, the event store head and the lag."""
    service = bootstrap(checked_config())
    head = service.store.head()
    versions = service.projector.versions()
    parked = service.projector.parked()
    table = Table(title=f"Projections (event store head: {head})")
    for column in ("projection", "version", "position", "head", "lag", "parked"):
        table.add_column(column, justify="right" if column != "projection" else "left")
    for name, position in service.projector.positions().items():
        lag = max(0, head - position)
        table.add_row(name, str(versions[name]), str(position), str(head),
                      f"[green]{lag}[/green]" if lag == 0 else f"[yellow]{lag}[/yellow]",
                      f"[red]{len(parked[name])}[/red]" if parked[name] else "0")
    console.print(table)
    _print_parked(parked)
    service.close()


def _print_parked(parked: dict[str, list[dict[str, Any]]]) -> None:
    rows = [(name, row) for name, found in parked.items() for row in found]
    if not rows:
        return
    table = Table(title="Parked events (fix the cause, then: crm projections retry NAME)")
    for column in ("projection", "position", "event", "originator", "error"):
        table.add_column(column)
    for name, row in rows[:200]:
        table.add_row(name, str(row["position"]), row["topic"].rsplit(":", 1)[-1],
                      f"{row['originator_id']} v{row['originator_version']}", escape(row["error"][:300]))
    console.print(table)
    if len(rows) > 200:
        console.print(f"… and {len(rows) - 200} more")


@projections_app.command("retry")
def projections_retry(name: str = typer.Argument(..., help="projection whose parked events to apply")) -> None:
    """Rebuild a projection whose events were parked, once their cause is fixed: every event is
    applied again in order into a new version (readers keep the current one), then it switches.
    Events that still fail stay parked, and are listed."""
    service = bootstrap(checked_config())
    try:
        if name not in service.projector.names:
            console.print(f"[red]name one of {', '.join(service.projector.names)}[/red]")
            raise typer.Exit(2)
        before = len(service.projector.parked()[name])
        try:
            version = service.projector.rebuild(name)
        except ProjectionBusy:
            console.print(f"[red]a build of {name} is running elsewhere; try again later[/red]")
            raise typer.Exit(2) from None
        still = service.projector.parked()[name]
        console.print(f"{name} rebuilt as version {version}: {max(0, before - len(still))} of {before} "
                      f"parked events now apply, {len(still)} still parked")
        _print_parked({name: still})
        if still:
            raise typer.Exit(1)
    finally:
        service.close()


@projections_app.command("rebuild")
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
        console.print(f"[red]name one of {', '.join(service.projector.names)}, or --all[/red]")
        raise typer.Exit(2)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        # One pass over the events builds them all (each event read and decoded once).
        task = progress.add_task(", ".join(names), total=max(1, service.store.head()))

        def report(position: int, head: int) -> None:
            progress.update(task, completed=position, total=max(1, head))

        try:
            versions = service.projector.rebuild_all(names, progress=report)
        except ProjectionBusy:
            console.print(f"[red]a build of {', '.join(names)} is running elsewhere; try again later[/red]")
            raise typer.Exit(2) from None
        finally:
            service.close()
        progress.update(task, description=", ".join(f"{n} → version {v}" for n, v in versions.items()))


def _read_service() -> Service:
    """A service for reading: in the embedded mode the read models are caught up first."""
    config = checked_config()
    service = bootstrap(config)
    if config.mode == "embedded":
        service.projector.catch_up()
    return service


def _shown(value: object) -> str:
    return "—" if value is None or value == "" else str(value)


@audit_app.command("customer")
def audit_customer(
    number: str = typer.Argument(..., help="the customer number, e.g. KH202611000123"),
    as_of: datetime = typer.Option(None, "--as-of", help="show the state at this moment (ISO 8601; business "
                                   "time zone when it has no offset) instead of the timeline"),
) -> None:
    """A customer's timeline (time, actor, event, old → new), or its state at a moment (H-2, H-3)."""
    from commands import customers as cc
    from commands.base import as_utc, business_tz, load_settings
    from readmodels.customers import customer_id_by_number
    from readmodels.history import history_items
    from readmodels.org import people_names

    service = _read_service()
    try:
        with service.store.engine.connect() as conn:
            customer_id = customer_id_by_number(conn, number.strip())
        if customer_id is None:
            console.print(f"[red]no customer numbered {number}[/red]")
            raise typer.Exit(1)
        settings = load_settings(service.deps)
        zone = business_tz(settings)
        if as_of is not None:
            moment = as_utc(as_of, settings)
            past = cc.customer_at(service.deps, customer_id, as_of=moment)
            table = Table(title=f"{number} as of {moment.astimezone(zone).isoformat() if moment else ''} "
                                f"(version {past.version})")
            table.add_column("field")
            table.add_column("value")
            for field_name, value in past.view().items():
                table.add_row(field_name, _shown(value))
            console.print(table)
            return
        events = cc.customer_events(service.deps, cc.parse_uuid(customer_id, "customer_id"))
        with service.store.engine.connect() as conn:
            names = people_names(conn, {e.actor_id for e in events})
        table = Table(title=f"{number}: {len(events)} events")
        for column in ("version", "time", "actor", "event", "old → new"):
            table.add_column(column)
        for item in history_items(events, names):
            changes = "\n".join(f"{c['field']}: {_shown(c['old'])} → {_shown(c['new'])}" for c in item["changes"])
            table.add_row(str(item["version"]), item["at"].astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
                          item["actor_name"] or item["actor_id"], item["type"], changes)
        console.print(table)
    finally:
        service.close()


@export_app.command("report")
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
    service = _read_service()
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


@app.command()
def check() -> None:
    """Verify the event store (positions increase, every aggregate's versions contiguous,
    every event readable) and that every read model equals a fresh build. Exit code 1 when
    anything is wrong."""
    from commands.check import check_event_store

    service = bootstrap(checked_config())
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as progress:
            scan = progress.add_task("event store", total=max(1, service.store.head()))
            store = check_event_store(service.store, lambda done, head: progress.update(scan, completed=done,
                                                                                        total=max(1, head)))
            build = progress.add_task("read models", total=max(1, service.store.head()))
            try:
                models = service.projector.verify(lambda done, head: progress.update(build, completed=done,
                                                                                    total=max(1, head)))
            except Exception as error:  # a store the projections cannot read is what is reported here
                models = {"(all)": [f"the read models cannot be built from the events: {error}"]}
        table = Table(title="crm check")
        for column in ("what", "result"):
            table.add_column(column)
        table.add_row("events", f"{store.events} in {store.aggregates} aggregates"
                      + (f"; {store.gaps} positions unused (rolled-back writes)" if store.gaps else ""))
        problems = store.problems + ([f"… and {store.more_problems} more"] if store.more_problems else [])
        table.add_row("event store", "[green]ok[/green]" if not problems
                      else "[red]" + "\n".join(problems) + "[/red]")
        parked = service.projector.parked()
        for name, found in models.items():
            table.add_row(f"read model {name}", "[green]equals a rebuild[/green]" if not found
                          else "[red]" + "\n".join(found) + "[/red]")
            if parked.get(name):
                table.add_row(f"parked in {name}", f"[red]{len(parked[name])} events could not be applied "
                              f"(first at position {parked[name][0]['position']})[/red]")
        console.print(table)
        _print_parked(parked)
        if problems or any(models.values()) or any(parked.values()):
            raise typer.Exit(1)
    finally:
        service.close()


def _sqlite_file(config: Config) -> Path:
    from sqlalchemy.engine import make_url

    url = make_url(config.database_url)
    if not url.drivername.startswith("sqlite") or not url.database or url.database == ":memory:":
        console.print("[red]backup and restore are for the embedded SQLite store; for PostgreSQL use "
                      "pg_dump and pg_restore (docs/operations.md)[/red]")
        raise typer.Exit(2)
    return Path(url.database)


@app.command()
def backup(target: Path = typer.Argument(..., help="a folder to create: crm.db, photos, key")) -> None:
    """Back up the embedded store while it runs (SQLite online backup) with its photos and
    its signing key file."""
    import shutil
    import sqlite3

    config = checked_config()
    source = _sqlite_file(config)
    if not source.exists():
        console.print(f"[red]{source} does not exist: nothing to back up[/red]")
        raise typer.Exit(2)
    if target.exists():
        console.print(f"[red]{target} exists already[/red]")
        raise typer.Exit(2)
    target.mkdir(parents=True)
    with sqlite3.connect(source) as live, sqlite3.connect(target / "crm.db") as copy:
        live.backup(copy)
    blobs = Path(config.blob_dir)
    if blobs.exists():
        shutil.copytree(blobs, target / "blobs")
    # The signing key goes along: restored with it, the sessions signed before stay valid.
    key = key_file(config)
    if key is not None and key.exists():
        _write_private(target / BACKUP_KEY, key.read_bytes())
        console.print(f"backed up the signing key {key} (keep the backup private)")
    console.print(f"backed up {source} and {blobs} to {target}")


@app.command()
def restore(source: Path = typer.Argument(..., help="a folder made by crm backup")) -> None:
    """Put a backup in place of the embedded store, its photos and its signing key. Stop the
    service first."""
    import shutil
    import sqlite3

    config = checked_config()
    target = _sqlite_file(config)
    if not (source / "crm.db").exists():
        console.print(f"[red]{source} holds no crm.db[/red]")
        raise typer.Exit(2)
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source / "crm.db") as saved, sqlite3.connect(target) as live:
        saved.backup(live)
    blobs = Path(config.blob_dir)
    if (source / "blobs").exists():
        shutil.copytree(source / "blobs", blobs, dirs_exist_ok=True)
    key = key_file(config)
    if key is not None and (source / BACKUP_KEY).exists():
        _write_private(key, (source / BACKUP_KEY).read_bytes())
        console.print(f"restored the signing key {key}")
    elif key is not None:
        console.print(f"[yellow]{source} holds no signing key: {key} is kept, or made afresh on start "
                      "(everybody signs in again)[/yellow]")
    console.print(f"restored {target} and {blobs} from {source}")


# The signing key's name in a backup folder (beside crm.db).
BACKUP_KEY = "crm.db.key"


def _write_private(path: Path, content: bytes) -> None:
    """Write a file only its owner may read (0600), in place of any earlier one at once."""
    import os

    draft = path.with_name(f".{path.name}.tmp")
    draft.unlink(missing_ok=True)
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(content)
    os.chmod(draft, 0o600)
    os.replace(draft, path)


@app.command()
def demo() -> None:
    """Create the demo data set in the configured store (when it is empty)."""
    from api.demo import seed_demo

    service = open_service(checked_config())
    console.print("demo data created" if seed_demo(service) else "the store has data already")
    service.close()


if __name__ == "__main__":
    app()
