"""Fixtures of the HTTP tests."""

from __future__ import annotations

import pytest

from tests.conftest import Http


@pytest.fixture
def shop(http: Http) -> dict[str, str]:
    assert http.put("/settings", "root", json={"dictionaries": {"warehouses": ["W1", "W2"]}}).status_code == 200
    dept = http.post("/departments", "root", json={"name": "销售部"}).json()["id"]
    ids = {"dept": dept}
    for username, roles in (("boss", ["manager"]), ("alice", ["sales"]), ("keeper", ["warehouse"])):
        made = http.post("/people", "root", json={"name": username, "username": username, "password": "password123",
                                                  "department_id": dept, "roles": roles})
        ids[username] = made.json()["id"]
    ids["customer"] = http.post("/customers", "alice", json={"name": "采购方", "region": "华东"}).json()["id"]
    made = http.post("/products", "keeper", json={"name": "服务器", "spec": "R740", "unit": "台"})
    assert made.status_code == 201, made.text
    assert made.json()["code"] == "P000001"
    ids["product"] = made.json()["id"]
    return ids
