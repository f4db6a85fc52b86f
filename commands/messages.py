"""Every command the service takes, as a frozen dataclass: what the caller asks for, nothing
about who asks (the actor) or how it is carried out (the handler in `commands.handlers`).

The API builds these from request bodies, the CLI and the demo from their arguments, the
approvals from a stored request (`Approvable`): one command type, one handler.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, TypeVar
from uuid import uuid4

A = TypeVar("A", bound="Approvable")

# Every approvable command by the kind its requests are stored under; each subclass of
# `Approvable` enters itself (a stored kind names one command type for good).
APPROVABLE: dict[str, type[Approvable]] = {}

# Set when an approval runs the command: who approved it and when it was asked for (AP-2).
_DECIDED_LATER = ("approved_by", "requested_at")


@dataclass(frozen=True)
class Command:
    """The base of every command."""


@dataclass(frozen=True)
class Approvable(Command):
    """A command the approval policy may hold back (AP-1, AP-2). An approval request stores
    the command's `KIND` and its fields as plain values (`payload`); on approval the command
    is made again from them (`from_payload`) with `approved_by` and `requested_at` set."""

    KIND: ClassVar[str]
    TARGET: ClassVar[str]  # the field naming the record the request is about

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        assert cls.KIND not in APPROVABLE, f"two commands stored as {cls.KIND}"
        APPROVABLE[cls.KIND] = cls

    def payload(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name), top=True) for f in fields(self)
                if f.name not in _DECIDED_LATER}

    @classmethod
    def from_payload(cls: type[A], payload: dict[str, Any]) -> A:
        hints = typing.get_type_hints(cls)
        values = {f.name: _typed(hints[f.name], payload[f.name]) for f in fields(cls) if f.name in payload}
        return cls(**values)

    def summary(self) -> str:
        """What the approver reads in the inbox."""
        raise NotImplementedError

    def subject_id(self) -> str:
        """The id of the record the request is about (the approval's `target_id`)."""
        return str(getattr(self, self.TARGET))


def _plain(value: Any, top: bool = False) -> Any:
    """JSON-safe values; a Decimal at the top stays one (the store encodes it), one nested in
    a mapping becomes a string, as requests have always been stored."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal) and not top:
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _typed(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    kinds = typing.get_args(hint) or (hint,)
    if datetime in kinds and isinstance(value, str):
        return datetime.fromisoformat(value)
    if date in kinds and isinstance(value, str):
        return date.fromisoformat(value)
    if Decimal in kinds:
        return Decimal(str(value))
    return value


# ---- customers (C-1..C-13) --------------------------------------------------------------

@dataclass(frozen=True)
class RegisterCustomer(Command):
    name: str
    type: str | None = None
    source: str | None = None
    region: str | None = None
    address: str | None = None
    building: str | None = None
    lat: float | None = None
    lng: float | None = None
    stage: str | None = None
    contacts: list[dict[str, Any]] = field(default_factory=list)
    share_with: list[str] = field(default_factory=list)
    to_pool: bool = False
    created_at: datetime | None = None


@dataclass(frozen=True)
class ChangeCustomerInfo(Approvable):
    KIND: ClassVar[str] = "customer_info_change"
    TARGET: ClassVar[str] = "customer_id"

    customer_id: str
    changes: dict[str, Any]
    reason: str = ""
    approved_by: str | None = None
    requested_at: datetime | None = None

    def summary(self) -> str:
        return "、".join(self.changes) + (f"（{self.reason}）" if self.reason else "")


@dataclass(frozen=True)
class RestoreCustomer(Command):
    customer_id: str
    version: int
    reason: str = ""


@dataclass(frozen=True)
class AddContact(Command):
    customer_id: str
    contact: dict[str, Any]


@dataclass(frozen=True)
class EditContact(Command):
    customer_id: str
    contact_id: str
    changes: dict[str, Any]


@dataclass(frozen=True)
class RemoveContact(Command):
    customer_id: str
    contact_id: str


@dataclass(frozen=True)
class ChangeShares(Command):
    customer_id: str
    add: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ClaimCustomer(Command):
    customer_id: str


@dataclass(frozen=True)
class ReturnToPool(Command):
    customer_id: str
    reason: str
    note: str = ""


@dataclass(frozen=True)
class TransferCustomer(Command):
    customer_id: str
    to_person_id: str
    reason: str = ""


@dataclass(frozen=True)
class AssignCustomer(Command):
    customer_id: str
    to_person_id: str


@dataclass(frozen=True)
class DeleteCustomer(Command):
    customer_id: str


@dataclass(frozen=True)
class RecordVisit(Command):
    customer_id: str
    visited_at: datetime | None = None
    lat: float | None = None
    lng: float | None = None
    address: str | None = None
    contact: str | None = None
    stage: str | None = None
    notes: str | None = None
    photo: bytes | None = None


@dataclass(frozen=True)
class ChangeLogo(Command):
    customer_id: str
    photo: bytes


@dataclass(frozen=True)
class SweepPool(Command):
    """A-1..A-4 as of `now` (the clock's time when not given)."""

    now: datetime | None = None


@dataclass(frozen=True)
class ImportCustomers(Command):
    data: bytes
    filename: str
    dry_run: bool = False


# ---- deals, products, stock (D-1..D-4, G-1..G-7) ----------------------------------------

@dataclass(frozen=True)
class SignContract(Command):
    customer_id: str
    number: str
    name: str
    signed_on: date | None = None
    amount: Decimal | None = None
    lines: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class InvoiceContract(Command):
    contract_id: str
    amount: Decimal
    invoiced_on: date | None = None


@dataclass(frozen=True)
class RecordPayment(Command):
    customer_id: str
    amount: Decimal
    contract_id: str | None = None
    received_on: date | None = None


@dataclass(frozen=True)
class CreateProduct(Command):
    name: str
    spec: str | None = None
    unit: str | None = None


@dataclass(frozen=True)
class ChangeProduct(Command):
    product_id: str
    changes: dict[str, Any]


@dataclass(frozen=True)
class ChangePrice(Approvable):
    KIND: ClassVar[str] = "price_change"
    TARGET: ClassVar[str] = "product_id"

    product_id: str
    price: Decimal
    reason: str = ""
    approved_by: str | None = None
    requested_at: datetime | None = None

    def summary(self) -> str:
        return f"{self.price}（{self.reason}）"


@dataclass(frozen=True)
class StockIn(Command):
    product_id: str
    warehouse: str
    quantity: Decimal
    cost: Decimal
    received_on: date | None = None


@dataclass(frozen=True)
class Deliver(Command):
    contract_id: str
    lines: list[dict[str, Any]]
    delivered_on: date | None = None
    request_id: str | None = None  # the salesperson's delivery request it carries out


@dataclass(frozen=True)
class ReturnGoods(Command):
    contract_id: str
    delivery_id: str
    lines: list[dict[str, Any]]
    returned_on: date | None = None
    request_id: str | None = None  # the salesperson's return request it carries out


@dataclass(frozen=True)
class ExchangeGoods(Command):
    contract_id: str
    delivery_id: str
    lines: list[dict[str, Any]]
    exchanged_on: date | None = None
    request_id: str | None = None  # the salesperson's exchange request it carries out


@dataclass(frozen=True)
class ReportProblem(Command):
    customer_id: str
    kind: str
    description: str
    responsible_id: str


@dataclass(frozen=True)
class ResolveProblem(Command):
    problem_id: str
    resolution: str


# ---- targets and work reports (T-1..T-3, W-1) -------------------------------------------

@dataclass(frozen=True)
class SetTarget(Approvable):
    KIND: ClassVar[str] = "target"
    TARGET: ClassVar[str] = "target_id"

    person_id: str
    period: str
    start: date
    end: date
    figures: dict[str, Any] = field(default_factory=dict)
    target_id: str = field(default_factory=lambda: str(uuid4()))
    approved_by: str | None = None
    requested_at: datetime | None = None

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> SetTarget:
        made = super().from_payload(payload)
        figures = {k: (Decimal(v) if k in ("deal_amount", "collected_amount") and v is not None else v)
                   for k, v in made.figures.items()}
        return cls(**{**{f.name: getattr(made, f.name) for f in fields(made)}, "figures": figures})

    def summary(self) -> str:
        return f"{self.period} 指标"


@dataclass(frozen=True)
class ReviseTarget(Command):
    target_id: str
    changes: dict[str, Any]


@dataclass(frozen=True)
class CancelTarget(Command):
    target_id: str
    reason: str = ""


@dataclass(frozen=True)
class SubmitWorkReport(Command):
    kind: str
    day: date
    summary: str = ""
    plan: str = ""


# ---- people, departments, settings (P-1..P-4) -------------------------------------------

@dataclass(frozen=True)
class CreateDepartment(Command):
    name: str
    parent_id: str | None = None
    manager_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ChangeDepartment(Command):
    department_id: str
    changes: dict[str, Any]


@dataclass(frozen=True)
class CreatePerson(Command):
    name: str
    username: str
    password: str
    roles: list[str]
    department_id: str | None = None
    position: str | None = None
    mobile: str | None = None
    gender: str | None = None
    max_customers: int | None = None
    max_follow_days: int | None = None


@dataclass(frozen=True)
class ChangePerson(Command):
    person_id: str
    changes: dict[str, Any]


@dataclass(frozen=True)
class ChangeSettings(Command):
    rules: dict[str, Any]
    dictionaries: dict[str, Any]


# ---- approvals (AP-1, AP-2) -------------------------------------------------------------

@dataclass(frozen=True)
class ApproveRequest(Command):
    approval_id: str
    comment: str = ""


@dataclass(frozen=True)
class RejectRequest(Command):
    approval_id: str
    comment: str = ""


@dataclass(frozen=True)
class WithdrawRequest(Command):
    approval_id: str
    comment: str = ""

