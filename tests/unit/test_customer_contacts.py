"""A customer's contacts (C-9): every contact has an id and a name, and exactly one is
primary while any exist. Through the Customer aggregate's methods only."""

from __future__ import annotations

from typing import Any

import pytest

from aggregates.base import Conflict, Invalid
from aggregates.customer import Customer
from tests.unit.helpers import ctx, customer, refused


def with_contacts(*contacts: dict[str, Any]) -> Customer:
    c = customer(contacts=list(contacts))
    c.collect_events()
    return c


def primaries(c: Customer) -> list[bool]:
    return [x["primary"] for x in c.contacts]


def names(c: Customer) -> list[str]:
    return [x["name"] for x in c.contacts]


# ---- at registration -----------------------------------------------------------------------------


def test_registered_contacts_keep_what_they_say_and_get_an_id() -> None:
    c = with_contacts({"name": "甲", "phone": "138", "title": "经理", "id": "given", "extra": "dropped"},
                      {"name": "乙"})

    first, second = c.contacts
    assert first == {"id": "given", "name": "甲", "phone": "138", "title": "经理", "primary": True}
    assert second["phone"] is None and second["title"] is None and second["primary"] is False
    assert len(second["id"]) == 32 and second["id"] != first["id"]


def test_without_a_primary_the_first_contact_is_primary() -> None:
    assert primaries(with_contacts({"name": "甲"}, {"name": "乙"}, {"name": "丙"})) == [True, False, False]


def test_one_explicit_primary_contact_at_registration_stays_the_only_primary() -> None:
    c = with_contacts({"name": "甲"}, {"name": "乙", "primary": True}, {"name": "丙", "primary": False})

    assert primaries(c) == [False, True, False]


def test_two_primaries_at_registration_are_refused() -> None:
    with refused(Invalid, "primary_required", field="contacts"):
        customer(contacts=[{"name": "甲", "primary": True}, {"name": "乙", "primary": 1}])


@pytest.mark.parametrize("contact", [{"name": ""}, {"phone": "138"}, {"name": None}])
def test_a_registered_contact_needs_a_name(contact: dict[str, Any]) -> None:
    with refused(Invalid, "validation_error", field="contacts"):
        customer(contacts=[{"name": "甲"}, contact])


def test_no_contacts_is_fine() -> None:
    assert with_contacts().contacts == []


# ---- adding --------------------------------------------------------------------------------------


def test_the_first_contact_added_is_primary_whatever_it_says() -> None:
    c = with_contacts()

    contact_id = c.add_contact(ctx(), {"name": "甲", "phone": "138", "title": "经理", "primary": False})

    assert c.contacts == [{"id": contact_id, "name": "甲", "phone": "138", "title": "经理", "primary": True}]
    [event] = c.collect_events()
    assert event.contact == c.contacts[0]


def test_a_contact_added_as_primary_takes_over_and_others_stay_as_they_are() -> None:
    c = with_contacts({"name": "甲"}, {"name": "乙"})

    c.add_contact(ctx(), {"name": "丙"})
    assert primaries(c) == [True, False, False]
    c.add_contact(ctx(), {"name": "丁", "primary": True})

    assert names(c) == ["甲", "乙", "丙", "丁"] and primaries(c) == [False, False, False, True]


def test_added_contacts_get_distinct_ids() -> None:
    c = with_contacts()

    ids = {c.add_contact(ctx(), {"name": n}) for n in ("甲", "乙", "丙")}

    assert len(ids) == 3 and ids == {x["id"] for x in c.contacts}


@pytest.mark.parametrize("contact", [{"name": ""}, {"phone": "138"}])
def test_an_added_contact_needs_a_name(contact: dict[str, Any]) -> None:
    c = with_contacts({"name": "甲"})
    with refused(Invalid, "validation_error", field="name"):
        c.add_contact(ctx(), contact)
    assert c.collect_events() == []


# ---- editing -------------------------------------------------------------------------------------


def test_an_edit_records_only_what_changes() -> None:
    c = with_contacts({"name": "甲", "phone": "138"}, {"name": "乙"})
    second = c.contacts[1]["id"]

    c.edit_contact(ctx(), second, {"name": "乙", "phone": "139", "title": "总监", "id": "x", "other": 1})

    [event] = c.collect_events()
    assert (event.contact_id, event.changes) == (second, {"phone": "139", "title": "总监"})
    assert c.contacts[1] == {"id": second, "name": "乙", "phone": "139", "title": "总监", "primary": False}
    assert c.contacts[0]["phone"] == "138"


def test_making_a_contact_primary_takes_it_from_the_previous_one() -> None:
    c = with_contacts({"name": "甲"}, {"name": "乙"}, {"name": "丙"})

    c.edit_contact(ctx(), c.contacts[2]["id"], {"primary": True})

    assert primaries(c) == [False, False, True]


def test_the_primary_contact_cannot_be_unmade_only_replaced() -> None:
    c = with_contacts({"name": "甲"}, {"name": "乙"})
    with refused(Invalid, "primary_required", field="primary"):
        c.edit_contact(ctx(), c.contacts[0]["id"], {"primary": False})
    assert primaries(c) == [True, False]


def test_a_non_primary_contact_told_it_is_not_primary_is_no_change() -> None:
    c = with_contacts({"name": "甲"}, {"name": "乙"})
    with refused(Invalid, "no_change"):
        c.edit_contact(ctx(), c.contacts[1]["id"], {"primary": False})


def test_primary_none_means_leave_it() -> None:
    c = with_contacts({"name": "甲"}, {"name": "乙"})

    c.edit_contact(ctx(), c.contacts[0]["id"], {"primary": None, "phone": "1"})

    [event] = c.collect_events()
    assert event.changes == {"phone": "1"} and primaries(c) == [True, False]
    with refused(Invalid, "no_change"):
        c.edit_contact(ctx(), c.contacts[0]["id"], {"primary": None})


@pytest.mark.parametrize("name", ["", None])
def test_an_edit_cannot_empty_the_name(name: str | None) -> None:
    c = with_contacts({"name": "甲"})
    with refused(Invalid, "validation_error", field="name"):
        c.edit_contact(ctx(), c.contacts[0]["id"], {"name": name})
    assert names(c) == ["甲"]


def test_an_edit_that_changes_nothing_is_refused() -> None:
    c = with_contacts({"name": "甲", "phone": "138"})
    with refused(Invalid, "no_change"):
        c.edit_contact(ctx(), c.contacts[0]["id"], {"name": "甲", "phone": "138", "primary": True})
    with refused(Invalid, "no_change"):
        c.edit_contact(ctx(), c.contacts[0]["id"], {"unknown": "x"})


def test_an_unknown_contact_is_refused() -> None:
    c = with_contacts({"name": "甲"})
    with refused(Invalid, "unknown_contact", field="contact_id"):
        c.edit_contact(ctx(), "nobody", {"name": "乙"})
    with refused(Invalid, "unknown_contact", field="contact_id"):
        c.remove_contact(ctx(), "nobody")


# ---- removing ------------------------------------------------------------------------------------


def test_when_the_primary_contact_goes_the_first_one_left_becomes_primary() -> None:
    c = with_contacts({"name": "甲"}, {"name": "乙"}, {"name": "丙", "primary": True})

    c.remove_contact(ctx(), c.contacts[2]["id"])

    assert names(c) == ["甲", "乙"] and primaries(c) == [True, False]
    [event] = c.collect_events()
    assert type(event).__name__ == "ContactRemoved"


def test_removing_another_contact_keeps_the_primary() -> None:
    c = with_contacts({"name": "甲"}, {"name": "乙", "primary": True}, {"name": "丙"})

    c.remove_contact(ctx(), c.contacts[0]["id"])

    assert names(c) == ["乙", "丙"] and primaries(c) == [True, False]


def test_the_last_contact_can_go() -> None:
    c = with_contacts({"name": "甲"})

    c.remove_contact(ctx(), c.contacts[0]["id"])

    assert c.contacts == []
    c.add_contact(ctx(), {"name": "乙"})
    assert primaries(c) == [True]


def test_a_deleted_customers_contacts_are_frozen() -> None:
    c = customer(owner=None, contacts=[{"name": "甲"}])
    c.delete(ctx())
    contact_id = c.contacts[0]["id"]
    with refused(Conflict, "deleted"):
        c.add_contact(ctx(), {"name": "乙"})
    with refused(Conflict, "deleted"):
        c.edit_contact(ctx(), contact_id, {"name": "乙"})
    with refused(Conflict, "deleted"):
        c.remove_contact(ctx(), contact_id)
