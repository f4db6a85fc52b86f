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
from typing import Any, ClassVar, Protocol, TypeVar
from uuid import UUID, uuid4

from aggregates.contacts import EDITABLE
from aggregates.customer import Customer
from aggregates.customer_fields import INFO_FIELDS
from aggregates.product import Product
from aggregates.target import SalesTarget, TargetCalendar

A = TypeVar("A", bound="Approvable")
T = TypeVar("T")

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
    is made again from them (`from_payload`) with `approved_by` and `requested_at` set. The
    request also keeps the state it was made against (`base`), which must still hold when it
    is approved; `POLICY` names the `approval_required` kind that governs the command."""

    KIND: ClassVar[str]
    TARGET: ClassVar[str]  # the field naming the record the request is about
    # The `approval_required` kind that governs it (AP-1): its own KIND unless it says otherwise
    # (contact and share edits follow the info-change policy, seed 000 §5.1.6).
    POLICY: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        assert cls.KIND not in APPROVABLE, f"two commands stored as {cls.KIND}"
        if "POLICY" not in cls.__dict__:
            cls.POLICY = cls.KIND
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

    def base(self, store: Finder) -> dict[str, Any] | None:
        """The state the request is made against (AP-2): the present values of what the
        command changes, as plain values. It is read when the request is filed and again at
        approval; approving is refused (`stale_request`) when the two differ. None: nothing
        to compare (the command's own checks at approval time decide alone)."""
        return None


class Finder(Protocol):
    """What a request's base is read from: the event store."""

    def find(self, aggregate_id: UUID, kind: type[T]) -> T | None: ...


def _found(store: Finder, aggregate_id: str, kind: type[T]) -> T | None:
    try:
        return store.find(UUID(str(aggregate_id)), kind)
    except ValueError:
        return None


def _plain_values(values: dict[str, Any]) -> dict[str, Any]:
    """A base as the store keeps it: plain values (decimals as text, dates in ISO)."""
    return {key: _plain(value) for key, value in values.items()}


def _contact_of(store: Finder, customer_id: str, contact_id: str) -> dict[str, Any] | None:
    customer = _found(store, customer_id, Customer)
    return next((c for c in customer.contacts if c["id"] == contact_id), None) if customer else None


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

    def base(self, store: Finder) -> dict[str, Any] | None:
        """The customer's present values of the fields it changes (a visit or a payment
        touches none of them, so it does not make the request stale)."""
        customer = _found(store, self.customer_id, Customer)
        if customer is None:
            return None
        return _plain_values({name: getattr(customer, name) for name in self.changes if name in INFO_FIELDS})


@dataclass(frozen=True)
class RestoreCustomer(Command):
    customer_id: str
    version: int
    reason: str = ""


@dataclass(frozen=True)
class AddContact(Approvable):
    """C-9; by an owner under the info-change policy (seed 000 §5.1.6)."""

    KIND: ClassVar[str] = "contact_add"
    POLICY: ClassVar[str] = "customer_info_change"
    TARGET: ClassVar[str] = "customer_id"

    customer_id: str
    contact: dict[str, Any]

    def summary(self) -> str:
        return f"新增联系人 {self.contact.get('name') or ''}".strip()


@dataclass(frozen=True)
class EditContact(Approvable):
    """C-9; by an owner under the info-change policy (seed 000 §5.1.6)."""

    KIND: ClassVar[str] = "contact_change"
    POLICY: ClassVar[str] = "customer_info_change"
    TARGET: ClassVar[str] = "customer_id"

    customer_id: str
    contact_id: str
    changes: dict[str, Any]

    def summary(self) -> str:
        return "联系人变更：" + "、".join(self.changes)

    def base(self, store: Finder) -> dict[str, Any] | None:
        """The contact's present values of the fields it changes."""
        contact = _contact_of(store, self.customer_id, self.contact_id)
        if contact is None:
            return None
        return _plain_values({name: contact.get(name) for name in self.changes if name in EDITABLE})


@dataclass(frozen=True)
class RemoveContact(Approvable):
    """C-9; by an owner under the info-change policy (seed 000 §5.1.6)."""

    KIND: ClassVar[str] = "contact_remove"
    POLICY: ClassVar[str] = "customer_info_change"
    TARGET: ClassVar[str] = "customer_id"

    customer_id: str
    contact_id: str

    def summary(self) -> str:
        return "删除联系人"

    def base(self, store: Finder) -> dict[str, Any] | None:
        """The contact as it is (whether it is primary moves with the others: left out)."""
        contact = _contact_of(store, self.customer_id, self.contact_id)
        if contact is None:
            return None
        return _plain_values({name: contact.get(name) for name in EDITABLE if name != "primary"})


@dataclass(frozen=True)
class ChangeShares(Approvable):
    """C-4: people to share with or unshare from; seed 002 §2.2.5: whole departments too."""

    customer_id: str
    add: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    add_departments: list[str] = field(default_factory=list)
    remove_departments: list[str] = field(default_factory=list)

    # By an owner under the info-change policy (seed 000 §5.1.6); the command's own checks at
    # approval time (no_change, the owner) are its guard, so no base.
    KIND: ClassVar[str] = "share_change"
    POLICY: ClassVar[str] = "customer_info_change"
    TARGET: ClassVar[str] = "customer_id"

    def summary(self) -> str:
        parts = [f"{word}{len(ids)}{unit}" for word, ids, unit in (
            ("共享给", self.add, "人"), ("取消共享", self.remove, "人"),
            ("共享给", self.add_departments, "个部门"), ("取消共享", self.remove_departments, "个部门")) if ids]
        return "共享范围变更：" + "，".join(parts)


@dataclass(frozen=True)
class ClaimCustomer(Approvable):
    """C-5; under the `claim` policy a request, decided by the claim's own checks when
    approved (someone else claimed it meanwhile: the claim's own refusal)."""

    KIND: ClassVar[str] = "claim"
    TARGET: ClassVar[str] = "customer_id"

    customer_id: str

    def summary(self) -> str:
        return "领取公海客户"


@dataclass(frozen=True)
class ReturnToPool(Command):
    customer_id: str
    reason: str
    note: str = ""


@dataclass(frozen=True)
class TransferCustomer(Approvable):
    """C-7; under the `transfer` policy a request, decided by the transfer's own checks when
    approved (the requester still the owner, the receiver's cap)."""

    KIND: ClassVar[str] = "transfer"
    TARGET: ClassVar[str] = "customer_id"

    customer_id: str
    to_person_id: str
    reason: str = ""

    def summary(self) -> str:
        return "转交客户" + (f"（{self.reason}）" if self.reason else "")


@dataclass(frozen=True)
class AssignCustomer(Command):
    customer_id: str
    to_person_id: str


@dataclass(frozen=True)
class DeleteCustomer(Command):
    customer_id: str


# Batches (seed 002: 全选, the selected rows at once): each customer's own command runs through
# `handle` on its own, so one customer's refusal (or approval) leaves the others as they go.

@dataclass(frozen=True)
class ClaimCustomers(Command):
    """C-5, P-3 for each customer in turn."""

    customer_ids: list[str]


@dataclass(frozen=True)
class ReturnCustomersToPool(Command):
    """C-6 for each customer: `released` by the owner, `recalled` by a manager."""

    customer_ids: list[str]
    reason: str
    note: str = ""


@dataclass(frozen=True)
class TransferCustomers(Command):
    """C-7 for each customer: the owner or a manager hands it to one colleague."""

    customer_ids: list[str]
    to_person_id: str
    reason: str = ""


@dataclass(frozen=True)
class ShareCustomers(Command):
    """C-4, seed 002 §2.2.5 i: the same share change on each selected customer."""

    customer_ids: list[str]
    add: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    add_departments: list[str] = field(default_factory=list)
    remove_departments: list[str] = field(default_factory=list)


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
    region: str | None = None  # the customer's when not given (seed 000 §2)


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
class CreditInvoice(Command):
    """A red-letter invoice (红字发票) reversing part of what was invoiced."""

    contract_id: str
    amount: Decimal
    credited_on: date | None = None
    reason: str = ""


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

    def base(self, store: Finder) -> dict[str, Any] | None:
        """The product's present price."""
        product = _found(store, self.product_id, Product)
        return None if product is None else _plain_values({"price": product.price})


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


# The hand-off from sales to the warehouse (seed 000 §5.6.1–§5.6.3): requests that keepers
# carry out with Deliver, ReturnGoods and ExchangeGoods naming the request.

def _request_summary(word: str, lines: list[dict[str, Any]], note: str) -> str:
    text = f"{word} {len(lines)} 行" + (f"（{note}）" if note else "")
    return text[:500]


@dataclass(frozen=True)
class RequestDelivery(Command):
    """A delivery notice (发货通知): lines of product_id, quantity and, optionally, warehouse."""

    contract_id: str
    lines: list[dict[str, Any]]
    note: str = ""


@dataclass(frozen=True)
class RequestReturn(Approvable):
    """A return request against a delivery: lines of product_id, quantity, optional warehouse."""

    KIND: ClassVar[str] = "return"
    TARGET: ClassVar[str] = "contract_id"

    contract_id: str
    delivery_id: str
    lines: list[dict[str, Any]]
    note: str = ""
    approved_by: str | None = None
    requested_at: datetime | None = None

    def summary(self) -> str:
        return _request_summary("退货申请", self.lines, self.note)


@dataclass(frozen=True)
class RequestExchange(Approvable):
    """An exchange request against a delivery: lines as the exchange's (product_id, quantity,
    warehouse, from_warehouse, replacement_product_id, unit_price), the warehouses optional."""

    KIND: ClassVar[str] = "exchange"
    TARGET: ClassVar[str] = "contract_id"

    contract_id: str
    delivery_id: str
    lines: list[dict[str, Any]]
    note: str = ""
    approved_by: str | None = None
    requested_at: datetime | None = None

    def summary(self) -> str:
        return _request_summary("换货申请", self.lines, self.note)


@dataclass(frozen=True)
class CancelRequest(Command):
    """The requester or their manager calls off what a request has not had done yet."""

    request_id: str
    reason: str = ""


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

    def base(self, store: Finder) -> dict[str, Any] | None:
        """The target as it is (none, for a new one) and the person's targets whose periods
        share a day with the requested one (none, when it could be filed)."""
        target = _found(store, self.target_id, SalesTarget)
        calendar = _found(store, str(TargetCalendar.id_for(self.person_id)), TargetCalendar)
        start, end = str(self.start), str(self.end)
        overlapping = sorted(other for other, (s, e) in (calendar.periods if calendar else {}).items()
                             if other != self.target_id and s <= end and start <= e)
        state = None if target is None else {
            "version": target.version, "period": target.period, "start": target.start, "end": target.end,
            "figures": target.figures, "cancelled": target.cancelled}
        return _plain_values({"target": state, "overlapping": overlapping})


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

