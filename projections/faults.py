"""The failures a projector tells apart: transient ones (it waits and retries), another runner
having moved a projection on (that runner's batch stands), and events that fail for good (an
undecodable one among them), which are parked."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout


class MovedOn(Exception):
    """Another runner moved the projection on while this one was working: its batch stands."""


class Undecodable:
    """An event the store holds but cannot be turned back into its class (a removed class, a
    failed upcast): every projection that handles its topic parks it."""

    def __init__(self, error: Exception) -> None:
        self.error = error


def transient(error: BaseException) -> bool:
    """Whether retrying can cure the failure: the database unreachable or restarting, a lock
    or statement timeout, a serialisation failure or deadlock. Such failures wait and retry;
    everything else (a value a column cannot hold, a handler's bug on one event) is parked.
    A schema problem (a missing table or column) waits too: it is the deployment's, not the
    event's, and parking every event behind it would be wrong."""
    if isinstance(error, OperationalError | InterfaceError | PoolTimeout):
        return True
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        code = getattr(error.orig, "pgcode", None) or ""
        if isinstance(error, ProgrammingError):
            return code[:2] == "42"  # an undefined table or column (SQLite says so as OperationalError)
        return code[:2] in ("08", "40", "53", "55", "57", "58")
    return False
