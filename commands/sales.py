"""Handlers for deals, invoices, payments, products, stock, deliveries, returns,
exchanges and problem reports (SPEC §6, §7)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from aggregates.base import Conflict, Forbidden, Invalid, NotFound
from aggregates.contract import Contract, ContractNumber
from aggregates.money import TEN_THOUSANDTH, positive
from aggregates.organisation import Salesperson
from aggregates.problem import ProblemReport
from aggregates.product import Product, ProductStock
from commands.actor import Actor
from commands.base import (
    Deps,
    Result,
    business_day,
    check_in,
    check_people,
    context,
    load_customer,
    load_settings,
    parse_uuid,
    retrying,
    save,
)
from commands.customers import load_visible, may_see
from commands.handoff import carried_out, requested_price
from commands.messages import (
    ChangePrice,
    ChangeProduct,
    CreateProduct,
    CreditInvoice,
    Deliver,
    ExchangeGoods,
    InvoiceContract,
    RecordPayment,
    ReportProblem,
    ResolveProblem,
    ReturnGoods,
    SignContract,
    StockIn,
)
from commands.product_names import check_product_name_free, move_product_name, take_product_name


def _today(deps: Deps) -> date:
    return business_day(deps.clock.now(), load_settings(deps))


def load_contract(deps: Deps, contract_id: str) -> Contract:
    found = deps.store.find(parse_uuid(contract_id, "contract_id"), Contract)
    if found is None:
        raise NotFound("not_found", "no such contract")
    return found


def load_product(deps: Deps, product_id: str, field_name: str = "product_id") -> Product:
    found = deps.store.find(parse_uuid(product_id, field_name), Product)
    if found is None:
        raise Invalid("unknown_product", "no such product {product_id}", field=field_name, product_id=product_id)
    return found


def _may_sell(deps: Deps, actor: Actor, owner_id: str | None) -> None:
    """Sales facts are recorded by the customer's owner, a manager of the owner, or an admin."""
    if owner_id != actor.person_id and not deps.organisation.manages(actor, owner_id):
        raise Forbidden("not_owner", "only the owner or a manager records sales for this customer")


def sign_contract(cmd: SignContract, actor: Actor, deps: Deps) -> Result:
    """D-1: the deal creates the contract; the customer becomes dealt and stops counting
    against its owner's cap (P-3)."""
    lines = []
    for n, line in enumerate(cmd.lines):
        load_product(deps, line["product_id"], f"lines.{n}.product_id")
        lines.append({
            "product_id": line["product_id"],
            "quantity": positive(line["quantity"], f"lines.{n}.quantity", TEN_THOUSANDTH),
            "unit_price": positive(line["unit_price"], f"lines.{n}.unit_price"),
        })
    amount = positive(cmd.amount, "amount") if cmd.amount is not None else None
    contract_id = uuid4()

    def attempt() -> Result:
        ctx = context(deps, actor)
        customer = load_visible(deps, actor, cmd.customer_id)
        _may_sell(deps, actor, customer.owner_id)
        if deps.store.find(ContractNumber.id_for(cmd.number), ContractNumber) is not None:
            raise Conflict("duplicate_contract_number", "that contract number is taken", field="number")
        signed_on = cmd.signed_on or _today(deps)
        contract = Contract.sign(
            ctx, id=contract_id, customer_id=cmd.customer_id, number=cmd.number, name=cmd.name,
            signed_on=signed_on, amount=amount, lines=lines, salesperson_id=customer.owner_id,
        )
        index = ContractNumber.reserve(ctx, contract.number, str(contract_id))
        first_deal = customer.record_deal(ctx, str(contract_id), contract.number, contract.amount, signed_on)
        profile = deps.store.find(Salesperson.id_for(customer.owner_id or ""), Salesperson)
        if profile is not None and first_deal:
            profile.let_go(ctx, cmd.customer_id, "dealt")
        return Result(save(deps, contract, index, customer, profile), {"id": str(contract_id)})

    return retrying(attempt)


def invoice_contract(cmd: InvoiceContract, actor: Actor, deps: Deps) -> Result:
    """D-2: invoices never exceed the contract."""
    value = positive(cmd.amount, "amount")

    def attempt() -> Result:
        ctx = context(deps, actor)
        contract = load_contract(deps, cmd.contract_id)
        customer = load_visible(deps, actor, contract.customer_id)
        _may_sell(deps, actor, customer.owner_id)
        on = cmd.invoiced_on or _today(deps)
        invoice_id = contract.invoice(ctx, value, on)
        customer.record_invoice(ctx, cmd.contract_id, invoice_id, value, on)
        return Result(save(deps, contract, customer), {"id": invoice_id})

    return retrying(attempt)


def credit_invoice(cmd: CreditInvoice, actor: Actor, deps: Deps) -> Result:
    """A red-letter invoice (红字发票): reverses invoicing, never more than invoiced; after a
    return the contract says how much is over-invoiced (`to_credit`)."""
    value = positive(cmd.amount, "amount")

    def attempt() -> Result:
        ctx = context(deps, actor)
        contract = load_contract(deps, cmd.contract_id)
        customer = load_visible(deps, actor, contract.customer_id)
        _may_sell(deps, actor, customer.owner_id)
        on = cmd.credited_on or _today(deps)
        credit_note_id = contract.credit_invoice(ctx, value, on, cmd.reason)
        customer.record_credit_note(ctx, cmd.contract_id, credit_note_id, value, on)
        return Result(save(deps, contract, customer), {"id": credit_note_id})

    return retrying(attempt)


def record_payment(cmd: RecordPayment, actor: Actor, deps: Deps) -> Result:
    """D-3: against a contract never more than its outstanding amount; without one a
    prepayment credited to the customer's owner at payment time (D-5)."""
    value = positive(cmd.amount, "amount")
    payment_id = uuid4().hex

    def attempt() -> Result:
        ctx = context(deps, actor)
        customer = load_visible(deps, actor, cmd.customer_id)
        _may_sell(deps, actor, customer.owner_id)
        on = cmd.received_on or _today(deps)
        contract = None
        credited = customer.owner_id
        if cmd.contract_id is not None:
            contract = load_contract(deps, cmd.contract_id)
            if contract.customer_id != cmd.customer_id:
                raise Invalid("wrong_customer", "the contract belongs to another customer", field="contract_id")
            contract.receive_payment(ctx, payment_id, value, on)
            credited = contract.salesperson_id
        customer.record_payment(ctx, payment_id, cmd.contract_id, value, on, credited)
        return Result(save(deps, customer, contract), {"id": payment_id})

    return retrying(attempt)


def create_product(cmd: CreateProduct, actor: Actor, deps: Deps) -> Result:
    """G-1: an automatic code P000001, P000002, …; one product per name and spec (409
    `duplicate_product`), reserved in the product's save."""
    check_product_name_free(deps, cmd.name, cmd.spec)
    code = f"P{deps.sequences.next('product'):06d}"
    product_id = uuid4()

    def attempt() -> Result:
        ctx = context(deps, actor)
        product = Product.create(ctx, id=product_id, code=code, name=cmd.name, spec=cmd.spec, unit=cmd.unit)
        return Result(save(deps, product, take_product_name(deps, ctx, product)), {"id": str(product_id),
                                                                                    "code": code})

    return retrying(attempt)


def change_product(cmd: ChangeProduct, actor: Actor, deps: Deps) -> Result:
    """G-1: a new name or spec is refused when another product holds the pair."""
    def attempt() -> Result:
        ctx = context(deps, actor)
        product = load_product(deps, cmd.product_id)
        old_name, old_spec = product.name, product.spec
        product.change(ctx, cmd.changes)
        moved = move_product_name(deps, ctx, product, old_name, old_spec)
        return Result(save(deps, product, *moved), {"id": cmd.product_id})

    return retrying(attempt)


def change_price(cmd: ChangePrice, actor: Actor, deps: Deps) -> Result:
    """G-3: the product's price and pricing date change."""
    def attempt() -> Result:
        product = load_product(deps, cmd.product_id)
        product.change_price(context(deps, actor), positive(cmd.price, "price"), _today(deps), cmd.reason,
                             cmd.approved_by)
        return Result(save(deps, product), {"id": cmd.product_id})

    return retrying(attempt)


def _stock(deps: Deps, ctx: Any, product_id: str, warehouse: str, open_missing: bool) -> ProductStock:
    found = deps.store.find(ProductStock.id_for(product_id, warehouse), ProductStock)
    if found is None:
        if not open_missing:
            raise Conflict("insufficient_stock", "{warehouse} holds none of this product", field="lines",
                           details={"product_id": product_id, "warehouse": warehouse, "available": "0"},
                           warehouse=warehouse)
        found = ProductStock.open(ctx, product_id, warehouse)
    return found


class Stocks:
    """The stocks one command moves, each loaded once, to be saved with the contract."""

    def __init__(self, deps: Deps, ctx: Any) -> None:
        self.deps, self.ctx = deps, ctx
        self.loaded: dict[UUID, ProductStock] = {}

    def of(self, product_id: str, warehouse: str, open_missing: bool) -> ProductStock:
        key = ProductStock.id_for(product_id, warehouse)
        if key not in self.loaded:
            self.loaded[key] = _stock(self.deps, self.ctx, product_id, warehouse, open_missing)
        return self.loaded[key]

    def all(self) -> list[ProductStock]:
        return list(self.loaded.values())


def _contract_with_delivery(deps: Deps, contract_id: str, delivery_id: str) -> Contract:
    contract = load_contract(deps, contract_id)
    if delivery_id not in contract.deliveries:
        raise Invalid("unknown_delivery", "no such delivery on this contract", field="delivery_id")
    return contract


def _check_warehouse(deps: Deps, warehouse: str, field_name: str) -> None:
    check_in(warehouse, load_settings(deps).dictionaries["warehouses"], field_name)


def stock_in(cmd: StockIn, actor: Actor, deps: Deps) -> Result:
    """G-2: goods in at their cost; the warehouse's average cost moves."""
    qty = positive(cmd.quantity, "quantity", TEN_THOUSANDTH)
    unit = positive(cmd.cost, "unit_cost", TEN_THOUSANDTH)
    _check_warehouse(deps, cmd.warehouse, "warehouse")

    def attempt() -> Result:
        ctx = context(deps, actor)
        product = load_product(deps, cmd.product_id)
        if not product.enabled:
            raise Conflict("product_disabled", "the product is disabled", field="product_id")
        stock = _stock(deps, ctx, cmd.product_id, cmd.warehouse, open_missing=True)
        stock_in_id = uuid4().hex
        stock.receive(ctx, qty, unit, "stock_in",
                      {"stock_in_id": stock_in_id, "received_on": (cmd.received_on or _today(deps)).isoformat()})
        return Result(save(deps, stock), {"id": stock_in_id})

    return retrying(attempt)


def _parse_lines(lines: list[dict[str, Any]], deps: Deps, need_warehouse: bool) -> list[dict[str, Any]]:
    parsed = []
    for n, line in enumerate(lines):
        load_product(deps, line["product_id"], f"lines.{n}.product_id")
        entry = {"product_id": line["product_id"],
                 "quantity": positive(line["quantity"], f"lines.{n}.quantity", TEN_THOUSANDTH)}
        warehouse = line.get("warehouse")
        if need_warehouse or warehouse:
            if not warehouse:
                raise Invalid("validation_error", "warehouse is required", field=f"lines.{n}.warehouse")
            _check_warehouse(deps, warehouse, f"lines.{n}.warehouse")
            entry["warehouse"] = warehouse
        parsed.append(entry)
    if not parsed:
        raise Invalid("validation_error", "at least one line", field="lines")
    return parsed


def deliver(cmd: Deliver, actor: Actor, deps: Deps) -> Result:
    """G-4: goods leave at the warehouse's average cost; stock never below zero, the
    contract never over-delivered — contract and stocks commit together."""
    parsed = _parse_lines(cmd.lines, deps, need_warehouse=True)
    delivery_id = uuid4().hex

    def attempt() -> Result:
        ctx = context(deps, actor)
        contract = load_contract(deps, cmd.contract_id)
        contract.check_delivery(parsed)
        stocks = Stocks(deps, ctx)
        out = []
        for line in parsed:
            cost = stocks.of(line["product_id"], line["warehouse"], False).issue(
                ctx, line["quantity"], "delivery", {"contract_id": cmd.contract_id, "delivery_id": delivery_id})
            out.append({**line, "unit_cost": cost})
        contract.deliver(ctx, delivery_id, cmd.delivered_on or _today(deps), out)
        request = carried_out(deps, ctx, cmd.request_id, "delivery", cmd.contract_id, out, delivery_id)
        return Result(save(deps, contract, *stocks.all(), *request), {"delivery_id": delivery_id})

    return retrying(attempt)


def _adjust_deal(deps: Deps, ctx: Any, contract: Contract, kind: str, adjustment_id: str, amount: Decimal,
                 on: date) -> Any:
    """The customer's deal total follows the contract's net amount, credited to the contract's
    salesperson on the day of the return or exchange."""
    customer = load_customer(deps, contract.customer_id)
    customer.adjust_deal(ctx, contract_id=str(contract.id), number=contract.number, adjustment_id=adjustment_id,
                         kind=kind, amount=amount, adjusted_on=on, salesperson_id=contract.salesperson_id)
    return customer


def return_goods(cmd: ReturnGoods, actor: Actor, deps: Deps) -> Result:
    """G-5: goods come back at the cost they left with; amount = quantity × contract price,
    which the contract's net amount and the customer's deal total lose."""
    parsed = _parse_lines(cmd.lines, deps, need_warehouse=False)
    return_id = uuid4().hex

    def attempt() -> Result:
        ctx = context(deps, actor)
        contract = _contract_with_delivery(deps, cmd.contract_id, cmd.delivery_id)
        back = []
        for n, line in enumerate(parsed):
            warehouse = contract.delivery_line_for(cmd.delivery_id, line["product_id"], line.get("warehouse"),
                                                   f"lines.{n}.warehouse")
            cost = contract.delivery_cost(cmd.delivery_id, line["product_id"], warehouse)
            back.append({"product_id": line["product_id"], "warehouse": warehouse,
                         "quantity": line["quantity"], "unit_cost": cost})
        contract.check_return(cmd.delivery_id, back)
        stocks = Stocks(deps, ctx)
        for line in back:
            ref = {"contract_id": cmd.contract_id, "return_id": return_id}
            stocks.of(line["product_id"], line["warehouse"], True).receive(
                ctx, line["quantity"], line["unit_cost"], "return", ref)
        on = cmd.returned_on or _today(deps)
        value = contract.take_back(ctx, return_id, cmd.delivery_id, on, back)
        customer = _adjust_deal(deps, ctx, contract, "return", return_id, -value, on)
        request = carried_out(deps, ctx, cmd.request_id, "return", cmd.contract_id, back, return_id,
                              delivery_id=cmd.delivery_id)
        return Result(save(deps, contract, customer, *stocks.all(), *request), {"return_id": return_id})

    return retrying(attempt)


def _exchange_lines(lines: list[dict[str, Any]], deps: Deps) -> list[dict[str, Any]]:
    """Exchange lines: what comes back (product, from_warehouse) and what goes out
    (replacement product, warehouse, unit price)."""
    parsed = _parse_lines(lines, deps, need_warehouse=True)
    for n, (line, given) in enumerate(zip(parsed, lines, strict=True)):
        from_warehouse = given.get("from_warehouse")
        if from_warehouse:
            _check_warehouse(deps, from_warehouse, f"lines.{n}.from_warehouse")
        line["from_warehouse"] = from_warehouse or None
        replacement = given.get("replacement_product_id") or line["product_id"]
        product = load_product(deps, replacement, f"lines.{n}.replacement_product_id")
        if not product.enabled:
            raise Conflict("product_disabled", "the replacement product is disabled",
                           field=f"lines.{n}.replacement_product_id")
        line["out_product_id"] = replacement
        price = given.get("unit_price")
        line["unit_price"] = positive(price, f"lines.{n}.unit_price") if price is not None else None
        line["list_price"] = product.price
    return parsed


def exchange_goods(cmd: ExchangeGoods, actor: Actor, deps: Deps) -> Result:
    """G-6: returned goods come in at their delivery cost to the warehouse they left from, the
    same quantity of the replacement (the same product or another, seed 000 §5.6.3) leaves at
    the current average cost of the warehouse named on the line; a replacement priced
    differently changes the contract's net amount and the customer's deal total."""
    parsed = _exchange_lines(cmd.lines, deps)
    exchange_id = uuid4().hex

    def attempt() -> Result:
        ctx = context(deps, actor)
        contract = _contract_with_delivery(deps, cmd.contract_id, cmd.delivery_id)
        stocks = Stocks(deps, ctx)
        moves = []
        for n, line in enumerate(parsed):
            back_warehouse = contract.delivery_line_for(
                cmd.delivery_id, line["product_id"], line["from_warehouse"], f"lines.{n}.from_warehouse")
            back_cost = contract.delivery_cost(cmd.delivery_id, line["product_id"], back_warehouse)
            moves.append({"product_id": line["product_id"], "quantity": line["quantity"],
                          "back_warehouse": back_warehouse, "back_cost": back_cost,
                          "out_product_id": line["out_product_id"], "out_warehouse": line["warehouse"],
                          "unit_price": _replacement_price(contract, line, requested_price(
                              deps, cmd.request_id, line["product_id"], line["out_product_id"]))})
        contract.check_return(cmd.delivery_id, [{**m, "warehouse": m["back_warehouse"]} for m in moves])
        ref = {"contract_id": cmd.contract_id, "exchange_id": exchange_id}
        for move in moves:
            stocks.of(move["product_id"], move["back_warehouse"], True).receive(
                ctx, move["quantity"], move["back_cost"], "exchange_in", ref)
        for move in moves:
            move["out_cost"] = stocks.of(move["out_product_id"], move["out_warehouse"], False).issue(
                ctx, move["quantity"], "exchange_out", ref)
        on = cmd.exchanged_on or _today(deps)
        difference = contract.exchange(ctx, exchange_id, cmd.delivery_id, on, moves)
        customer = _adjust_deal(deps, ctx, contract, "exchange", exchange_id, difference, on)
        request = carried_out(deps, ctx, cmd.request_id, "exchange", cmd.contract_id, moves, exchange_id,
                              delivery_id=cmd.delivery_id)
        return Result(save(deps, contract, customer, *stocks.all(), *request), {"exchange_id": exchange_id})

    return retrying(attempt)


def _replacement_price(contract: Contract, line: dict[str, Any], requested: Decimal | None) -> Decimal | None:
    """The unit price the replacement goes out at: as given; else as the exchange request it
    carries out names; else the contract's price of that product (like for like costs nothing
    more, which the contract decides); else the product's list price."""
    given: Decimal | None = line["unit_price"] if line["unit_price"] is not None else requested
    if given is not None or contract.line_price(line["out_product_id"]) is not None:
        return given
    listed: Decimal | None = line["list_price"]
    return listed


def report_problem(cmd: ReportProblem, actor: Actor, deps: Deps) -> Result:
    """G-7: a problem report with a responsible person."""
    check_in(cmd.kind, load_settings(deps).dictionaries["problem_types"], "type")
    check_people(deps, [cmd.responsible_id], "responsible_id")
    customer = load_customer(deps, cmd.customer_id)
    # R-2..R-4: a customer one may not see is missing. Warehouse keepers see every delivery and
    # its customer, so they report problems on any customer, as after-sales needs.
    if "warehouse" not in actor.roles and not may_see(deps, actor, customer):
        raise NotFound("not_found", "no such customer")
    problem = ProblemReport.report(context(deps, actor), id=uuid4(), customer_id=cmd.customer_id, kind=cmd.kind,
                                   description=cmd.description, responsible_id=cmd.responsible_id)
    return Result(save(deps, problem), {"id": str(problem.id)})


def resolve_problem(cmd: ResolveProblem, actor: Actor, deps: Deps) -> Result:
    def attempt() -> Result:
        problem = deps.store.find(parse_uuid(cmd.problem_id, "problem_id"), ProblemReport)
        if problem is None:
            raise NotFound("not_found", "no such problem report")
        responsible = problem.responsible_id
        if actor.person_id != responsible and not deps.organisation.manages(actor, responsible):
            raise Forbidden("forbidden", "only the responsible person or their manager resolves it")
        problem.resolve(context(deps, actor), cmd.resolution)
        return Result(save(deps, problem), {"id": cmd.problem_id})

    return retrying(attempt)
