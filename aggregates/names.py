"""Customer name normalisation (C-2) and the index aggregate that keeps names unique."""

from __future__ import annotations

import re
import unicodedata
from uuid import UUID

from aggregates.base import Conflict, Context, CrmAggregate, derived_id

_SPACES = re.compile(r"\s+")


def normalise_name(name: str) -> str:
    """Trim, full-width to half-width (NFKC), case-fold, collapse white space."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return _SPACES.sub(" ", folded).strip()


def clean_name(name: str) -> str:
    """The display form: NFKC, trimmed, inner white space collapsed, case kept."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", name)).strip()


class CustomerName(CrmAggregate):
    """One per normalised name; saved together with the customer that takes the name,
    so two registrations of one name can never both commit."""

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


def duplicate_name(number: str | None) -> Conflict:
    return Conflict(
        "duplicate_name",
        f"a customer with this name exists already: {number}",
        field="name",
        details={"number": number},
    )
