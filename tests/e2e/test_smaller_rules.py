"""Smaller rules over HTTP: a product with the name and spec of another is 409
`duplicate_product`, on creation, on a rename and when two creations race (G-1); a work report
dated after today, the business day, is 422 `date_in_future` (W-1); the reporter of a problem
is told when it is resolved (G-7, N-1)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from commands import messages as m
from commands.actor import Actor
from commands.adapters.clock import ManualClock
from commands.base import Result
from commands.bootstrap import Service, bootstrap
from commands.config import Config
from commands.handlers import handle
from tests.conftest import SYSTEM, Http, assert_error, run_together
from tests.e2e.helpers import ok, org_with_two_salespeople


def keeper(http: Http) -> None:
    ok(http.post("/people", "root", json={"name": "库管", "username": "keeper", "password": "password123",
                                          "roles": ["warehouse"]}))


# ---- products (G-1) ------------------------------------------------------------------------------


def test_one_product_per_name_and_spec(http: Http) -> None:
    keeper(http)
    first = ok(http.post("/products", "keeper", json={"name": "服务器", "spec": "R740", "unit": "台"}))
    for name, spec in (("服务器", "R740"), ("  服务器 ", "r740"), ("服务器", "Ｒ７４０"), ("服\u200d务器", "R740")):
        error = assert_error(http.post("/products", "keeper", json={"name": name, "spec": spec}), 409,
                             "duplicate_product")
        assert (error["field"], error["details"]) == ("name", {"code": first["code"], "product_id": first["id"]})
    second = ok(http.post("/products", "keeper", json={"name": "服务器", "spec": "R750"}))
    assert second["code"] == "P000002"  # refusals drew no code
    ok(http.post("/products", "keeper", json={"name": "软件授权"}))
    assert_error(http.post("/products", "keeper", json={"name": "软件授权", "spec": ""}), 409, "duplicate_product")
    # A rename onto another product's pair is refused and changes nothing; the old pair is freed.
    assert_error(http.patch(f"/products/{second['id']}", "keeper", json={"spec": "R740"}), 409,
                 "duplicate_product")
    assert http.get(f"/products/{second['id']}", "keeper").json()["spec"] == "R750"
    ok(http.patch(f"/products/{first['id']}", "keeper", json={"spec": "R740XD"}), 200)
    ok(http.patch(f"/products/{second['id']}", "keeper", json={"spec": "R740"}), 200)
    third = ok(http.post("/products", "keeper", json={"name": "服务器", "spec": "R750"}))
    assert third["code"] == "P000004"
    names = sorted((p["name"], p["spec"]) for p in http.get("/products", "keeper").json()["items"])
    assert names == [("服务器", "R740"), ("服务器", "R740XD"), ("服务器", "R750"), ("软件授权", None)]


@pytest.fixture
def racing(database_url: str, clock: ManualClock) -> Iterator[Service]:
    """Projections caught up by nobody: the threads race on the write path only."""
    service = bootstrap(Config(database_url=database_url, mode="distributed"), clock=clock)
    yield service
    service.close()


def test_two_creations_of_one_product_at_once_make_one(racing: Service) -> None:
    deps = racing.deps
    person = handle(m.CreatePerson(name="库管", username="keeper", password="password123", roles=["warehouse"]),
                    SYSTEM, deps).ids["id"]
    warehouse = Actor(person, "库管", frozenset({"warehouse"}), None)
    results = run_together(8, lambda i: handle(m.CreateProduct(name="并发产品", spec=" V1 " if i % 2 else "v1"),
                                               warehouse, deps))
    assert len([r for r in results if isinstance(r, Result)]) == 1
    assert Counter(r for r in results if isinstance(r, str)) == {"duplicate_product": 7}
    renames = [handle(m.CreateProduct(name=f"改名{i}"), warehouse, deps).ids["id"] for i in range(4)]
    results = run_together(4, lambda i: handle(m.ChangeProduct(renames[i], {"name": "同一个名字"}), warehouse, deps))
    assert len([r for r in results if isinstance(r, Result)]) == 1
    assert Counter(r for r in results if isinstance(r, str)) == {"duplicate_product": 3}


# ---- work reports (W-1) --------------------------------------------------------------------------


def test_a_work_report_dated_after_today_is_refused(http: Http, clock: ManualClock) -> None:
    org_with_two_salespeople(http)
    clock.set(datetime.fromisoformat("2026-11-02T16:30:00+00:00"))  # 3 November, 00:30 in Shanghai
    for kind, day in (("daily", "2026-11-04"), ("weekly", "2026-11-05"), ("monthly", "2026-11-30"),
                      ("daily", "2199-12-31")):
        error = assert_error(http.post("/work-reports", "alice", json={"kind": kind, "date": day}), 422,
                             "date_in_future")
        assert (error["field"], error["details"]) == ("date", {"today": "2026-11-03"})
    assert http.get("/work-reports", "alice").json()["items"] == []
    made = ok(http.post("/work-reports", "alice", json={"kind": "daily", "date": "2026-11-03", "summary": "今天"}))
    assert made["revision"] == 1
    ok(http.post("/work-reports", "alice", json={"kind": "monthly", "date": "2026-11-03"}))
    ok(http.post("/work-reports", "alice", json={"kind": "weekly", "date": "2026-10-26"}))


# ---- problem reports (G-7, N-1) ------------------------------------------------------------------


def inbox(http: Http, who: str) -> list[dict[str, Any]]:
    return list(http.get("/notifications", who).json())


def test_the_reporter_is_told_when_a_problem_is_resolved(http: Http, clock: ManualClock, service: Service) -> None:
    ids = org_with_two_salespeople(http)
    customer = ok(http.post("/customers", "alice", json={"name": "售后客户"}))["id"]
    problem = ok(http.post("/problems", "alice", json={"customer_id": customer, "type": "质量问题",
                                                       "description": "屏幕有坏点", "responsible_id": ids["bob"]}))
    assert inbox(http, "alice") == []
    clock.set(clock.now() + timedelta(hours=2))
    ok(http.post(f"/problems/{problem['id']}/resolve", "bob", json={"resolution": "已上门更换屏幕" + "。" * 300}), 200)
    [told] = inbox(http, "alice")
    assert (told["kind"], told["ref_id"], told["read_at"]) == ("problem_resolved", problem["id"], None)
    assert "售后客户" in told["text"] and "质量问题" in told["text"] and "已上门更换屏幕" in told["text"]
    assert len(told["text"]) <= 500
    assert [n["kind"] for n in inbox(http, "bob")] == ["problem_assigned"]  # the resolver is not told
    # One's own problem, resolved by oneself: nobody is told.
    bobs = ok(http.post("/customers", "bob", json={"name": "自己的客户"}))["id"]
    own = ok(http.post("/problems", "bob", json={"customer_id": bobs, "type": "其他", "description": "自查",
                                                 "responsible_id": ids["bob"]}))
    ok(http.post(f"/problems/{own['id']}/resolve", "bob", json={"resolution": "已处理"}), 200)
    assert [n["kind"] for n in inbox(http, "bob")] == ["problem_assigned"]
    # A manager resolving it: the reporter is told, the manager is not.
    third = ok(http.post("/problems", "bob", json={"customer_id": bobs, "type": "物流问题",
                                                   "description": "到货延迟", "responsible_id": ids["alice"]}))
    ok(http.post(f"/problems/{third['id']}/resolve", "boss", json={"resolution": "已协调物流"}), 200)
    assert [n["kind"] for n in inbox(http, "bob")] == ["problem_resolved", "problem_assigned"]
    assert inbox(http, "boss") == []
    # A rebuild gives the same notifications.
    before = {n["id"] for n in inbox(http, "alice")} | {n["id"] for n in inbox(http, "bob")}
    service.projector.rebuild("inbox")
    assert {n["id"] for n in inbox(http, "alice")} | {n["id"] for n in inbox(http, "bob")} == before
