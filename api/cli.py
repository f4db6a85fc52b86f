"""The `crm` command line (typer + rich): serve, work, schedule, operate projections."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from commands.bootstrap import Service, bootstrap
from commands.config import DEV_SECRET, Config

app = typer.Typer(help="Sales CRM: serve the API and operate the store.", no_args_is_help=True)
projections_app = typer.Typer(help="Read-model status and rebuilds.", no_args_is_help=True)
app.add_typer(projections_app, name="projections")
pool_app = typer.Typer(help="The customer pool.", no_args_is_help=True)
app.add_typer(pool_app, name="pool")
console = Console()


def checked_config() -> Config:
    config = Config()
    if config.mode not in ("embedded", "distributed"):
        console.print(f"[red]CRM_MODE must be embedded or distributed, not {config.mode}[/red]")
        raise typer.Exit(2)
    if config.mode == "distributed" and config.secret_key == DEV_SECRET:
        console.print("[red]the distributed mode needs its own CRM_SECRET_KEY[/red]")
        raise typer.Exit(2)
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
    service = bootstrap(Config())
    head = service.store.head()
    versions = service.projector.versions()
    table = Table(title=f"Projections (event store head: {head})")
    for column in ("projection", "version", "position", "head", "lag"):
        table.add_column(column, justify="right" if column != "projection" else "left")
    for name, position in service.projector.positions().items():
        lag = max(0, head - position)
        table.add_row(name, str(versions[name]), str(position), str(head),
                      f"[green]{lag}[/green]" if lag == 0 else f"[yellow]{lag}[/yellow]")
    console.print(table)
    service.close()


@projections_app.command("rebuild")
def projections_rebuild(
    name: str = typer.Argument(None, help="projection to rebuild"),
    all_: bool = typer.Option(False, "--all", help="rebuild every projection"),
) -> None:
    """Rebuild read models from position 0 into a new version, then switch; readers keep
    reading the current version meanwhile."""
    service = bootstrap(Config())
    names = service.projector.names if all_ else [name]
    unknown = [n for n in names if n not in service.projector.names]
    if not names or unknown or (all_ and name):
        console.print(f"[red]name one of {', '.join(service.projector.names)}, or --all[/red]")
        raise typer.Exit(2)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        for projection in names:
            task = progress.add_task(projection, total=max(1, service.store.head()))

            def report(position: int, head: int, task: TaskID = task) -> None:
                progress.update(task, completed=position, total=max(1, head))

            version = service.projector.rebuild(projection, progress=report)
            progress.update(task, description=f"{projection} → version {version}")
    service.close()


@app.command()
def demo() -> None:
    """Create the demo data set in the configured store (when it is empty)."""
    from api.demo import seed_demo

    service = open_service(checked_config())
    console.print("demo data created" if seed_demo(service) else "the store has data already")
    service.close()


if __name__ == "__main__":
    app()
