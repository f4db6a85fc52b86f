"""The hand-off from sales to the warehouse (seed 000 §5.6.1–§5.6.3): a salesperson's
delivery, return or exchange request, which a warehouse keeper carries out, all or part.

A salesperson asks for their own contract (the customer's owner, or a manager of the owner):
what can be checked is checked when they ask (the products are on the contract or in the
delivery, no more than is left to deliver or to come back). A return or an exchange request
may be held for approval (AP-1 kinds `return`, `exchange`) before the keepers see it.

`carried_out` is what the keepers' handlers (`commands.sales`) call when a delivery, return
or exchange names the request it carries out: it checks the request fits and records the
part done on it, and returns the aggregates to save with the goods' movement."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any
from uuid import uuid4

from aggregates import bounds
from aggregates.base import Conflict, Context, CrmAggregate, Forbidden, Invalid, NotFound
from aggregates.contract import Contract
from aggregates.customer import Customer
from aggregates.delivery_request import MAX_LINES, PREFIXES, ZERO, DeliveryRequest
from aggregates.money import CENT, TEN_THOUSANDTH, positive
from aggregates.product import Product
from aggregates.settings import Settings
from commands.actor import Actor
from commands.base import (
    Deps,
    Result,
    business_tz,
    check_in,
    context,
    load_settings,
    parse_uuid,
    retrying,
    save,
)
from commands.customers import may_see
from commands.messages import CancelRequest, RequestDelivery, RequestExchange, RequestReturn


def load_request(deps: Deps, request_id: str, field_name: str = "request_id") -> DeliveryRequest | None:
    return deps.store.find(parse_uuid(request_id, field_name), DeliveryRequest)


def carried_out(deps: Deps, ctx: Context, request_id: str | None, kind: str, contract_id: str,
                lines: list[dict[str, Any]], done_id: str, delivery_id: str | None = None) -> list[CrmAggregate]:
    """`kind` is "delivery", "return" or "exchange"; `lines` are the executed lines as the
    contract records them (a delivery's and a return's: product_id, warehouse, quantity; an
    exchange's: product_id, quantity, back_warehouse, out_warehouse, out_product_id, …);
    `done_id` the delivery, return or exchange id; `delivery_id` the delivery a return or an
    exchange is about, when the caller gives it. Nothing to record without a request."""
    if request_id is None:
        return []
    request = load_request(deps, request_id)
    if request is None:
        raise Invalid("unknown_request", "no such request", field="request_id")
    request.carry_out(ctx, kind=kind, contract_id=contract_id, done_id=done_id,
                      lines=_executed(deps, kind, contract_id, lines), delivery_id=delivery_id)
    return [request]


def _executed(deps: Deps, kind: str, contract_id: str, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Executed lines as the request compares them: `warehouse` is where the goods leave from
    (a delivery, an exchange's replacement) or come back to (a return); `from_warehouse` where
    an exchange's goods come back to; `unit_price` the replacement's, the contract's own price
    where the exchange gave none (G-6)."""
    if kind != "exchange":
        return [{"product_id": line["product_id"], "quantity": line["quantity"],
                 "warehouse": line.get("warehouse")} for line in lines]
    contract = deps.store.find(parse_uuid(contract_id, "contract_id"), Contract)
    executed = []
    for line in lines:
        out_product = line.get("out_product_id") or line["product_id"]
        price = line.get("unit_price")
        if price is None and contract is not None:
            price = contract.line_price(out_product)
        executed.append({"product_id": line["product_id"], "quantity": line["quantity"],
                         "warehouse": line.get("out_warehouse"), "from_warehouse": line.get("back_warehouse"),
                         "out_product_id": out_product, "unit_price": price})
    return executed


# ---- asking --------------------------------------------------------------------------------


def _own_contract(deps: Deps, actor: Actor, contract_id: str) -> tuple[Contract, Customer]:
    """The contract, when the actor may ask the warehouse for it: the customer's owner, a
    manager of the owner, or an admin. A contract one may not see is missing (404)."""
    contract = deps.store.find(parse_uuid(contract_id, "contract_id"), Contract)
    customer = deps.store.find(parse_uuid(contract.customer_id, "customer_id"), Customer) if contract else None
    if contract is None or customer is None or not may_see(deps, actor, customer):
        raise NotFound("not_found", "no such contract")
    if customer.owner_id != actor.person_id and not deps.organisation.manages(actor, customer.owner_id):
        raise Forbidden("not_owner", "only the customer's owner or their manager asks the warehouse for this "
                                     "contract")
    return contract, customer


def _product(deps: Deps, product_id: Any, field_name: str) -> Product:
    if not isinstance(product_id, str):
        raise Invalid("validation_error", "a product id is required", field=field_name)
    found = deps.store.find(parse_uuid(product_id, field_name), Product)
    if found is None:
        raise Invalid("unknown_product", "no such product {product_id}", field=field_name, product_id=product_id)
    return found


def _warehouse(settings: Settings, value: Any, field_name: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise Invalid("validation_error", "a warehouse is a name", field=field_name)
    bounds.text(value, field_name, bounds.SHORT_TEXT)
    check_in(value, settings.dictionaries["warehouses"], field_name)
    return value


def _parse(deps: Deps, settings: Settings, raw: list[dict[str, Any]], exchange: bool) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise Invalid("validation_error", "at least one line", field="lines")
    if len(raw) > MAX_LINES:
        raise Invalid("validation_error", "at most {max_lines} lines", field="lines",
                      details={"limit": MAX_LINES}, max_lines=MAX_LINES)
    parsed = []
    for n, line in enumerate(raw):
        if not isinstance(line, dict):
            raise Invalid("validation_error", "a line is an object", field=f"lines.{n}")
        product_id = line.get("product_id")
        _product(deps, product_id, f"lines.{n}.product_id")
        quantity = bounds.amount(positive(line.get("quantity"), f"lines.{n}.quantity", TEN_THOUSANDTH),
                                 f"lines.{n}.quantity", bounds.QUANTITY_MAX)
        entry: dict[str, Any] = {"product_id": product_id, "quantity": quantity,
                                 "warehouse": _warehouse(settings, line.get("warehouse"), f"lines.{n}.warehouse")}
        if exchange:
            entry["from_warehouse"] = _warehouse(settings, line.get("from_warehouse"), f"lines.{n}.from_warehouse")
            replacement = line.get("replacement_product_id") or None
            if replacement is not None:
                found = _product(deps, replacement, f"lines.{n}.replacement_product_id")
                if not found.enabled:
                    raise Conflict("product_disabled", "the replacement product is disabled",
                                   field=f"lines.{n}.replacement_product_id")
            entry["replacement_product_id"] = replacement
            price = line.get("unit_price")
            entry["unit_price"] = None if price is None else bounds.amount(
                positive(price, f"lines.{n}.unit_price", CENT), f"lines.{n}.unit_price", bounds.MONEY_MAX)
        parsed.append(entry)
    return parsed


def _check_deliverable(contract: Contract, lines: list[dict[str, Any]]) -> None:
    """Seed 000 §5.6.1: products of the contract, no more than is left to deliver."""
    ordered = contract.ordered()
    for n, line in enumerate(lines):
        if line["product_id"] not in ordered:
            raise Invalid("not_on_contract", "the contract does not sell this product",
                          field=f"lines.{n}.product_id")
    contract.check_delivery(lines)


def _check_returnable(contract: Contract, delivery_id: str, lines: list[dict[str, Any]], back: str) -> None:
    """Seed 000 §5.6.2, §5.6.3: products of the delivery, where the request names the warehouse
    the goods come back to (`back`: the line's key for it) one the delivery left from, and no
    more than can still come back, per product and per warehouse named."""
    if delivery_id not in contract.deliveries:
        raise Invalid("unknown_delivery", "no such delivery on this contract", field="delivery_id")
    delivered = contract.delivery_lines(delivery_id)
    per_product: dict[str, Decimal] = defaultdict(lambda: ZERO)
    per_line: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for n, line in enumerate(lines):
        warehouses = {str(d["warehouse"]) for d in delivered if d["product_id"] == line["product_id"]}
        if not warehouses:
            raise Invalid("not_in_delivery", "the delivery holds none of this product",
                          field=f"lines.{n}.product_id")
        named = line.get(back)
        if named is not None and named not in warehouses:
            raise Invalid("not_in_delivery", "none of this product left from that warehouse in the delivery",
                          field=f"lines.{n}.{back}", details={"warehouses": sorted(warehouses)})
        per_product[line["product_id"]] += line["quantity"]
        if named is not None:
            per_line[(line["product_id"], named)] += line["quantity"]
    for product_id, quantity in per_product.items():
        warehouses = {str(d["warehouse"]) for d in delivered if d["product_id"] == product_id}
        left = sum((contract.returnable(delivery_id, product_id, w) for w in warehouses), ZERO)
        if quantity > left:
            raise Conflict("over_returned", "only {left} of that product can come back", field="lines",
                           details={"product_id": product_id, "returnable": str(left)}, left=left)
    for (product_id, warehouse), quantity in per_line.items():
        left = contract.returnable(delivery_id, product_id, warehouse)
        if quantity > left:
            raise Conflict("over_returned", "only {left} of that delivery line can come back", field="lines",
                           details={"product_id": product_id, "warehouse": warehouse, "returnable": str(left)},
                           left=left)


def _ask(deps: Deps, actor: Actor, kind: str, contract_id: str, delivery_id: str | None, raw: list[dict[str, Any]],
         note: str, approved_by: str | None = None, requested_at: Any = None) -> Result:
    settings = load_settings(deps)
    bounds.text(note, "note", bounds.REASON, multiline=True)
    lines = _parse(deps, settings, raw, exchange=kind == "exchange")
    if delivery_id is not None:
        parse_uuid(delivery_id, "delivery_id")
    request_id = uuid4()
    number: list[str] = []

    def attempt() -> Result:
        ctx = context(deps, actor)
        contract, customer = _own_contract(deps, actor, contract_id)
        if kind == "delivery":
            _check_deliverable(contract, lines)
        else:
            back = "warehouse" if kind == "return" else "from_warehouse"
            _check_returnable(contract, str(delivery_id), lines, back)
        if not number:
            # A dry run (filing for approval) takes no number: nothing it makes is kept.
            month = ctx.at.astimezone(business_tz(settings)).strftime("%Y%m")
            number.append("" if deps.dry_run else
                          f"{PREFIXES[kind]}{month}{deps.sequences.take(f'request:{kind}:{month}'):06d}")
        request = DeliveryRequest.request(
            ctx, id=request_id, kind=kind, number=number[0], contract_id=contract_id,
            customer_id=contract.customer_id, contract_number=contract.number, delivery_id=delivery_id,
            lines=lines, note=note, approved_by=approved_by, asked_at=requested_at,
        )
        return Result(save(deps, request), {"id": str(request_id), "number": number[0]})

    return retrying(attempt)


def request_delivery(cmd: RequestDelivery, actor: Actor, deps: Deps) -> Result:
    """Seed 000 §5.6.1: 业务人员按合同要求通知库管人员发货 — the keepers are told (N-1)."""
    return _ask(deps, actor, "delivery", cmd.contract_id, None, cmd.lines, cmd.note)


def request_return(cmd: RequestReturn, actor: Actor, deps: Deps) -> Result:
    """Seed 000 §5.6.2: a return request against a delivery; approvable (AP-1 `return`)."""
    return _ask(deps, actor, "return", cmd.contract_id, cmd.delivery_id, cmd.lines, cmd.note, cmd.approved_by,
                cmd.requested_at)


def request_exchange(cmd: RequestExchange, actor: Actor, deps: Deps) -> Result:
    """Seed 000 §5.6.3: an exchange request against a delivery; approvable (AP-1 `exchange`)."""
    return _ask(deps, actor, "exchange", cmd.contract_id, cmd.delivery_id, cmd.lines, cmd.note, cmd.approved_by,
                cmd.requested_at)


def cancel_request(cmd: CancelRequest, actor: Actor, deps: Deps) -> Result:
    """The requester, a manager of the requester or an admin calls off what is not done yet."""
    def attempt() -> Result:
        request = load_request(deps, cmd.request_id)
        if request is None:
            raise NotFound("not_found", "no such request")
        allowed = actor.person_id == request.requester_id or deps.organisation.manages(actor, request.requester_id)
        request.cancel(context(deps, actor), cmd.reason, allowed)
        return Result(save(deps, request), {"id": cmd.request_id})

    return retrying(attempt)


def requested_price(deps: Deps, request_id: str | None, product_id: str, out_product_id: str) -> Decimal | None:
    """The replacement's unit price an exchange request names for these goods, if it names
    one: the keeper carrying the request out exchanges at it unless told otherwise (G-6)."""
    request = load_request(deps, request_id) if request_id else None
    if request is None or request.kind != "exchange":
        return None
    for line in request.lines:
        replacement = line.get("replacement_product_id") or product_id
        if line["product_id"] == product_id and replacement == out_product_id:
            price = line.get("unit_price")
            return None if price is None else Decimal(price)
    return None
