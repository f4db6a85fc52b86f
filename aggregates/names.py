"""Customer name normalisation (C-2) and the index aggregate that keeps names unique."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import ClassVar
from uuid import UUID

import regex
from confusable_homoglyphs import confusables

from aggregates import bounds
from aggregates.base import Conflict, Context, CrmAggregate, derived_id

_SPACES = re.compile(r"\s+")
# Code points that render as nothing (zero-width space and joiners, BOM, soft hyphen, variation
# selectors, bidi controls, the Hangul filler, ...): Unicode's Default_Ignorable_Code_Point.
_INVISIBLE = regex.compile(r"\p{Default_Ignorable_Code_Point}")
# Blank-looking characters that are not white space to Unicode: read as a space.
_BLANKS = str.maketrans({"\u2800": " "})


def _visible(name: str) -> str:
    visible: str = _INVISIBLE.sub("", name)  # the regex package ships no type hints
    return visible.translate(_BLANKS)


def normalise_name(name: str) -> str:
    """Invisible code points removed, full-width to half-width (NFKC), case-folded, white
    space collapsed and trimmed: two names with the same key are the same name."""
    folded = unicodedata.normalize("NFKC", _visible(name)).casefold()
    return _SPACES.sub(" ", folded).strip()


def clean_name(name: str) -> str:
    """The display form: invisible code points removed, NFKC, trimmed, inner white space
    collapsed, case kept."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", _visible(name))).strip()


# Built once, at import: mutmut's workers are forked after that and never run it again, so its
# mutants could not be killed; the tests check the skeletons it yields (docs/testing.md).
def _prototypes() -> dict[str, str]:  # pragma: no mutate block
    """Each confusable character's prototype (UTS #39 confusables.txt, as the
    confusable-homoglyphs package ships it). The package lists, for a source character, its
    prototype, and for a prototype, its sources; a pair that lists only each other gets the
    smaller of the two, so both sides still map to one character."""
    data = confusables.confusables_data
    mapping: dict[str, str] = {}
    for char, entries in data.items():
        if len(char) != 1 or len(entries) != 1:
            continue  # several entries: a prototype, which stands for itself
        target = entries[0]["c"].replace("\u200e", "")  # the package marks right-to-left text
        back = data.get(target, [])
        if len(target) == 1 and len(back) == 1 and back[0]["c"].replace("\u200e", "") == char:
            target = min(char, target)
        if target != char:
            mapping[char] = target
    return mapping


_PROTOTYPES = _prototypes()


def skeleton(name: str) -> str:
    """UTS #39's skeleton of the normalised name: decomposed, each character replaced by its
    confusable prototype, decomposed and case-folded again. Names that look alike (Latin "e"
    and Cyrillic "е", "0" and "O") have the same skeleton."""
    decomposed = unicodedata.normalize("NFD", normalise_name(name))
    mapped = "".join(_PROTOTYPES.get(ch, ch) for ch in decomposed)
    return unicodedata.normalize("NFD", mapped).casefold()


def skeleton_key(name: str) -> str:
    """A fixed-length key of the skeleton, for an index column."""
    return hashlib.sha1(skeleton(name).encode(), usedforsecurity=False).hexdigest()


class CustomerName(CrmAggregate):
    """One per normalised name; saved together with the customer that takes the name,
    so two registrations of one name can never both commit."""

    TEXT_LIMITS: ClassVar[dict[str, int]] = {"key": bounds.CUSTOMER_NAME}

    customer_id: str | None
    number: str | None

    @staticmethod
    def id_for(name: str) -> UUID:
        return derived_id("customer-name", normalise_name(name))

    def __init__(self) -> None:
        """Empty: the Created event's apply() sets the state."""

    class Reserved(CrmAggregate.Created):
        key: str
        customer_id: str
        number: str

        def apply(self, aggregate: CustomerName) -> None:
            aggregate.customer_id = self.customer_id
            aggregate.number = self.number

    class Retaken(CrmAggregate.Event):
        customer_id: str
        number: str

        def apply(self, aggregate: CustomerName) -> None:
            aggregate.customer_id = self.customer_id
            aggregate.number = self.number

    class Freed(CrmAggregate.Event):
        def apply(self, aggregate: CustomerName) -> None:
            aggregate.customer_id = None
            aggregate.number = None

    @classmethod
    def reserve(cls, ctx: Context, name: str, customer_id: str, number: str) -> CustomerName:
        key = normalise_name(name)
        return cls._create_by(
            ctx, cls.Reserved, id=cls.id_for(name), key=key, customer_id=customer_id, number=number
        )

    def retake(self, ctx: Context, customer_id: str, number: str) -> None:
        if self.customer_id is not None and self.customer_id != customer_id:
            raise duplicate_name(self.number)
        self._record(ctx, self.Retaken, customer_id=customer_id, number=number)

    def free(self, ctx: Context) -> None:
        if self.customer_id is not None:
            self._record(ctx, self.Freed)


class NameSkeleton(CustomerName):
    """One per confusable skeleton (UTS #39) of the names taken: saved with the customer like
    the name's own reservation, so two names that only look alike cannot both commit."""

    @staticmethod
    def id_for(name: str) -> UUID:
        return derived_id("customer-name-skeleton", skeleton(name))

    @classmethod
    def reserve(cls, ctx: Context, name: str, customer_id: str, number: str) -> CustomerName:
        return cls._create_by(ctx, cls.Reserved, id=cls.id_for(name), key=skeleton_key(name),
                              customer_id=customer_id, number=number)

    def retake(self, ctx: Context, customer_id: str, number: str) -> None:
        if self.customer_id is not None and self.customer_id != customer_id:
            raise duplicate_name(self.number, confusable=True)
        self._record(ctx, self.Retaken, customer_id=customer_id, number=number)


def duplicate_name(number: str | None, confusable: bool = False) -> Conflict:
    if confusable:
        return Conflict("duplicate_name", "a customer with a name that looks the same exists already: {number}",
                        field="name", details={"number": number, "reason": "confusable"}, number=number)
    return Conflict(
        "duplicate_name",
        "a customer with this name exists already: {number}",
        field="name",
        details={"number": number}, number=number,
    )
