"""Mutable stores beside the event store: credentials (P-4) and sessions, the sign-in
throttle, number sequences and the import log: the adapters of those ports."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from threading import Lock
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    delete,
    inspect,
    select,
    text,
    true,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from commands import ports
from commands.ports import Attempt

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
    # The operation's name (`customer.claim`); entries written before operations had names
    # hold the method and route here, and no `route`.
    Column("operation", String(200), nullable=False),
    Column("path", String(500), nullable=False),
    Column("target_id", String(200)),
    Column("status", Integer, nullable=False),
    Column("outcome", String(10), nullable=False),
    Column("error_code", String(64)),
    Column("message", String(500)),
    Column("position", BigInteger),
    Column("duration_ms", Integer, nullable=False),
    # The method and route template (`POST /api/v1/customers/{customer_id}/claim`).
    Column("route", String(200)),
)
# Columns added to infra tables after they first shipped: `create_all` makes missing tables,
# never missing columns, so a database made before them gains them at start.
ADDED_COLUMNS = ((operation_log, "route", "VARCHAR(200)"),)


def add_missing_columns(engine: Engine) -> None:
    """Add the columns of `ADDED_COLUMNS` a database lacks (nullable, so old rows stay as
    they were written). Runs under the schema lock, like the rest of the schema's making."""
    with engine.begin() as conn:
        for table, name, kind in ADDED_COLUMNS:
            if name not in {c["name"] for c in inspect(conn).get_columns(table.name)}:
                conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {name} {kind}"))

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


# Sign-in attempts for the throttle, per username and client address: shared by every API
# process through the database. A row is an attempt whose password is being checked
# (`failed` 0) or was wrong (`failed` 1). (`crm_login_failures`, the per-username lockout of
# earlier releases, is no longer read.)
sign_in_attempts = Table(
    "crm_sign_in_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("address", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("failed", Integer, nullable=False),
    Index("ix_crm_sign_in_attempts_key", "username", "address"),
)

# Sessions. A token carries its person's session version; moving the version on (a password
# change, a deactivation, a lost role) ends every session signed before. No row: version 0.
session_versions = Table(
    "crm_session_versions",
    metadata,
    Column("person_id", String(36), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

# Tokens ended one by one (sign-out), by their id, kept until they would have expired anyway.
revoked_tokens = Table(
    "crm_revoked_tokens",
    metadata,
    Column("jti", String(64), primary_key=True),
    Column("person_id", String(36), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)

sequences = Table(
    "crm_sequences",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Integer, nullable=False),
)


MIN_PASSWORD_LENGTH = 8


class Credentials(ports.Credentials):
    """Usernames and argon2 password hashes, and the sessions they open; rotatable and
    deletable, never in events."""

    def __init__(self, engine: Engine, hasher: PasswordHasher | None = None) -> None:
        self.engine = engine
        self.hasher = hasher or PasswordHasher()

    def register(self, store: Any, aggregates: Sequence[Any], person_id: str, username: str,
                 password: str, at: datetime) -> int:
        with Session(self.engine) as session, session.begin():
            session.connection().execute(
                credentials.insert().values(
                    person_id=person_id,
                    username=username.strip().casefold(),
                    password_hash=self.hasher.hash(password),
                    updated_at=at,
                )
            )
            recordings = store.save(*aggregates, session=session)
        return int(recordings[-1].notification.id)

    def set_password(self, person_id: str, password: str, at: datetime) -> None:
        """A new password; the person's sessions signed before it end."""
        with self.engine.begin() as conn:
            conn.execute(
                update(credentials)
                .where(credentials.c.person_id == person_id)
                .values(password_hash=self.hasher.hash(password), updated_at=at)
            )
            self._next_session_version(conn, person_id, at)

    def change_own_password(self, person_id: str, old: str, new: str, at: datetime) -> bool:
        """The person's own change, which needs the current password: False (and nothing
        changed) when `old` is not it. Their sessions signed before it end."""
        with self.engine.begin() as conn:
            current = conn.execute(
                select(credentials.c.password_hash).where(credentials.c.person_id == person_id)
            ).scalar()
            if current is None or not self._matches(current, old):
                return False
            changed = conn.execute(
                update(credentials)
                .where(credentials.c.person_id == person_id, credentials.c.password_hash == current)
                .values(password_hash=self.hasher.hash(new), updated_at=at)
            )
            if changed.rowcount != 1:  # changed meanwhile: the old password is not current any more
                return False
            self._next_session_version(conn, person_id, at)
        return True

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
            self._matches(_DUMMY_HASH, password)
            return None
        return str(row.person_id) if self._matches(row.password_hash, password) else None

    def _matches(self, password_hash: str, password: str) -> bool:
        try:
            return bool(self.hasher.verify(password_hash, password))
        except (VerificationError, InvalidHashError):
            return False

    # ---- sessions -----------------------------------------------------------------------

    def session_version(self, conn: Connection, person_id: str) -> int:
        version = conn.execute(
            select(session_versions.c.version).where(session_versions.c.person_id == person_id)
        ).scalar()
        return int(version or 0)

    def session_state(self, conn: Connection, person_id: str, token_id: str) -> tuple[int, bool]:
        """The person's session version, and whether that token was ended by itself."""
        version, revoked = conn.execute(select(*_session_columns(person_id, token_id))).one()
        return int(version or 0), revoked is not None

    def row_and_session_state(self, conn: Connection, query: Any, person_id: str,
                              token_id: str) -> tuple[dict[str, Any] | None, int, bool]:
        """One statement, one round trip: the session state with the query's row joined to it
        (outer, so that the state comes back when the query finds nothing)."""
        state = select(*_session_columns(person_id, token_id)).subquery()
        found = query.subquery()
        row = conn.execute(select(state, found).select_from(state.outerjoin(found, true()))).mappings().first()
        assert row is not None
        names = list(found.c.keys())
        first = names[0]
        person = {name: row[found.c[name]] for name in names} if row[found.c[first]] is not None else None
        return person, int(row[state.c.session_version] or 0), row[state.c.revoked_jti] is not None

    def end_sessions(self, person_id: str, at: datetime) -> None:
        """End every session of the person signed until now."""
        with self.engine.begin() as conn:
            self._next_session_version(conn, person_id, at)

    def end_session(self, token_id: str, person_id: str, expires_at: datetime, now: datetime) -> None:
        """End one token (sign-out); it is remembered until it would have expired."""
        with self.engine.begin() as conn:
            conn.execute(delete(revoked_tokens).where(revoked_tokens.c.expires_at < now))
            conn.execute(
                text("INSERT INTO crm_revoked_tokens (jti, person_id, expires_at) "
                     "VALUES (:jti, :person_id, :expires_at) ON CONFLICT (jti) DO NOTHING")
                .bindparams(bindparam("expires_at", type_=DateTime(timezone=True))),
                {"jti": token_id, "person_id": person_id, "expires_at": expires_at},
            )

    def _next_session_version(self, conn: Connection, person_id: str, at: datetime) -> None:
        conn.execute(
            text("INSERT INTO crm_session_versions (person_id, version, changed_at) "
                 "VALUES (:person_id, 1, :at) ON CONFLICT (person_id) DO UPDATE "
                 "SET version = crm_session_versions.version + 1, changed_at = :at")
            .bindparams(bindparam("at", type_=DateTime(timezone=True))),
            {"person_id": person_id, "at": at},
        )


_DUMMY_HASH = PasswordHasher().hash("not-a-password")


class LoginThrottle(ports.SignInThrottle):
    """Sign-in throttle per username and client address, with growing delays.

    The first `free` wrong passwords for a username from one address go by; after them each
    attempt from that address waits `base` × 2^(failures − free), at most `cap`, after the
    latest failure. Failures are forgotten after `memory`, and when the right password comes
    from that address. Only attempts whose password is checked count: one refused while
    throttled changes nothing, so it cannot keep the throttle going. Other addresses are not
    slowed down: guessing from one address does not lock the person out elsewhere.

    Each attempt is written down before its password is checked, and counts as a failure
    for the others until its outcome is known, so attempts sent in parallel cannot get past
    the limit together."""

    def __init__(self, engine: Engine, free: int = 5, base: timedelta = timedelta(minutes=1),
                 cap: timedelta = timedelta(minutes=15), memory: timedelta = timedelta(hours=24)) -> None:
        self.engine = engine
        self.free = free
        self.base = base
        self.cap = cap
        self.memory = memory

    def delay(self, failures: int) -> timedelta:
        """The wait after the latest failure once there are `failures` of them."""
        if failures < self.free:
            return timedelta(0)
        wait: timedelta = min(self.cap, self.base * 2 ** min(failures - self.free, 30))
        return wait

    def attempt(self, username: str, address: str, now: datetime) -> Attempt:
        """Write the attempt down and decide whether its password may be checked."""
        key, where = _key(username), address[:64]
        with self.engine.begin() as conn:
            conn.execute(delete(sign_in_attempts).where(sign_in_attempts.c.at < now - self.memory))
            mine = conn.execute(sign_in_attempts.insert().values(
                username=key, address=where, at=now, failed=0).returning(sign_in_attempts.c.id)).scalar_one()
        with self.engine.connect() as conn:
            earlier = [_utc(at) for (at,) in conn.execute(
                select(sign_in_attempts.c.at).where(
                    sign_in_attempts.c.username == key, sign_in_attempts.c.address == where,
                    sign_in_attempts.c.at >= now - self.memory, sign_in_attempts.c.id != mine))]
        if len(earlier) >= self.free:
            retry_at = max(earlier) + self.delay(len(earlier))
            if now < retry_at:
                self.forget(Attempt(int(mine)))
                return Attempt(None, retry_at)
        return Attempt(int(mine))

    def failed(self, attempt: Attempt, now: datetime) -> None:
        if attempt.id is not None:
            with self.engine.begin() as conn:
                conn.execute(update(sign_in_attempts).where(sign_in_attempts.c.id == attempt.id)
                             .values(failed=1, at=now))

    def succeeded(self, attempt: Attempt) -> None:
        """The right password: this address's failures for the username are forgotten."""
        if attempt.id is None:
            return
        with self.engine.begin() as conn:
            row = conn.execute(select(sign_in_attempts.c.username, sign_in_attempts.c.address)
                               .where(sign_in_attempts.c.id == attempt.id)).first()
            if row is not None:
                conn.execute(delete(sign_in_attempts).where(
                    sign_in_attempts.c.username == row.username, sign_in_attempts.c.address == row.address,
                    (sign_in_attempts.c.failed == 1) | (sign_in_attempts.c.id == attempt.id)))

    def forget(self, attempt: Attempt) -> None:
        """An attempt that was not a password check after all (refused, or broken off)."""
        if attempt.id is not None:
            with self.engine.begin() as conn:
                conn.execute(delete(sign_in_attempts).where(sign_in_attempts.c.id == attempt.id))


def _key(username: str) -> str:
    return username.strip().casefold()[:64]


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


class Sequences(ports.Sequences):
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


class ImportRecords(ports.ImportLog):
    """C-13: the import log in `crm_imports`; the refused rows are kept as JSON."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def keep(self, record: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(imports.insert().values({
                **record, "dry_run": int(record["dry_run"]),
                "rejected": json.dumps(record["rejected"], ensure_ascii=False),
                "errors": json.dumps(record["errors"], ensure_ascii=False)}))

    def load(self, import_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(imports).where(imports.c.id == import_id)).mappings().first()
        if row is None:
            return None
        return {**dict(row), "dry_run": bool(row["dry_run"]), "errors": json.loads(row["errors"]),
                "rejected": json.loads(row["rejected"])}


def _session_columns(person_id: str, token_id: str) -> tuple[Any, Any]:
    return (select(session_versions.c.version).where(session_versions.c.person_id == person_id)
            .scalar_subquery().label("session_version"),
            select(revoked_tokens.c.jti).where(revoked_tokens.c.jti == token_id).scalar_subquery()
            .label("revoked_jti"))
