"""The requests from sales to the warehouse (seed 000 §5.6.1–§5.6.3): each request with its
lines and what is done of them, and the deliveries, returns and exchanges that carried it out
(Q-7 shows each delivery with its request)."""

from __future__ import annotations

from decimal import Decimal

from aggregates.delivery_request import DeliveryRequest
from projections.definition import Projection
from projections.writer import Writer
from readmodels.tables import handoff_done, handoff_lines, handoff_requests

handoff = Projection("handoff", [handoff_requests, handoff_lines, handoff_done], version=1)
handoff.preload(handoff_requests, lambda e: str(e.originator_id), DeliveryRequest.CarriedOut,
                DeliveryRequest.Cancelled)


@handoff.on(DeliveryRequest.Requested)
def requested(w: Writer, e: DeliveryRequest.Requested) -> None:
    rid = str(e.originator_id)
    w.put(w.handoff_requests, id=rid, number=e.number, kind=e.kind, status="requested", contract_id=e.contract_id,
          contract_number=e.contract_number, customer_id=e.customer_id, delivery_id=e.delivery_id,
          requester_id=e.actor_id, note=e.note, requested_at=e.asked_at or e.timestamp, approved_by=e.approved_by,
          updated_at=e.timestamp)
    for n, line in enumerate(e.lines):
        w.put(w.handoff_lines, request_id=rid, line=n, product_id=line["product_id"], quantity=line["quantity"],
              done=Decimal(0), warehouse=line.get("warehouse"), from_warehouse=line.get("from_warehouse"),
              replacement_product_id=line.get("replacement_product_id"), unit_price=line.get("unit_price"))


@handoff.on(DeliveryRequest.CarriedOut)
def carried_out(w: Writer, e: DeliveryRequest.CarriedOut) -> None:
    rid = str(e.originator_id)
    w.set(w.handoff_requests, (rid,), status=e.status, updated_at=e.timestamp)
    for part in e.lines:
        line = w.get(w.handoff_lines, rid, part["line"])
        if line is not None:
            w.set(w.handoff_lines, (rid, part["line"]), done=line["done"] + part["quantity"])
    w.put(w.handoff_done, done_id=e.done_id, request_id=rid, done_at=e.timestamp, actor_id=e.actor_id,
          lines=[{"line": p["line"], "quantity": str(p["quantity"])} for p in e.lines])


@handoff.on(DeliveryRequest.Cancelled)
def cancelled(w: Writer, e: DeliveryRequest.Cancelled) -> None:
    w.set(w.handoff_requests, (str(e.originator_id),), status="cancelled", updated_at=e.timestamp,
          cancelled_by=e.actor_id, cancel_reason=e.reason)
