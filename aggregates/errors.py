"""Refused commands: the domain's errors. `kind` decides the HTTP status at the edge.

Kept apart from `aggregates.base` so that `aggregates.bounds`, which `base` checks every
event with, can raise them without the two modules importing each other.

A refusal carries its message as a template and the values that fill it, such as
`Conflict("over_invoiced", "only {left} is left to invoice", left=amount)`: the template is
the message id of the `errors` catalogue, so the edge can show it in the reader's language,
while `message` (and `str()`) is the English text, for logs and the command line. The
template is a plain literal so that extraction finds it; `{field}` names the refusal's
field without repeating it."""

from __future__ import annotations

from typing import Any


def fill(template: str, params: dict[str, Any]) -> str:
    """The template with its `{name}` placeholders filled; as written when it takes none."""
    if not params:
        return template
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        # A template whose braces are not placeholders: the text as written is still readable.
        return template


def E_(message: str) -> str:
    """Marks a message id of the `errors` catalogue written apart from a refusal (the edge's
    own messages, a table of them), so extraction finds it; it is translated where shown."""
    return message


class DomainError(Exception):
    """A refused command. `kind` decides the HTTP status at the edge."""

    kind = "invalid"

    def __init__(
        self,
        code: str,
        template: str,
        field: str | None = None,
        details: dict[str, Any] | None = None,
        **params: Any,
    ) -> None:
        if field is not None and "{field}" in template:
            params.setdefault("field", field)
        message = fill(template, params)
        super().__init__(message)
        self.code = code
        self.template = template
        self.params = params
        self.message = message
        self.field = field
        self.details = details or {}


class Invalid(DomainError):
    """The command is not acceptable as given (422)."""

    kind = "invalid"


class Conflict(DomainError):
    """The command clashes with the current state (409)."""

    kind = "conflict"


class Forbidden(DomainError):
    """The actor may not do this (403)."""

    kind = "forbidden"


class NotFound(DomainError):
    """The target does not exist, or is hidden from the actor (404)."""

    kind = "not_found"
