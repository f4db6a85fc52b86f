"""Search by grams: the words a customer is found by, cut into the characters and the pairs
of neighbouring characters they hold, so that PostgreSQL answers "contains" from an inverted
(GIN) index instead of scanning every name and contact.

The grams only narrow the rows down; the LIKE of `readmodels.customers.like_pattern` still
decides, so a search finds exactly what a scan finds. For that the grams of a text hold every
pair that can appear in the database's `lower()` of it: those of the text itself, of its
Python lower case, of its lower case character by character (which is what PostgreSQL's
`lower()` does: 'İ' → 'i'), and of its NFKC case fold (what the pattern is made from). On
SQLite (the embedded store, a few thousand customers) the column is left empty and the search
scans.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


def _forms(text: str) -> set[str]:
    return {text, text.lower(), "".join(c.lower()[:1] or c for c in text),
            unicodedata.normalize("NFKC", text).casefold()}


def grams_of(texts: Iterable[str | None]) -> list[str]:
    """Every character and pair of neighbouring characters of the texts, in every form a
    search compares them in, sorted (so that an unchanged text writes the same value)."""
    found: set[str] = set()
    for text in texts:
        if not text:
            continue
        for form in _forms(text):
            found.update(form)
            found.update(form[i:i + 2] for i in range(len(form) - 1))
    return sorted(found)


def word_grams(normal: str) -> list[str]:
    """The grams a text holding `normal` (a pattern's NFKC case fold) must hold: the word
    itself when it is one character, else its pairs. None for the empty word (it is in every
    text)."""
    if len(normal) <= 1:
        return [normal] if normal else []
    return sorted({normal[i:i + 2] for i in range(len(normal) - 1)})


class Grams(TypeDecorator[list[str]]):
    """A text array on PostgreSQL (with a GIN index beside it); nothing on other databases."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.ARRAY(Text))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            return list(value) if value is not None else None
        return None

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None or isinstance(value, list):
            return value
        return json.loads(value)
