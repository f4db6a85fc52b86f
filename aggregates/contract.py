"""The Contract aggregate: the deal (D-1) and its execution — invoices (D-2), payments
(D-3), deliveries (G-4), returns (G-5) and exchanges (G-6) — with the amounts and
quantities that may never be exceeded."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID, uuid4

from aggregates import bounds
from aggregates.base import Conflict, Context, CrmAggregate, Invalid, derived_id
from aggregates.money import money

ZERO = Decimal("0")


def line_key(delivery_id: str, product_id: str, warehouse: str) -> str:
    """The key of a delivery line in `Contract.returned`."""
    return f"{delivery_id}:{product_id}:{warehouse}"


class ContractNumber(CrmAggregate):
    """Index aggregate: one per contract number, saved with the contract that takes it."""

    TEXT_LIMITS: ClassVar[dict[str, int]] = {"number": bounds.CONTRACT_NUMBER}

    contract_id: str

    def __init__(self) -> None:
        """Empty: the Created event's apply() sets the state."""

    @staticmethod
    def id_for(number: str) -> UUID:
        return derived_id("contract-number", re.sub(r"\s+", "", number).casefold())

    class Reserved(CrmAggregate.Created):
        number: str
        contract_id: str

        def apply(self, n: ContractNumber) -> None:
            n.contract_id = self.contract_id

    @classmethod
    def reserve(cls, ctx: Context, number: str, contract_id: str) -> ContractNumber:
        return cls._create_by(ctx, cls.Reserved, id=cls.id_for(number), number=number, contract_id=contract_id)


class Contract(CrmAggregate):

    TEXT_LIMITS: ClassVar[dict[str, int]] = {
        "number": bounds.CONTRACT_NUMBER, "name": bounds.CONTRACT_NAME, "warehouse": bounds.SHORT_TEXT,
        "back_warehouse": bounds.SHORT_TEXT, "out_warehouse": bounds.SHORT_TEXT,
    }
    customer_id: str
    number: str
    name: str
    signed_on: date
    amount: Decimal
    salesperson_id: str | None
    lines: list[dict[str, Any]]
    invoiced: Decimal
    collected: Decimal
    deliveries: dict[str, list[dict[str, Any]]]
    returned: dict[str, Decimal]  # by delivery line key "delivery_id:product_id:warehouse"
    returned_amount: Decimal  # the money value of the returns
    exchange_difference: Decimal  # the exchanges' price differences, signed
    # Per product, what returns and exchanges took off the order or put on it (a return
    # shrinks the deal; an exchange for another product moves it to the replacement).
    order_changes: dict[str, Decimal]
    exchange_prices: dict[str, Decimal]  # the unit price of a replacement not on the contract

    def __init__(self) -> None:
        """Empty: the Created event's apply() sets the state."""

    class Signed(CrmAggregate.Created):
        customer_id: str
        number: str
        name: str
        signed_on: date
        amount: Decimal
        salesperson_id: str | None
        lines: list[dict[str, Any]]

        def apply(self, c: Contract) -> None:
            c.customer_id, c.number, c.name = self.customer_id, self.number, self.name
            c.signed_on, c.amount, c.salesperson_id = self.signed_on, self.amount, self.salesperson_id
            c.lines = [dict(line) for line in self.lines]
            c.invoiced = c.collected = ZERO
            c.deliveries = {}
            c.returned = {}
            c.returned_amount = c.exchange_difference = ZERO
            c.order_changes = {}
            c.exchange_prices = {}

    class Invoiced(CrmAggregate.Event):
        invoice_id: str
        amount: Decimal
        invoiced_on: date

        def apply(self, c: Contract) -> None:
            c.invoiced += self.amount

    class InvoiceCredited(CrmAggregate.Event):
        """A red-letter invoice (红字发票, 冲红): invoicing reversed, e.g. after a return."""

        credit_note_id: str
        amount: Decimal
        credited_on: date
        reason: str

        def apply(self, c: Contract) -> None:
            c.invoiced -= self.amount

    class PaymentReceived(CrmAggregate.Event):
        payment_id: str
        amount: Decimal
        received_on: date

        def apply(self, c: Contract) -> None:
            c.collected += self.amount

    class Delivered(CrmAggregate.Event):
        delivery_id: str
        delivered_on: date
        lines: list[dict[str, Any]]  # product_id, warehouse, quantity, unit_cost

        def apply(self, c: Contract) -> None:
            c.deliveries[self.delivery_id] = [dict(line) for line in self.lines]

    class Returned(CrmAggregate.Event):
        return_id: str
        delivery_id: str
        returned_on: date
        lines: list[dict[str, Any]]  # product_id, warehouse, quantity, unit_cost, amount

        def apply(self, c: Contract) -> None:
            for line in self.lines:
                c._count_return(self.delivery_id, line["product_id"], line["warehouse"], line["quantity"])
                c._change_order(line["product_id"], -line["quantity"])
                c.returned_amount += line["amount"]

    class Exchanged(CrmAggregate.Event):
        """Goods back from a delivery line, the same quantity out again — of the same product
        or of another (seed 000 §5.6.3), whose price difference changes the deal."""

        exchange_id: str
        delivery_id: str
        exchanged_on: date
        # product_id, quantity, back_warehouse, back_cost, out_product_id, out_warehouse, out_cost,
        # unit_price (the replacement's), back_amount, out_amount
        lines: list[dict[str, Any]]
        price_difference: Decimal  # Σ out_amount − Σ back_amount

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Version 1 exchanged like for like at the contract price: no difference, and no
            # prices recorded (an upcaster cannot look them up).
            for line in state["lines"]:
                line.setdefault("out_product_id", line["product_id"])
                line.setdefault("unit_price", None)
                line.setdefault("back_amount", None)
                line.setdefault("out_amount", None)
            state["price_difference"] = ZERO

        def apply(self, c: Contract) -> None:
            # What the customer holds of the returned product falls, of the replacement rises;
            # the goods now out are this exchange's.
            for line in self.lines:
                c._count_return(self.delivery_id, line["product_id"], line["back_warehouse"], line["quantity"])
                if line["out_product_id"] != line["product_id"]:
                    c._change_order(line["product_id"], -line["quantity"])
                    c._change_order(line["out_product_id"], line["quantity"])
                    if c.line_price(line["out_product_id"]) is None and line["unit_price"] is not None:
                        c.exchange_prices[line["out_product_id"]] = Decimal(line["unit_price"])
            c.exchange_difference += self.price_difference
            c.deliveries[self.exchange_id] = [
                {"product_id": line["out_product_id"], "warehouse": line["out_warehouse"],
                 "quantity": line["quantity"], "unit_cost": line["out_cost"]}
                for line in self.lines
            ]

    def _count_return(self, delivery_id: str, product_id: str, warehouse: str, quantity: Decimal) -> None:
        key = line_key(delivery_id, product_id, warehouse)
        self.returned[key] = self.returned.get(key, ZERO) + quantity

    def _change_order(self, product_id: str, quantity: Decimal) -> None:
        self.order_changes[product_id] = self.order_changes.get(product_id, ZERO) + quantity

    # ---- derived figures ----------------------------------------------------------------

    @property
    def net_amount(self) -> Decimal:
        """The deal as it stands: the amount less its returns, plus or minus the exchanges'
        price differences (D-2, D-3 as amended)."""
        return self.amount - self.returned_amount + self.exchange_difference

    @property
    def outstanding(self) -> Decimal:
        return max(self.net_amount - self.collected, ZERO)

    @property
    def credit(self) -> Decimal:
        """Collected beyond the net amount: what the customer is owed after a return."""
        return max(self.collected - self.net_amount, ZERO)

    def ordered(self) -> dict[str, Decimal]:
        """Per product: ordered, as returns and exchanges changed the order."""
        totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for line in self.lines:
            totals[line["product_id"]] += line["quantity"]
        for product_id, qty in self.order_changes.items():
            totals[product_id] += qty
        return dict(totals)

    def delivered_net(self) -> dict[str, Decimal]:
        """Per product: delivered (exchanges included) less what came back."""
        totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for lines in self.deliveries.values():
            for line in lines:
                totals[line["product_id"]] += line["quantity"]
        for key, qty in self.returned.items():
            totals[key.split(":")[1]] -= qty
        return dict(totals)

    def line_price(self, product_id: str) -> Decimal | None:
        for line in self.lines:
            if line["product_id"] == product_id:
                return Decimal(line["unit_price"])
        return self.exchange_prices.get(product_id)

    def unit_price(self, product_id: str) -> Decimal:
        """The unit price the customer pays for the product on this contract (a replacement
        not on the contract: the price it was exchanged at)."""
        price = self.line_price(product_id)
        return ZERO if price is None else price

    def returnable(self, delivery_id: str, product_id: str, warehouse: str) -> Decimal:
        delivered = sum(
            (line["quantity"] for line in self.deliveries.get(delivery_id, [])
             if line["product_id"] == product_id and line["warehouse"] == warehouse),
            ZERO,
        )
        return delivered - self.returned.get(line_key(delivery_id, product_id, warehouse), ZERO)

    def delivery_cost(self, delivery_id: str, product_id: str, warehouse: str) -> Decimal:
        for line in self.deliveries.get(delivery_id, []):
            if line["product_id"] == product_id and line["warehouse"] == warehouse:
                return Decimal(line["unit_cost"])
        return ZERO

    def delivery_line_for(self, delivery_id: str, product_id: str, warehouse: str | None,
                          field_name: str) -> str:
        """The warehouse of the delivery line goods come back from: the one named, or the only
        one the product left from. Unknown or ambiguous: refused, listing the lines that can match."""
        candidates = [
            {"product_id": str(line["product_id"]), "warehouse": str(line["warehouse"]),
             "returnable": str(self.returnable(delivery_id, line["product_id"], line["warehouse"]))}
            for line in self.deliveries.get(delivery_id, []) if line["product_id"] == product_id
        ]
        if warehouse:
            if any(c["warehouse"] == warehouse for c in candidates):
                return warehouse
            raise Invalid("unknown_delivery_line", "the delivery has no line of that product from {warehouse}",
                          field=field_name, details={"candidates": candidates}, warehouse=warehouse)
        if len(candidates) == 1:
            return candidates[0]["warehouse"]
        if not candidates:
            raise Invalid("unknown_delivery_line", "the delivery has no line of that product",
                          field=field_name, details={"candidates": []})
        raise Invalid("ambiguous_delivery_line", "the product left from more than one warehouse: name the one",
                      field=field_name, details={"candidates": candidates})

    # ---- commands -----------------------------------------------------------------------

    @classmethod
    def sign(
        cls, ctx: Context, *, id: UUID, customer_id: str, number: str, name: str, signed_on: date,
        amount: Decimal | None, lines: list[dict[str, Any]], salesperson_id: str | None,
    ) -> Contract:
        """D-1: amount = sum of the lines when lines are given."""
        if not number.strip():
            raise Invalid("validation_error", "the contract number is required", field="number")
        bounds.text(name, "name", bounds.CONTRACT_NAME, required=True)
        bounds.day(signed_on, "signed_on")
        priced = []
        for line in lines:
            qty = bounds.amount(line["quantity"], "quantity", bounds.QUANTITY_MAX)
            price = bounds.amount(line["unit_price"], "unit_price", bounds.MONEY_MAX)
            priced.append({"product_id": line["product_id"], "quantity": qty, "unit_price": price,
                           "amount": bounds.amount(money(qty * price), "amount", bounds.MONEY_MAX)})
        if len({line["product_id"] for line in priced}) != len(priced):
            raise Invalid("validation_error", "one line per product", field="lines")
        if priced:
            total = sum((line["amount"] for line in priced), ZERO)
            if amount is not None and money(amount) != total:
                raise Invalid("amount_mismatch", "the lines add up to {total}", field="amount",
                              details={"lines_total": str(total)}, total=total)
            amount = total
        if amount is None or amount <= 0:
            raise Invalid("validation_error", "the amount must be greater than 0", field="amount")
        bounds.amount(amount, "amount", bounds.MONEY_MAX)
        return cls._create_by(
            ctx, cls.Signed, id=id, customer_id=customer_id, number=number.strip(), name=name,
            signed_on=signed_on, amount=money(amount), salesperson_id=salesperson_id, lines=priced,
        )

    def invoice(self, ctx: Context, amount: Decimal, invoiced_on: date) -> str:
        """D-2: never more than the net amount in all."""
        open_amount = max(self.net_amount - self.invoiced, ZERO)
        if amount > open_amount:
            raise Conflict("over_invoiced", "only {open_amount} is left to invoice", field="amount",
                           details={"remaining": str(open_amount)}, open_amount=open_amount)
        invoice_id = uuid4().hex
        self._record(ctx, self.Invoiced, invoice_id=invoice_id, amount=amount, invoiced_on=invoiced_on)
        return invoice_id

    def credit_invoice(self, ctx: Context, amount: Decimal, credited_on: date, reason: str) -> str:
        """A red-letter invoice: never more than invoiced so far."""
        bounds.text(reason, "reason", bounds.REASON)
        if amount > self.invoiced:
            raise Conflict("over_credited", "only {invoiced} is invoiced", field="amount",
                           details={"invoiced": str(self.invoiced)}, invoiced=self.invoiced)
        credit_note_id = uuid4().hex
        self._record(ctx, self.InvoiceCredited, credit_note_id=credit_note_id, amount=amount,
                     credited_on=credited_on, reason=reason)
        return credit_note_id

    def receive_payment(self, ctx: Context, payment_id: str, amount: Decimal, received_on: date) -> None:
        """D-3: never more than the outstanding receivable of the net amount."""
        outstanding = self.outstanding
        if amount > outstanding:
            raise Conflict("over_collected", "only {outstanding} is outstanding", field="amount",
                           details={"outstanding": str(outstanding)}, outstanding=outstanding)
        self._record(ctx, self.PaymentReceived, payment_id=payment_id, amount=amount, received_on=received_on)

    def check_delivery(self, lines: list[dict[str, Any]]) -> None:
        """G-4: per product, never more than ordered less already delivered."""
        wanted: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for line in lines:
            wanted[line["product_id"]] += line["quantity"]
        ordered, delivered = self.ordered(), self.delivered_net()
        for product_id, qty in wanted.items():
            left = ordered.get(product_id, ZERO) - delivered.get(product_id, ZERO)
            if qty > left:
                raise Conflict("over_delivered", "only {left} of that product is left to deliver",
                               field="lines", details={"product_id": product_id, "remaining": str(left)},
                               left=left)

    def deliver(self, ctx: Context, delivery_id: str, delivered_on: date, lines: list[dict[str, Any]]) -> None:
        self.check_delivery(lines)
        self._record(ctx, self.Delivered, delivery_id=delivery_id, delivered_on=delivered_on, lines=lines)

    def check_return(self, delivery_id: str, lines: list[dict[str, Any]]) -> None:
        """G-5: per delivery line, never more than delivered less already returned."""
        if delivery_id not in self.deliveries:
            raise Invalid("unknown_delivery", "no such delivery on this contract", field="delivery_id")
        wanted: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
        for line in lines:
            wanted[(line["product_id"], line["warehouse"])] += line["quantity"]
        for (product_id, warehouse), qty in wanted.items():
            left = self.returnable(delivery_id, product_id, warehouse)
            if qty > left:
                raise Conflict("over_returned", "only {left} of that delivery line can come back",
                               field="lines", details={"product_id": product_id, "returnable": str(left)},
                               left=left)

    def take_back(self, ctx: Context, return_id: str, delivery_id: str, returned_on: date,
                  lines: list[dict[str, Any]]) -> Decimal:
        """G-5: each line's amount is quantity × the contract's unit price; the net amount
        falls by their sum, which is returned."""
        self.check_return(delivery_id, lines)
        priced = [{**line, "amount": money(line["quantity"] * self.unit_price(line["product_id"]))}
                  for line in lines]
        self._record(ctx, self.Returned, return_id=return_id, delivery_id=delivery_id,
                     returned_on=returned_on, lines=priced)
        return sum((line["amount"] for line in priced), ZERO)

    def exchange(self, ctx: Context, exchange_id: str, delivery_id: str, exchanged_on: date,
                 lines: list[dict[str, Any]]) -> Decimal:
        """G-6: each line's goods come back from the delivery, the same quantity of the
        replacement goes out; a replacement's price differs from the returned goods' contract
        price by `price_difference`, which the net amount carries. Returns the difference."""
        self.check_return(delivery_id, [{**line, "warehouse": line["back_warehouse"]} for line in lines])
        priced = []
        for n, line in enumerate(lines):
            out_product = line.get("out_product_id") or line["product_id"]
            price = line.get("unit_price")
            if price is None:
                price = self.line_price(out_product)
            if price is None:
                raise Invalid("validation_error", "the replacement is not on the contract: give its unit_price",
                              field=f"lines.{n}.unit_price")
            back_amount = money(line["quantity"] * self.unit_price(line["product_id"]))
            out_amount = bounds.amount(money(line["quantity"] * price), "amount", bounds.MONEY_MAX)
            priced.append({**line, "out_product_id": out_product, "unit_price": Decimal(price),
                           "back_amount": back_amount, "out_amount": out_amount})
        difference = sum((line["out_amount"] - line["back_amount"] for line in priced), ZERO)
        bounds.within(self.net_amount + difference, "amount", bounds.MONEY_MAX)
        self._record(ctx, self.Exchanged, exchange_id=exchange_id, delivery_id=delivery_id,
                     exchanged_on=exchanged_on, lines=priced, price_difference=difference)
        return difference

    def delivery_lines(self, delivery_id: str) -> list[dict[str, Any]]:
        return [dict(line) for line in self.deliveries.get(delivery_id, [])]
