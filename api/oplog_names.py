"""The names the operation log gives operations (H-5): what was done in the domain's words
(`customer.claim`, `payment.record`), not the HTTP route it came by. A route is named by the
command it builds (`COMMAND_NAMES`, one entry per command of `commands/handlers.py`); routes
that build no command, or share their command with another route, are named in
`ROUTE_NAMES`. Names are stored with every entry and searched for, so a name, once given,
stays: add new ones, never rename."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from types import CodeType
from typing import Any

from commands import messages as m

COMMAND_NAMES: dict[type[m.Command], str] = {
    # customers
    m.RegisterCustomer: "customer.register",
    m.ChangeCustomerInfo: "customer.change",
    m.RestoreCustomer: "customer.restore",
    m.AddContact: "contact.add",
    m.EditContact: "contact.edit",
    m.RemoveContact: "contact.remove",
    m.ChangeShares: "customer.share",
    m.ClaimCustomer: "customer.claim",
    m.ReturnToPool: "customer.release",
    m.TransferCustomer: "customer.transfer",
    m.AssignCustomer: "customer.assign",
    m.DeleteCustomer: "customer.delete",
    m.ClaimCustomers: "customers.claim",
    m.ReturnCustomersToPool: "customers.release",
    m.TransferCustomers: "customers.transfer",
    m.ShareCustomers: "customers.share",
    m.RecordVisit: "visit.record",
    m.ChangeLogo: "customer.logo",
    m.SweepPool: "pool.sweep",
    m.ImportCustomers: "customers.import",
    # deals, products, stock
    m.SignContract: "contract.create",
    m.InvoiceContract: "invoice.create",
    m.CreditInvoice: "credit_note.create",
    m.RecordPayment: "payment.record",
    m.CreateProduct: "product.create",
    m.ChangeProduct: "product.change",
    m.ChangePrice: "product.price_change",
    m.StockIn: "stock.receive",
    m.Deliver: "delivery.record",
    m.ReturnGoods: "return.record",
    m.ExchangeGoods: "exchange.record",
    m.ReportProblem: "problem.report",
    m.ResolveProblem: "problem.resolve",
    # the hand-off from sales to the warehouse
    m.RequestDelivery: "delivery_request.create",
    m.RequestReturn: "return_request.create",
    m.RequestExchange: "exchange_request.create",
    m.CancelRequest: "warehouse_request.cancel",
    # targets and work reports
    m.SetTarget: "target.set",
    m.ReviseTarget: "target.revise",
    m.CancelTarget: "target.cancel",
    m.SubmitWorkReport: "work_report.submit",
    # people, departments, settings
    m.CreateDepartment: "department.create",
    m.ChangeDepartment: "department.change",
    m.CreatePerson: "person.create",
    m.ChangePerson: "person.change",
    m.ChangeSettings: "settings.change",
    # approvals
    m.ApproveRequest: "approval.approve",
    m.RejectRequest: "approval.reject",
    m.WithdrawRequest: "approval.withdraw",
}

# Routes that build no command of the domain, or whose command another route builds too
# (a manager's recall and an owner's release both return customers to the pool), and the
# reads that the log records (exports, refusals) under a name of their own.
ROUTE_NAMES: dict[str, str] = {
    "POST /api/v1/auth/token": "session.sign_in",
    "POST /api/v1/auth/logout": "session.sign_out",
    "POST /api/v1/me/password": "password.change",
    "POST /api/v1/customers/{customer_id}/recall": "customer.recall",
    "POST /api/v1/customers/recall": "customers.recall",
    "POST /api/v1/notifications/{notification_id}/read": "notification.read",
    "POST /api/v1/admin/projections/{name}/rebuild": "projection.rebuild",
    "POST /api/v1/stream/tickets": "stream_ticket.create",
    "GET /api/v1/reports/{report_id}": "report.read",
    "GET /api/v1/operation-log": "operation_log.read",
    "GET /api/v1/imports/{import_id}/rejects": "import.rejects",
}
# A request that matches no route (an unknown path, or one refused before routing that no
# route answers) has no operation; its method and path are in the entry.
UNKNOWN = "unknown"
EXPORT_SUFFIX = ".export"
_WORD = re.compile(r"[^a-z0-9]+")


def _codes(code: CodeType) -> Iterator[CodeType]:
    """A function's code and the code of what it defines inside (comprehensions, lambdas)."""
    yield code
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            yield from _codes(constant)


def command_of(endpoint: Callable[..., Any] | None) -> type[m.Command] | None:
    """The command a route's function builds: the one command class its code names, or
    None when it names none or several."""
    if endpoint is None:
        return None
    code = getattr(inspect.unwrap(endpoint), "__code__", None)
    if code is None:
        return None
    found = set()
    for part in _codes(code):
        for name in part.co_names:
            value = getattr(m, name, None)
            if isinstance(value, type) and issubclass(value, m.Command) and value in COMMAND_NAMES:
                found.add(value)
    return found.pop() if len(found) == 1 else None


@lru_cache(maxsize=1024)
def operation_name(route: str, endpoint: Callable[..., Any] | None, exported: bool = False) -> str:
    """The name of the operation at `route` ("METHOD /api/v1/template"): the route's own
    name, else its command's, else, for a read, the route function's module and name
    (`customers.detail`); an export gets `.export` after its read's name."""
    name = ROUTE_NAMES.get(route)
    if name is None:
        command = command_of(endpoint)
        name = COMMAND_NAMES[command] if command is not None else None
    if name is None and endpoint is not None:
        module = getattr(endpoint, "__module__", "") or ""
        name = ".".join(_WORD.sub("_", part.lower()).strip("_") for part in
                        (module.rsplit(".", 1)[-1], getattr(endpoint, "__name__", "")) if part) or None
    name = name or UNKNOWN
    if exported and not name.endswith(EXPORT_SUFFIX):
        name = name.removesuffix(".read") + EXPORT_SUFFIX
    return name
