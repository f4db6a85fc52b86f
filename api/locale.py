"""The language of each answer: the one the request's `Accept-Language` asks for among the
supported locales, else the business locale (the `locale` rule of the settings), named in the
answer's `Content-Language`.

The business locale is read from the settings at most every few seconds per process, and again
at once after this process changed the settings, so a change made through another API process
is seen within that interval. Reading it never fails a request: without settings (or without
the database) the last known locale, at first the default, is used."""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from commands.base import load_settings
from readmodels.i18n import DEFAULT_LOCALE, negotiate, normalise, reset_locale, set_business_locale, use_locale

log = logging.getLogger("crm.api")

# How long a process trusts the business locale it read from the settings.
REFRESH_SECONDS = 5.0


def content_language(locale: str) -> str:
    """The BCP 47 tag of a locale (`zh_CN` → `zh-CN`), as `Content-Language` names it."""
    return locale.replace("_", "-")


class BusinessLocale:
    """The settings' `locale` rule, cached for REFRESH_SECONDS."""

    def __init__(self, service: Any) -> None:
        self.service = service
        self.value = DEFAULT_LOCALE
        self.read_at: float | None = None

    def stale(self) -> bool:
        return self.read_at is None or time.monotonic() - self.read_at > REFRESH_SECONDS

    def expire(self) -> None:
        self.read_at = None

    def read(self) -> str:
        """The locale the settings name now (the last known one when they cannot be read)."""
        try:
            rules = load_settings(self.service.deps).rules
            self.value = normalise(str(rules.get("locale") or "")) or DEFAULT_LOCALE
        except Exception as error:  # noqa: BLE001 - a locale lookup must never fail the request
            log.debug("business locale not read: %s", error)
        self.read_at = time.monotonic()
        return self.value


class LocaleMiddleware:
    """Sets the locale every message of the request is rendered in, and `Content-Language`."""

    def __init__(self, app: ASGIApp, service: Any = None) -> None:
        self.app = app
        self.business = BusinessLocale(service) if service is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        business = DEFAULT_LOCALE
        if self.business is not None:
            stale = self.business.stale()
            business = await run_in_threadpool(self.business.read) if stale else self.business.value
        set_business_locale(business)
        locale = negotiate(Headers(scope=scope).get("accept-language"), default=business)
        scope.setdefault("state", {})["locale"] = locale
        changes_settings = scope["method"] in ("PUT", "PATCH", "POST") and scope["path"].rstrip("/").endswith(
            "/settings")

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "content-language" not in headers:
                    headers.append("Content-Language", content_language(locale))
                if changes_settings and self.business is not None and message.get("status", 500) < 400:
                    self.business.expire()
            await send(message)

        token = use_locale(locale)
        try:
            await self.app(scope, receive, send_with_language)
        finally:
            reset_locale(token)
