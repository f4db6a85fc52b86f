"""The `crm` command line (typer + rich): serve, work, schedule, operate projections.

`app` is assembled here from one module per command group: `serve` (api, worker,
scheduler, demo), `store` (check, backup, restore), `projections`, `pool`, `audit` and
`export`; `common` holds what they share. `python -m api.cli` runs it too."""

from __future__ import annotations

import typer

from api.cli import audit, export, pool, projections, serve, store

app = typer.Typer(help="Sales CRM: serve the API and operate the store.", no_args_is_help=True)
# The order here is the order `crm --help` lists them in.
for command in (serve.api, serve.worker, serve.scheduler, store.check, store.backup, store.restore, serve.demo):
    app.command()(command)
app.add_typer(projections.app, name="projections")
app.add_typer(pool.app, name="pool")
app.add_typer(audit.app, name="audit")
app.add_typer(export.app, name="export")

__all__ = ["app"]
