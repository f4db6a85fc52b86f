"""The hand-off from sales to the warehouse (seed 000 §5.6.1–§5.6.3): a salesperson's delivery
notice (发货通知), return request or exchange request against a contract, which warehouse
keepers carry out, all at once or in parts, until it is done or its requester cancels the rest.

A request never has more carried out than it asks for: each delivery, return or exchange that
names it takes its lines from what is still to do, matched by product (and, where the request
names them, by warehouse, by the replacement product and its price)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from aggregates import bounds
from aggregates.base import Conflict, Context, CrmAggregate, Forbidden, Invalid

ZERO = Decimal("0")
# What a request asks the warehouse for, and its word in the notifications.
KINDS = {"delivery": "发货", "return": "退货", "exchange": "换货"}
# The request number's prefix: 发货 FH, 退货 TH, 换货 HH.
PREFIXES = {"delivery": "FH", "return": "TH", "exchange": "HH"}
OPEN = ("requested", "partly_done")
MAX_LINES = 200
# A request line's fields besides product and quantity: those that narrow what may carry it out.
NARROWING = ("warehouse", "from_warehouse", "replacement_product_id")


class DeliveryRequest(CrmAggregate):

    TEXT_LIMITS: ClassVar[dict[str, int]] = {
        "kind": 20, "number": 32, "status": 20, "contract_number": bounds.CONTRACT_NUMBER,
        "warehouse": bounds.SHORT_TEXT, "from_warehouse": bounds.SHORT_TEXT, "note": bounds.REASON,
        "reason": bounds.REASON,
    }
    kind: str
    number: str
    contract_id: str
    customer_id: str
    contract_number: str
    delivery_id: str | None
    lines: list[dict[str, Any]]  # as requested, each with `done`: the quantity carried out so far
    note: str
    requester_id: str
    status: str  # requested, partly_done, done, cancelled
    done_ids: list[str]

    def __init__(self) -> None:
        """Empty: the Created event's apply() sets the state."""

    class Requested(CrmAggregate.Created):
        kind: str
        number: str
        contract_id: str
        customer_id: str
        contract_number: str
        delivery_id: str | None
        lines: list[dict[str, Any]]
        note: str
        approved_by: str | None
        asked_at: datetime | None  # when the request was filed for approval (AP-2)

        def apply(self, r: DeliveryRequest) -> None:
            r.kind, r.number, r.contract_id = self.kind, self.number, self.contract_id
            r.customer_id = self.customer_id
            r.contract_number, r.delivery_id, r.note = self.contract_number, self.delivery_id, self.note
            r.lines = [{**line, "done": ZERO} for line in self.lines]
            r.requester_id, r.status, r.done_ids = self.actor_id, "requested", []

    class CarriedOut(CrmAggregate.Event):
        done_id: str  # the delivery, return or exchange
        lines: list[dict[str, Any]]  # {line: index of the request line, quantity}
        status: str

        def apply(self, r: DeliveryRequest) -> None:
            r._count_done(self.lines)
            r.status = self.status
            r.done_ids.append(self.done_id)

    class Cancelled(CrmAggregate.Event):
        reason: str

        def apply(self, r: DeliveryRequest) -> None:
            r.status = "cancelled"

    def _count_done(self, parts: list[dict[str, Any]]) -> None:
        for part in parts:
            self.lines[part["line"]]["done"] += part["quantity"]

    # ---- derived figures ------------------------------------------------------------------

    def remaining(self, index: int) -> Decimal:
        line = self.lines[index]
        return Decimal(line["quantity"]) - Decimal(line["done"])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    # ---- commands -------------------------------------------------------------------------

    @classmethod
    def request(
        cls, ctx: Context, *, id: UUID, kind: str, number: str, contract_id: str, customer_id: str,
        contract_number: str, delivery_id: str | None, lines: list[dict[str, Any]], note: str = "",
        approved_by: str | None = None, asked_at: datetime | None = None,
    ) -> DeliveryRequest:
        """Lines: product_id, quantity, warehouse (or None: the keeper chooses); an exchange's
        also from_warehouse, replacement_product_id and unit_price (each may be None). A return
        or an exchange names the delivery it is about; no two lines ask for the same thing."""
        if kind not in KINDS:
            raise Invalid("unknown_value", "{kind!r} is not a kind of request", field="kind", kind=kind)
        if (delivery_id is None) != (kind == "delivery"):
            raise Invalid("validation_error", "a return or an exchange names its delivery, a delivery none",
                          field="delivery_id")
        if not lines or len(lines) > MAX_LINES:
            raise Invalid("validation_error", "one to {max_lines} lines", field="lines",
                          details={"limit": MAX_LINES}, max_lines=MAX_LINES)
        bounds.text(note, "note", bounds.REASON, multiline=True)
        seen: set[tuple[Any, ...]] = set()
        clean = []
        for n, line in enumerate(lines):
            quantity = bounds.amount(Decimal(line["quantity"]), f"lines.{n}.quantity", bounds.QUANTITY_MAX)
            if quantity <= 0:
                raise Invalid("validation_error", "must be greater than 0", field=f"lines.{n}.quantity")
            entry: dict[str, Any] = {"product_id": str(line["product_id"]), "quantity": quantity,
                                     "warehouse": line.get("warehouse") or None}
            if kind == "exchange":
                entry["from_warehouse"] = line.get("from_warehouse") or None
                entry["replacement_product_id"] = line.get("replacement_product_id") or None
                price = line.get("unit_price")
                if price is not None:
                    price = bounds.amount(Decimal(price), f"lines.{n}.unit_price", bounds.MONEY_MAX)
                    if price <= 0:
                        raise Invalid("validation_error", "must be greater than 0", field=f"lines.{n}.unit_price")
                entry["unit_price"] = price
            key = (entry["product_id"], *(entry.get(name) for name in NARROWING))
            if key in seen:
                raise Invalid("duplicate_line", "two lines ask for the same thing", field=f"lines.{n}")
            seen.add(key)
            clean.append(entry)
        return cls._create_by(
            ctx, cls.Requested, id=id, kind=kind, number=number, contract_id=contract_id, customer_id=customer_id,
            contract_number=contract_number, delivery_id=delivery_id, lines=clean, note=note,
            approved_by=approved_by, asked_at=asked_at,
        )

    def _matches(self, asked: dict[str, Any], done: dict[str, Any]) -> bool:
        """Whether an executed line may count for a request line: the same product, and what
        the request names (the warehouse, where the goods come back to, the replacement and its
        price) as the request names it."""
        if asked["product_id"] != done["product_id"]:
            return False
        if asked.get("warehouse") and asked["warehouse"] != done.get("warehouse"):
            return False
        if self.kind != "exchange":
            return True
        if asked.get("from_warehouse") and asked["from_warehouse"] != done.get("from_warehouse"):
            return False
        if (asked.get("replacement_product_id") or asked["product_id"]) != (done.get("out_product_id")
                                                                          or done["product_id"]):
            return False
        price, given = asked.get("unit_price"), done.get("unit_price")
        return price is None or given is None or Decimal(price) == Decimal(given)

    def carry_out(self, ctx: Context, *, kind: str, contract_id: str, done_id: str, lines: list[dict[str, Any]],
                  delivery_id: str | None = None) -> None:
        """Seed 000 §5.6.1: the warehouse carries out (part of) the request. `lines`: product_id,
        quantity, warehouse (where the goods leave from or come back to); an exchange's also
        from_warehouse (where the goods come back to), out_product_id and unit_price (or None)."""
        if not self.is_open:
            raise Conflict("request_closed", "the request is {status}", field="request_id",
                           details={"status": self.status}, status=self.status)
        if kind != self.kind:
            raise Invalid("wrong_request_kind", "that request asks for a {kind}", field="request_id",
                          details={"kind": self.kind}, kind=self.kind)
        if contract_id != self.contract_id:
            raise Invalid("wrong_contract", "that request is for another contract", field="request_id",
                          details={"contract_id": self.contract_id})
        if delivery_id is not None and self.delivery_id is not None and delivery_id != self.delivery_id:
            raise Invalid("wrong_delivery", "that request is about another delivery", field="delivery_id",
                          details={"delivery_id": self.delivery_id})
        left = [self.remaining(i) for i in range(len(self.lines))]
        taken: dict[int, Decimal] = {}
        for n, done in enumerate(lines):
            candidates = [i for i, asked in enumerate(self.lines) if self._matches(asked, done)]
            if not candidates:
                asked_for = [_plain(asked) for asked in self.lines if asked["product_id"] == done["product_id"]]
                raise Invalid("not_requested", "the request does not ask for this line", field=f"lines.{n}",
                              details={"product_id": done["product_id"], "requested": asked_for})
            # Lines that name more (a warehouse, say) first, so a line that leaves the choice open
            # stays free for what only it can take.
            candidates.sort(key=lambda i: (-sum(1 for name in NARROWING if self.lines[i].get(name)), i))
            available = sum((left[i] for i in candidates), ZERO)
            need = Decimal(done["quantity"])
            if need > available:
                raise Conflict("over_requested", "only {available} of this line is still requested",
                               field=f"lines.{n}.quantity",
                               details={"product_id": done["product_id"], "remaining": str(available)},
                               available=available)
            for i in candidates:
                part = min(need, left[i])
                if part > 0:
                    left[i] -= part
                    taken[i] = taken.get(i, ZERO) + part
                    need -= part
        status = "done" if all(rest <= 0 for rest in left) else "partly_done"
        self._record(ctx, self.CarriedOut, done_id=done_id, status=status,
                     lines=[{"line": i, "quantity": quantity} for i, quantity in sorted(taken.items())])

    def cancel(self, ctx: Context, reason: str, allowed: bool) -> None:
        """The requester or their manager calls off what is not done yet."""
        if not self.is_open:
            raise Conflict("request_closed", "the request is {status}", field="request_id",
                           details={"status": self.status}, status=self.status)
        if not allowed:
            raise Forbidden("forbidden", "only the requester or their manager cancels a request")
        bounds.text(reason, "reason", bounds.REASON, multiline=True)
        self._record(ctx, self.Cancelled, reason=reason)


def _plain(line: dict[str, Any]) -> dict[str, Any]:
    """A request line for an error's details: decimals as strings, without the progress."""
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in line.items() if k != "done"}
