"""Helpers the aggregate tests share: a context, a registered customer, the names of the
events recorded, and `refused`, which checks a refusal. Test modules import these, never
each other."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from aggregates.base import Context, DomainError
from aggregates.customer import Customer

T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


def ctx(actor: str = "alice", at: datetime = T0) -> Context:
    return Context(actor_id=actor, command_id=uuid4().hex, at=at)


def customer(owner: str | None = "alice", **kw: Any) -> Customer:
    return Customer.register(
        ctx(), id=uuid4(), number="KH202611000001", name="华为", fields={}, contacts=kw.get("contacts", []),
        owner_id=owner, shared_with=kw.get("shared_with", []),
    )


def event_names(c: Any) -> list[str]:
    return [type(e).__name__ for e in c.collect_events()]


ANY_FIELD = "<any field>"


@contextmanager
def refused(kind: type[DomainError], code: str, field: str | None = ANY_FIELD,
            **details: Any) -> Iterator[None]:
    """Then: the command is refused with this kind of error, code, field and details (those
    named), and records nothing (the caller checks its events where that matters)."""
    with pytest.raises(kind) as caught:
        yield
    error = caught.value
    assert type(error) is kind and error.code == code, (type(error), error.code, error.message)
    if field != ANY_FIELD:
        assert error.field == field, error.field
    for key, value in details.items():
        assert error.details[key] == value, error.details
    assert error.message.strip() and str(error) == error.message
