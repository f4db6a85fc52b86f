"""The store's soundness and safekeeping: `crm check` (the event store, every read model
against a fresh build, the tamper-evident log's chains), `crm backup` and `crm restore` (the
embedded SQLite store, its photos and its signing key)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli.common import checked_config, console, refuse
from api.cli.projections import print_parked
from commands.bootstrap import bootstrap
from commands.config import Config, key_file
from readmodels.i18n import N_, t

# The signing key's name in a backup folder (beside crm.db).
BACKUP_KEY = "crm.db.key"


def check() -> None:
    """Verify the event store (positions increase, every aggregate's versions contiguous,
    every event readable), that every read model equals a fresh build, and the hash chains
    over the events and the operation log with their seals (`crm audit verify`). Exit code 1
    when anything is wrong."""
    from api.cli.verify import describe, summary, verify_chains, what
    from commands.check import check_event_store

    service = bootstrap(checked_config())
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as progress:
            scan = progress.add_task(t(N_("event store")), total=max(1, service.store.head()))
            store = check_event_store(service.store, lambda done, head: progress.update(scan, completed=done,
                                                                                        total=max(1, head)))
            build = progress.add_task(t(N_("read models")), total=max(1, service.store.head()))
            try:
                models = service.projector.verify(lambda done, head: progress.update(build, completed=done,
                                                                                    total=max(1, head)))
            except Exception as error:  # a store the projections cannot read is what is reported here
                unbuilt = t(N_("the read models cannot be built from the events: {error}"), error=error)
                models = {"(all)": [unbuilt]}
        table = Table(title="crm check")
        for column in (N_("what"), N_("result")):
            table.add_column(t(column))
        gaps = t(N_("; {gaps} positions unused (rolled-back writes)"), gaps=store.gaps) if store.gaps else ""
        table.add_row(t(N_("events")), t(N_("{events} in {aggregates} aggregates"), events=store.events,
                                         aggregates=store.aggregates) + gaps)
        more = [t(N_("… and {count} more"), count=store.more_problems)] if store.more_problems else []
        problems = store.problems + more
        table.add_row(t(N_("event store")), f"[green]{t(N_('ok'))}[/green]" if not problems
                      else "[red]" + "\n".join(problems) + "[/red]")
        parked = service.projector.parked()
        for name, found in models.items():
            table.add_row(t(N_("read model {name}"), name=name),
                          f"[green]{t(N_('equals a rebuild'))}[/green]" if not found
                          else "[red]" + "\n".join(found) + "[/red]")
            if parked.get(name):
                stuck = t(N_("{count} events could not be applied (first at position {position})"),
                          count=len(parked[name]), position=parked[name][0]["position"])
                table.add_row(t(N_("parked in {name}"), name=name), f"[red]{stuck}[/red]")
        # After the read models' check, which caught up: what the events reached is chained.
        chains = verify_chains(service)
        for report in chains:
            lines = [escape(describe(found)) for found in report.breaks]
            if report.more:
                lines.append(t(N_("… and {count} more"), count=report.more))
            table.add_row(t(N_("chain of {what}"), what=what(report.chain)),
                          f"[green]{escape(summary(report))}[/green]" if report.sound
                          else "[red]" + "\n".join(lines) + "[/red]")
        console.print(table)
        print_parked(parked)
        broken = any(not report.sound for report in chains)
        if problems or any(models.values()) or any(parked.values()) or broken:
            raise typer.Exit(1)
    finally:
        service.close()


def _sqlite_file(config: Config) -> Path:
    from sqlalchemy.engine import make_url

    url = make_url(config.database_url)
    if not url.drivername.startswith("sqlite") or not url.database or url.database == ":memory:":
        refuse("not_sqlite", t(N_("backup and restore are for the embedded SQLite store; for PostgreSQL use "
                                  "pg_dump and pg_restore (docs/operations.md)")), 2)
    return Path(url.database)


def backup(target: Path = typer.Argument(..., help="a folder to create: crm.db, photos, key")) -> None:
    """Back up the embedded store while it runs (SQLite online backup) with its photos and
    its signing key file."""
    import shutil
    import sqlite3

    config = checked_config()
    source = _sqlite_file(config)
    if not source.exists():
        refuse("not_found", t(N_("{path} does not exist: nothing to back up"), path=source), 2)
    if target.exists():
        refuse("exists", t(N_("{path} exists already"), path=target), 2)
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
        console.print(t(N_("backed up the signing key {key} (keep the backup private)"), key=key), markup=False)
    console.print(t(N_("backed up {source} and {blobs} to {target}"), source=source, blobs=blobs, target=target),
                  markup=False)


def restore(source: Path = typer.Argument(..., help="a folder made by crm backup")) -> None:
    """Put a backup in place of the embedded store, its photos and its signing key. Stop the
    service first."""
    import shutil
    import sqlite3

    config = checked_config()
    target = _sqlite_file(config)
    if not (source / "crm.db").exists():
        refuse("not_found", t(N_("{path} holds no crm.db"), path=source), 2)
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source / "crm.db") as saved, sqlite3.connect(target) as live:
        saved.backup(live)
    blobs = Path(config.blob_dir)
    if (source / "blobs").exists():
        shutil.copytree(source / "blobs", blobs, dirs_exist_ok=True)
    key = key_file(config)
    if key is not None and (source / BACKUP_KEY).exists():
        _write_private(key, (source / BACKUP_KEY).read_bytes())
        console.print(t(N_("restored the signing key {key}"), key=key), markup=False)
    elif key is not None:
        console.print(t(N_("{source} holds no signing key: {key} is kept, or made afresh on start "
                           "(everybody signs in again)"), source=source, key=key), style="yellow", markup=False)
    console.print(t(N_("restored {target} and {blobs} from {source}"), target=target, blobs=blobs, source=source),
                  markup=False)


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
