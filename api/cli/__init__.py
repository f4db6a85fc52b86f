"""The `crm` command line (typer + rich): serve, work, schedule, operate projections.

`app` is assembled here from one module per command group: `serve` (api, worker,
scheduler, demo), `store` (check, backup, restore), `projections`, `pool`, `audit` and
`export`; `common` holds what they share. `python -m api.cli` runs it too.

`crm --lang en …` (or `CRM_LANG=en`) prints in English; the default is the business locale,
Chinese unless the settings say otherwise. A refused command, a setting the store cannot
start with or a value a command cannot take ends in one line on stderr,
`error: <code>: <message>`, and exit code 1 (2 for a usage error, as typer has it), never a
traceback; `CRM_TRACEBACK=1` shows the traceback of an unexpected failure."""

from __future__ import annotations

import contextvars
import os
import sys
from typing import Any

import typer
from typer._click import Context  # typer's own click: its commands raise its exceptions
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from api.cli import audit, export, pool, projections, serve, store
from api.cli.common import refuse
from readmodels.i18n import N_, SUPPORTED, normalise, t, use_locale


class RefusingGroup(TyperGroup):
    """The root command: what a command raises becomes the one-line refusal of `refuse`, and a
    usage error (an unknown option, a value an option cannot take) one line too, exit code 2."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        # The run's language (--lang, the business locale) lives in context variables: a copy of
        # the context keeps a run inside a longer-lived process (a test, a program calling the
        # CLI) from leaving its language to what runs after it.
        return contextvars.copy_context().run(self._main, *args, **kwargs)

    def _main(self, *args: Any, **kwargs: Any) -> Any:
        if not kwargs.pop("standalone_mode", True):
            return super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[misc]
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[misc]
        except NoArgsIsHelpError as error:
            error.show()  # the help of a group named without its command
            sys.exit(error.exit_code)
        except ClickException as error:
            code_word = "usage_error" if isinstance(error, UsageError) else "error"
            typer.echo(f"error: {code_word}: {' '.join(error.format_message().split())}", err=True)
            sys.exit(error.exit_code)
        except typer.Abort:
            typer.echo(f"error: aborted: {t(N_('aborted'))}", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: Context) -> Any:
        from aggregates.errors import DomainError
        from commands.config import ConfigError

        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, ClickException):
            raise
        except DomainError as error:
            refuse(error.code, _localised(error))
        except ConfigError as error:
            refuse("config_error", str(error))
        except (ValueError, OSError) as error:
            refuse("invalid_value" if isinstance(error, ValueError) else "os_error", str(error) or repr(error))
        except Exception as error:
            if os.environ.get("CRM_TRACEBACK") == "1":
                raise
            refuse("internal_error", t(N_("{kind}: {detail} (CRM_TRACEBACK=1 shows where)"),
                                       kind=type(error).__name__, detail=str(error)))


def _localised(error: Exception) -> str:
    """A refusal's message in the current locale, as the HTTP answers have it."""
    try:
        from api.errors import localised

        return localised(error)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - a refusal without a template still says what it says
        return str(getattr(error, "message", error))


def _choose_language(value: str | None) -> str | None:
    if value is not None and normalise(value) is None:
        raise typer.BadParameter(t(N_("{value} is not one of {supported}"), value=value,
                                   supported=", ".join(SUPPORTED)))
    return value


app = typer.Typer(help="Sales CRM: serve the API and operate the store.", no_args_is_help=True, cls=RefusingGroup,
                  pretty_exceptions_enable=False)


@app.callback()
def main(
    lang: str = typer.Option(None, "--lang", envvar="CRM_LANG", callback=_choose_language,
                             help="the language of the output: zh_CN or en (default: the business locale)"),
) -> None:
    """Sales CRM: serve the API and operate the store."""
    use_locale(lang)  # None: the business locale (a run in the same process keeps no earlier choice)


# The order here is the order `crm --help` lists them in.
for command in (serve.api, serve.worker, serve.scheduler, store.check, store.backup, store.restore, serve.demo):
    app.command()(command)
app.add_typer(projections.app, name="projections")
app.add_typer(pool.app, name="pool")
app.add_typer(audit.app, name="audit")
app.add_typer(export.app, name="export")

__all__ = ["app"]
