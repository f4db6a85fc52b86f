"""No accepted request can stop the read side: the values that once became poison events
(a contract line too large for a 64-bit column, a name that grows past its column under
NFKC, a NUL) are refused with a 422 naming the field, and the read models keep moving.
Look-alike names are refused as duplicates; amounts take ASCII digits only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Http, assert_error


@pytest.fixture
def shop(http: Http) -> dict[str, str]:
    assert http.put("/settings", "root", json={"dictionaries": {"warehouses": ["W1"]}}).status_code == 200
    ids = {}
    for username, roles in (("alice", ["sales"]), ("keeper", ["warehouse"])):
        made = http.post("/people", "root", json={"name": username, "username": username,
                                                  "password": "password123", "roles": roles})
        assert made.status_code == 201, made.text
        ids[username] = made.json()["id"]
    ids["customer"] = http.post("/customers", "alice", json={"name": "采购方"}).json()["id"]
    ids["product"] = http.post("/products", "keeper", json={"name": "服务器"}).json()["id"]
    return ids


def assert_read_side_moves(http: Http) -> None:
    """A write after the refusal is readable with its position: every projection reached it."""
    made = http.post("/customers", "root", json={"name": "之后登记的客户", "to_pool": True})
    assert made.status_code == 201, made.text
    shown = http.client.get(f"/api/v1/customers/{made.json()['id']}",
                            headers={**http.as_("root"), "X-Min-Position": str(made.json()["position"])})
    assert shown.status_code == 200, shown.text
    health = http.client.get("/healthz").json()
    assert health["status"] == "ok" and health["parked"] == {}
    assert min(health["positions"].values()) >= made.json()["position"]


def test_contract_line_beyond_the_columns_is_refused(http: Http, shop: dict[str, str]) -> None:
    body: dict[str, Any] = {"customer_id": shop["customer"], "number": "HT-1", "name": "大单",
                            "lines": [{"product_id": shop["product"], "quantity": "999999999999.9999",
                                       "unit_price": "99999999999999.99"}]}
    error = assert_error(http.post("/contracts", "alice", json=body), 422)
    assert "quantity" in str(error) or "unit_price" in str(error)
    # Each within its own bound, but the line's amount (quantity × price) beyond one amount's bound.
    body["lines"] = [{"product_id": shop["product"], "quantity": "99999999", "unit_price": "9999999999.99"}]
    error = assert_error(http.post("/contracts", "alice", json=body), 422, "out_of_range")
    assert error["field"] == "amount"
    assert_read_side_moves(http)


def test_stock_in_beyond_the_stock_value_is_refused(http: Http, shop: dict[str, str]) -> None:
    path = f"/products/{shop['product']}/stock-ins"
    assert_error(http.post(path, "keeper", json={"warehouse": "W1", "quantity": "999999999999",
                                                 "unit_cost": "99999999"}), 422)
    # Quantity and cost each allowed; their value beyond what a warehouse's stock value may hold.
    error = assert_error(http.post(path, "keeper", json={"warehouse": "W1", "quantity": "99999999",
                                                         "unit_cost": "99999999"}), 422, "out_of_range")
    assert error["field"] == "unit_cost"
    assert http.post(path, "keeper", json={"warehouse": "W1", "quantity": "3", "unit_cost": "10"}).status_code == 201
    assert_read_side_moves(http)


@pytest.mark.parametrize("name", ["\ufdfa" * 20, "客户\x00名", "客户\x1b[31m", "客户\x7f", "\ud800客户"])
def test_names_the_read_side_cannot_hold_are_refused(http: Http, name: str) -> None:
    # As JSON text with escapes, so a lone surrogate travels as JSON allows ("\ud800").
    body = json.dumps({"name": name, "to_pool": True})
    error = assert_error(http.post("/customers", "root", content=body,
                                   headers={"Content-Type": "application/json"}), 422)
    assert error["field"] == "name"
    assert error["code"] in ("too_long", "control_character", "validation_error")
    assert_read_side_moves(http)


def test_control_characters_refused_in_fields_and_allowed_as_lines_in_notes(http: Http, shop: dict[str, str]) -> None:
    cid = shop["customer"]
    error = assert_error(http.post("/customers", "alice", json={"name": "地址客户", "address": "路\x07口"}), 422,
                         "control_character")
    assert error["field"] == "address"
    error = assert_error(http.post(f"/customers/{cid}/contacts", "alice", json={"name": "张\u0085三"}), 422,
                         "control_character")
    assert error["field"] == "name"
    visit = http.post(f"/customers/{cid}/visits", "alice", json={"notes": "第一行\n\t第二行"})
    assert visit.status_code == 201, visit.text
    assert_error(http.post(f"/customers/{cid}/visits", "alice", json={"notes": "坏\x00"}), 422, "control_character")
    assert_read_side_moves(http)


@pytest.mark.parametrize("amount", ["１２", "٣", "1e3", "NaN", "Infinity", "12,5"])
def test_amounts_take_ascii_digits_only(http: Http, shop: dict[str, str], amount: str) -> None:
    assert_error(http.post("/contracts", "alice", json={"customer_id": shop["customer"], "number": "HT-9",
                                                        "name": "合同", "amount": amount}), 422)


def test_business_dates_stay_in_range(http: Http, shop: dict[str, str]) -> None:
    for day in ("1899-12-31", "2200-01-01"):
        error = assert_error(http.post("/contracts", "alice", json={
            "customer_id": shop["customer"], "number": f"HT-{day}", "name": "合同", "amount": "10",
            "signed_on": day}), 422)
        assert "signed_on" in str(error)
    made = http.post("/contracts", "alice", json={"customer_id": shop["customer"], "number": "HT-ok",
                                                  "name": "合同", "amount": "10", "signed_on": "1900-01-01"})
    assert made.status_code == 201, made.text


# Zero-width space, ZWJ, ZWNJ, word joiner, BOM, soft hyphen, VS16, CGJ, Mongolian vowel separator, RLO,
# Hangul filler, Braille blank (last: inside a name it reads as a space).
INVISIBLE = ["\u200b", "\u200d", "\u200c", "\u2060", "\ufeff", "\u00ad", "\ufe0f", "\u034f", "\u180e", "\u202e",
             "\u3164", "\u2800"]


def test_invisible_and_look_alike_variants_are_the_same_name(http: Http) -> None:
    made = http.post("/customers", "root", json={"name": "Acme 华东", "to_pool": True})
    assert made.status_code == 201, made.text
    number = http.get(f"/customers/{made.json()['id']}", "root").json()["number"]
    variants = ["Acme 华东" + mark for mark in INVISIBLE] + ["Ac" + mark + "me 华东" for mark in INVISIBLE[:-1]]
    for variant in variants:
        error = assert_error(http.post("/customers", "root", json={"name": variant, "to_pool": True}), 409, "duplicate_name")
        assert error["details"]["number"] == number, variant
    assert_error(http.post("/customers", "root", json={"name": "Acme\x00 华东", "to_pool": True}), 422, "control_character")
    for look_alike in ("Acmе 华东", "Αcme 华东", "Acm\u0435 华东"):  # Cyrillic е, Greek Α
        error = assert_error(http.post("/customers", "root", json={"name": look_alike, "to_pool": True}), 409, "duplicate_name")
        assert error["details"] == {"number": number, "reason": "confusable"}
    # A rename into a look-alike of another customer is refused the same way; a different name is fine.
    other = http.post("/customers", "root", json={"name": "Orion", "to_pool": True}).json()["id"]
    error = assert_error(http.post(f"/customers/{other}/changes", "root",
                                   json={"changes": {"name": "Acmе 华东"}}), 409, "duplicate_name")
    assert error["details"]["reason"] == "confusable"
    assert http.post("/customers", "root", json={"name": "Acme 华南", "to_pool": True}).status_code == 201
    # Renaming to a look-alike of its own name keeps it; deleting frees both name and look-alikes.
    assert http.post(f"/customers/{other}/changes", "root", json={"changes": {"name": "0rion"}}).status_code == 200
    assert_error(http.post("/customers", "root", json={"name": "Orion", "to_pool": True}), 409, "duplicate_name")


def test_sales_on_a_customer_one_cannot_see_are_404(http: Http, shop: dict[str, str]) -> None:
    """Like every other route: an invisible customer is as missing as one that does not exist."""
    assert http.post("/people", "root", json={"name": "bob", "username": "bob", "password": "password123",
                                              "roles": ["sales"]}).status_code == 201
    contract = {"customer_id": shop["customer"], "number": "HT-B", "name": "别人的客户", "amount": "10"}
    assert_error(http.post("/contracts", "bob", json=contract), 404, "not_found")
    assert_error(http.post("/payments", "bob", json={"customer_id": shop["customer"], "amount": "5"}), 404,
                 "not_found")
    signed = http.post("/contracts", "alice", json=contract)
    assert signed.status_code == 201, signed.text
    assert_error(http.post(f"/contracts/{signed.json()['id']}/invoices", "bob", json={"amount": "5"}), 404)


def test_an_import_row_dated_outside_the_business_range_is_refused_per_row(http: Http) -> None:
    header = "name,type,source,region,address,building,contact_name,contact_phone,owner_username,created_at"
    csv = (header + "\n远古客户,,,,,,,,,0001-01-01\n未来客户,,,,,,,,,9999-12-31T23:59:59-10:00\n").encode()
    answer = http.post("/imports/customers", "root", files={"file": ("c.csv", csv, "text/csv")},
                       data={"dry_run": "true"})
    assert answer.status_code == 200, answer.text
    errors = answer.json()["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("created_at", "bad_date")] * 2, errors
