"""The hand-off from sales to the warehouse (seed 000 §5.6.1–§5.6.3): a salesperson asks for a
delivery (发货通知), a return or an exchange on their contract; the keepers are told and carry
it out with `POST /contracts/{id}/deliveries`, `/returns` or `/exchanges` naming its
`request_id`, all at once or in parts; the requester or their manager cancels what is left."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse

from aggregates.base import NotFound
from api.deps import ConnDep, CurrentUser, Id, ServiceDep, require
from api.params import After, PageNo, PageSize, next_cursor, read_cursor
from api.schemas.common import Done, Page, Pending
from api.schemas.handoff import (
    CancelIn,
    DeliveryRequestIn,
    ExchangeRequestIn,
    RequestCreated,
    RequestKind,
    ReturnRequestIn,
    StatusFilter,
    WarehouseRequestOut,
)
from commands import messages as m
from commands.actor import Actor
from commands.handlers import handle
from readmodels import handoff as rm

router = APIRouter(tags=["warehouse requests"])

Seller = Annotated[Actor, require("sales", "manager", "admin")]
PENDING: dict[int | str, dict[str, Any]] = {
    202: {"model": Pending, "description": "waits for approval (AP-1 `return` / `exchange`)"}}


def _answer(result: Any) -> Any:
    if result.pending:
        return JSONResponse(status_code=202, content=Pending(approval_id=result.ids["approval_id"],
                                                             position=result.position).model_dump())
    return RequestCreated(id=result.ids["id"], number=result.ids["number"], position=result.position)


@router.post("/contracts/{contract_id}/delivery-requests", response_model=RequestCreated,
             status_code=status.HTTP_201_CREATED)
def request_delivery(service: ServiceDep, contract_id: Id, body: DeliveryRequestIn, user: Seller) -> Any:
    """Ask the warehouse to deliver (发货通知, seed 000 §5.6.1): the keepers are notified
    (`not_owner`, `not_on_contract`, `over_delivered`)."""
    lines = [line.model_dump() for line in body.lines]
    return _answer(handle(m.RequestDelivery(str(contract_id), lines, body.note), user, service.deps))


@router.post("/contracts/{contract_id}/return-requests", response_model=RequestCreated,
             status_code=status.HTTP_201_CREATED, responses=PENDING)
def request_return(service: ServiceDep, contract_id: Id, body: ReturnRequestIn, user: Seller) -> Any:
    """Ask the warehouse to take goods of a delivery back (seed 000 §5.6.2); where the policy
    says so, approved first (202) (`not_in_delivery`, `over_returned`)."""
    lines = [line.model_dump() for line in body.lines]
    return _answer(handle(m.RequestReturn(str(contract_id), body.delivery_id, lines, body.note), user,
                          service.deps))


@router.post("/contracts/{contract_id}/exchange-requests", response_model=RequestCreated,
             status_code=status.HTTP_201_CREATED, responses=PENDING)
def request_exchange(service: ServiceDep, contract_id: Id, body: ExchangeRequestIn, user: Seller) -> Any:
    """Ask the warehouse to exchange goods of a delivery (seed 000 §5.6.3); where the policy
    says so, approved first (202)."""
    lines = [line.model_dump() for line in body.lines]
    return _answer(handle(m.RequestExchange(str(contract_id), body.delivery_id, lines, body.note), user,
                          service.deps))


@router.get("/contracts/{contract_id}/warehouse-requests", response_model=Page[WarehouseRequestOut])
def contract_requests(service: ServiceDep, user: CurrentUser, conn: ConnDep, contract_id: Id, page: PageNo = 1,
                      page_size: PageSize = 50, after: After = None) -> Any:
    """A contract's requests to the warehouse, newest first."""
    if not rm.contract_visible(conn, user, str(contract_id)):
        raise NotFound("not_found", "no such contract")
    sort = rm.request_sort(None)
    items, total, last = rm.list_requests(conn, user, contract_id=str(contract_id), page=page, page_size=page_size,
                                          after=read_cursor(service, "warehouse-requests", sort, after, page))
    return {"items": items, "total": total, "page": page, "page_size": page_size,
            "next": next_cursor(service, "warehouse-requests", sort, last)}


@router.get("/warehouse-requests", response_model=Page[WarehouseRequestOut])
def requests(service: ServiceDep, user: CurrentUser, conn: ConnDep,
             status_: Annotated[StatusFilter | None, Query(alias="status")] = None,
             kind: RequestKind | None = None, page: PageNo = 1, page_size: PageSize = 50,
             after: After = None) -> Any:
    """Requests to the warehouse: `status=open` (requested or partly done, oldest first) is the
    keepers' work list; keepers see every request, others those of contracts they may see."""
    sort = rm.request_sort(status_)
    items, total, last = rm.list_requests(conn, user, status=status_, kind=kind, page=page, page_size=page_size,
                                          after=read_cursor(service, "warehouse-requests", sort, after, page))
    return {"items": items, "total": total, "page": page, "page_size": page_size,
            "next": next_cursor(service, "warehouse-requests", sort, last)}


@router.get("/warehouse-requests/{request_id}", response_model=WarehouseRequestOut)
def request(user: CurrentUser, conn: ConnDep, request_id: Id) -> Any:
    """One request with its lines, what is done and what remains, and what carried it out."""
    view = rm.request_view(conn, user, str(request_id))
    if view is None:
        raise NotFound("not_found", "no such request")
    return view


@router.post("/warehouse-requests/{request_id}/cancel", response_model=Done)
def cancel(service: ServiceDep, request_id: Id, user: CurrentUser, body: CancelIn | None = None) -> Done:
    """Call off what is not done yet: the requester or their manager (`request_closed`)."""
    result = handle(m.CancelRequest(str(request_id), body.reason if body else ""), user, service.deps)
    return Done(position=result.position)
