"""The `crm` command line (typer + rich)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from commands.config import Config

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

    config = Config()
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
