"""What every command group shares: the console, the auditor the command line reads as,
the checked configuration and the ways to open the service."""

from __future__ import annotations

import signal
import threading

import typer
from rich.console import Console

from commands.actor import Actor
from commands.bootstrap import Service, bootstrap
from commands.config import Config, ConfigError, check_settings

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


def read_service() -> Service:
    """A service for reading: in the embedded mode the read models are caught up first."""
    config = checked_config()
    service = bootstrap(config)
    if config.mode == "embedded":
        service.projector.catch_up()
    return service


def stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop
