"""N-1 / acceptance 5: malformed bodies, unknown ids and wrong roles get a 4xx in the
error shape of API.md, never a 500, and leave nothing half-written."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import Http, assert_error
from tests.e2e.helpers import org_with_two_salespeople


@pytest.fixture
def org(http: Http) -> dict[str, str]:
    return org_with_two_salespeople(http)


def test_no_token_wrong_token_and_wrong_password_are_401(http: Http) -> None:
    assert_error(http.client.get("/api/v1/customers"), 401, "not_authenticated")
    assert_error(http.client.get("/api/v1/me", headers={"Authorization": "Bearer not.a.token"}),
                 401, "invalid_token")
    token = http.as_("root")["Authorization"]
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert_error(http.client.get("/api/v1/me", headers={"Authorization": tampered}), 401, "invalid_token")
    bad = http.client.post("/api/v1/auth/token", data={"username": "root", "password": "wrong"})
    assert_error(bad, 401, "invalid_credentials")
    unknown = http.client.post("/api/v1/auth/token", data={"username": "nobody", "password": "x"})
    assert_error(unknown, 401, "invalid_credentials")


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "好", "lat": "north"}, "lat"),
        ({"name": "好", "lat": 91}, "lat"),
        ({"name": "好", "contacts": [{"phone": "1"}]}, "contacts.0.name"),
        ({"name": "好", "unexpected": 1}, "unexpected"),
        ({"name": "好", "to_pool": "perhaps"}, "to_pool"),
    ],
)
def test_malformed_customer_bodies_are_422(http: Http, org: dict[str, str], body: dict, field: str) -> None:
    error = assert_error(http.post("/customers", "alice", json=body), 422, "validation_error")
    assert error["field"] == field
    assert http.get("/customers", "alice").json()["total"] == 0


def test_broken_json_and_wrong_content_are_422(http: Http, org: dict[str, str]) -> None:
    headers = {**http.as_("alice"), "content-type": "application/json"}
    assert_error(http.client.post("/api/v1/customers", content=b'{"name": ', headers=headers), 422)
    assert_error(http.client.post("/api/v1/customers", content=b"[1, 2]", headers=headers), 422)


def test_unknown_dictionary_values_name_the_field(http: Http, org: dict[str, str]) -> None:
    for field, value in (("region", "火星"), ("type", "外星企业"), ("source", "?"), ("stage", "?")):
        error = assert_error(http.post("/customers", "alice", json={"name": "好", field: value}),
                             422, "unknown_value")
        assert error["field"] == field
    assert http.get("/customers", "alice").json()["total"] == 0


def test_unknown_ids_are_4xx(http: Http, org: dict[str, str]) -> None:
    missing = str(uuid.uuid4())
    assert_error(http.get(f"/customers/{missing}", "alice"), 404, "not_found")
    assert_error(http.get("/customers/not-a-uuid", "alice"), 422, "validation_error")
    assert_error(http.get(f"/customers/{missing}/history", "root"), 404, "not_found")
    assert_error(http.post(f"/customers/{missing}/claim", "alice"), 404, "not_found")
    assert_error(http.post("/customers/xyz/claim", "alice"), 422, "validation_error")
    assert_error(http.post(f"/customers/{missing}/visits", "alice", json={}), 404)
    assert_error(http.patch(f"/people/{missing}", "root", json={"name": "x"}), 404)
    assert_error(http.post("/people", "root", json={
        "name": "x", "username": "x1", "password": "password123", "roles": ["sales"],
        "department_id": missing}), 422, "unknown_department")
    created = http.post("/customers", "alice", json={"name": "有主客户"}).json()
    assert_error(http.post(f"/customers/{created['id']}/share", "alice", json={"add": [missing]}),
                 422, "unknown_person")
    assert_error(http.post(f"/customers/{created['id']}/transfer", "alice",
                           json={"to_person_id": missing}), 422, "not_a_salesperson")
    assert_error(http.patch(f"/customers/{created['id']}/contacts/nope", "alice", json={"name": "y"}),
                 422, "unknown_contact")


def test_wrong_roles_are_403(http: Http, org: dict[str, str]) -> None:
    assert_error(http.post("/departments", "alice", json={"name": "x"}), 403, "forbidden")
    assert_error(http.post("/people", "boss", json={
        "name": "x", "username": "x2", "password": "password123", "roles": ["sales"]}), 403, "forbidden")
    assert_error(http.put("/settings", "boss", json={"rules": {"pool_warning_days": 5}}), 403)
    pool = http.post("/customers", "alice", json={"name": "公海", "to_pool": True}).json()
    assert_error(http.delete(f"/customers/{pool['id']}", "alice"), 403, "forbidden")
    assert_error(http.post(f"/customers/{pool['id']}/recall", "alice"), 403, "forbidden")
    assert_error(http.post("/customers/assign", "alice",
                           json={"customer_ids": [pool["id"]], "to_person_id": org["bob"]}), 403)
    assert_error(http.get("/admin/projections", "alice"), 403)
    # The boss cannot claim (no salesperson profile) and the manager's limits edit is limited.
    assert_error(http.post(f"/customers/{pool['id']}/claim", "boss"), 403)
    assert_error(http.patch(f"/people/{org['alice']}", "boss", json={"name": "改名"}), 403, "forbidden")
    assert http.patch(f"/people/{org['alice']}", "boss", json={"max_customers": 7}).status_code == 200
    assert http.get("/customers", "boss", params={"scope": "pool"}).json()["total"] == 1


def test_refusals_by_state_are_409(http: Http, org: dict[str, str]) -> None:
    own = http.post("/customers", "alice", json={"name": "自有客户", "share_with": [org["bob"]]}).json()
    assert_error(http.post(f"/customers/{own['id']}/claim", "bob"), 409, "not_in_pool")
    assert_error(http.delete(f"/customers/{own['id']}", "boss"), 409, "not_in_pool")
    assert_error(http.post("/people", "root", json={
        "name": "x", "username": "ALICE", "password": "password123", "roles": ["sales"]}),
        409, "duplicate_username")
    assert_error(http.post(f"/customers/{own['id']}/changes", "alice",
                           json={"changes": {"status": "dealt"}}), 422, "validation_error")
    assert_error(http.post(f"/customers/{own['id']}/changes", "alice",
                           json={"changes": {"name": "自有客户"}}), 422, "no_change")


def test_explicit_nulls_are_refused_not_stored(http: Http, org: dict[str, str]) -> None:
    """A null where a value is required would poison the read model; it is a 422 instead."""
    assert_error(http.patch(f"/departments/{org['dept']}", "root", json={"name": None}), 422)
    assert_error(http.patch(f"/people/{org['alice']}", "root", json={"name": None}), 422)
    assert_error(http.patch(f"/people/{org['alice']}", "root", json={"roles": None}), 422)
    assert_error(http.put("/settings", "root", json={"rules": {"approval_required": None}}), 422)
    assert_error(http.put("/settings", "root", json={"dictionaries": {"regions": None}}), 422)
    c = http.post("/customers", "alice", json={"name": "空值", "contacts": [{"name": "甲"}]}).json()
    contact = http.get(f"/customers/{c['id']}", "alice").json()["contacts"][0]["id"]
    ok = http.patch(f"/customers/{c['id']}/contacts/{contact}", "boss", json={"primary": None, "phone": "5"})
    assert ok.status_code == 200
    assert http.get(f"/customers/{c['id']}", "alice").json()["contacts"][0]["primary"] is True
    # Every projection is still at the head: nothing was stored that it could not apply.
    status = http.get("/admin/projections", "root").json()
    assert all(s["lag"] == 0 for s in status)
