"""The `crm` command line (typer + rich)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from commands.config import DEV_SECRET, Config

app = typer.Typer(help="Sales CRM: serve the API and operate the store.", no_args_is_help=True)
console = Console()


@app.command()
def api(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
    demo: bool = typer.Option(False, help="create the demo data set when the store is empty"),
) -> None:
    """Serve the HTTP API (embedded mode: projections run in this process)."""
    import uvicorn

    from api.demo import DEMO_PASSWORD, DEMO_PEOPLE, seed_demo
    from api.main import create_app
    from commands.bootstrap import bootstrap

    config = checked_config()
    service = bootstrap(config)
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
    console.print(f"API docs: http://{host}:{port}/docs  (store: {config.database_url})")
    uvicorn.run(create_app(service), host=host, port=port, log_level="info")


def checked_config() -> Config:
    config = Config()
    if config.mode not in ("embedded", "distributed"):
        console.print(f"[red]CRM_MODE must be embedded or distributed, not {config.mode}[/red]")
        raise typer.Exit(2)
    if config.mode == "distributed" and config.secret_key == DEV_SECRET:
        console.print("[red]the distributed mode needs its own CRM_SECRET_KEY[/red]")
        raise typer.Exit(2)
    return config


@app.command()
def worker(poll: float = typer.Option(1.0, help="seconds between polls of the event store")) -> None:
    """Run the projections (distributed mode): poll the event store, apply new events."""
    import logging
    import signal
    import threading

    from commands.bootstrap import bootstrap
    from workers.projector import run_projection_worker

    logging.basicConfig(level=logging.INFO)
    service = bootstrap(checked_config())
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    console.print(f"projection worker: {', '.join(service.projector.names)}")
    run_projection_worker(service, stop, poll)
    service.close()


@app.command()
def demo() -> None:
    """Create the demo data set in the configured store (when it is empty)."""
    from api.demo import seed_demo
    from commands.bootstrap import bootstrap

    service = bootstrap(Config())
    console.print("demo data created" if seed_demo(service) else "the store has data already")
    service.close()


if __name__ == "__main__":
    app()
