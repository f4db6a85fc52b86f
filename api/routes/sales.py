"""Sales, stock and after-sales routes: deals, invoices, payments, products, stock,
deliveries, returns, exchanges and problem reports."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import JSONResponse

from aggregates.base import NotFound
from aggregates.money import money
from aggregates.product import ProductStock
from api.deps import ConnDep, CurrentUser, Id, ServiceDep, require
from api.params import After, PageNo, PageSize, next_cursor, read_cursor
from api.records import AsOf, AtVersion, history_of, past_record, wants_past
from api.schemas import (
    ContractCreate,
    ContractSummary,
    ContractView,
    Created,
    CreditNoteIn,
    DeliveryCreated,
    DeliveryIn,
    Done,
    ExchangeCreated,
    ExchangeIn,
    InvoiceIn,
    Page,
    PaymentIn,
    Pending,
    PriceChangeIn,
    ProblemIn,
    ProblemOut,
    ProblemResolve,
    ProductCreate,
    ProductCreated,
    ProductOut,
    ProductUpdate,
    ProductView,
    ReturnCreated,
    ReturnIn,
    StockIn,
    StockListRow,
)
from api.schemas.customers import History
from api.schemas.sales import ContractAt, ProductAt, StockAt
from commands import messages as m
from commands.actor import Actor
from commands.bootstrap import Service
from commands.handlers import handle
from readmodels import sales as rm

router = APIRouter(tags=["sales"])

Seller = Annotated[Actor, require("sales", "manager", "admin")]
Keeper = Annotated[Actor, require("warehouse", "manager", "admin")]


@router.post("/contracts", response_model=Created, status_code=status.HTTP_201_CREATED)
def sign(service: ServiceDep, body: ContractCreate, user: Seller) -> Created:
    """Record a deal (成交): creates the contract; the customer becomes dealt (D-1)."""
    result = handle(m.SignContract(**body.model_dump(exclude={"lines"}),
                                   lines=[line.model_dump() for line in body.lines]),
                    user, service.deps)
    return Created(id=result.ids["id"], position=result.position)


@router.get("/contracts", response_model=Page[ContractSummary])
def contracts(service: ServiceDep, user: CurrentUser, conn: ConnDep, customer_id: str | None = None,
              fully_invoiced: Annotated[bool | None, Query(
                  description="false: something of the net amount is left to invoice (未完成开票)")] = None,
              fully_delivered: Annotated[bool | None, Query(
                  description="false: a line is not delivered in full")] = None,
              page: PageNo = 1, page_size: PageSize = 50, after: After = None) -> Any:
    """Contracts of the customers you may see, with their net amounts, invoiced, collected and
    outstanding amounts; filtered by whether they are fully invoiced and fully delivered."""
    items, total, last = rm.list_contracts(conn, user, customer_id, page, page_size, fully_invoiced=fully_invoiced,
                                           fully_delivered=fully_delivered,
                                           after=read_cursor(service, "contracts", "-signed_on", after, page))
    return {"items": items, "total": total, "page": page, "page_size": page_size,
            "next": next_cursor(service, "contracts", "-signed_on", last)}


@router.get("/contracts/{contract_id}", response_model=ContractView | ContractAt)
def contract(service: ServiceDep, user: CurrentUser, conn: ConnDep, contract_id: Id, as_of: AsOf = None,
             version: AtVersion = None) -> Any:
    """The contract with its lines and execution: invoices, payments, deliveries, returns,
    exchanges, and what remains (D-4); or, for managers, admins and auditors, the contract as
    its events left it at a past moment or version (H-3)."""
    view = rm.contract_view(conn, user, str(contract_id))
    if view is None:
        raise NotFound("not_found", "no such contract")
    if wants_past(as_of, version):
        past = past_record(service, user, "contract", contract_id, as_of, version)
        return ContractAt(**{**past, "state": _with_figures(past["state"])})
    return view


def _with_figures(state: dict[str, Any]) -> dict[str, Any]:
    """The contract's state with its totals in cents and the derived figures, as the detail
    works them out."""
    zero = Decimal("0.00")
    totals = {k: money(state[k]) for k in ("amount", "invoiced", "collected", "returned_amount",
                                            "exchange_difference")}
    net = totals["amount"] - totals["returned_amount"] + totals["exchange_difference"]
    return {**state, **totals, "net_amount": net, "remaining_to_invoice": max(zero, net - totals["invoiced"]),
            "outstanding": max(zero, net - totals["collected"]), "credit": max(zero, totals["collected"] - net)}


@router.get("/contracts/{contract_id}/history", response_model=History)
def contract_history(service: ServiceDep, user: CurrentUser, conn: ConnDep, contract_id: Id) -> Any:
    """Every event of the contract (signing, invoices, credit notes, payments, deliveries,
    returns, exchanges) with actor, time, command id and field-level old→new values (H-2);
    for whoever may see the contract."""
    if rm.contract_view(conn, user, str(contract_id)) is None:
        raise NotFound("not_found", "no such contract")
    return _history(service, conn, "contract", contract_id)


def _history(service: Service, conn: Any, kind: str, record_id: UUID) -> Any:
    found = history_of(service, conn, kind, record_id)
    if found is None:
        raise NotFound("not_found", "no such record")
    return found


@router.post("/contracts/{contract_id}/invoices", response_model=Created, status_code=status.HTTP_201_CREATED)
def invoice(service: ServiceDep, contract_id: Id, body: InvoiceIn, user: Seller) -> Created:
    """Invoice part of a contract; never more than the contract amount (D-2, `over_invoiced`)."""
    result = handle(m.InvoiceContract(str(contract_id), body.amount, body.invoiced_on), user, service.deps)
    return Created(id=result.ids["id"], position=result.position)


@router.post("/contracts/{contract_id}/credit-notes", response_model=Created, status_code=status.HTTP_201_CREATED)
def credit_note(service: ServiceDep, contract_id: Id, body: CreditNoteIn, user: Seller) -> Created:
    """Reverse invoicing with a red-letter invoice (红字发票), never more than invoiced
    (`over_credited`); after a return, the contract's `to_credit` says how much is due."""
    result = handle(m.CreditInvoice(str(contract_id), body.amount, body.credited_on, body.reason), user,
                    service.deps)
    return Created(id=result.ids["id"], position=result.position)


@router.post("/payments", response_model=Created, status_code=status.HTTP_201_CREATED)
def payment(service: ServiceDep, body: PaymentIn, user: Seller) -> Created:
    """Record a payment, against a contract (`over_collected` past its outstanding amount)
    or as a prepayment (D-3)."""
    result = handle(m.RecordPayment(body.customer_id, body.amount, body.contract_id, body.received_on),
                    user, service.deps)
    return Created(id=result.ids["id"], position=result.position)


@router.post("/contracts/{contract_id}/deliveries", response_model=DeliveryCreated,
             status_code=status.HTTP_201_CREATED)
def delivery(service: ServiceDep, contract_id: Id, body: DeliveryIn, user: Keeper) -> DeliveryCreated:
    """Deliver goods at the warehouse's average cost (G-4: `insufficient_stock`, `over_delivered`)."""
    lines = [line.model_dump() for line in body.lines]
    result = handle(m.Deliver(str(contract_id), lines, body.delivered_on, body.request_id), user, service.deps)
    return DeliveryCreated(delivery_id=result.ids["delivery_id"], position=result.position)


@router.post("/contracts/{contract_id}/returns", response_model=ReturnCreated,
             status_code=status.HTTP_201_CREATED)
def return_(service: ServiceDep, contract_id: Id, body: ReturnIn, user: Keeper) -> ReturnCreated:
    """Take goods back from a delivery at the cost they left with (G-5: `over_returned`)."""
    lines = [line.model_dump() for line in body.lines]
    result = handle(m.ReturnGoods(str(contract_id), body.delivery_id, lines, body.returned_on, body.request_id),
                    user, service.deps)
    return ReturnCreated(return_id=result.ids["return_id"], position=result.position)


@router.post("/contracts/{contract_id}/exchanges", response_model=ExchangeCreated,
             status_code=status.HTTP_201_CREATED)
def exchange(service: ServiceDep, contract_id: Id, body: ExchangeIn, user: Keeper) -> ExchangeCreated:
    """Exchange goods of a delivery: back at the cost they left with, the replacement (the same
    product or another, seed 000 §5.6.3) out at the average cost of its warehouse; a price
    difference is recorded on the contract (G-6, `ambiguous_delivery_line`)."""
    lines = [line.model_dump() for line in body.lines]
    result = handle(m.ExchangeGoods(str(contract_id), body.delivery_id, lines, body.exchanged_on, body.request_id),
                    user, service.deps)
    return ExchangeCreated(exchange_id=result.ids["exchange_id"], position=result.position)


@router.post("/products", response_model=ProductCreated, status_code=status.HTTP_201_CREATED)
def create_product(service: ServiceDep, body: ProductCreate, user: Keeper) -> ProductCreated:
    """Add a product; its code (P000001…) is given (G-1)."""
    result = handle(m.CreateProduct(body.name, body.spec, body.unit), user, service.deps)
    return ProductCreated(id=result.ids["id"], code=result.ids["code"], position=result.position)


@router.patch("/products/{product_id}", response_model=Done)
def change_product(service: ServiceDep, product_id: Id, body: ProductUpdate, user: Keeper) -> Done:
    """Rename, describe, enable or disable a product."""
    result = handle(m.ChangeProduct(str(product_id), body.model_dump(exclude_unset=True)), user, service.deps)
    return Done(position=result.position)


@router.get("/products", response_model=Page[ProductOut])
def products(service: ServiceDep, _: CurrentUser, conn: ConnDep,
             q: Annotated[str | None, Query(max_length=100)] = None,
             page: PageNo = 1, page_size: PageSize = 50, after: After = None) -> Any:
    """Products by code, searchable by name or code."""
    items, total, last = rm.list_products(conn, q, page, page_size,
                                          after=read_cursor(service, "products", "code", after, page))
    return {"items": items, "total": total, "page": page, "page_size": page_size,
            "next": next_cursor(service, "products", "code", last)}


@router.get("/products/{product_id}", response_model=ProductView | ProductAt)
def product(service: ServiceDep, user: CurrentUser, conn: ConnDep, product_id: Id, as_of: AsOf = None,
            version: AtVersion = None) -> Any:
    """A product with its stock per warehouse, its price and price history; or, for managers,
    admins and auditors, the product and its price at a past moment or version (H-3)."""
    view = rm.product_view(conn, str(product_id))
    if view is None:
        raise NotFound("not_found", "no such product")
    if wants_past(as_of, version):
        return ProductAt(**past_record(service, user, "product", product_id, as_of, version))
    return view


@router.get("/products/{product_id}/history", response_model=History)
def product_history(service: ServiceDep, _: CurrentUser, conn: ConnDep, product_id: Id) -> Any:
    """Every event of the product (its changes and price changes) with actor, time, command id
    and field-level old→new values (H-2). Its stock has a history per warehouse."""
    if rm.product_view(conn, str(product_id)) is None:
        raise NotFound("not_found", "no such product")
    return _history(service, conn, "product", product_id)


@router.post("/products/{product_id}/stock-ins", response_model=Created, status_code=status.HTTP_201_CREATED)
def stock_in(service: ServiceDep, product_id: Id, body: StockIn,
             user: Annotated[Actor, require("warehouse", "admin")]) -> Created:
    """Goods in at a unit cost; the warehouse's moving-average cost follows (G-2)."""
    result = handle(m.StockIn(str(product_id), body.warehouse, body.quantity, body.unit_cost, body.received_on),
                    user, service.deps)
    return Created(id=result.ids["id"], position=result.position)


@router.post("/products/{product_id}/price-changes", response_model=Done,
             responses={202: {"model": Pending, "description": "waits for approval"}})
def price_change(service: ServiceDep, product_id: Id, body: PriceChangeIn,
                 user: Annotated[Actor, require("sales", "warehouse", "manager", "admin")]) -> Any:
    """Set a new tax-inclusive price from today (G-3): by default a request that a manager
    approves (202); managers and admins set it at once (200)."""
    result = handle(m.ChangePrice(str(product_id), body.price, body.reason), user, service.deps)
    if result.pending:
        return JSONResponse(status_code=202, content=Pending(approval_id=result.ids["approval_id"],
                                                             position=result.position).model_dump())
    return Done(position=result.position)


@router.get("/stock", response_model=list[StockListRow])
def stock(_: CurrentUser, conn: ConnDep, product_id: str | None = None,
          warehouse: Annotated[str | None, Query(max_length=100)] = None) -> Any:
    """Stock per product and warehouse: quantity, average unit cost, inventory value."""
    return rm.list_stock(conn, product_id, warehouse)


Warehouse = Annotated[str, Path(min_length=1, max_length=100, description="the warehouse's name, URL-encoded")]


def _stock_row(conn: Any, product_id: UUID, warehouse: str) -> dict[str, Any]:
    row = rm.stock_row(conn, str(product_id), warehouse)
    if row is None:
        raise NotFound("not_found", "no stock of that product in {warehouse}", warehouse=warehouse)
    return row


@router.get("/stock/{product_id}/{warehouse}", response_model=StockListRow | StockAt)
def stock_detail(service: ServiceDep, user: CurrentUser, conn: ConnDep, product_id: Id, warehouse: Warehouse,
                 as_of: AsOf = None, version: AtVersion = None) -> Any:
    """One product's stock in one warehouse, as /stock lists it; or, for managers, admins and
    auditors, as its events left it at a past moment or version (H-3): quantity, average unit
    cost, inventory value."""
    row = _stock_row(conn, product_id, warehouse)
    if wants_past(as_of, version):
        stock_id = ProductStock.id_for(str(product_id), warehouse)
        return StockAt(**past_record(service, user, "stock", stock_id, as_of, version))
    return row


@router.get("/stock/{product_id}/{warehouse}/history", response_model=History)
def stock_history(service: ServiceDep, _: CurrentUser, conn: ConnDep, product_id: Id,
                  warehouse: Warehouse) -> Any:
    """Every goods movement of one product in one warehouse (stock-ins, deliveries, returns,
    exchanges) with actor, time, command id and old→new quantity, cost and value (H-2)."""
    _stock_row(conn, product_id, warehouse)
    return _history(service, conn, "stock", ProductStock.id_for(str(product_id), warehouse))


@router.post("/problems", response_model=Created, status_code=status.HTTP_201_CREATED)
def report_problem(service: ServiceDep, body: ProblemIn,
                   user: Annotated[Actor, require("sales", "manager", "warehouse", "admin")]) -> Created:
    """Report a customer's problem with a responsible person (G-7)."""
    result = handle(m.ReportProblem(body.customer_id, body.type, body.description, body.responsible_id),
                    user, service.deps)
    return Created(id=result.ids["id"], position=result.position)


@router.post("/problems/{problem_id}/resolve", response_model=Done)
def resolve_problem(service: ServiceDep, problem_id: Id, body: ProblemResolve, user: CurrentUser) -> Done:
    """Record the resolution (the responsible person or their manager)."""
    return Done(position=handle(m.ResolveProblem(str(problem_id), body.resolution), user, service.deps).position)


@router.get("/problems", response_model=list[ProblemOut])
def problems(user: CurrentUser, conn: ConnDep,
             status_: Annotated[str | None, Query(alias="status", max_length=20)] = None) -> Any:
    """Problem reports you are responsible for or reported (managers: their departments')."""
    return rm.list_problems(conn, user, status_)
