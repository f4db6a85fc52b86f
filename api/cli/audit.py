"""`crm audit`: for auditors, a customer's timeline or its state at any past moment (H-2, H-3)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from api.cli import verify
from api.cli.common import AUDITOR, console, read_service, refuse
from readmodels.i18n import N_, gettext, t

app = typer.Typer(help="Auditors: a customer's history and its state at any moment.", no_args_is_help=True)
app.command("verify")(verify.verify)


# The customer's fields that hold people's ids: shown with the person's name beside the id.
PEOPLE_FIELDS = ("owner_id", "shared_with", "registered_by", "credited_to")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def _at(moment: datetime, zone: tzinfo) -> str:
    """A stored moment (UTC) on the business clock, as a person reads it."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone).strftime(TIME_FORMAT)


def _person(person_id: str, names: dict[str, str]) -> str:
    """`王芳 (id)`: the name a person reads, the id an auditor can search for; the id alone
    when nobody by it is known (the system, or a person since removed from the read model)."""
    name = names.get(str(person_id))
    return f"{name} ({person_id})" if name else str(person_id)


def _shown(value: object, names: dict[str, str] | None = None, zone: tzinfo | None = None,
           field: str | None = None) -> str:
    """One value as text: people by name and id, moments on the business clock; markup
    characters in the data are printed as they are."""
    if value is None or value == "" or value == []:
        return "—"
    if field in PEOPLE_FIELDS and names is not None:
        ids = value if isinstance(value, list | tuple) else [value]
        return escape(", ".join(_person(str(i), names) for i in ids))
    if isinstance(value, datetime) and zone is not None:
        return _at(value, zone)
    return escape(str(value))


def _people_in(values: Iterable[tuple[str, Any]]) -> set[str]:
    """Every person id among (field, value) pairs."""
    found: set[str] = set()
    for field_name, value in values:
        if field_name in PEOPLE_FIELDS and value:
            found.update(str(v) for v in (value if isinstance(value, list | tuple) else [value]))
    return found


def _iso_moment(text: str | None) -> datetime | None:
    """`--as-of` as ISO 8601, with or without an offset (click's own datetime type takes
    no offset, so a moment copied from the API's JSON would be refused)."""
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        from readmodels.i18n import t

        raise typer.BadParameter(t("not an ISO 8601 date or datetime: {value}", value=text),
                                 param_hint="--as-of") from None


@app.command("customer")
def audit_customer(
    number: str = typer.Argument(..., help="the customer number, e.g. KH202611000123"),
    as_of: datetime = typer.Option(None, "--as-of", parser=_iso_moment, metavar="ISO-8601",
                                   help="show the state at this moment (ISO 8601; business "
                                   "time zone when it has no offset) instead of the timeline"),
    dossier: Path = typer.Option(None, "--dossier", metavar="FILE.xlsx",
                                 help="write the customer's audit dossier (states, history, visits, "
                                 "contracts, approvals, operation log) to this workbook instead"),
) -> None:
    """A customer's timeline (time, actor, event, old → new), its state at a moment (H-2, H-3),
    or its audit dossier as a workbook."""
    from commands import customers as cc
    from commands.base import as_utc, business_tz, load_settings
    from readmodels.customers import customer_id_by_number
    from readmodels.history import history_items
    from readmodels.org import people_names

    if dossier is not None and (dossier.suffix.lower() != ".xlsx" or as_of is not None):
        refuse("invalid_value", t(N_("the dossier is an .xlsx file, and takes no --as-of")), 2)
    service = read_service()
    try:
        with service.store.engine.connect() as conn:
            customer_id = customer_id_by_number(conn, number.strip())
        if customer_id is None:
            refuse("not_found", t(N_("no customer numbered {number}"), number=number))
        if dossier is not None:
            _write_dossier(service, customer_id, dossier)
            return
        settings = load_settings(service.deps)
        zone = business_tz(settings)
        if as_of is not None:
            moment = as_utc(as_of, settings)
            past = cc.customer_at(service.deps, customer_id, as_of=moment)
            table = Table(title=escape(t(N_("{number} as of {moment} (version {version})"), number=number,
                                           moment=moment.astimezone(zone).isoformat() if moment else "",
                                           version=past.version)))
            table.add_column(t(N_("field")))
            table.add_column(t(N_("value")))
            state = past.view()
            with service.store.engine.connect() as conn:
                people = people_names(conn, _people_in(state.items()))
            for field_name, value in state.items():
                table.add_row(field_name, _shown(value, people, zone, field_name))
            console.print(table)
            return
        events = cc.customer_events(service.deps, cc.parse_uuid(customer_id, "customer_id"))
        items = history_items(events, {})
        with service.store.engine.connect() as conn:
            names = people_names(conn, {str(i["actor_id"]) for i in items} | _people_in(
                (c["field"], side) for i in items for c in i["changes"] for side in (c["old"], c["new"])))
        table = Table(title=escape(t(N_("{number}: {count} events"), number=number, count=len(events))))
        for column in (N_("version"), N_("time"), N_("actor"), N_("event"), N_("old → new")):
            table.add_column(gettext(column))
        for item in items:
            changes = "\n".join(f"{c['field']}: {_shown(c['old'], names, zone, c['field'])} → "
                                 f"{_shown(c['new'], names, zone, c['field'])}" for c in item["changes"])
            table.add_row(str(item["version"]), _at(item["at"], zone), escape(_person(item["actor_id"], names)),
                          item["type"], changes)
        console.print(table)
    finally:
        service.close()


def _write_dossier(service: Any, customer_id: str, path: Path) -> None:
    """The customer's audit dossier, as the API answers it to an auditor, written to `path`."""
    from api.dossier import build_dossier, dossier_bytes

    with service.store.engine.connect() as conn:
        found = build_dossier(service, conn, AUDITOR, customer_id)
    try:
        path.write_bytes(dossier_bytes(found))
    except OSError as error:
        refuse("write_failed", t(N_("cannot write {path}: {error}"), path=path, error=error.strerror or error))
    console.print(t(N_("{number}: the audit dossier was written to {path}"), number=found.number, path=path),
                  markup=False)
