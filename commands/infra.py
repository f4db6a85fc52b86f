"""Mutable stores beside the event store: credentials (P-4) and number sequences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from threading import Lock

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine

metadata = MetaData()

credentials = Table(
    "crm_credentials",
    metadata,
    Column("person_id", String(36), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# H-5, R-8: every command over HTTP, accepted or refused. Append-only; not events, since a
# refused command changes nothing in the domain.
operation_log = Table(
    "crm_operation_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor_id", String(36), index=True),
    Column("method", String(10), nullable=False),
    Column("operation", String(200), nullable=False),
    Column("path", String(500), nullable=False),
    Column("target_id", String(200)),
    Column("status", Integer, nullable=False),
    Column("outcome", String(10), nullable=False),
    Column("error_code", String(64)),
    Column("message", String(500)),
    Column("position", BigInteger),
    Column("duration_ms", Integer, nullable=False),
)

# C-13: one row per import: what was asked, what came of it, and the rows refused.
imports = Table(
    "crm_imports",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("actor_id", String(36), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("filename", String(200), nullable=False),
    Column("dry_run", Integer, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("accepted", Integer, nullable=False),
    Column("errors", Text, nullable=False),
    Column("rejected", Text, nullable=False),
)


# Failed sign-ins, for the lockout: shared by every API process through the database.
login_failures = Table(
    "crm_login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
)

sequences = Table(
    "crm_sequences",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Integer, nullable=False),
)


class Credentials:
    """Usernames and argon2 password hashes; rotatable and deletable, never in events."""

    def __init__(self, engine: Engine, hasher: PasswordHasher | None = None) -> None:
        self.engine = engine
        self.hasher = hasher or PasswordHasher()

    def add(self, conn: Connection, person_id: str, username: str, password: str, at: datetime) -> None:
        conn.execute(
            credentials.insert().values(
                person_id=person_id,
                username=username.strip().casefold(),
                password_hash=self.hasher.hash(password),
                updated_at=at,
            )
        )

    def set_password(self, person_id: str, password: str, at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(credentials)
                .where(credentials.c.person_id == person_id)
                .values(password_hash=self.hasher.hash(password), updated_at=at)
            )

    def verify(self, username: str, password: str) -> str | None:
        """The person id when the password matches, else None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(credentials.c.person_id, credentials.c.password_hash).where(
                    credentials.c.username == username.strip().casefold()
                )
            ).first()
        if row is None:
            # Spend the same time as a real check, so unknown names are not told apart.
            self._dummy_check(password)
            return None
        try:
            self.hasher.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        return str(row.person_id)

    def _dummy_check(self, password: str) -> None:
        try:
            self.hasher.verify(_DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            pass


_DUMMY_HASH = PasswordHasher().hash("not-a-password")


class LoginThrottle:
    """After `limit` failed sign-ins for one username within `window`, that username is
    refused until the oldest of them is `window` old, whatever the password.

    Every attempt is counted before its password is checked (and forgotten again when it
    succeeds), so attempts sent in parallel cannot slip past the limit together."""

    def __init__(self, engine: Engine, limit: int = 5, window: timedelta = timedelta(minutes=15)) -> None:
        self.engine = engine
        self.limit = limit
        self.window = window

    def attempt(self, username: str, now: datetime) -> datetime | None:
        """Count an attempt; None if it may go on to the password, else when the lock lifts."""
        key = _key(username)
        with self.engine.begin() as conn:
            conn.execute(login_failures.insert().values(username=key, at=now))
            conn.execute(login_failures.delete().where(login_failures.c.at < now - 2 * self.window))
        with self.engine.connect() as conn:
            recent = [at for (at,) in conn.execute(
                select(login_failures.c.at)
                .where(login_failures.c.username == key, login_failures.c.at > now - self.window)
                .order_by(login_failures.c.at))]
        # This attempt is among them; up to `limit` earlier failures are let through.
        if len(recent) <= self.limit:
            return None
        oldest = recent[-self.limit - 1]
        oldest = oldest.replace(tzinfo=UTC) if oldest.tzinfo is None else oldest
        return oldest + self.window

    def succeeded(self, username: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(login_failures.delete().where(login_failures.c.username == _key(username)))


def _key(username: str) -> str:
    return username.strip().casefold()[:64]


class Sequences:
    """Gap-tolerant counters for human-readable numbers (customer KH…): unique and
    never reused, even when the command that drew a number is refused afterwards.

    `take` hands out numbers from a block this process drew earlier, drawing the next
    block when it runs out: one transaction per `block` registrations instead of one each.
    Numbers drawn by a process that stops are never used; nothing else is lost."""

    def __init__(self, engine: Engine, block: int = 20) -> None:
        self.engine = engine
        self.block = block
        self._lock = Lock()
        self._blocks: dict[str, tuple[int, int]] = {}  # name → (next number, last number of the block)

    def take(self, name: str) -> int:
        with self._lock:
            following, last = self._blocks.get(name, (1, 0))
            if following > last:
                last = self.next(name, self.block)
                following = last - self.block + 1
            self._blocks[name] = (following + 1, last)
            return following

    def next(self, name: str, count: int = 1) -> int:
        """Draw `count` numbers at once; returns the last of them."""
        with self.engine.begin() as conn:
            value = conn.execute(
                text(
                    "INSERT INTO crm_sequences (name, value) VALUES (:name, :count) "
                    "ON CONFLICT (name) DO UPDATE SET value = crm_sequences.value + :count "
                    "RETURNING value"
                ),
                {"name": name, "count": count},
            ).scalar_one()
        return int(value)
