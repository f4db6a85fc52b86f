"""Keyset paging for the lists: one ordering per list and sort, used both for the offset pages
(`page`) and for the keyset pages (`after`), so a walk by cursor meets the same rows in the
same order as a walk by page number.

An ordering is a sequence of keys ending in a unique one (an id or a number), so every row
has one place. NULLs come last in either direction on both databases (SQLite puts them first
when ascending, PostgreSQL when descending; `NULLS LAST` makes them agree), and only nullable
columns get the clause, so the indexes of the others still serve the order. A cursor holds the
keys' values of the last row shown; the rows after it are those the expanded condition below
selects, written out per key rather than as a row-value comparison, which cannot mix
directions or place NULLs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Float, Integer, String, Text, and_, false, or_
from sqlalchemy.sql import ColumnElement

from aggregates.base import Invalid
from readmodels.types import Scaled


@dataclass(frozen=True)
class Key:
    """One key of an ordering: the row key its value is read from, its column, its direction."""

    name: str
    column: Any
    descending: bool = False

    @property
    def nullable(self) -> bool:
        return bool(getattr(self.column, "nullable", True))


def invalid_cursor() -> Invalid:
    return Invalid("invalid_cursor", "the cursor is not one this list gave for this sort", field="after")


@dataclass(frozen=True)
class Keyset:
    keys: tuple[Key, ...]

    @classmethod
    def of(cls, *keys: Key) -> Keyset:
        # A key that repeats an earlier column (sorting by the tiebreaker itself) adds nothing.
        unique: list[Key] = []
        for key in keys:
            if all(k.name != key.name for k in unique):
                unique.append(key)
        return cls(tuple(unique))

    def order(self) -> list[Any]:
        clauses = []
        for key in self.keys:
            clause = key.column.desc() if key.descending else key.column.asc()
            clauses.append(clause.nulls_last() if key.nullable else clause)
        return clauses

    def values(self, row: Mapping[str, Any] | Any) -> list[Any]:
        """The keys' values of a row (a mapping or a result row), as JSON holds them."""
        mapping = getattr(row, "_mapping", row)
        return [_to_json(mapping[key.name]) for key in self.keys]

    def after(self, values: Sequence[Any]) -> ColumnElement[bool]:
        """The rows that come after the row with these keys' values (from `values`), in this order."""
        parsed = self.parse(values)
        alternatives: list[ColumnElement[bool]] = []
        equal: list[ColumnElement[bool]] = []
        for key, value in zip(self.keys, parsed, strict=True):
            column = key.column
            if value is None:
                beyond: ColumnElement[bool] = false()  # NULLs are last: only a later key can move on
                same = column.is_(None)
            else:
                beyond = column < value if key.descending else column > value
                if key.nullable:
                    beyond = or_(beyond, column.is_(None))
                same = column == value
            alternatives.append(and_(*equal, beyond) if equal else beyond)
            equal.append(same)
        return or_(*alternatives)

    def parse(self, values: Sequence[Any]) -> list[Any]:
        """The values of a cursor typed as the columns hold them; `invalid_cursor` when they do not fit."""
        if not isinstance(values, list) or len(values) != len(self.keys):
            raise invalid_cursor()
        parsed = [_from_json(key, value) for key, value in zip(self.keys, values, strict=True)]
        if parsed[-1] is None:  # the tiebreaker is never NULL
            raise invalid_cursor()
        return parsed


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)).isoformat()
    if isinstance(value, date | Decimal):
        return str(value)
    return value


def _from_json(key: Key, value: Any) -> Any:
    if value is None:
        if not key.nullable:
            raise invalid_cursor()
        return None
    kind = getattr(key.column, "type", None)
    try:
        if isinstance(kind, DateTime):
            moment = datetime.fromisoformat(_text(value))
            if moment.tzinfo is None:
                raise invalid_cursor()
            return moment.astimezone(UTC)
        if isinstance(kind, Date):
            return date.fromisoformat(_text(value))
        if isinstance(kind, Scaled):
            return Decimal(_text(value))
        if isinstance(kind, Boolean):
            if not isinstance(value, bool):
                raise invalid_cursor()
            return value
        if isinstance(kind, Integer):
            if not isinstance(value, int) or isinstance(value, bool):
                raise invalid_cursor()
            return value
        if isinstance(kind, Float):
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise invalid_cursor()
            return float(value)
        if isinstance(kind, String | Text):
            return _text(value)
    except (ValueError, InvalidOperation):
        raise invalid_cursor() from None
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 1000:
        raise invalid_cursor()
    return value


def page_of(rows: list[Any], page_size: int | None, keyset: Keyset) -> tuple[list[Any], list[Any] | None]:
    """The page out of `page_size + 1` rows read, and the keys of its last row when more follow."""
    if page_size is None or len(rows) <= page_size:
        return rows, None
    shown = rows[:page_size]
    return shown, keyset.values(shown[-1])
