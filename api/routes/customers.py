"""Customer routes: lists and details from the read models, commands to the handlers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool

from aggregates import bounds
from aggregates.base import DomainError, Forbidden, NotFound
from aggregates.settings import type_with_subtypes
from api.deps import ConnDep, CurrentUser, Id, ServiceDep, require
from api.dossier import NoSuchCustomer, build_dossier, dossier_bytes
from api.errors import ApiError, localised
from api.exports import XLSX
from api.params import After, PageNo, PageSize, next_cursor, read_cursor
from api.schemas import (
    Assign,
    AssignResult,
    AssignResults,
    ContactIn,
    ContactUpdate,
    Created,
    CustomerAt,
    CustomerChange,
    CustomerCreate,
    CustomerCreated,
    CustomerDetail,
    CustomerItem,
    CustomerState,
    Done,
    ErrorBody,
    History,
    Page,
    Pending,
    Reason,
    RestoreIn,
    ShareChange,
    Transfer,
    VisitCreated,
    VisitIn,
)
from api.schemas.customers import (
    BatchResult,
    BatchResults,
    ClaimBatch,
    ReleaseBatch,
    ShareBatch,
    TransferBatch,
    TypeCounts,
)
from api.uploads import read_form
from commands import customers as cmd
from commands import messages as m
from commands.actor import Actor
from commands.base import Result
from commands.bootstrap import Service
from commands.customers import BatchItem
from commands.handlers import handle
from readmodels.customers import (
    access,
    customer_detail,
    get_customer_row,
    list_customers,
    public_only,
    type_counts,
    visit_photo,
)
from readmodels.history import history_items
from readmodels.i18n import N_, gettext
from readmodels.org import current_settings, people_names

router = APIRouter(prefix="/customers", tags=["customers"])

PoolWithin = Annotated[int | None, Query(ge=0, le=bounds.DAYS_MAX, description=(
    "held, undealt customers whose follow time runs out within this many days (`days_until_pool` ≤ N; "
    "0: overdue or due today)"))]
SORT_HELP = ("a sortable field, `-` first for descending; `days_until_pool` sorts by the moment the "
             "follow time runs out, the customers without one last")

Scope = Literal["mine", "shared_by_me", "shared_with_me", "pool", "all"]
OVERSIGHT = {"manager", "admin", "auditor"}


@router.get("", response_model=Page[CustomerItem], response_model_exclude_unset=True)
def list_(
    service: ServiceDep,
    user: CurrentUser,
    conn: ConnDep,
    scope: Scope | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    type: Annotated[str | None, Query(max_length=100)] = None,
    status_: Annotated[str | None, Query(alias="status", max_length=20)] = None,
    stage: Annotated[str | None, Query(max_length=100)] = None,
    region: Annotated[str | None, Query(max_length=100)] = None,
    source: Annotated[str | None, Query(max_length=100)] = None,
    owner_id: Annotated[str | None, Query(max_length=36)] = None,
    owner_inactive: Annotated[bool | None, Query(
        description="true: customers still held by a deactivated person; false: by an active one")] = None,
    pool_within_days: PoolWithin = None,
    sort: Annotated[str, Query(max_length=40, description=SORT_HELP)] = "-created_at",
    page: PageNo = 1,
    page_size: PageSize = 50,
    after: After = None,
) -> Any:
    """Customers in a scope, searched, filtered, sorted and paged; pool rows are public-only
    for salespeople; rows carry `days_until_pool`."""
    chosen = scope or ("all" if user.roles & OVERSIGHT else "mine")
    now = service.deps.clock.now()
    settings = current_settings(conn)
    types = type_with_subtypes(settings["dictionaries"]["customer_types"], type) if type else None
    items, total, last = list_customers(
        conn, user, scope=chosen, now=now,
        default_follow_days=settings["rules"]["default_max_follow_days"],
        q=q, types=types, status=status_, stage=stage, region=region, source=source,
        owner_id=owner_id, sort=sort, page=page, page_size=page_size, owner_inactive=owner_inactive,
        pool_within_days=pool_within_days, after=read_cursor(service, "customers", sort, after, page),
    )
    return {"items": items, "total": total, "page": page, "page_size": page_size,
            "next": next_cursor(service, "customers", sort, last)}


@router.get("/types", response_model=TypeCounts)
def types_(
    service: ServiceDep,
    user: CurrentUser,
    conn: ConnDep,
    scope: Scope | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    status_: Annotated[str | None, Query(alias="status", max_length=20)] = None,
    stage: Annotated[str | None, Query(max_length=100)] = None,
    region: Annotated[str | None, Query(max_length=100)] = None,
    source: Annotated[str | None, Query(max_length=100)] = None,
    owner_id: Annotated[str | None, Query(max_length=36)] = None,
    owner_inactive: bool | None = None,
    pool_within_days: PoolWithin = None,
) -> Any:
    """The customer-type tree with the counts of the list's scope and filters beside each type
    (C-14), for browsing the list by type; the same parameters as the list, less `type`."""
    chosen = scope or ("all" if user.roles & OVERSIGHT else "mine")
    settings = current_settings(conn)
    return type_counts(
        conn, user, tree=settings["dictionaries"]["customer_types"], scope=chosen,
        now=service.deps.clock.now(), default_follow_days=settings["rules"]["default_max_follow_days"],
        q=q, status=status_, stage=stage, region=region, source=source, owner_id=owner_id,
        owner_inactive=owner_inactive, pool_within_days=pool_within_days)


@router.post("", response_model=CustomerCreated, status_code=status.HTTP_201_CREATED)
def register(service: ServiceDep, body: CustomerCreate,
             user: Annotated[Actor, require("sales", "manager", "admin")]) -> CustomerCreated:
    """Register a customer into your own hands or into the pool (C-1, C-2)."""
    data = body.model_dump()
    result = handle(m.RegisterCustomer(**data), user, service.deps)
    return CustomerCreated(id=result.ids["id"], number=result.ids["number"], position=result.position)


@router.post("/assign", response_model=AssignResults)
def assign(service: ServiceDep, body: Assign,
           user: Annotated[Actor, require("manager", "admin")]) -> AssignResults:
    """Assign customers to a person (C-7); each customer succeeds or fails on its own."""
    results, position = [], service.store.head()
    for customer_id in dict.fromkeys(body.customer_ids):
        try:
            done = handle(m.AssignCustomer(customer_id, body.to_person_id), user, service.deps)
            position = done.position
            results.append(AssignResult(customer_id=customer_id, ok=True))
        except DomainError as error:
            results.append(AssignResult(customer_id=customer_id, ok=False, error=ErrorBody(
                code=error.code, message=localised(error), field=error.field, details=error.details)))
    return AssignResults(results=results, position=position)


# ---- batches (seed 002: 全选): each customer is done, filed for approval or refused on its own ----

SALES_OR_MANAGERS = ("sales", "manager", "admin")


def _batch_answer(result: Result) -> BatchResults:
    items: list[BatchItem] = result.ids["results"]
    results = [
        BatchResult(customer_id=item.customer_id, status=item.status, ok=item.status == "ok",
                    approval_id=item.approval_id,
                    error=None if item.error is None else ErrorBody(
                        code=item.error.code, message=localised(item.error), field=item.error.field,
                        details=item.error.details))
        for item in items
    ]
    return BatchResults(results=results, done=sum(r.status == "ok" for r in results),
                        pending=sum(r.status == "pending" for r in results),
                        failed=sum(r.status == "error" for r in results), position=result.position)


@router.post("/claim", response_model=BatchResults)
def claim_batch(service: ServiceDep, body: ClaimBatch, user: Annotated[Actor, require("sales")]) -> BatchResults:
    """Claim the selected pool customers (C-5) one after the other: each is claimed, filed for
    approval or refused on its own; the cap and the daily limit count the ones before it."""
    return _batch_answer(handle(m.ClaimCustomers(body.customer_ids), user, service.deps))


@router.post("/release", response_model=BatchResults)
def release_batch(service: ServiceDep, body: ReleaseBatch,
                  user: Annotated[Actor, require(*SALES_OR_MANAGERS)]) -> BatchResults:
    """Give the selected customers back to the pool (their owner, C-6); each on its own."""
    command = m.ReturnCustomersToPool(body.customer_ids, "released", body.reason)
    return _batch_answer(handle(command, user, service.deps))


@router.post("/recall", response_model=BatchResults)
def recall_batch(service: ServiceDep, body: ReleaseBatch,
                 user: Annotated[Actor, require("manager", "admin")]) -> BatchResults:
    """Take the selected customers back to the pool (a manager of each owner, C-6); each on its own."""
    command = m.ReturnCustomersToPool(body.customer_ids, "recalled", body.reason)
    return _batch_answer(handle(command, user, service.deps))


@router.post("/transfer", response_model=BatchResults)
def transfer_batch(service: ServiceDep, body: TransferBatch,
                   user: Annotated[Actor, require(*SALES_OR_MANAGERS)]) -> BatchResults:
    """Hand the selected customers to one colleague (the owner or a manager of each owner, C-7):
    each is transferred, filed for approval or refused on its own; the receiver's cap counts
    the ones before it."""
    command = m.TransferCustomers(body.customer_ids, body.to_person_id, body.reason)
    return _batch_answer(handle(command, user, service.deps))


@router.post("/share", response_model=BatchResults)
def share_batch(service: ServiceDep, body: ShareBatch,
                user: Annotated[Actor, require(*SALES_OR_MANAGERS)]) -> BatchResults:
    """Share the selected customers with people or whole departments, or unshare them (C-4,
    seed 002 §2.2.5); each customer on its own."""
    command = m.ShareCustomers(body.customer_ids, body.add, body.remove, body.add_departments,
                               body.remove_departments)
    return _batch_answer(handle(command, user, service.deps))


def _row_for(conn: Connection, user: Actor, customer_id: str) -> tuple[Any, str]:
    row = get_customer_row(conn, customer_id)
    level = access(conn, user, row) if row is not None else None
    if row is None or level is None:
        raise NotFound("not_found", "no such customer")
    return row, level


@router.get("/{customer_id}", response_model=CustomerDetail | CustomerAt,
            response_model_exclude_unset=True)
def detail(
    service: ServiceDep,
    user: CurrentUser,
    conn: ConnDep,
    customer_id: Id,
    as_of: datetime | None = None,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> Any:
    """The customer's full view (or public fields for pool customers), or its state at a
    past moment or version for managers and auditors (H-3)."""
    row, level = _row_for(conn, user, str(customer_id))
    if as_of is not None or version is not None:
        if not user.roles & OVERSIGHT:
            raise Forbidden("forbidden", "time travel is for managers, admins and auditors")
        if level != "full":
            raise NotFound("not_found", "no such customer")
        if as_of is not None and as_of.tzinfo is None:
            raise DomainError("validation_error", "as_of needs a UTC offset", field="as_of")
        past = cmd.customer_at(service.deps, str(customer_id), version=version, as_of=as_of)
        return CustomerAt(id=str(customer_id), version=past.version, at=past.modified_on,
                          state=CustomerState.model_validate(past.view()))
    now = service.deps.clock.now()
    follow_days = current_settings(conn)["rules"]["default_max_follow_days"]
    item = customer_detail(conn, row, now, follow_days)
    return public_only(item) if level != "full" else item


@router.get("/{customer_id}/history", response_model=History)
def history(service: ServiceDep, user: CurrentUser, conn: ConnDep, customer_id: Id) -> Any:
    """Every event of the customer with actor and field-level old→new values (H-2)."""
    if not user.roles & {"admin", "auditor"}:
        row, level = _row_for(conn, user, str(customer_id))
        if level != "full" or (row["owner_id"] != user.person_id and "manager" not in user.roles):
            raise Forbidden("forbidden", "history is for owners, managers and auditors")
    events = cmd.customer_events(service.deps, customer_id)
    if not events:
        raise NotFound("not_found", "no such customer")
    names = people_names(conn, {e.actor_id for e in events})
    return {"items": history_items(events, names)}


DOSSIER_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"content": {XLSX: {}}, "description": "the customer's audit dossier, one XLSX workbook"}}


@router.get("/{customer_id}/dossier", response_class=Response, responses=DOSSIER_ANSWER)
def dossier(request: Request, service: ServiceDep, conn: ConnDep, customer_id: Id,
            user: Annotated[Actor, require("admin", "auditor")],
            format: Annotated[Literal["xlsx"], Query(description="the file's format: xlsx")] = "xlsx") -> Response:
    """The customer's audit dossier (admins, auditors): one workbook with its current and past
    states, the full history, visits with photo links and flags, contracts and their execution,
    the approval requests touching it and the operation-log entries that targeted it; Chinese
    titles, moments as datetime cells on the business clock."""
    request.state.op_export = True
    try:
        found = build_dossier(service, conn, user, str(customer_id))
    except NoSuchCustomer:
        raise NotFound("not_found", "no such customer") from None
    title = f"{found.number}_{gettext(N_('客户档案'))}.{format}"
    disposition = f"attachment; filename=\"{found.filename()}\"; filename*=UTF-8''{quote(title)}"
    return Response(dossier_bytes(found), media_type=XLSX, headers={"Content-Disposition": disposition})


@router.post("/{customer_id}/changes", response_model=Done,
             responses={202: {"model": Pending, "description": "waits for approval"}})
def change(service: ServiceDep, customer_id: Id, body: CustomerChange, user: CurrentUser) -> Any:
    """Change customer fields with a reason (C-3): applied (200), or a request for approval (202)
    when the approval policy covers customer info changes and you are not a manager."""
    command = m.ChangeCustomerInfo(str(customer_id), body.changes.model_dump(exclude_unset=True), body.reason)
    result = handle(command, user, service.deps)
    if result.pending:
        return JSONResponse(status_code=202, content=Pending(approval_id=result.ids["approval_id"],
                                                             position=result.position).model_dump())
    return Done(position=result.position)


@router.post("/{customer_id}/restore", response_model=Done)
def restore(service: ServiceDep, customer_id: Id, body: RestoreIn,
            user: Annotated[Actor, require("admin")]) -> Done:
    """Put the customer's fields back to those of an earlier version (H-4): a new event; the
    history keeps every version."""
    return Done(position=handle(m.RestoreCustomer(str(customer_id), body.version, body.reason), user,
                                service.deps).position)


# AP-1: the answer of a command the approval policy may hold back.
WAITS: dict[int | str, dict[str, Any]] = {202: {"model": Pending, "description": "waits for approval"}}


def _or_pending(result: Any, answer: Callable[[], Any]) -> Any:
    """The command's own answer, or 202 with the approval id when the policy held it back."""
    if result.pending:
        return JSONResponse(status_code=202, content=Pending(approval_id=result.ids["approval_id"],
                                                             position=result.position).model_dump())
    return answer()


@router.post("/{customer_id}/share", response_model=Done, responses=WAITS)
def share(service: ServiceDep, customer_id: Id, body: ShareChange, user: CurrentUser) -> Any:
    """Share with or unshare from named people (C-4); an owner's change waits for approval (202)
    under the info-change policy (seed 000 §5.1.6)."""
    result = handle(m.ChangeShares(str(customer_id), body.add, body.remove, body.add_departments,
                                   body.remove_departments), user, service.deps)
    return _or_pending(result, lambda: Done(position=result.position))


@router.post("/{customer_id}/claim", response_model=Done, responses=WAITS)
def claim(service: ServiceDep, customer_id: Id, user: Annotated[Actor, require("sales")]) -> Any:
    """Claim a pool customer (C-5); a request for approval (202) when the policy covers `claim`."""
    result = handle(m.ClaimCustomer(str(customer_id)), user, service.deps)
    return _or_pending(result, lambda: Done(position=result.position))


@router.post("/{customer_id}/release", response_model=Done)
def release(service: ServiceDep, customer_id: Id, user: CurrentUser,
            body: Reason | None = None) -> Done:
    """Give a customer back to the pool (owner, C-6)."""
    reason = body.reason if body else ""
    return Done(position=handle(m.ReturnToPool(str(customer_id), "released", reason), user, service.deps).position)


@router.post("/{customer_id}/recall", response_model=Done)
def recall(service: ServiceDep, customer_id: Id,
           user: Annotated[Actor, require("manager", "admin")], body: Reason | None = None) -> Done:
    """Take a customer back to the pool (manager, C-6)."""
    reason = body.reason if body else ""
    return Done(position=handle(m.ReturnToPool(str(customer_id), "recalled", reason), user, service.deps).position)


@router.post("/{customer_id}/transfer", response_model=Done, responses=WAITS)
def transfer(service: ServiceDep, customer_id: Id, body: Transfer, user: CurrentUser) -> Any:
    """Hand a customer to a colleague with a reason (owner or manager, C-7); an owner's transfer
    is a request for approval (202) when the policy covers `transfer`."""
    result = handle(m.TransferCustomer(str(customer_id), body.to_person_id, body.reason), user, service.deps)
    return _or_pending(result, lambda: Done(position=result.position))


@router.delete("/{customer_id}", response_model=Done)
def delete(service: ServiceDep, customer_id: Id,
           user: Annotated[Actor, require("manager", "admin")]) -> Done:
    """Delete an unclaimed pool customer (C-8); its history stays."""
    return Done(position=handle(m.DeleteCustomer(str(customer_id)), user, service.deps).position)


@router.post("/{customer_id}/contacts", response_model=Created, status_code=status.HTTP_201_CREATED,
             responses=WAITS)
def add_contact(service: ServiceDep, customer_id: Id, body: ContactIn, user: CurrentUser) -> Any:
    """Add a contact (C-9); an owner's addition waits for approval (202) under the info-change
    policy (seed 000 §5.1.6)."""
    result = handle(m.AddContact(str(customer_id), body.model_dump()), user, service.deps)
    return _or_pending(result, lambda: Created(id=result.ids["id"], position=result.position))


@router.patch("/{customer_id}/contacts/{contact_id}", response_model=Done, responses=WAITS)
def edit_contact(service: ServiceDep, customer_id: Id, contact_id: str, body: ContactUpdate,
                 user: CurrentUser) -> Any:
    """Edit a contact; making it primary unsets the previous primary (C-9). An owner's edit waits
    for approval (202) under the info-change policy (seed 000 §5.1.6)."""
    result = handle(m.EditContact(str(customer_id), contact_id, body.model_dump(exclude_unset=True)), user,
                    service.deps)
    return _or_pending(result, lambda: Done(position=result.position))


@router.delete("/{customer_id}/contacts/{contact_id}", response_model=Done, responses=WAITS)
def remove_contact(service: ServiceDep, customer_id: Id, contact_id: str, user: CurrentUser) -> Any:
    """Remove a contact; the next one becomes primary (C-9). An owner's removal waits for approval
    (202) under the info-change policy (seed 000 §5.1.6)."""
    result = handle(m.RemoveContact(str(customer_id), contact_id), user, service.deps)
    return _or_pending(result, lambda: Done(position=result.position))


VISIT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/VisitIn"}},
            "multipart/form-data": {"schema": {"$ref": "#/components/schemas/VisitForm"}},
        },
    }
}


@router.post("/{customer_id}/visits", response_model=VisitCreated, status_code=status.HTTP_201_CREATED,
             openapi_extra=VISIT_BODY)
async def visit(request: Request, service: ServiceDep, customer_id: Id, user: CurrentUser) -> VisitCreated:
    """Record a visit (C-10), as JSON or as a multipart form with a JPEG `photo` whose EXIF
    time and GPS position become the visit's time and location (C-11). A visit entered more
    than `late_entry_hours` after it happened is flagged `late_entry`; one whose photo was taken
    farther than `visit_max_distance_m` from the customer, `far_from_customer`. Without a photo
    it is 422 `photo_required` when `visit_photo_required` is on (seed 000 §2)."""
    photo = None
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await read_form(request, "photo", service.deps.max_photo_bytes)
        photo = form.data
        body = _validated(VisitIn, form.fields)
    else:
        try:
            raw = await request.json()
        except ValueError:
            raise RequestValidationError([{"loc": ("body",), "msg": "the body is not valid JSON",
                                           "type": "json_invalid"}]) from None
        except RecursionError:  # nested deeper than the parser goes: 400, as the other routes answer it
            raise ApiError(400, "bad_request", "There was an error parsing the body") from None
        body = _validated(VisitIn, raw)
    command = m.RecordVisit(customer_id=str(customer_id), **body.model_dump(), photo=photo)
    result = await run_in_threadpool(handle, command, user, service.deps)
    return VisitCreated(visit_id=result.ids["visit_id"], late_entry=result.ids["late_entry"],
                        far_from_customer=result.ids["far_from_customer"], distance_m=result.ids["distance_m"],
                        distance_check=result.ids["distance_check"], position=result.position)


def _validated(model: type[VisitIn], data: Any) -> VisitIn:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise RequestValidationError(error.errors()) from None


LOGO_BODY = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {"$ref": "#/components/schemas/LogoForm"}}},
    }
}


@router.put("/{customer_id}/logo", response_model=Done, openapi_extra=LOGO_BODY)
async def logo(request: Request, service: ServiceDep, customer_id: Id, user: CurrentUser) -> Done:
    """Set the customer's logo photo: a JPEG in the multipart field `logo`, stored by its sha256."""
    data = (await read_form(request, "logo", service.deps.max_photo_bytes)).data
    if data is None:
        raise DomainError("validation_error", "attach the logo as a JPEG file", field="logo")
    result = await run_in_threadpool(handle, m.ChangeLogo(str(customer_id), data), user, service.deps)
    return Done(position=result.position)


def _jpeg(service: Service, sha256: str | None) -> Response:
    data = service.deps.blobs.get(sha256) if sha256 else None
    if data is None:
        raise NotFound("not_found", "no such photo")
    return Response(content=data, media_type="image/jpeg",
                    headers={"Cache-Control": "private, max-age=31536000, immutable", "ETag": f'"{sha256}"'})


@router.get("/{customer_id}/logo", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}, "description": "the logo"}})
def get_logo(service: ServiceDep, user: CurrentUser, conn: ConnDep, customer_id: Id) -> Response:
    """The customer's logo (JPEG), for those who see the customer in full."""
    row, level = _row_for(conn, user, str(customer_id))
    if level != "full":
        raise NotFound("not_found", "no such photo")
    return _jpeg(service, row["logo"])


@router.get("/{customer_id}/visits/{visit_id}/photo", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}, "description": "the visit's photo"}})
def get_visit_photo(service: ServiceDep, user: CurrentUser, conn: ConnDep, customer_id: Id,
                    visit_id: str) -> Response:
    """A visit's photo evidence (JPEG), for those who see the customer in full."""
    _, level = _row_for(conn, user, str(customer_id))
    if level != "full":
        raise NotFound("not_found", "no such photo")
    sha256 = visit_photo(conn, str(customer_id), visit_id)
    return _jpeg(service, sha256)
