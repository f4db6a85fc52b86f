"""The tamper-evident log: a hash chain over the stored events in store order and one over
the operation log in entry-id order, sealed now and then with an HMAC under a key derived
from the service's secret key; and their verification against the store.

- `link(n) = sha256(link(n-1) ‖ position ‖ originator id ‖ originator version ‖ topic ‖
  stored state)` for events, each field length-prefixed, the state bytes exactly as stored
  (the event's timestamp, like every other attribute, lives in them). For an operation-log
  entry: its id and its columns as stored, as canonical JSON (the columns that hold a value).
- The chain is written as the events are projected (one more consumer of each catch-up's
  batch, with a position of its own) into its own tables, and never from a rebuild: an edit
  made to the store after an event was chained shows as a link that no longer matches.
- A writer moves a chain's head only from the (position, link) it read, in the transaction
  that adds the links; a second writer's update finds nothing to move and rolls back, so two
  workers, or a worker and an API process, cannot fork a chain.
- A seal names the head (position and link) it covers, when it was made and the previous
  seal's mac; its mac is an HMAC-SHA256 of those. A store that ends before a sealed head lost
  its tail; a chain recomputed without the key no longer matches the seals.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from commands.adapters.infra import operation_log
from readmodels.tables.chain import chain_heads, chain_seals, event_links, oplog_links

log = logging.getLogger("crm.chain")

EVENTS = "events"
OPLOG = "oplog"
GENESIS = "0" * 64
# A seal at most this often (seconds), unless the head ran this many positions past the last.
SEAL_SECONDS = 5.0
SEAL_POSITIONS = 5000
# The operation log's chaining and the seals run after a catch-up at most this often.
TICK_SECONDS = 1.0
OPLOG_BATCH = 2000
VERIFY_BATCH = 5000
MAX_BREAKS = 50
# What a break is, in the order `crm audit verify` names them.
REASONS = ("edited", "deleted", "inserted", "tail_deleted", "rewritten", "forged", "other_key")


def seal_key(secret_key: str) -> bytes:
    """The seals' own key, derived from the service's secret key with its own label."""
    return hashlib.sha256(b"crm chain seal\x00" + secret_key.encode()).digest()


def _field(data: bytes) -> bytes:
    return len(data).to_bytes(8, "big") + data


def event_link(previous: str, position: int, originator_id: Any, originator_version: int, topic: str,
               state: bytes) -> str:
    digest = hashlib.sha256(bytes.fromhex(previous))
    for part in (str(int(position)).encode(), str(originator_id).encode(), str(int(originator_version)).encode(),
                 topic.encode(), state if isinstance(state, bytes) else str(state).encode()):
        digest.update(_field(part))
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    if isinstance(value, date | Decimal):
        return str(value)
    return value


def entry_link(previous: str, row: dict[str, Any]) -> str:
    """An operation-log entry's link: its columns that hold a value (a column added later, empty
    in older entries, leaves their links as they were), as canonical JSON."""
    values = {name: _plain(value) for name, value in row.items() if value is not None}
    text = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256(bytes.fromhex(previous))
    digest.update(_field(str(int(row["id"])).encode()))
    digest.update(_field(text.encode("utf-8", "surrogatepass")))
    return digest.hexdigest()


def seal_mac(key: bytes, chain: str, number: int, position: int, link: str, sealed_at: float,
             previous: str) -> str:
    message = "\x00".join((chain, str(number), str(position), link, repr(float(sealed_at)), previous))
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def key_id(key: bytes) -> str:
    """Names the key a seal was made with, without giving it away."""
    return hmac.new(key, b"crm chain key id", hashlib.sha256).hexdigest()[:16]


class ChainMoved(Exception):
    """Another writer moved the chain's head first: this one's links were rolled back."""


@dataclass
class Head:
    position: int
    link: str


@dataclass
class Break:
    """Where the store no longer matches its chain, and why (one of `REASONS`)."""

    chain: str
    position: int
    reason: str
    # The seal concerned (rewritten, forged, tail_deleted), and for a cut tail the store's end.
    seal: int | None = None
    end: int | None = None
    since: int | None = None  # rewritten: the position of the last seal that still matches
    sealed: int | None = None  # tail_deleted: the last position the chain or a seal covers


@dataclass
class ChainReport:
    chain: str
    head: int = 0
    link: str = GENESIS
    links: int = 0
    unchained: int = 0  # entries stored beyond the head, not chained yet
    end: int = 0  # the store's last position
    last_seal: dict[str, Any] | None = None
    breaks: list[Break] = field(default_factory=list)
    more: int = 0

    @property
    def sound(self) -> bool:
        return not self.breaks

    def found(self, found: Break) -> None:
        if len(self.breaks) < MAX_BREAKS:
            self.breaks.append(found)
        else:
            self.more += 1


class Chains:
    """Writes and seals both chains; verifies them. One instance per projector."""

    def __init__(self, engine: Engine, key: bytes, seal_seconds: float = SEAL_SECONDS,
                 seal_positions: int = SEAL_POSITIONS) -> None:
        self.engine = engine
        self.key = key
        self.seal_seconds = seal_seconds
        self.seal_positions = seal_positions
        self._last_tick: float | None = None

    # ---- the head ---------------------------------------------------------------------------

    def _read_head(self, chain: str) -> Head | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(chain_heads.c.position, chain_heads.c.link)
                               .where(chain_heads.c.chain == chain)).first()
        return None if row is None else Head(int(row.position), str(row.link))

    def head(self, chain: str = EVENTS) -> Head:
        """The chain's head, its row made on first need."""
        found = self._read_head(chain)
        if found is not None:
            return found
        try:
            with self.engine.begin() as conn:
                conn.execute(chain_heads.insert().values(chain=chain, position=0, link=GENESIS,
                                                         moved_at=time.time()))
        except IntegrityError:  # another writer made it a moment ago
            return self.head(chain)
        return Head(0, GENESIS)

    def position(self) -> int:
        return self.head(EVENTS).position

    def _move(self, chain: str, links: Table, head: Head, rows: list[dict[str, Any]]) -> None:
        """Add the links and move the head from `head`, in one transaction; ChainMoved when
        another writer moved it first. The head's update comes first: on SQLite it takes the
        write lock, on PostgreSQL the row lock, before anything is added."""
        if not rows:
            return
        try:
            with self.engine.begin() as conn:
                moved = conn.execute(update(chain_heads).where(
                    chain_heads.c.chain == chain, chain_heads.c.position == head.position,
                    chain_heads.c.link == head.link)
                    .values(position=rows[-1]["position"], link=rows[-1]["link"], moved_at=time.time()))
                if moved.rowcount != 1:
                    raise ChainMoved(chain)
                conn.execute(insert(links), rows)
        except IntegrityError:  # links another writer added: its head is ahead of ours
            raise ChainMoved(chain) from None

    # ---- writing ----------------------------------------------------------------------------

    def advance(self, notifications: list[Any], last: int) -> bool:
        """Chain the notifications after the head, up to `last` (the batch's last position,
        which the caller read from at most the head's position on). False when the head is
        there already; ChainMoved when another writer got there first."""
        head = self.head(EVENTS)
        if head.position >= last:
            return False
        link = head.link
        rows = []
        for n in notifications:
            position = int(n.id)
            if position <= head.position:
                continue
            if position > last:
                break
            link = event_link(link, position, n.originator_id, n.originator_version, n.topic, n.state)
            rows.append({"position": position, "link": link})
        self._move(EVENTS, event_links, head, rows)
        return bool(rows)

    def advance_oplog(self) -> int:
        """Chain the operation log's entries after the head, in id order; the number chained.
        The log's writer takes the table's lock on PostgreSQL (api/oplog.py), so ids commit in
        their order: an id missing below the highest one visible is a write rolled back, never
        one still to come."""
        done = 0
        while True:
            head = self.head(OPLOG)
            with self.engine.connect() as conn:
                entries = list(conn.execute(select(operation_log).where(operation_log.c.id > head.position)
                                            .order_by(operation_log.c.id).limit(OPLOG_BATCH)).mappings())
            link = head.link
            rows = []
            for entry in entries:
                link = entry_link(link, dict(entry))
                rows.append({"position": int(entry["id"]), "link": link})
            try:
                self._move(OPLOG, oplog_links, head, rows)
            except ChainMoved:
                continue
            done += len(rows)
            if len(entries) < OPLOG_BATCH:
                return done

    def seal(self, force: bool = False) -> None:
        """Seal each chain whose head ran past its last seal, at most every `seal_seconds`
        (or every `seal_positions` positions), or now when `force`."""
        for chain in (EVENTS, OPLOG):
            with self.engine.connect() as conn:
                last = conn.execute(select(chain_seals).where(chain_seals.c.chain == chain)
                                    .order_by(chain_seals.c.number.desc()).limit(1)).mappings().first()
            head = self.head(chain)
            now = time.time()
            if last is not None:
                if head.position <= last["position"]:
                    continue
                due = (now - last["sealed_at"] >= self.seal_seconds
                       or head.position - last["position"] >= self.seal_positions)
                if not (force or due):
                    continue
            elif head.position == 0:
                continue
            number = 1 if last is None else int(last["number"]) + 1
            previous = GENESIS if last is None else str(last["mac"])
            mac = seal_mac(self.key, chain, number, head.position, head.link, now, previous)
            try:
                with self.engine.begin() as conn:
                    conn.execute(chain_seals.insert().values(
                        chain=chain, number=number, position=head.position, link=head.link, sealed_at=now,
                        previous=previous, mac=mac, key_id=key_id(self.key)))
            except IntegrityError:  # another process sealed it a moment ago
                continue

    def after_catch_up(self) -> None:
        """What follows a catch-up: the operation log's entries chained, and the seals due; at
        most every `TICK_SECONDS` (or `seal_seconds`, when shorter) in a process, so a command
        in the embedded mode, whose catch-up runs as it answers, pays for it rarely."""
        now = time.monotonic()
        if self._last_tick is not None and now - self._last_tick < min(TICK_SECONDS, self.seal_seconds):
            return
        self._last_tick = now
        try:
            self.advance_oplog()
        except Exception:  # the log's chain waits; the next catch-up goes on with it
            log.exception("chaining the operation log failed")
        self.seal()

    # ---- verifying --------------------------------------------------------------------------

    def verify(self, recorder: Any) -> list[ChainReport]:
        """Recompute both chains from the store (the events through `recorder`, the operation
        log from its table) and compare them with the links and seals kept; writes nothing."""
        return [self._verify(EVENTS, event_links, self._stored_events(recorder),
                             int(recorder.max_notification_id() or 0),
                             lambda previous, n: event_link(previous, int(n.id), n.originator_id,
                                                            n.originator_version, n.topic, n.state)),
                self._verify(OPLOG, oplog_links, self._stored_entries(), self._oplog_end(), entry_link)]

    @staticmethod
    def _stored_events(recorder: Any) -> Iterator[tuple[int, Any]]:
        start = 1
        while True:
            batch = recorder.select_notifications(start=start, limit=VERIFY_BATCH)
            for n in batch:
                yield int(n.id), n
            if len(batch) < VERIFY_BATCH:
                return
            start = int(batch[-1].id) + 1

    def _stored_entries(self) -> Iterator[tuple[int, Any]]:
        after = 0
        while True:
            with self.engine.connect() as conn:
                batch = list(conn.execute(select(operation_log).where(operation_log.c.id > after)
                                          .order_by(operation_log.c.id).limit(VERIFY_BATCH)).mappings())
            for entry in batch:
                yield int(entry["id"]), dict(entry)
            if len(batch) < VERIFY_BATCH:
                return
            after = int(batch[-1]["id"])

    def _oplog_end(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.max(operation_log.c.id))).scalar() or 0)

    def _links(self, links: Table) -> Iterator[tuple[int, str]]:
        after = -1
        while True:
            with self.engine.connect() as conn:
                batch = list(conn.execute(select(links.c.position, links.c.link).where(links.c.position > after)
                                          .order_by(links.c.position).limit(VERIFY_BATCH)))
            for row in batch:
                yield int(row.position), str(row.link)
            if len(batch) < VERIFY_BATCH:
                return
            after = int(batch[-1].position)

    def _verify(self, chain: str, links: Table, stored: Iterator[tuple[int, Any]], end: int,
                compute: Callable[[str, Any], str]) -> ChainReport:
        head = self._read_head(chain) or Head(0, GENESIS)
        report = ChainReport(chain, head=head.position, link=head.link, end=end)
        kept = self._links(links)
        s = next(stored, None)
        c = next(kept, None)
        previous = GENESIS
        at_head: str | None = None  # the link kept at the head's position
        tail_named = False
        while s is not None or c is not None:
            if c is not None and (s is None or c[0] < s[0]):
                # Chained, no longer stored: deleted in the middle, or with everything after it.
                if c[0] > end:
                    if not tail_named:
                        report.found(Break(chain, c[0], "tail_deleted", end=end, sealed=head.position))
                        tail_named = True
                else:
                    report.found(Break(chain, c[0], "deleted"))
                previous = c[1]
                at_head = c[1] if c[0] == head.position else at_head
                report.links += 1
                c = next(kept, None)
            elif s is not None and (c is None or s[0] < c[0]):
                if s[0] <= head.position:
                    report.found(Break(chain, s[0], "inserted"))
                else:
                    report.unchained += 1
                s = next(stored, None)
            else:
                assert s is not None and c is not None
                if compute(previous, s[1]) != c[1]:
                    report.found(Break(chain, s[0], "edited"))
                previous = c[1]
                at_head = c[1] if c[0] == head.position else at_head
                report.links += 1
                s = next(stored, None)
                c = next(kept, None)
        if head.position and at_head != head.link:
            # The head names a link the chain no longer holds: links removed or replaced.
            if head.position > end and not tail_named:
                report.found(Break(chain, end + 1, "tail_deleted", end=end, sealed=head.position))
                tail_named = True
            elif head.position <= end:
                report.found(Break(chain, head.position, "rewritten"))
        self._verify_seals(report, links, tail_named)
        report.breaks.sort(key=lambda b: (b.position, REASONS.index(b.reason)))
        return report

    def _verify_seals(self, report: ChainReport, links: Table, tail_named: bool) -> None:
        chain = report.chain
        with self.engine.connect() as conn:
            seals = list(conn.execute(select(chain_seals).where(chain_seals.c.chain == chain)
                                      .order_by(chain_seals.c.number)).mappings())
            positions = sorted({int(s["position"]) for s in seals})
            kept: dict[int, str] = {}
            for start in range(0, len(positions), 500):
                chunk = positions[start:start + 500]
                kept.update((int(r.position), str(r.link)) for r in conn.execute(
                    select(links.c.position, links.c.link).where(links.c.position.in_(chunk))))
        previous, number, sound_at = GENESIS, 0, 0
        mine = key_id(self.key)
        for seal in seals:
            position = int(seal["position"])
            if seal["key_id"] != mine:
                # Made under another key, or its key id edited: nothing after it can be trusted.
                report.found(Break(chain, position, "other_key", seal=int(seal["number"])))
                break
            expected = seal_mac(self.key, chain, int(seal["number"]), position, str(seal["link"]),
                                float(seal["sealed_at"]), str(seal["previous"]))
            if (not hmac.compare_digest(expected, str(seal["mac"])) or int(seal["number"]) != number + 1
                    or str(seal["previous"]) != previous):
                # Made without the key, edited, or a seal before it removed.
                report.found(Break(chain, position, "forged", seal=int(seal["number"])))
            elif position > report.end:
                if not tail_named:
                    report.found(Break(chain, report.end + 1, "tail_deleted", seal=int(seal["number"]),
                                       end=report.end, sealed=position))
                    tail_named = True
            elif kept.get(position) != seal["link"]:
                # The links were recomputed (without the key, the seals could not be).
                report.found(Break(chain, sound_at + 1, "rewritten", seal=int(seal["number"]), since=sound_at))
            else:
                sound_at = position
            previous, number = str(seal["mac"]), int(seal["number"])
        if seals:
            last = seals[-1]
            report.last_seal = {"number": int(last["number"]), "position": int(last["position"]),
                                "sealed_at": datetime.fromtimestamp(float(last["sealed_at"]), UTC),
                                "mac": str(last["mac"])}


def chain_rows(conn: Connection, chain: str) -> int:
    """How many links a chain holds (for the operators' overview)."""
    table = event_links if chain == EVENTS else oplog_links
    return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)
