"""A build's rows held in memory: a rebuild (or a check's scratch build) of a projection fills
empty tables that nobody reads until the switch, so it keeps every row in memory from the
first event to the last and writes them once at the end, instead of reading back and writing
the rows each batch touches. Handlers see no difference: they write through the same `Writer`,
whose identity map is filled from these rows instead of from the database, and what a batch
changes is merged here when the batch ends (a batch that fails leaves them as they were).

What the database would have refused (a value a column cannot hold) shows only when the rows
are written at the end: the build then runs again the classic way, batch by batch, where such
an event is parked on its own (projections/rebuilds.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection

Key = tuple[Any, ...]
Row = dict[str, Any]
# Rows inserted by one statement at the end: bounds the memory of one executemany.
WRITE_CHUNK = 5000


class MemoryRows:
    """The rows of one version of a projection while it is built: rows by primary key (with an
    index per column that `select_by` asks by, made on first use), appended rows, counters,
    and the events parked on the way."""

    def __init__(self, tables: dict[str, Table]) -> None:
        self.tables = tables
        self.rows: dict[str, dict[Key, Row]] = {}
        self._indexes: dict[tuple[str, str], dict[Any, set[Key]]] = {}
        self._indexed: dict[str, list[str]] = {}  # per table: the columns it has an index on
        self.appended: dict[str, list[Row]] = {}
        self.counters: dict[str, dict[Key, Row]] = {}
        self.latest: dict[str, set[str]] = {}
        self.parked: list[tuple[Any, Exception]] = []  # (notification, error)

    # ---- reading ------------------------------------------------------------------------------

    def get(self, table: str, key: Key) -> Row | None:
        return self.rows.get(table, {}).get(key)

    def matching(self, table: str, where: dict[str, Any]) -> Iterator[tuple[Key, Row]]:
        """The rows whose columns equal the given values (all rows when none are given)."""
        rows = self.rows.get(table, {})
        if not where:
            yield from rows.items()
            return
        column, value = next(iter(where.items()))
        keys: list[Key]
        try:
            keys = list(self._index(table, column).get(value, ()))
        except TypeError:  # a value that cannot be hashed: look at every row
            keys = list(rows)
        for key in keys:
            row = rows.get(key)
            if row is not None and all(row[name] == wanted for name, wanted in where.items()):
                yield key, row

    def _index(self, table: str, column: str) -> dict[Any, set[Key]]:
        index = self._indexes.get((table, column))
        if index is None:
            index = {}
            for key, row in self.rows.get(table, {}).items():
                index.setdefault(row[column], set()).add(key)
            self._indexes[(table, column)] = index
            self._indexed.setdefault(table, []).append(column)
        return index

    # ---- merging a batch ------------------------------------------------------------------------

    def put(self, table: str, key: Key, row: Row) -> None:
        rows = self.rows.setdefault(table, {})
        before = rows.get(key)
        for column in list(self._indexed.get(table, ())):
            index = self._indexes[(table, column)]
            try:
                if before is not None:
                    index.get(before[column], set()).discard(key)
                index.setdefault(row[column], set()).add(key)
            except TypeError:  # a value that cannot be hashed: that column goes without an index
                del self._indexes[(table, column)]
                self._indexed[table].remove(column)
        rows[key] = row

    def remove(self, table: str, key: Key) -> None:
        before = self.rows.get(table, {}).pop(key, None)
        if before is not None:
            for column in self._indexed.get(table, ()):
                index = self._indexes[(table, column)]
                try:
                    index.get(before[column], set()).discard(key)
                except TypeError:
                    pass

    def append(self, table: str, rows: list[Row]) -> None:
        self.appended.setdefault(table, []).extend(rows)

    def add(self, table: str, counters: dict[Key, Row], latest: set[str], keys: tuple[str, ...]) -> None:
        """Counters added as the database's upsert adds them: amounts summed (NULL stays NULL),
        the `latest` columns keeping the greater value."""
        if latest:
            self.latest.setdefault(table, set()).update(latest)
        held = self.counters.setdefault(table, {})
        chosen = self.latest.get(table, set())
        for key, row in counters.items():
            old = held.get(key)
            if old is None:
                held[key] = dict(row)
                continue
            for name, value in row.items():
                if name in keys:
                    continue
                was = old[name]
                if name in chosen:
                    old[name] = value if value is not None and was is not None and value > was else was
                else:
                    old[name] = None if value is None or was is None else was + value

    # ---- the end --------------------------------------------------------------------------------

    def write(self, conn: Connection) -> None:
        """Insert every row into the version's (empty) tables, in the caller's transaction."""
        by_name = {table.name: table for table in self.tables.values()}
        for name, keyed in self.rows.items():
            _insert(conn, by_name[name], list(keyed.values()))
        for name, appended in self.appended.items():
            _insert(conn, by_name[name], appended)
        for name, counters in self.counters.items():
            table = by_name[name]
            if name in self.rows or name in self.appended:
                raise ValueError(f"{name}: counters and whole rows in one table are not supported")
            _insert(conn, table, list(counters.values()))


def _insert(conn: Connection, table: Table, rows: list[Row]) -> None:
    """Insert the rows with the driver's own bulk call: each value goes through its column's
    bind processing once, as SQLAlchemy would (JSON, dates on SQLite, scaled decimals), but
    without its per-row statement bookkeeping, which cost more than the insert itself."""
    if not rows:
        return
    dialect = conn.dialect
    names = [column.name for column in table.columns]
    processors = [column.type._cached_bind_processor(dialect) for column in table.columns]
    columns = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
    target = dialect.identifier_preparer.format_table(table)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for start in range(0, len(rows), WRITE_CHUNK):
            values = [tuple(value if process is None else process(value)
                            for value, process in zip((row[name] for name in names), processors, strict=True))
                      for row in rows[start:start + WRITE_CHUNK]]
            if dialect.name == "postgresql":
                from psycopg2.extras import execute_values

                execute_values(cursor, f"INSERT INTO {target} ({columns}) VALUES %s", values, page_size=1000)
            else:
                cursor.executemany(f"INSERT INTO {target} ({columns}) VALUES ({', '.join('?' * len(names))})",
                                   values)
    finally:
        cursor.close()
