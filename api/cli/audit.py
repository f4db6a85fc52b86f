"""`crm audit`: for auditors, a customer's timeline or its state at any past moment (H-2, H-3)."""

from __future__ import annotations

from datetime import datetime

import typer
from rich.table import Table

from api.cli.common import console, read_service

app = typer.Typer(help="Auditors: a customer's history and its state at any moment.", no_args_is_help=True)


def _shown(value: object) -> str:
    return "—" if value is None or value == "" else str(value)


@app.command("customer")
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

    service = read_service()
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
