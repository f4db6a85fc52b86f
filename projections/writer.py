"""What a projection handler writes through: a unit of work for one batch of events.

Handlers change rows in memory; at the end of the batch `flush()` writes them with one
executemany statement per table and kind of change, in the batch's transaction, together
with the tracking position. So a batch of hundreds of events costs a handful of
statements, not several per event:

- `append(table, **row)`: a new row nobody reads back in the batch (facts, notifications).
- `get(table, *key)`, `put(table, **row)`, `set(table, key, **values)`, `remove(table, *key)`:
  rows by primary key through an identity map; what a handler reads sees what an earlier
  handler wrote in the same batch.
- `add(table, key, **amounts)`, with `latest={…}`: counters, kept as deltas and written
  as an upsert that adds them (and keeps the later of the `latest` values), never read.
- `conn`: the raw connection for anything else; using it flushes first, so a query sees
  everything written before it.

A build of a new version may keep its rows in memory (projections/memory.py): the writer is
then given those rows as its `base`, reads from them instead of the database, and `flush()`
merges the batch into them. Such a writer has no connection for handlers (`conn` refuses).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, and_, bindparam, case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from projections.memory import MemoryRows

Key = tuple[Any, ...]


class NeedsConnection(RuntimeError):
    """A handler asked a build held in memory for a connection, which it does not have."""


class Writer:
    def __init__(self, conn: Connection | None, tables: dict[str, Table], base: MemoryRows | None = None) -> None:
        if conn is None and base is None:
            raise ValueError("a writer needs a connection or the rows of a build in memory")
        self._conn = conn
        self._base = base
        self._tables = tables
        # Lives for one batch: handlers keep lookups here (the time zone, say).
        self.cache: dict[str, Any] = {}
        self._rows: dict[str, dict[Key, dict[str, Any] | None]] = {}
        self._changed: dict[str, dict[Key, str]] = {}  # "new", "dirty", "deleted" or "replaced"
        self._columns: dict[str, dict[Key, set[str]]] = {}  # of dirty rows: the columns changed
        self._appended: dict[str, list[dict[str, Any]]] = {}
        self._counters: dict[str, dict[Key, dict[str, Any]]] = {}
        self._latest: dict[str, set[str]] = {}
        self._loaded: set[tuple[str, tuple[tuple[str, Any], ...]]] = set()

    def __getattr__(self, name: str) -> Table:
        """This version's tables by their logical names without `rm_` (`w.customers`)."""
        try:
            return self._tables["rm_" + name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            raise NeedsConnection("a build held in memory has no connection for handlers: use select_by and get")
        self.flush()
        return self._conn

    @property
    def _sql(self) -> Connection:
        assert self._conn is not None
        return self._conn

    # ---- rows by primary key -------------------------------------------------------------------

    @staticmethod
    def _key_of(table: Table, row: Any) -> Key:
        return tuple(row[name] for name in _shape(table)[2])

    def get(self, table: Table, *key: Any) -> dict[str, Any] | None:
        """The row with this primary key as the batch has it so far (None: no such row)."""
        rows = self._rows.setdefault(table.name, {})
        if key not in rows:
            if self._base is not None:
                held = self._base.get(table.name, key)
                rows[key] = dict(held) if held is not None else None
                return rows[key]
            condition = and_(*(c == v for c, v in zip(table.primary_key.columns, key, strict=True)))
            found = self._sql.execute(select(table).where(condition)).mappings().first()
            rows[key] = dict(found) if found is not None else None
        return rows[key]

    def preload(self, table: Table, keys: list[Key]) -> None:
        """Read many rows by primary key at once (single-column keys), ahead of the handlers."""
        if self._base is not None:
            return  # in memory: `get` finds them without a query
        rows = self._rows.setdefault(table.name, {})
        wanted = list({k for k in keys if k not in rows})
        [column] = table.primary_key.columns
        for start in range(0, len(wanted), 500):
            chunk = [k[0] for k in wanted[start:start + 500]]
            for found in self._sql.execute(select(table).where(column.in_(chunk))).mappings():
                rows[(found[column.name],)] = dict(found)
            for k in wanted[start:start + 500]:
                rows.setdefault(k, None)

    def preload_where(self, table: Table, column: str, values: list[Any]) -> None:
        """Read the rows whose `column` is one of `values`, so `select_by(table, column=v)`
        and `get` on them need no query of their own."""
        if self._base is not None:
            return
        rows = self._rows.setdefault(table.name, {})
        wanted = [v for v in values if (table.name, ((column, v),)) not in self._loaded]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            for found in self._sql.execute(select(table).where(table.c[column].in_(chunk))).mappings():
                rows.setdefault(self._key_of(table, found), dict(found))
            self._loaded.update((table.name, ((column, v),)) for v in chunk)

    def select_by(self, table: Table, **where: Any) -> list[dict[str, Any]]:
        """The rows whose columns equal the given values, as the batch has them so far (rows
        added in the batch included, removed ones left out), in primary-key order; every row
        when no values are given."""
        rows = self._rows.setdefault(table.name, {})
        asked = (table.name, tuple(sorted(where.items())))
        if asked not in self._loaded:
            if self._base is not None:
                for key, held in self._base.matching(table.name, where):
                    if key not in rows:
                        rows[key] = dict(held)
            else:
                query = select(table)
                if where:
                    query = query.where(and_(*(table.c[name] == value for name, value in where.items())))
                for found in self._sql.execute(query).mappings():
                    rows.setdefault(self._key_of(table, found), dict(found))
            self._loaded.add(asked)
        matching = [(k, r) for k, r in rows.items() if r is not None and all(r[n] == v for n, v in where.items())]
        return [r for _, r in sorted(matching, key=lambda item: tuple(str(part) for part in item[0]))]

    def put(self, table: Table, **row: Any) -> None:
        """A row with this primary key, whole: new, or replacing one the batch has seen
        (stored, changed or removed)."""
        full = _full_row(table, row)
        key = self._key_of(table, full)
        rows = self._rows.setdefault(table.name, {})
        changed = self._changed.setdefault(table.name, {})
        before = changed.get(key)
        if key not in rows and self._base is not None:
            # In memory every stored row is at hand, as the preloads make it for the database.
            known = self._base.get(table.name, key) is not None
        else:
            known = rows.get(key) is not None and before != "new"
        rows[key] = full
        changed[key] = "replaced" if before in ("deleted", "replaced", "dirty") or known else "new"

    def set(self, table: Table, key: Key, **values: Any) -> dict[str, Any] | None:
        """Change columns of an existing row; a missing row is left missing."""
        row = self.get(table, *key)
        if row is None:
            return None
        unknown = set(values) - set(row)
        if unknown:
            raise KeyError(f"{table.name} has no column {sorted(unknown)[0]}")
        row.update(values)
        changed = self._changed.setdefault(table.name, {})
        if changed.get(key) not in ("new", "replaced"):
            changed[key] = "dirty"
            self._columns.setdefault(table.name, {}).setdefault(key, set()).update(values)
        return row

    def remove(self, table: Table, *key: Any) -> None:
        if self.get(table, *key) is None:
            return
        self._rows[table.name][key] = None
        changed = self._changed.setdefault(table.name, {})
        if changed.get(key) == "new":
            del changed[key]
        else:
            changed[key] = "deleted"

    # ---- appended rows and counters -----------------------------------------------------------

    def append(self, table: Table, **row: Any) -> None:
        self._appended.setdefault(table.name, []).append(_full_row(table, row))

    def add(self, table: Table, key: dict[str, Any], latest: dict[str, Any] | None = None, **amounts: Any) -> None:
        key_tuple = self._key_of(table, key)
        rows = self._counters.setdefault(table.name, {})
        row = rows.get(key_tuple)
        if row is None:
            row = rows[key_tuple] = {**key, **{c.name: 0 for c in table.columns if c.name not in key}}
        for name, amount in amounts.items():
            row[name] += amount
        for name, value in (latest or {}).items():
            self._latest.setdefault(table.name, set()).add(name)
            if row[name] in (0, None) or value > row[name]:
                row[name] = value

    # ---- writing ----------------------------------------------------------------------------------

    def flush(self) -> None:
        if self._base is not None:
            self._merge(self._base)
            return
        conn = self._sql
        for table_name, changed in self._changed.items():
            table = self._table(table_name)
            pk = list(table.primary_key.columns)
            gone = [k for k, state in changed.items() if state in ("deleted", "replaced")]
            if gone:
                where = and_(*(c == bindparam(f"k_{c.name}") for c in pk))
                conn.execute(delete(table).where(where), [_keyed(pk, k) for k in gone])
            rows = self._rows[table_name]
            fresh = [row for k, state in changed.items() if state in ("new", "replaced") and (row := rows[k])]
            if fresh:
                conn.execute(table.insert(), fresh)
            self._update(table, [(k, rows[k]) for k, state in changed.items() if state == "dirty"])
        self._changed.clear()
        self._columns.clear()
        for table_name, appended in self._appended.items():
            if appended:
                conn.execute(self._table(table_name).insert(), appended)
        self._appended.clear()
        for table_name, counters in self._counters.items():
            if counters:
                self._upsert(self._table(table_name), list(counters.values()))
        self._counters.clear()

    def _merge(self, base: MemoryRows) -> None:
        """The batch's changes into the build's rows in memory. The identity map starts again
        empty, so that nothing the batch still holds is shared with them."""
        for table_name, changed in self._changed.items():
            rows = self._rows[table_name]
            for key, state in changed.items():
                row = rows[key]
                if state == "deleted" or row is None:
                    base.remove(table_name, key)
                else:
                    base.put(table_name, key, row)
        for table_name, appended in self._appended.items():
            if appended:
                base.append(table_name, appended)
        for table_name, counters in self._counters.items():
            if counters:
                base.add(table_name, counters, self._latest.get(table_name, set()),
                         _shape(self._table(table_name))[2])
        self._changed.clear()
        self._columns.clear()
        self._appended = {}
        self._counters = {}
        self._rows.clear()
        self._loaded.clear()

    def _update(self, table: Table, dirty: list[tuple[Key, dict[str, Any] | None]]) -> None:
        """Write the changed columns only: one executemany per set of columns changed."""
        pk = list(table.primary_key.columns)
        groups: dict[frozenset[str], list[dict[str, Any]]] = {}
        changed_columns = self._columns.get(table.name, {})
        for key, row in dirty:
            if row is None:
                continue
            columns = frozenset(changed_columns.get(key, set()))
            groups.setdefault(columns, []).append(
                {**{f"k_{c.name}": row[c.name] for c in pk}, **{f"v_{name}": row[name] for name in columns}})
        for columns, params in groups.items():
            if not columns:
                continue
            statement = (update(table).where(and_(*(c == bindparam(f"k_{c.name}") for c in pk)))
                         .values({name: bindparam(f"v_{name}") for name in sorted(columns)}))
            self._sql.execute(statement, params)

    def _insert(self, table: Table) -> Any:
        return (postgresql.insert if self._sql.dialect.name == "postgresql" else sqlite.insert)(table)

    def _upsert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        insert = self._insert(table)
        latest = self._latest.get(table.name, set())
        changes: dict[str, Any] = {}
        for column in table.columns:
            if column.primary_key:
                continue
            if column.name in latest:
                changes[column.name] = case((insert.excluded[column.name] > table.c[column.name],
                                             insert.excluded[column.name]), else_=table.c[column.name])
            else:
                changes[column.name] = table.c[column.name] + insert.excluded[column.name]
        statement = insert.on_conflict_do_update(index_elements=[c.name for c in table.primary_key.columns],
                                                 set_=changes)
        self._sql.execute(statement, rows)

    def _table(self, name: str) -> Table:
        for table in self._tables.values():
            if table.name == name:
                return table
        raise KeyError(name)


# Per table, read once: its column names with their defaults, the set of the names, and the
# names of its primary key.
Shape = tuple[tuple[tuple[str, Any], ...], frozenset[str], tuple[str, ...]]
_SHAPES: dict[Table, Shape] = {}


def _shape(table: Table) -> Shape:
    shape = _SHAPES.get(table)
    if shape is None:
        columns = tuple((c.name, _default(c)) for c in table.columns)
        shape = _SHAPES[table] = (columns, frozenset(name for name, _ in columns),
                                  tuple(c.name for c in table.primary_key.columns))
    return shape


def _full_row(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    columns, names, _ = _shape(table)
    if not names.issuperset(row):
        raise KeyError(f"{table.name} has no column {sorted(set(row) - names)[0]}")
    return {name: row.get(name, default) for name, default in columns}


def _default(column: Any) -> Any:
    default = column.default
    return default.arg if default is not None and default.is_scalar else None


def _keyed(pk: list[Any], key: Key) -> dict[str, Any]:
    return {f"k_{c.name}": value for c, value in zip(pk, key, strict=True)}
