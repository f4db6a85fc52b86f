"""Message catalogues: every text a person reads comes from `readmodels/locales/<locale>/LC_MESSAGES/
<domain>.po`, in the business locale or the one a request asks for (`Accept-Language`).

Two domains: `errors` (the refusals' messages, rendered at the edge from the refusal's template and
parameters) and `crm` (notifications, report and column titles, export headers, the CLI's output).
A message id is the text as the code writes it; a catalogue holds its translation, and a message a
catalogue lacks is shown as written. The `.po` files are read with Babel when first needed (no
compiled `.mo` files in the repository); `make messages` re-extracts the ids and updates them.
"""

from __future__ import annotations

import gettext as _gettext
import io
from contextvars import ContextVar, Token
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.core import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAINS = ("errors", "crm")
# The locales with a catalogue; the first is the default business locale.
SUPPORTED = ("zh_CN", "en")
DEFAULT_LOCALE = SUPPORTED[0]

_business_locale: ContextVar[str] = ContextVar("crm_business_locale", default=DEFAULT_LOCALE)
_request_locale: ContextVar[str | None] = ContextVar("crm_request_locale", default=None)


def normalise(tag: str | None) -> str | None:
    """A supported locale for a tag such as `zh-CN`, `zh_Hans`, `en-GB` or `EN`; None if none."""
    if not tag:
        return None
    try:
        locale = Locale.parse(tag.strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    if locale.language == "zh":
        return "zh_CN"
    if locale.language == "en":
        return "en"
    return None


def negotiate(accept_language: str | None, default: str | None = None) -> str:
    """The locale an `Accept-Language` header asks for among the supported ones, by its q-values;
    the business locale when it names none of them."""
    fallback = default or business_locale()
    if not accept_language:
        return fallback
    wanted: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag.strip() and quality > 0:
            wanted.append((-quality, index, tag.strip()))
    for _, _, tag in sorted(wanted):
        if tag == "*":
            return fallback
        found = normalise(tag) or normalise(negotiate_locale([tag.replace("-", "_")], list(SUPPORTED), sep="_"))
        if found:
            return found
    return fallback


def set_business_locale(locale: str) -> None:
    """The locale used where no request asks for one (the service's setting)."""
    _business_locale.set(normalise(locale) or DEFAULT_LOCALE)


def business_locale() -> str:
    return _business_locale.get()


def use_locale(locale: str | None) -> Token[str | None]:
    """Render this request's (or this CLI run's) texts in `locale`; undo with `reset_locale`."""
    return _request_locale.set(normalise(locale) if locale else None)


def reset_locale(token: Token[str | None]) -> None:
    _request_locale.reset(token)


def current_locale() -> str:
    return _request_locale.get() or business_locale()


@cache
def translations(locale: str, domain: str = "crm") -> _gettext.NullTranslations:
    """The catalogue of one domain in one locale (an empty one where there is no file)."""
    path = LOCALES_DIR / locale / "LC_MESSAGES" / f"{domain}.po"
    if not path.exists():
        return _gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain=domain)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def gettext(message: str, *, domain: str = "crm", locale: str | None = None) -> str:
    """`message` in `locale` (the current one by default), as written when the catalogue lacks it."""
    if not message:
        return message
    return translations(locale or current_locale(), domain).gettext(message)


def t(message: str, /, *, domain: str = "crm", locale: str | None = None, **params: Any) -> str:
    """`message` translated, then its `{name}` placeholders filled from `params`."""
    text = gettext(message, domain=domain, locale=locale)
    if not params:
        return text
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        # A translation that names a placeholder the code does not give: show the message as written.
        return message.format(**params)


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined; it is translated where it is shown."""
    return message
