"""Refused commands: the domain's errors. `kind` decides the HTTP status at the edge.

Kept apart from `aggregates.base` so that `aggregates.bounds`, which `base` checks every
event with, can raise them without the two modules importing each other."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refused command. `kind` decides the HTTP status at the edge."""

    kind = "invalid"

    def __init__(
        self,
        code: str,
        message: str,
        field: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
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
