"""What every command group shares: the console, the auditor the command line reads as,
the checked configuration, the ways to open the service, and how a refusal is told.

Every line the command line prints comes from the `crm` catalogue (`t`), in the locale of
`--lang` (or `CRM_LANG`), else the business locale (the settings' `locale` rule, read when a
command opens the store), else Chinese. A refusal is one line on stderr,
`error: <code>: <message>`, and a non-zero exit (`refuse`)."""

from __future__ import annotations

import signal
import threading
from datetime import datetime
from typing import NoReturn

import typer
from rich.console import Console

from commands.actor import Actor
from commands.bootstrap import Service, bootstrap
from commands.config import Config, ConfigError, check_settings
from readmodels.i18n import N_, set_business_locale, t

# The command line reads with the store's own rights, as an auditor would.
AUDITOR = Actor("system", "command line", frozenset({"auditor"}), None)
console = Console()


def refuse(code: str, message: str, exit_code: int = 1) -> NoReturn:
    """A refusal: one line on stderr, `error: <code>: <message>` (the message in the current
    locale, its line breaks folded), and a non-zero exit. `error:` and the code stay as they are
    in every locale, so a script can tell a refusal by them."""
    typer.echo(f"error: {code}: {' '.join(message.split())}", err=True)
    raise typer.Exit(exit_code)


def iso_moment(text: str | None) -> datetime | None:
    """An option's moment as ISO 8601, with or without an offset (click's own datetime type
    takes no offset, so a moment copied from the API's JSON would be a usage error)."""
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(t(N_("not an ISO 8601 date or datetime: {value}"), value=text)) from None


def checked_config() -> Config:
    config = Config()
    if config.mode not in ("embedded", "distributed"):
        refuse("config_error", t(N_("CRM_MODE must be embedded or distributed, not {mode}"), mode=config.mode), 2)
    try:
        check_settings(config)  # the signing key (CRM_SECRET_KEY), trusted proxies
    except ConfigError as error:
        refuse("config_error", str(error), 2)
    return config


def adopt_business_locale(service: Service) -> Service:
    """The command line speaks the business locale (the settings' `locale` rule) unless
    `--lang` chose one; settings that cannot be read leave the default."""
    from commands.base import load_settings

    try:
        locale = load_settings(service.deps).rules.get("locale")
    except Exception:  # noqa: BLE001 - the language of the output never stops a command
        return service
    if locale:
        set_business_locale(str(locale))
    return service


def open_service(config: Config) -> Service:
    kick = None
    if config.mode == "distributed":
        from workers.tasks import Kicker

        kick = Kicker(config.redis_url)
    return adopt_business_locale(bootstrap(config, kick=kick))


def read_service() -> Service:
    """A service for reading: in the embedded mode the read models are caught up first."""
    config = checked_config()
    service = bootstrap(config)
    if config.mode == "embedded":
        service.projector.catch_up()
    return adopt_business_locale(service)


def stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop
