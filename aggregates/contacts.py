"""A customer's contacts (C-9): each has an id, and exactly one is primary while any exist.

Pure functions over the contact list that `aggregates.customer.Customer` keeps: the checks
its commands make and the new lists its events' apply() methods produce.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from aggregates.base import Invalid

Contact = dict[str, Any]
# What a contact carries besides its id; edits change only these.
EDITABLE = ("name", "phone", "title", "primary")


def normalise_contacts(contacts: list[Contact]) -> list[Contact]:
    """C-9: give each contact an id; exactly one primary when any exist."""
    result = []
    for contact in contacts:
        if not contact.get("name"):
            raise Invalid("validation_error", "contact name is required", field="contacts")
        result.append(
            {
                "id": contact.get("id") or uuid4().hex,
                "name": contact["name"],
                "phone": contact.get("phone"),
                "title": contact.get("title"),
                "primary": bool(contact.get("primary")),
            }
        )
    primaries = [c for c in result if c["primary"]]
    if len(primaries) > 1:
        raise Invalid("primary_required", "exactly one contact can be primary", field="contacts")
    if result and not primaries:
        result[0]["primary"] = True
    return result


def new_contact(contact: Contact, existing: list[Contact]) -> Contact:
    """The entry for a contact added to `existing`: the first one is primary whatever it says."""
    entry = {
        "id": uuid4().hex,
        "name": contact.get("name"),
        "phone": contact.get("phone"),
        "title": contact.get("title"),
        "primary": bool(contact.get("primary")) or not existing,
    }
    if not entry["name"]:
        raise Invalid("validation_error", "contact name is required", field="name")
    return entry


def find_contact(contacts: list[Contact], contact_id: str) -> Contact:
    for contact in contacts:
        if contact["id"] == contact_id:
            return contact
    raise Invalid("unknown_contact", "no such contact", field="contact_id")


def contact_edit(current: Contact, changes: dict[str, Any]) -> dict[str, Any]:
    """The fields an edit really changes. The primary contact stays primary until another one
    is made primary; `primary: None` means "leave it"; a name cannot be emptied."""
    allowed = {k: v for k, v in changes.items() if k in EDITABLE}
    if allowed.get("primary", False) is None:
        del allowed["primary"]
    if allowed.get("primary") is False and current.get("primary"):
        raise Invalid("primary_required", "make another contact primary instead", field="primary")
    if "name" in allowed and not allowed["name"]:
        raise Invalid("validation_error", "contact name is required", field="name")
    effective = {k: v for k, v in allowed.items() if current.get(k) != v}
    if not effective:
        raise Invalid("no_change", "nothing to change")
    return effective


def _demoted(contacts: list[Contact]) -> list[Contact]:
    return [{**contact, "primary": False} for contact in contacts]


def with_added(contacts: list[Contact], contact: Contact) -> list[Contact]:
    """The list after adding `contact`: a primary newcomer takes over from the others."""
    kept = _demoted(contacts) if contact.get("primary") else [dict(c) for c in contacts]
    return [*kept, dict(contact)]


def with_edited(contacts: list[Contact], contact_id: str, changes: dict[str, Any]) -> list[Contact]:
    """The list after an edit: a contact made primary takes over from the others."""
    result = _demoted(contacts) if changes.get("primary") else [dict(c) for c in contacts]
    for contact in result:
        if contact["id"] == contact_id:
            contact.update(changes)
    return result


def with_removed(contacts: list[Contact], contact_id: str) -> list[Contact]:
    """The list after a removal: when the primary goes, the first one left becomes primary."""
    removed = [c for c in contacts if c["id"] == contact_id]
    result = [dict(c) for c in contacts if c["id"] != contact_id]
    if removed and removed[0].get("primary") and result:
        result[0]["primary"] = True
    return result
