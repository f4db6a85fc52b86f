"""Request and response models of the HTTP contract (API.md)."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from aggregates import bounds

T = TypeVar("T")

_ASCII_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)", re.ASCII)


def ascii_decimal(value: Any) -> Any:
    """Amounts are ASCII decimal strings (or JSON numbers): full-width or Arabic-Indic digits,
    exponents, NaN and infinities are refused, though Python's Decimal would read them."""
    if isinstance(value, str) and not _ASCII_DECIMAL.fullmatch(value):
        raise ValueError("must be a decimal number written with the digits 0-9")
    if isinstance(value, float) and value != value:
        raise ValueError("must be a finite decimal number")
    return value


def _in_business_range(value: date) -> date:
    as_date = value.date() if isinstance(value, datetime) else value
    if not bounds.DATE_MIN <= as_date <= bounds.DATE_MAX:
        raise ValueError(f"must lie between the years {bounds.DATE_MIN.year} and {bounds.DATE_MAX.year}")
    return value


# Dates and moments a request may carry (the domain's range: see aggregates/bounds.py).
BizDate = Annotated[date, AfterValidator(_in_business_range)]
BizDateTime = Annotated[datetime, AfterValidator(_in_business_range)]

Name = Field(min_length=1, max_length=200)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None = None
    details: dict[str, Any] = {}


class ErrorResponse(BaseModel):
    error: ErrorBody


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int


class Created(BaseModel):
    id: str
    position: int


class Done(BaseModel):
    position: int


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


# ---- organisation -------------------------------------------------------------------------


class DepartmentCreate(Strict):
    name: str = Field(min_length=1, max_length=bounds.SHORT_TEXT)
    parent_id: str | None = None
    manager_ids: list[str] = []


class DepartmentUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=bounds.SHORT_TEXT)
    parent_id: str | None = None
    manager_ids: list[str] | None = None


class DepartmentNode(BaseModel):
    id: str
    name: str
    parent_id: str | None
    manager_ids: list[str]
    children: list[DepartmentNode] = []


RoleName = Literal["sales", "manager", "warehouse", "admin", "auditor"]


class PersonCreate(Strict):
    name: str = Field(min_length=1, max_length=bounds.SHORT_TEXT)
    username: str = Field(min_length=1, max_length=bounds.USERNAME, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=1, max_length=200)
    department_id: str | None = None
    roles: list[RoleName] = Field(min_length=1)
    position: str | None = Field(default=None, max_length=bounds.SHORT_TEXT)
    mobile: str | None = Field(default=None, max_length=bounds.PHONE)
    gender: str | None = Field(default=None, max_length=bounds.GENDER)
    max_customers: int | None = Field(default=None, ge=0, le=100000)
    max_follow_days: int | None = Field(default=None, ge=1, le=3650)


class PersonUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=bounds.SHORT_TEXT)
    password: str | None = Field(default=None, min_length=1, max_length=200)
    department_id: str | None = None
    roles: list[RoleName] | None = Field(default=None, min_length=1)
    position: str | None = Field(default=None, max_length=bounds.SHORT_TEXT)
    mobile: str | None = Field(default=None, max_length=bounds.PHONE)
    gender: str | None = Field(default=None, max_length=bounds.GENDER)
    active: bool | None = None
    max_customers: int | None = Field(default=None, ge=0, le=100000)
    max_follow_days: int | None = Field(default=None, ge=1, le=3650)


class PersonOut(BaseModel):
    id: str
    name: str
    username: str
    department_id: str | None
    roles: list[str]
    position: str | None
    mobile: str | None
    gender: str | None
    active: bool
    is_salesperson: bool
    max_customers: int | None
    max_follow_days: int | None
    held_customers: int


class Me(PersonOut):
    departments: list[str] = Field(description="departments this person manages (with subtrees)")


class Rules(BaseModel):
    default_max_customers: int = Field(ge=0)
    default_max_follow_days: int = Field(ge=1)
    pool_warning_days: int = Field(ge=0)
    reclaim_cooldown_days: int = Field(ge=0)
    daily_claim_limit: int | None = Field(default=None, ge=0)
    late_entry_hours: int = Field(ge=0)
    approval_required: list[str]
    timezone: str


class TypeNode(BaseModel):
    name: str = Field(min_length=1, max_length=bounds.SHORT_TEXT)
    children: list[TypeNode] = []


class Dictionaries(BaseModel):
    customer_types: list[TypeNode]
    sources: list[str]
    regions: list[str]
    stages: list[str]
    warehouses: list[str]
    problem_types: list[str]


class SettingsOut(BaseModel):
    rules: Rules
    dictionaries: Dictionaries


class RulesUpdate(Strict):
    default_max_customers: int | None = Field(default=None, ge=0)
    default_max_follow_days: int | None = Field(default=None, ge=1)
    pool_warning_days: int | None = Field(default=None, ge=0)
    reclaim_cooldown_days: int | None = Field(default=None, ge=0)
    daily_claim_limit: int | None = Field(default=None, ge=0)
    late_entry_hours: int | None = Field(default=None, ge=0)
    approval_required: list[str] | None = None
    timezone: str | None = None


class DictionariesUpdate(Strict):
    customer_types: list[TypeNode] | None = None
    sources: list[str] | None = None
    regions: list[str] | None = None
    stages: list[str] | None = None
    warehouses: list[str] | None = None
    problem_types: list[str] | None = None


class SettingsUpdate(Strict):
    rules: RulesUpdate = RulesUpdate()
    dictionaries: DictionariesUpdate = DictionariesUpdate()


# ---- customers -----------------------------------------------------------------------------


class ContactIn(Strict):
    name: str = Field(min_length=1, max_length=bounds.SHORT_TEXT)
    phone: str | None = Field(default=None, max_length=bounds.PHONE)
    title: str | None = Field(default=None, max_length=bounds.SHORT_TEXT)
    primary: bool = False


class ContactUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=bounds.SHORT_TEXT)
    phone: str | None = Field(default=None, max_length=bounds.PHONE)
    title: str | None = Field(default=None, max_length=bounds.SHORT_TEXT)
    primary: bool | None = None


class ContactOut(BaseModel):
    id: str
    name: str
    phone: str | None
    title: str | None
    primary: bool


class CustomerCreate(Strict):
    name: str = Field(min_length=1, max_length=bounds.CUSTOMER_NAME)
    type: str | None = Field(default=None, max_length=bounds.SHORT_TEXT)
    source: str | None = Field(default=None, max_length=bounds.SHORT_TEXT)
    region: str | None = Field(default=None, max_length=bounds.SHORT_TEXT)
    address: str | None = Field(default=None, max_length=bounds.ADDRESS)
    building: str | None = Field(default=None, max_length=bounds.BUILDING)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)
    stage: str | None = Field(default=None, max_length=bounds.SHORT_TEXT)
    contacts: list[ContactIn] = Field(default=[], max_length=50)
    share_with: list[str] = Field(default=[], max_length=100)
    to_pool: bool = False
    created_at: BizDateTime | None = None


class CustomerCreated(BaseModel):
    id: str
    number: str
    position: int


class CustomerChanges(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=bounds.CUSTOMER_NAME)
    type: str | None = Field(default=None, max_length=bounds.SHORT_TEXT)
    source: str | None = Field(default=None, max_length=bounds.SHORT_TEXT)
    region: str | None = Field(default=None, max_length=bounds.SHORT_TEXT)
    address: str | None = Field(default=None, max_length=bounds.ADDRESS)
    building: str | None = Field(default=None, max_length=bounds.BUILDING)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)
    status: Literal["potential", "following", "lost"] | None = None
    stage: str | None = Field(default=None, max_length=bounds.SHORT_TEXT)


class CustomerChange(Strict):
    changes: CustomerChanges
    reason: str = Field(default="", max_length=bounds.REASON)


class RestoreIn(Strict):
    version: int = Field(ge=1, description="the version whose fields come back")
    reason: str = Field(default="", max_length=bounds.REASON)


class ShareChange(Strict):
    add: list[str] = Field(default=[], max_length=100)
    remove: list[str] = Field(default=[], max_length=100)


class Reason(Strict):
    reason: str = Field(default="", max_length=bounds.REASON)


class Transfer(Strict):
    to_person_id: str
    reason: str = Field(default="", max_length=bounds.REASON)


class Assign(Strict):
    customer_ids: list[str] = Field(min_length=1, max_length=500)
    to_person_id: str


class AssignResult(BaseModel):
    customer_id: str
    ok: bool
    error: ErrorBody | None = None


class AssignResults(BaseModel):
    results: list[AssignResult]
    position: int


class VisitIn(Strict):
    visited_at: BizDateTime | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = Field(default=None, max_length=bounds.ADDRESS)
    contact: str | None = Field(default=None, max_length=bounds.SHORT_TEXT)
    stage: str | None = Field(default=None, max_length=bounds.SHORT_TEXT)
    notes: str | None = Field(default=None, max_length=bounds.NOTES)


class VisitForm(BaseModel):
    """The multipart form of a visit: the fields of VisitIn as text, and a JPEG `photo`."""

    visited_at: datetime | None = None
    lat: float | None = None
    lng: float | None = None
    address: str | None = None
    contact: str | None = None
    stage: str | None = None
    notes: str | None = None
    photo: bytes | None = Field(default=None, json_schema_extra={"format": "binary"})


class LogoForm(BaseModel):
    logo: bytes = Field(json_schema_extra={"format": "binary"})


class VisitCreated(BaseModel):
    visit_id: str
    late_entry: bool
    position: int


class VisitOut(BaseModel):
    visit_id: str
    visited_at: datetime
    visitor_id: str
    visitor_name: str | None
    lat: float | None
    lng: float | None
    address: str | None
    contact: str | None
    stage: str | None
    notes: str | None
    late_entry: bool
    photo: str | None = Field(default=None, description="sha256 of the photo evidence, if any")


class Sharee(BaseModel):
    person_id: str
    name: str | None


class CustomerItem(BaseModel):
    """A list row. Pool rows seen by salespeople carry the public fields only (R-3):
    the other keys are absent."""

    id: str
    number: str
    name: str
    type: str | None = None
    source: str | None = None
    region: str | None = None
    status: str
    stage: str | None = None
    created_at: datetime
    in_pool: bool
    pool_entered_at: datetime | None = None
    address: str | None = None
    building: str | None = None
    lat: float | None = None
    lng: float | None = None
    owner_id: str | None = None
    owner_name: str | None = None
    owner_since: datetime | None = None
    pool_reason: str | None = None
    updated_at: datetime | None = None
    visit_count: int | None = None
    last_visit_at: datetime | None = None
    primary_contact_name: str | None = None
    primary_contact_phone: str | None = None
    days_until_pool: int | None = None
    deal_total: Decimal | None = None
    invoiced_total: Decimal | None = None
    collected_total: Decimal | None = None
    receivable: Decimal | None = None
    deleted: bool | None = None
    logo: str | None = Field(default=None, description="sha256 of the logo photo, if any")
    version: int | None = None


class CustomerDetail(CustomerItem):
    contacts: list[ContactOut] | None = None
    shared_with: list[Sharee] | None = None
    visits: list[VisitOut] | None = None


class CustomerAt(BaseModel):
    """A customer rebuilt from its events at a version or a moment (H-3)."""

    id: str
    version: int
    at: datetime
    state: dict[str, Any]


class FieldChange(BaseModel):
    field: str
    old: Any = None
    new: Any = None


class HistoryItem(BaseModel):
    version: int
    type: str
    at: datetime
    actor_id: str
    actor_name: str | None
    command_id: str
    data: dict[str, Any]
    changes: list[FieldChange]


class History(BaseModel):
    items: list[HistoryItem]


class Health(BaseModel):
    status: str = Field(description="ok, or degraded when a projection has parked events")
    head: int
    positions: dict[str, int]
    parked: dict[str, int] = Field({}, description="parked events per projection, where there are any")


# ---- sales, stock, after-sales ---------------------------------------------------------------

MoneyIn = Annotated[Decimal, BeforeValidator(ascii_decimal), Field(gt=0, le=bounds.MONEY_MAX, decimal_places=2)]
QuantityIn = Annotated[
    Decimal, BeforeValidator(ascii_decimal), Field(gt=0, le=bounds.QUANTITY_MAX, decimal_places=4)]
UnitCostIn = Annotated[
    Decimal, BeforeValidator(ascii_decimal), Field(gt=0, le=bounds.UNIT_COST_MAX, decimal_places=4)]
Id = Annotated[str, Field(min_length=1, max_length=64)]


class ContractLineIn(Strict):
    product_id: Id
    quantity: QuantityIn
    unit_price: MoneyIn


class ContractCreate(Strict):
    customer_id: Id
    number: str = Field(min_length=1, max_length=bounds.CONTRACT_NUMBER)
    name: str = Field(min_length=1, max_length=bounds.CONTRACT_NAME)
    signed_on: BizDate | None = None
    amount: MoneyIn | None = None
    lines: list[ContractLineIn] = Field(default=[], max_length=200)


class InvoiceIn(Strict):
    amount: MoneyIn
    invoiced_on: BizDate | None = None


class PaymentIn(Strict):
    customer_id: Id
    contract_id: Id | None = None
    amount: MoneyIn
    received_on: BizDate | None = None


class DeliveryLineIn(Strict):
    product_id: Id
    warehouse: str = Field(min_length=1, max_length=bounds.SHORT_TEXT)
    quantity: QuantityIn


class DeliveryIn(Strict):
    delivered_on: BizDate | None = None
    lines: list[DeliveryLineIn] = Field(min_length=1, max_length=200)


class ReturnLineIn(Strict):
    product_id: Id
    quantity: QuantityIn
    warehouse: str | None = Field(default=None, max_length=bounds.SHORT_TEXT)


class ReturnIn(Strict):
    delivery_id: Id
    returned_on: BizDate | None = None
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=200)


class ExchangeIn(Strict):
    delivery_id: Id
    exchanged_on: BizDate | None = None
    lines: list[DeliveryLineIn] = Field(min_length=1, max_length=200)


class ContractSummary(BaseModel):
    id: str
    customer_id: str
    customer_name: str | None
    number: str
    name: str
    signed_on: date
    amount: Decimal
    salesperson_id: str | None
    invoiced: Decimal
    collected: Decimal
    returned_amount: Decimal
    remaining_to_invoice: Decimal
    outstanding: Decimal


class ContractLineOut(BaseModel):
    product_id: str
    product_name: str | None
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    delivered: Decimal
    returned: Decimal
    remaining: Decimal


class InvoiceOut(BaseModel):
    invoice_id: str
    amount: Decimal
    invoiced_on: date


class PaymentOut(BaseModel):
    payment_id: str
    amount: Decimal
    received_on: date


class MoveLine(BaseModel):
    product_id: str
    warehouse: str
    quantity: Decimal
    unit_cost: Decimal
    amount: Decimal | None
    direction: Literal["out", "in"]


class DeliveryOut(BaseModel):
    delivery_id: str
    delivered_on: date
    lines: list[MoveLine]


class ReturnOut(BaseModel):
    return_id: str
    delivery_id: str
    returned_on: date
    amount: Decimal
    lines: list[MoveLine]


class ExchangeOut(BaseModel):
    exchange_id: str
    delivery_id: str
    exchanged_on: date
    lines: list[MoveLine]


class ContractView(ContractSummary):
    lines: list[ContractLineOut]
    invoices: list[InvoiceOut]
    payments: list[PaymentOut]
    deliveries: list[DeliveryOut]
    returns: list[ReturnOut]
    exchanges: list[ExchangeOut]


class ProductCreate(Strict):
    name: str = Field(min_length=1, max_length=bounds.PRODUCT_NAME)
    spec: str | None = Field(default=None, max_length=bounds.PRODUCT_SPEC)
    unit: str | None = Field(default=None, max_length=bounds.PRODUCT_UNIT)


class ProductUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=bounds.PRODUCT_NAME)
    spec: str | None = Field(default=None, max_length=bounds.PRODUCT_SPEC)
    unit: str | None = Field(default=None, max_length=bounds.PRODUCT_UNIT)
    enabled: bool | None = None


class ProductCreated(BaseModel):
    id: str
    code: str
    position: int


class StockIn(Strict):
    warehouse: str = Field(min_length=1, max_length=bounds.SHORT_TEXT)
    quantity: QuantityIn
    unit_cost: UnitCostIn
    received_on: BizDate | None = None


class PriceChangeIn(Strict):
    price: MoneyIn
    reason: str = Field(default="", max_length=bounds.REASON)


class StockRow(BaseModel):
    warehouse: str
    quantity: Decimal
    unit_cost: Decimal
    value: Decimal


class StockListRow(StockRow):
    product_id: str
    code: str
    product_name: str


class PriceHistoryRow(BaseModel):
    old_price: Decimal | None
    price: Decimal
    priced_on: date
    reason: str | None
    actor_id: str
    actor_name: str | None
    approved_by: str | None
    approver_name: str | None
    at: datetime


class ProductOut(BaseModel):
    id: str
    code: str
    name: str
    spec: str | None
    unit: str | None
    enabled: bool
    price: Decimal | None
    priced_on: date | None


class ProductView(ProductOut):
    stock: list[StockRow]
    price_history: list[PriceHistoryRow]


class ProblemIn(Strict):
    customer_id: Id
    type: str = Field(min_length=1, max_length=bounds.SHORT_TEXT)
    description: str = Field(min_length=1, max_length=bounds.NOTES)
    responsible_id: Id


class ProblemResolve(Strict):
    resolution: str = Field(min_length=1, max_length=bounds.NOTES)


class ProblemOut(BaseModel):
    id: str
    customer_id: str
    type: str
    description: str
    responsible_id: str
    reported_by: str
    reported_at: datetime
    status: str
    resolution: str | None
    resolved_at: datetime | None


class DeliveryCreated(BaseModel):
    delivery_id: str
    position: int


class ReturnCreated(BaseModel):
    return_id: str
    position: int


class ExchangeCreated(BaseModel):
    exchange_id: str
    position: int


# ---- approvals and notifications -------------------------------------------------------------


class Pending(BaseModel):
    """202: the command waits for approval."""

    approval_id: str
    status: Literal["pending"] = "pending"
    position: int


class Decision(Strict):
    comment: str = Field(default="", max_length=bounds.COMMENT)


class ApprovalOut(BaseModel):
    id: str
    kind: str
    target_id: str
    summary: str
    payload: dict[str, Any]
    requester_id: str
    requester_name: str | None
    approver_ids: list[str]
    status: str
    requested_at: datetime
    decided_by: str | None
    decided_by_name: str | None
    decided_at: datetime | None
    comment: str | None


class NotificationOut(BaseModel):
    id: str
    kind: str
    text: str
    ref_id: str | None
    created_at: datetime
    read_at: datetime | None


# ---- targets and work reports -------------------------------------------------------------------

AmountIn = Annotated[Decimal, BeforeValidator(ascii_decimal), Field(ge=0, le=bounds.MONEY_MAX, decimal_places=2)]
CountIn = Annotated[int, Field(ge=0, le=1_000_000)]


class TargetIn(Strict):
    person_id: Id
    period: str = Field(min_length=1, max_length=bounds.PERIOD_NAME, description="a name such as 2026年11月")
    start: BizDate
    end: BizDate
    new_customers: CountIn = 0
    visits: CountIn = 0
    deal_amount: AmountIn = Decimal("0")
    collected_amount: AmountIn = Decimal("0")


class TargetUpdate(Strict):
    period: str | None = Field(default=None, min_length=1, max_length=bounds.PERIOD_NAME)
    start: BizDate | None = None
    end: BizDate | None = None
    new_customers: CountIn | None = None
    visits: CountIn | None = None
    deal_amount: AmountIn | None = None
    collected_amount: AmountIn | None = None


class TargetFigures(BaseModel):
    new_customers: int
    visits: int
    deal_amount: Decimal
    collected_amount: Decimal


class Attainment(BaseModel):
    """Actual ÷ target per figure, a decimal string with 4 places; null where the target is 0."""

    new_customers: str | None
    visits: str | None
    deal_amount: str | None
    collected_amount: str | None


class TargetOut(TargetFigures):
    id: str
    person_id: str
    person_name: str | None
    period: str
    start: date
    end: date
    actual: TargetFigures
    attainment: Attainment
    cancelled: bool
    set_by: str
    approved_by: str | None
    updated_at: datetime
    version: int


class TargetRecord(BaseModel):
    id: str
    customer_id: str
    customer_number: str | None
    customer_name: str | None
    on: date
    at: datetime | None
    amount: Decimal | None


class TargetRecords(BaseModel):
    target_id: str
    figure: str
    items: list[TargetRecord]


class DepartmentAttainment(BaseModel):
    department_id: str
    department_name: str
    targets: int = Field(description="targets of the subtree whose period holds the day")
    target: TargetFigures
    actual: TargetFigures
    attainment: Attainment


class WorkReportIn(Strict):
    kind: Literal["daily", "weekly", "monthly"]
    date: BizDate
    summary: str = Field(default="", max_length=bounds.NOTES)
    plan: str = Field(default="", max_length=bounds.NOTES)


class WorkFigures(BaseModel):
    new_customers: int
    visits: int
    deals: int
    deal_amount: Decimal
    collected_amount: Decimal


class WorkReportSubmitted(BaseModel):
    id: str
    kind: str
    start: date
    end: date
    figures: WorkFigures
    revision: int
    position: int


class WorkReportOut(BaseModel):
    id: str
    person_id: str
    person_name: str | None
    kind: str
    start: date
    end: date
    figures: WorkFigures
    summary: str
    plan: str
    revision: int
    submitted_at: datetime
    revised_at: datetime


class WorkReportRevision(BaseModel):
    revision: int
    at: datetime
    figures: WorkFigures
    summary: str
    plan: str


class WorkReportView(WorkReportOut):
    revisions: list[WorkReportRevision]


class SweepIn(Strict):
    now: BizDateTime | None = Field(default=None, description="sweep as of this moment (default: now)")


class SweepOut(BaseModel):
    now: datetime
    warned: int
    returned: int
    position: int


class OperationEntry(BaseModel):
    """One command as it reached the API (H-5, R-8)."""

    id: int
    at: datetime
    actor_id: str | None
    actor_name: str | None
    method: str
    operation: str = Field(description="method and route, e.g. POST /api/v1/customers/{customer_id}/claim")
    path: str
    target_id: str | None
    status: int
    outcome: Literal["accepted", "refused", "failed"]
    error_code: str | None
    message: str | None
    position: int | None
    duration_ms: int


class ImportForm(BaseModel):
    file: bytes = Field(json_schema_extra={"format": "binary"}, description="the CSV or XLSX template, filled in")
    dry_run: bool = False


class RowError(BaseModel):
    row: int
    field: str | None
    code: str
    message: str


class ImportOut(BaseModel):
    import_id: str
    rows: int
    accepted: int
    dry_run: bool
    errors: list[RowError]
    position: int
    rejects_url: str | None


class ImportSummary(BaseModel):
    id: str
    actor_id: str
    at: datetime
    filename: str
    dry_run: bool
    rows: int
    accepted: int
    errors: list[RowError]
