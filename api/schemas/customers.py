"""Schemas of api/routes/customers.py: customers and their contacts, changes, sharing,
transfers and assignment, visits and logos, list rows, details and history."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from aggregates import bounds
from api.schemas.common import BizDateTime, ErrorBody, Label, ReasonText, ShortText, Strict
from commands.customers import BATCH_MAX

CustomerName = Annotated[str, Field(min_length=1, max_length=bounds.CUSTOMER_NAME)]
Address = Annotated[str, Field(max_length=bounds.ADDRESS)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
# The people a customer is shared with (or who are added to or removed from its sharees).
PersonIds = Annotated[list[str], Field(max_length=100)]


# ---- contacts -------------------------------------------------------------------------------


class ContactBase(Strict):
    name: Label | None = None
    phone: str | None = Field(default=None, max_length=bounds.PHONE)
    title: str | None = Field(default=None, max_length=bounds.SHORT_TEXT)
    primary: bool | None = None


class ContactIn(ContactBase):
    name: Label
    primary: bool = False


class ContactUpdate(ContactBase):
    pass


class ContactOut(BaseModel):
    id: str
    name: str
    phone: str | None
    title: str | None
    primary: bool


# ---- customers: creation and changes --------------------------------------------------------


class CustomerBase(Strict):
    name: CustomerName | None = None
    type: str | None = Field(default=None, max_length=bounds.SHORT_TEXT)
    source: str | None = Field(default=None, max_length=bounds.SHORT_TEXT)
    region: str | None = Field(default=None, max_length=bounds.SHORT_TEXT)
    address: Address | None = None
    building: str | None = Field(default=None, max_length=bounds.BUILDING)
    lat: Latitude | None = None
    lng: Longitude | None = None


class CustomerCreate(CustomerBase):
    name: CustomerName
    stage: ShortText | None = None
    contacts: list[ContactIn] = Field(default=[], max_length=50)
    share_with: PersonIds = []
    to_pool: bool = False
    created_at: BizDateTime | None = None


class CustomerCreated(BaseModel):
    id: str
    number: str
    position: int


class CustomerChanges(CustomerBase):
    status: Literal["potential", "following", "lost"] | None = None
    stage: ShortText | None = None


class CustomerChange(Strict):
    changes: CustomerChanges
    reason: ReasonText = ""


class RestoreIn(Strict):
    version: int = Field(ge=1, description="the version whose fields come back")
    reason: ReasonText = ""


# The departments a customer is shared with or unshared from (seed 002 §2.2.5).
DepartmentIds = Annotated[list[str], Field(max_length=100)]


class ShareChange(Strict):
    """People, and whole departments (their members and those of the departments below, now
    and later), to share with or unshare from."""

    add: PersonIds = []
    remove: PersonIds = []
    add_departments: DepartmentIds = []
    remove_departments: DepartmentIds = []


class Transfer(Strict):
    to_person_id: str
    reason: ReasonText = ""


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


# ---- batches (seed 002: 全选) ------------------------------------------------------------------

# The selected customers: at most BATCH_MAX at once, each command run in turn (fewer than the
# largest page, so a batch answer stays quick).
BatchIds = Annotated[list[Annotated[str, Field(min_length=1, max_length=36)]],
                     Field(min_length=1, max_length=BATCH_MAX)]


class BatchBase(Strict):
    customer_ids: BatchIds


class ClaimBatch(BatchBase):
    pass


class ReleaseBatch(BatchBase):
    reason: ReasonText = ""


class TransferBatch(BatchBase):
    to_person_id: str = Field(max_length=36)
    reason: ReasonText = ""


class ShareBatch(ShareChange, BatchBase):
    pass


class BatchResult(BaseModel):
    """What became of one customer: `ok` (done), `pending` (filed for approval: `approval_id`)
    or `error` (refused: `error` as the error contract has it)."""

    customer_id: str
    status: Literal["ok", "pending", "error"]
    ok: bool = Field(description="the change was made (status ok)")
    approval_id: str | None = None
    error: ErrorBody | None = None


class BatchResults(BaseModel):
    results: list[BatchResult]
    done: int = Field(description="customers changed")
    pending: int = Field(description="customers whose change waits for approval")
    failed: int = Field(description="customers refused")
    position: int


# ---- visits and logos -----------------------------------------------------------------------


class VisitIn(Strict):
    visited_at: BizDateTime | None = None
    lat: Latitude | None = None
    lng: Longitude | None = None
    address: Address | None = None
    contact: str | None = Field(default=None, max_length=bounds.SHORT_TEXT)
    stage: ShortText | None = None
    notes: str | None = Field(default=None, max_length=bounds.NOTES)
    region: ShortText | None = Field(default=None, description="the region visited; the customer's when not given")


class VisitForm(VisitIn):
    """The multipart form of a visit: the fields of VisitIn as text, and a JPEG `photo`."""

    photo: bytes | None = Field(default=None, json_schema_extra={"format": "binary"})


class LogoForm(BaseModel):
    logo: bytes = Field(json_schema_extra={"format": "binary"})


DISTANCE_CHECK = ("how far the photo was taken from the customer was: `checked`, or not checked for "
                  "`no_photo`, `no_photo_gps`, `no_customer_location`, `unchecked` (recorded before the check)")


class VisitCreated(BaseModel):
    visit_id: str
    late_entry: bool
    far_from_customer: bool = Field(default=False, description="the photo's GPS position lies farther than "
                                                               "`visit_max_distance_m` from the customer")
    distance_m: int | None = Field(default=None, description="metres from the customer, when checked")
    distance_check: str = Field(default="no_photo", description=DISTANCE_CHECK)
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
    region: str | None = None
    far_from_customer: bool = False
    distance_m: int | None = None
    distance_check: str = Field(default="unchecked", description=DISTANCE_CHECK)


# ---- customers: reading ---------------------------------------------------------------------


class Sharee(BaseModel):
    person_id: str
    name: str | None


class SharedDepartment(BaseModel):
    department_id: str
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
    receivable: Decimal | None = Field(default=None, description="max(0, deal_total − collected_total)")
    credit: Decimal | None = Field(default=None, description="max(0, collected_total − deal_total): "
                                                             "collected beyond the net deals")
    deleted: bool | None = None
    logo: str | None = Field(default=None, description="sha256 of the logo photo, if any")
    version: int | None = None


class TypeCount(BaseModel):
    """A customer type of the dictionary's tree with the customers of the list's scope and
    filters: of this very type (`count`) and with its subtypes (`total`, what filtering the list
    by the type finds)."""

    name: str
    count: int
    total: int
    children: list[TypeCount]


class TypeCounts(BaseModel):
    scope: str
    items: list[TypeCount]
    total: int = Field(description="customers of the scope and filters, of any type")
    unlisted: int = Field(description="of them, those whose type is not in the dictionary (none or a removed one)")


class CustomerDetail(CustomerItem):
    contacts: list[ContactOut] | None = None
    shared_with: list[Sharee] | None = None
    shared_departments: list[SharedDepartment] | None = None
    visits: list[VisitOut] | None = None


class CustomerContactState(BaseModel):
    id: str
    name: str
    phone: str | None = None
    title: str | None = None
    primary: bool = False


class CustomerState(BaseModel):
    """The customer's fields as its events left them (`Customer.view()`): the people and
    departments by id, the money figures as the deals, invoices and payments set them."""

    number: str
    name: str
    type: str | None = None
    source: str | None = None
    region: str | None = None
    address: str | None = None
    building: str | None = None
    lat: float | None = None
    lng: float | None = None
    contacts: list[CustomerContactState] = []
    owner_id: str | None = None
    owner_since: datetime | None = None
    in_pool: bool
    pool_entered_at: datetime | None = None
    pool_reason: str | None = None
    shared_with: list[str] = []
    shared_departments: list[str] = []
    status: str
    stage: str | None = None
    visit_count: int = 0
    last_visit_at: datetime | None = None
    registered_by: str | None = None
    created_at: datetime
    deleted: bool = False
    deal_total: Decimal
    invoiced_total: Decimal
    collected_total: Decimal
    receivable: Decimal = Field(description="max(0, deal_total − collected_total)")
    logo: str | None = Field(default=None, description="sha256 of the logo photo, if any")


class CustomerAt(BaseModel):
    """A customer rebuilt from its events at a version or a moment (H-3)."""

    id: str
    version: int
    at: datetime
    state: CustomerState


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
