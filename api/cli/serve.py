"""The long-running processes: `crm api`, `crm worker`, `crm scheduler`, and `crm demo`
(the demo data set `crm api --demo` creates too)."""

from __future__ import annotations

import logging

import typer
from rich.table import Table

from api.cli.common import checked_config, console, open_service, stop_on_signals
from commands.bootstrap import bootstrap
from readmodels.i18n import N_, t


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
        with console.status(t(N_("creating the demo data set…"))):
            created = seed_demo(service)
        console.print(t(N_("demo data created") if created else N_("demo data kept from an earlier run")))
        table = Table(title=t(N_("Demo logins (password: {password})"), password=DEMO_PASSWORD))
        for column in (N_("username"), N_("name"), N_("roles")):
            table.add_column(t(column))
        for username, name, roles, _ in DEMO_PEOPLE:
            table.add_row(username, name, ", ".join(roles))
        console.print(table)
    console.print(t(N_("Console: {url}"), url=f"http://{host}:{port}/"))
    console.print(t(N_("API docs: {url}  (mode: {mode})"), url=f"http://{host}:{port}/docs", mode=config.mode))
    uvicorn.run(create_app(service), host=host, port=port, log_level="info")


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
        console.print(t(N_("no Redis kicks ({error}); polling only"), error=error), style="yellow", markup=False)
    console.print(t(N_("projection worker: {names}; polling every {seconds}s"),
                    names=", ".join(service.projector.names), seconds=poll))
    run_projection_worker(service, stop, poll)
    if dramatiq_worker is not None:
        dramatiq_worker.stop()
    service.close()


def scheduler(every: float = typer.Option(10.0, help="seconds between periodic catch-up kicks")) -> None:
    """Enqueue the periodic jobs for the workers (distributed mode): projection catch-ups
    and the pool sweep every CRM_SWEEP_MINUTES."""
    from workers.tasks import run_scheduler

    logging.basicConfig(level=logging.INFO)
    config = checked_config()
    console.print(t(N_("scheduler: a projection catch-up every {seconds}s, a pool sweep every {minutes} min"),
                    seconds=every, minutes=config.sweep_minutes))
    run_scheduler(config.redis_url, stop_on_signals(), every, config.sweep_minutes * 60)


def demo() -> None:
    """Create the demo data set in the configured store (when it is empty)."""
    from api.demo import seed_demo

    service = open_service(checked_config())
    console.print(t(N_("demo data created") if seed_demo(service) else N_("the store has data already")))
    service.close()
