"""`crm pool`: the customer pool's sweep, run by hand (the scheduler runs it periodically)."""

from __future__ import annotations

from datetime import datetime

import typer

from api.cli.common import checked_config, console, iso_moment, open_service
from readmodels.i18n import N_, t

app = typer.Typer(help="The customer pool.", no_args_is_help=True)


@app.command("sweep")
def pool_sweep(
    now: datetime = typer.Option(None, parser=iso_moment, metavar="ISO-8601",
                                 help="sweep as of this moment (ISO 8601; business time zone when it has no "
                                 "offset); default: now"),
) -> None:
    """Return overdue customers to the pool and warn owners inside the warning window (A-1..A-4).
    Running it twice for the same moment changes nothing the second time."""
    from commands.handlers import handle
    from commands.messages import SweepPool
    from commands.pool import SYSTEM, SweepResult

    service = open_service(checked_config())
    try:
        done: SweepResult = handle(SweepPool(now=now), SYSTEM, service.deps)
    finally:
        service.close()
    console.print(t(N_("pool sweep as of {moment}: {warned} warned, {returned} returned"),
                    moment=done.now.isoformat(), warned=done.warned, returned=done.returned), markup=False)
