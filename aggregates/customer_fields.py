"""The customer's field tables and the pure rules over its info fields (C-3, H-4), for
`aggregates.customer.Customer`."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from aggregates import bounds
from aggregates.base import Conflict, Invalid

STATUSES = ("potential", "following", "dealt", "lost")
# "dealt" comes from deals only (C-12).
SETTABLE_STATUSES = ("potential", "following", "lost")
INFO_FIELDS = ("name", "type", "source", "region", "address", "building", "lat", "lng", "status", "stage")
POOL_REASONS = ("released", "recalled", "overdue")

# Text limits of the customer's event data, by key or dotted path (see aggregates.bounds).
TEXT_LIMITS: dict[str, int] = {
    "number": 32, "name": bounds.CUSTOMER_NAME, "type": bounds.SHORT_TEXT, "source": bounds.SHORT_TEXT,
    "region": bounds.SHORT_TEXT, "stage": bounds.SHORT_TEXT, "address": bounds.ADDRESS,
    "building": bounds.BUILDING, "contact": bounds.SHORT_TEXT, "contacts.name": bounds.SHORT_TEXT,
    "contact.name": bounds.SHORT_TEXT, "changes.name": bounds.SHORT_TEXT, "phone": bounds.PHONE,
    "title": bounds.SHORT_TEXT, "reason": bounds.REASON, "note": bounds.REASON, "notes": bounds.NOTES,
}

# The registration's optional fields that become the customer's own, as given.
REGISTERED_FIELDS = ("type", "source", "region", "address", "building", "lat", "lng", "stage")

# The state every registration starts from, besides what its event says.
FRESH_STATE: dict[str, Any] = {
    "status": "potential", "visit_count": 0, "last_visit_at": None, "pool_reason": None,
    "last_owner_id": None, "last_lost_at": None, "deleted": False, "deal_total": Decimal("0.00"),
    "invoiced_total": Decimal("0.00"), "collected_total": Decimal("0.00"), "warned_for": None, "logo": None,
}

# What view() shows, in its order: attributes as they are, lists copied, two figures derived.
VIEW_FIELDS = (
    "number", "name", "type", "source", "region", "address", "building", "lat", "lng", "contacts",
    "owner_id", "owner_since", "in_pool", "pool_entered_at", "pool_reason", "shared_with", "status",
    "stage", "visit_count", "last_visit_at", "registered_by", "created_at", "deleted", "deal_total",
    "invoiced_total", "collected_total", "receivable", "logo",
)
Change = dict[str, Any]


def info_changes(current: Mapping[str, Any], changes: Mapping[str, Any]) -> list[Change]:
    """C-3: old and new value per changed field, in the order given; fields that do not
    change are dropped; nothing left to change is refused."""
    recorded = []
    for field, new in changes.items():
        if field not in INFO_FIELDS:
            raise Invalid("unknown_field", "{field} cannot be changed", field=field)
        if field == "status" and new not in SETTABLE_STATUSES:
            raise Invalid("invalid_status", "status cannot be set to {new}", field="status", new=new)
        if field == "status" and current["status"] == "dealt" and new != "dealt":
            # Dealt comes from deals (C-12); an edit would put it back under the cap and the sweep.
            raise Conflict("dealt", "a dealt customer keeps its status", field="status")
        if field == "name" and not (new or "").strip():
            raise Invalid("validation_error", "name is required", field="name")
        old = current[field]
        if old != new:
            recorded.append({"field": field, "old": old, "new": new})
    if not recorded:
        raise Invalid("no_change", "nothing to change")
    return recorded


def restore_changes(current: Mapping[str, Any], past: Mapping[str, Any], version: int) -> list[Change]:
    """H-4: the changes that put the info fields back to `past` (those at `version`). The
    status is left alone when either side is `dealt`: that comes from deals, not from an edit."""
    recorded = []
    for field in INFO_FIELDS:
        old, new = current[field], past[field]
        if field == "status" and "dealt" in (old, new):
            continue
        if old != new:
            recorded.append({"field": field, "old": old, "new": new})
    if not recorded:
        raise Invalid("no_change", "the fields are those of version {version} already", version=version)
    return recorded
