"""The ports of the write side: what a handler asks of the world besides the event store.

Each port is an abstract class with one adapter in the service (wired by
`commands.bootstrap`) and fakes in the handler tests that subclass it. Handlers never reach
for an engine or a read-model table: a write decision reads the event store, and the few
questions only the read side can answer cheaply (which customers may be due back in the
pool, a person's figures for a work report, look-alike names registered before skeletons
were reserved) go through a named port whose adapter lives with the read models.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from commands.actor import Actor


class Clock(ABC):
    """The time of the service: injectable, so tests and back-fills can travel in time."""

    @abstractmethod
    def now(self) -> datetime: ...


class Sequences(ABC):
    """Gap-tolerant counters shared by every process (customer numbers)."""

    @abstractmethod
    def take(self, name: str) -> int:
        """The next value of the named counter."""

    @abstractmethod
    def next(self, name: str, count: int = 1) -> int:
        """Reserve `count` values at once; returns the last of them."""


class Blobs(ABC):
    """Files named by their sha256 (visit photos, logos)."""

    @abstractmethod
    def put(self, data: bytes) -> str:
        """Store the content (once, however often it is put); returns its sha256."""

    @abstractmethod
    def get(self, sha256: str) -> bytes | None: ...


class Credentials(ABC):
    """Passwords and sessions (P-4): kept beside the event store, never in an event."""

    @abstractmethod
    def register(self, store: Any, aggregates: Sequence[Any], person_id: str, username: str,
                 password: str, at: datetime) -> int:
        """Add a login and save the person's aggregates in one transaction: no person without
        a login, or the reverse. Returns the position of the last event saved."""

    @abstractmethod
    def set_password(self, person_id: str, password: str, at: datetime) -> None: ...

    @abstractmethod
    def change_own_password(self, person_id: str, old: str, new: str, at: datetime) -> bool: ...

    @abstractmethod
    def verify(self, username: str, password: str) -> str | None:
        """The person id when the password is right."""

    @abstractmethod
    def end_sessions(self, person_id: str, at: datetime) -> None:
        """End every session of the person signed before now."""

    @abstractmethod
    def end_session(self, token_id: str, person_id: str, expires_at: datetime, now: datetime) -> None: ...

    @abstractmethod
    def session_version(self, conn: Any, person_id: str) -> int:
        """The person's session version (a token signed with an older one has ended)."""

    @abstractmethod
    def session_state(self, conn: Any, person_id: str, token_id: str) -> tuple[int, bool]:
        """The person's session version, and whether that token was ended by itself."""

    def row_and_session_state(self, conn: Any, query: Any, person_id: str,
                              token_id: str) -> tuple[dict[str, Any] | None, int, bool]:
        """A row of the caller's `query` (its first, or None) and the session state, which
        every request asks together: an adapter may read them in one statement."""
        row = conn.execute(query).mappings().first()
        return (dict(row) if row is not None else None, *self.session_state(conn, person_id, token_id))


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt the throttle let through (`id`), or refused until `retry_at`."""

    id: int | None
    retry_at: datetime | None = None


class SignInThrottle(ABC):
    """Slows guessing down per username and client address, across every process."""

    @abstractmethod
    def delay(self, failures: int) -> timedelta: ...

    @abstractmethod
    def attempt(self, username: str, address: str, now: datetime) -> Attempt: ...

    @abstractmethod
    def failed(self, attempt: Attempt, now: datetime) -> None: ...

    @abstractmethod
    def succeeded(self, attempt: Attempt) -> None: ...

    @abstractmethod
    def forget(self, attempt: Attempt) -> None: ...


class Organisation(ABC):
    """The department tree and the people in it, as the event store has them now (P-1, R-4):
    who manages whom is a write decision, so it never waits for a projection."""

    @abstractmethod
    def manages(self, actor: Actor, person_id: str | None) -> bool:
        """Admins manage everybody; a manager manages the people of their subtree."""

    @abstractmethod
    def managed_people(self, actor: Actor) -> set[str]:
        """The people of the departments the actor manages, with every department below."""

    @abstractmethod
    def subtree(self, department_ids: Sequence[str]) -> set[str]:
        """The given departments and every department below them."""

    @abstractmethod
    def actor_of(self, person_id: str) -> Actor | None:
        """The person as an actor (an approval's requester), or None when unknown."""

    @abstractmethod
    def approvers_for(self, requester: Actor) -> list[str]:
        """AP-1: the managers whose departments hold the requester; admins when there are none."""


class PoolCandidates(ABC):
    """A-1, A-2: which customers a sweep should look at. Only a hint: each is decided on its
    own events, so a lagging answer can delay a return, never cause a wrong one."""

    @abstractmethod
    def due(self, now: datetime, default_follow_days: int, warning_days: int) -> list[str]: ...


class TargetFigures(ABC):
    """D-5, W-1: the figures credited to people between two business days, both included."""

    @abstractmethod
    def of(self, person_ids: list[str], start: date, end: date) -> dict[str, dict[str, Any]]: ...


class LegacyNames(ABC):
    """C-2 for customers registered before look-alike skeletons were reserved: the number of
    a live customer whose name has this skeleton, other than `except_id`."""

    @abstractmethod
    def holder(self, skeleton_key: str, except_id: str | None) -> str | None: ...


class ImportLog(ABC):
    """C-13: one record per import, with the rows refused, for the importer to fetch later."""

    @abstractmethod
    def keep(self, record: dict[str, Any]) -> None: ...

    @abstractmethod
    def load(self, import_id: str) -> dict[str, Any] | None: ...
