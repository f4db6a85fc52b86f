"""Keyset paging on every list (`after=` the previous page's `next`): for each list and each
sort, walking by cursor meets the same rows in the same order as walking by page number and as
one big page, with no duplicate and no gap, `total` exact throughout and `next` null on the
last page; rows inserted between pages never repeat one; NULLs sort last in either direction
on SQLite and PostgreSQL alike; a cursor that is garbage, changed, from another list or for
another sort is 422 `invalid_cursor`; one page-size limit (500) everywhere, stated in the
OpenAPI document."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from commands.adapters.clock import ManualClock
from tests.conftest import Http, assert_error
from tests.e2e.helpers import ok

MAX_PAGE_SIZE = 500
CUSTOMER_SORTS = ("created_at", "updated_at", "name", "number", "type", "source", "region", "status", "stage",
                  "visit_count", "last_visit_at", "pool_entered_at", "owner_since")
START = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def world(http: Http, clock: ManualClock) -> dict[str, Any]:
    """Customers with ties and gaps in every sortable field, products, contracts signed on the
    same day, targets starting together, work reports of three kinds for one day, requests to
    the warehouse, and the operation log of all that."""
    ok(http.put("/settings", "root", json={"dictionaries": {"warehouses": ["W1"]}}), 200)
    dept = ok(http.post("/departments", "root", json={"name": "销售部"}))["id"]
    ids: dict[str, Any] = {"dept": dept}
    for username, roles in (("boss", ["manager"]), ("alice", ["sales"]), ("bob", ["sales"]),
                            ("keeper", ["warehouse"])):
        ids[username] = ok(http.post("/people", "root", json={
            "name": username.title(), "username": username, "password": "password123", "department_id": dept,
            "roles": roles, "max_customers": 50 if "sales" in roles else None}))["id"]
    ok(http.patch(f"/departments/{dept}", "root", json={"manager_ids": [ids["boss"]]}), 200)
    clock.set(START)
    customers = []
    for n in range(14):
        if n % 3 == 0:  # every third moves the clock on: the others share a created_at with a neighbour
            clock.set(START + timedelta(hours=n))
        body: dict[str, Any] = {"name": f"客户{13 - n:02d}", "to_pool": n % 4 == 0}
        if n % 2:
            body.update(region=("华东", "华南")[n % 3 % 2], type="学校", source="展会")
        customers.append(ok(http.post("/customers", "alice", json=body))["id"])
    clock.set(START + timedelta(days=1))
    for n, customer in enumerate(customers):
        if n % 4 and n % 3 == 1:
            ok(http.post(f"/customers/{customer}/visits", "alice",
                         json={"visited_at": (START + timedelta(days=1, minutes=-n)).isoformat(), "stage": "需求确认"}))
    ids["customers"] = customers
    ids["products"] = [ok(http.post("/products", "keeper", json={"name": f"产品{n}", "unit": "台"}))["id"]
                       for n in range(7)]
    held = [c for n, c in enumerate(customers) if n % 4]
    ids["contracts"] = [ok(http.post("/contracts", "alice", json={
        "customer_id": held[n], "number": f"HT-{(n * 7) % 5}", "name": f"合同{n}", "signed_on": f"2026-06-0{1 + n // 2}",
        "lines": [{"product_id": ids["products"][0], "quantity": "5", "unit_price": "10.00"}]}))["id"]
        for n in range(5)]
    ids["requests"] = [ok(http.post(f"/contracts/{ids['contracts'][0]}/delivery-requests", "alice", json={
        "lines": [{"product_id": ids["products"][0], "quantity": "1"}]}))["id"] for _ in range(3)]
    for person in ("alice", "bob"):
        for month in (6, 7, 8):
            ok(http.post("/targets", "boss", json={"person_id": ids[person], "period": f"2026年{month}月",
                                                   "start": f"2026-0{month}-01", "end": f"2026-0{month}-28",
                                                   "visits": 3}))
    clock.set(START + timedelta(days=10))
    for kind, day in (("daily", "2026-06-01"), ("weekly", "2026-06-01"), ("monthly", "2026-06-01"),
                      ("daily", "2026-06-02"), ("daily", "2026-06-03")):
        ok(http.post("/work-reports", "alice", json={"kind": kind, "date": day, "summary": "日报"}))
    return ids


def walk_pages(http: Http, path: str, who: str, params: dict[str, Any], size: int) -> tuple[list[Any], int]:
    rows: list[Any] = []
    page, total = 1, None
    while True:
        body = ok(http.get(path, who, params={**params, "page": page, "page_size": size}), 200)
        total = body["total"] if total is None else total
        assert body["total"] == total
        rows += body["items"]
        if page * size >= total:
            assert body["next"] is None
            return rows, total
        assert body["next"] is not None
        page += 1


def walk_cursor(http: Http, path: str, who: str, params: dict[str, Any], size: int) -> tuple[list[Any], int]:
    rows: list[Any] = []
    after, total = None, None
    for _ in range(1000):
        body = ok(http.get(path, who, params={**params, "page_size": size,
                                              **({"after": after} if after else {})}), 200)
        total = body["total"] if total is None else total
        assert body["total"] == total, "total is the exact count on every page"
        assert len(body["items"]) <= size and (body["items"] or not rows)
        rows += body["items"]
        after = body["next"]
        if after is None:
            return rows, total
    raise AssertionError("the cursor walk never ended")


def same_walks(http: Http, path: str, who: str, params: dict[str, Any], size: int, key: str = "id") -> list[Any]:
    everything = ok(http.get(path, who, params={**params, "page_size": MAX_PAGE_SIZE}), 200)
    assert everything["next"] is None
    full = [row[key] for row in everything["items"]]
    by_page, total = walk_pages(http, path, who, params, size)
    by_cursor, cursor_total = walk_cursor(http, path, who, params, size)
    assert total == cursor_total == everything["total"] == len(full)
    assert [row[key] for row in by_cursor] == [row[key] for row in by_page] == full, (path, params)
    assert len(set(full)) == len(full)
    return list(everything["items"])


def test_every_customer_sort_walks_alike(http: Http, world: dict[str, Any]) -> None:
    for sort in CUSTOMER_SORTS:
        for direction in ("", "-"):
            rows = same_walks(http, "/customers", "root", {"sort": direction + sort}, 4)
            assert len(rows) == 14
            values = [row[sort] for row in rows]
            present = [v for v in values if v is not None]
            # NULLs last in either direction, on both databases; the rest in the asked order.
            assert values == present + [None] * (len(values) - len(present)), (direction + sort, values)
            assert present == sorted(present, reverse=direction == "-"), (direction + sort, values)


def test_scopes_and_filters_walk_alike(http: Http, world: dict[str, Any]) -> None:
    for who, params in (("alice", {"scope": "mine", "sort": "-last_visit_at"}),
                        ("alice", {"scope": "pool", "sort": "updated_at"}),
                        ("alice", {"scope": "pool", "sort": "-owner_since"}),
                        ("boss", {"scope": "all", "sort": "region", "q": "客户"}),
                        ("boss", {"scope": "all", "sort": "-type", "region": "华东"}),
                        ("bob", {"scope": "mine"})):
        same_walks(http, "/customers", who, params, 3)


def test_every_other_list_walks_alike(http: Http, world: dict[str, Any]) -> None:
    contracts = same_walks(http, "/contracts", "alice", {}, 2)
    assert len(contracts) == 5 and [c["signed_on"] for c in contracts] == sorted(
        (c["signed_on"] for c in contracts), reverse=True)
    assert len(same_walks(http, "/products", "keeper", {}, 3)) == 7
    assert len(same_walks(http, "/targets", "boss", {}, 4)) == 6
    assert len(same_walks(http, "/work-reports", "alice", {}, 2)) == 5
    assert len(same_walks(http, "/warehouse-requests", "keeper", {}, 2)) == 3
    assert len(same_walks(http, "/warehouse-requests", "keeper", {"status": "open"}, 2)) == 3
    assert len(same_walks(http, f"/contracts/{world['contracts'][0]}/warehouse-requests", "alice", {}, 1)) == 3
    log = same_walks(http, "/operation-log", "root", {}, 7)
    assert len(log) > 30
    assert [e["at"] for e in log] == sorted((e["at"] for e in log), reverse=True)


def test_rows_inserted_between_pages_never_repeat(http: Http, world: dict[str, Any], clock: ManualClock) -> None:
    seen: list[str] = []
    body = ok(http.get("/customers", "root", params={"sort": "-created_at", "page_size": 4}), 200)
    seen += [row["id"] for row in body["items"]]
    made = []
    while body["next"] is not None:
        # A newer customer (before the cursor: not met) and an older one (after it: met once).
        clock.set(clock.now() + timedelta(days=30))
        made.append(ok(http.post("/customers", "alice", json={"name": f"新客户{len(made)}"}))["id"])
        made.append(ok(http.post("/customers", "root", json={
            "name": f"旧客户{len(made)}", "created_at": "2020-01-01T00:00:00+08:00", "to_pool": True}))["id"])
        body = ok(http.get("/customers", "root", params={"sort": "-created_at", "page_size": 4,
                                                         "after": body["next"]}), 200)
        seen += [row["id"] for row in body["items"]]
        assert body["total"] == 14 + len(made)
    assert len(seen) == len(set(seen)), "no row twice"
    assert set(world["customers"]) <= set(seen), "no original row missed"
    assert not set(made[0::2]) & set(seen)
    assert set(made[1::2]) <= set(seen)


def _cursor(http: Http, path: str, who: str = "root", **params: Any) -> str:
    cursor = ok(http.get(path, who, params={"page_size": 1, **params}), 200)["next"]
    assert isinstance(cursor, str)
    return cursor


def test_bad_cursors_are_refused(http: Http, world: dict[str, Any]) -> None:
    good = _cursor(http, "/customers", sort="name")
    assert http.get("/customers", "root", params={"sort": "name", "after": good}).status_code == 200
    body, _, signature = good.partition(".")
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    forged = base64.urlsafe_b64encode(raw.replace(b'"name"', b'"nbme"', 1)).rstrip(b"=").decode()
    # A changed character of the signature (not its last, whose low bits base64 ignores).
    flipped = good[:-5] + ("A" if good[-5] != "A" else "B") + good[-4:]
    for bad in ("garbage", "", ".", "e30.e30", "!!!.???", good + "x", f"{forged}.{signature}", flipped,
                "\u4e2d\u6587.\u4e2d\u6587", "A" * 2048, _cursor(http, "/products", "keeper"),
                _cursor(http, "/customers", sort="-name")):
        response = http.get("/customers", "root", params={"sort": "name", "after": bad})
        assert response.status_code == 422, bad
        error = assert_error(response, 422)
        assert (error["code"], error["field"]) == ("invalid_cursor", "after"), (bad, error)
    assert_error(http.get("/customers", "root", params={"sort": "name", "after": "A" * 2049}), 422,
                 "validation_error")
    error = assert_error(http.get("/customers", "root", params={"sort": "name", "after": good, "page": 2}), 422,
                         "conflicting_parameters")
    assert error["field"] == "page"
    # A cursor of the open requests is not one of all requests (another order).
    open_cursor = _cursor(http, "/warehouse-requests", "keeper", status="open")
    assert_error(http.get("/warehouse-requests", "keeper", params={"after": open_cursor}), 422, "invalid_cursor")


LISTS = ("/customers", "/contracts", "/products", "/targets", "/work-reports", "/warehouse-requests",
         "/operation-log", "/reports/Q-1", "/reports/S-6")


def test_one_page_size_limit(http: Http, world: dict[str, Any]) -> None:
    for path in LISTS:
        assert http.get(path, "root", params={"page_size": MAX_PAGE_SIZE}).status_code == 200, path
        for too_many in (MAX_PAGE_SIZE + 1, 10**9):
            error = assert_error(http.get(path, "root", params={"page_size": too_many}), 422, "validation_error")
            assert error["field"] == "page_size", (path, error)
        assert_error(http.get(path, "root", params={"page_size": 0}), 422, "validation_error")
    document = http.client.get("/openapi.json").json()
    sizes = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for param in operation.get("parameters", []):
                if param["name"] == "page_size":
                    sizes[(method, path)] = param["schema"]
    assert len(sizes) >= len(LISTS) - 1
    assert all(schema.get("maximum") == MAX_PAGE_SIZE for schema in sizes.values()), sizes
    # Every list of items and a total answers a `next` and takes `after`.
    for (method, path), _ in sizes.items():
        if path.startswith("/api/v1/reports"):
            continue
        names = {p["name"] for p in document["paths"][path][method]["parameters"]}
        assert "after" in names, path
        schema = document["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        page = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        assert {"items", "total", "next"} <= set(page["properties"]), path
