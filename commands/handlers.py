"""The one map from command type to handler, and `handle`, which every caller uses: the API,
the CLI, the demo, the approvals (which store a command's kind and fields, and run it
through this map when approved) and batch callers alike.

A handler takes `(command, actor, deps)`: it loads aggregates from the event store, asks the
ports what it must, decides through the aggregates' methods, and saves everything it changed
in one atomic save (retrying on a concurrent write, re-deciding each time)."""

from __future__ import annotations

from typing import Any

from commands import approvals, customers, handoff, imports, organisation, pool, sales, targets
from commands import messages as m
from commands.actor import Actor
from commands.base import Deps, Handler

COMMAND_HANDLERS: dict[type[m.Command], Handler] = {
    # customers
    m.RegisterCustomer: customers.register_customer,
    m.ChangeCustomerInfo: customers.change_customer_info,
    m.RestoreCustomer: customers.restore_customer,
    m.AddContact: customers.add_contact,
    m.EditContact: customers.edit_contact,
    m.RemoveContact: customers.remove_contact,
    m.ChangeShares: customers.change_shares,
    m.ClaimCustomer: customers.claim_customer,
    m.ReturnToPool: customers.return_to_pool,
    m.TransferCustomer: customers.transfer_customer,
    m.AssignCustomer: customers.assign_customer,
    m.DeleteCustomer: customers.delete_customer,
    # batches: each customer's own command goes through `handle` (the approval policy per customer)
    m.ClaimCustomers: lambda cmd, actor, deps: customers.claim_customers(cmd, actor, deps, handle),
    m.ReturnCustomersToPool: lambda cmd, actor, deps: customers.return_customers_to_pool(cmd, actor, deps, handle),
    m.TransferCustomers: lambda cmd, actor, deps: customers.transfer_customers(cmd, actor, deps, handle),
    m.ShareCustomers: lambda cmd, actor, deps: customers.share_customers(cmd, actor, deps, handle),
    m.RecordVisit: customers.record_visit,
    m.ChangeLogo: customers.change_logo,
    m.SweepPool: pool.sweep_pool,
    m.ImportCustomers: imports.import_customers,
    # deals, products, stock
    m.SignContract: sales.sign_contract,
    m.InvoiceContract: sales.invoice_contract,
    m.CreditInvoice: sales.credit_invoice,
    m.RecordPayment: sales.record_payment,
    m.CreateProduct: sales.create_product,
    m.ChangeProduct: sales.change_product,
    m.ChangePrice: sales.change_price,
    m.StockIn: sales.stock_in,
    m.Deliver: sales.deliver,
    m.ReturnGoods: sales.return_goods,
    m.ExchangeGoods: sales.exchange_goods,
    m.ReportProblem: sales.report_problem,
    m.ResolveProblem: sales.resolve_problem,
    # the hand-off from sales to the warehouse (seed 000 §5.6.1-§5.6.3)
    m.RequestDelivery: handoff.request_delivery,
    m.RequestReturn: handoff.request_return,
    m.RequestExchange: handoff.request_exchange,
    m.CancelRequest: handoff.cancel_request,
    # targets and work reports
    m.SetTarget: targets.set_target,
    m.ReviseTarget: targets.revise_target,
    m.CancelTarget: targets.cancel_target,
    m.SubmitWorkReport: targets.submit_work_report,
    # people, departments, settings
    m.CreateDepartment: organisation.create_department,
    m.ChangeDepartment: organisation.change_department,
    m.CreatePerson: organisation.create_person,
    m.ChangePerson: organisation.change_person,
    m.ChangeSettings: organisation.change_settings,
    # approvals
    m.ApproveRequest: lambda cmd, actor, deps: approvals.approve(cmd, actor, deps, run),
    m.RejectRequest: approvals.reject,
    m.WithdrawRequest: approvals.withdraw,
}


def run(command: m.Command, actor: Actor, deps: Deps) -> Any:
    """Run the command's handler now, whatever the approval policy says."""
    return COMMAND_HANDLERS[type(command)](command, actor, deps)


def handle(command: m.Command, actor: Actor, deps: Deps) -> Any:
    """Run the command, or file it for approval when the policy holds it back (AP-1); a filed
    one comes back as a `Result` with `pending` set and the `approval_id`."""
    if isinstance(command, m.Approvable) and approvals.needs_approval(command, actor, deps):
        return approvals.file_request(command, actor, deps, run)
    return run(command, actor, deps)
