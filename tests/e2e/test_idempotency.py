"""Idempotency-Key: a retried command is answered with the first answer and runs once — a
visit with a photo, a payment, a refusal — per person, for 24 hours by the service's clock,
also when the retries arrive at the same moment; a key names one request; answers about the
caller (401, 403) are not kept; credentials are never kept."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api import idempotency
from api.main import create_app
from commands import messages as m
from commands.adapters.clock import ManualClock
from commands.bootstrap import Service
from commands.handlers import handle
from readmodels.tables import idempotency_keys
from tests.conftest import ADMIN_PASSWORD, SYSTEM, Http, assert_error, make_service, postgres_url, run_together
from tests.e2e.helpers import jpeg, ok

KEY = "Idempotency-Key"
REPLAYED = "idempotent-replayed"


def _contract(http: Http, shop: dict[str, str], amount: str = "1000.00", number: str = "HT-IDEM-1") -> str:
    made = http.post("/contracts", "alice", json={"customer_id": shop["customer"], "number": number,
                                                  "name": "幂等合同", "amount": amount})
    return str(ok(made)["id"])


def _payments(http: Http, customer_id: str) -> int:
    history = http.get(f"/customers/{customer_id}/history", "alice")
    assert history.status_code == 200, history.text
    return sum(1 for item in history.json()["items"] if item["type"] == "PaymentRecorded")


def _same_answer(first: Any, again: Any) -> None:
    """Status, body byte for byte and headers are the first answer's; the repeat says it is one."""
    assert again.status_code == first.status_code
    assert again.content == first.content
    assert again.headers.get(REPLAYED) == "true"
    assert first.headers.get(REPLAYED) is None
    assert {k: v for k, v in again.headers.items() if k != REPLAYED} == dict(first.headers.items())


def _kept_rows(service: Service) -> int:
    with service.store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(idempotency_keys)).scalar_one())


def test_a_retried_payment_is_recorded_once(http: Http, shop: dict[str, str]) -> None:
    contract = _contract(http, shop)
    body = {"customer_id": shop["customer"], "contract_id": contract, "amount": "300.00"}
    first = http.post("/payments", "alice", json=body, headers={KEY: "pay-7f3a"})
    assert first.status_code == 201, first.text
    again = http.post("/payments", "alice", json=body, headers={KEY: "pay-7f3a"})
    _same_answer(first, again)
    view = http.get(f"/contracts/{contract}", "alice").json()
    assert view["collected"] == "300.00"
    assert _payments(http, shop["customer"]) == 1
    # Without a key, or with another one, the same body is another payment.
    ok(http.post("/payments", "alice", json=body, headers={KEY: "pay-other"}))
    ok(http.post("/payments", "alice", json=body))
    assert http.get(f"/contracts/{contract}", "alice").json()["collected"] == "900.00"
    assert _payments(http, shop["customer"]) == 3


def test_a_retried_visit_with_a_photo_is_recorded_once(http: Http, shop: dict[str, str], clock: ManualClock) -> None:
    customer = shop["customer"]
    photo = jpeg(clock.now().replace(microsecond=0) - timedelta(minutes=20), gps=(31.2304, 121.4737))

    def send() -> Any:
        # Each sending makes a new multipart boundary, as a client that sends the form again does.
        return http.post(f"/customers/{customer}/visits", "alice", headers={KEY: "visit-2026-11-02-1"},
                         data={"notes": "弱网重试", "stage": "需求确认"},
                         files={"photo": ("visit.jpg", photo, "image/jpeg")})

    first = send()
    assert first.status_code == 201, first.text
    again = send()
    _same_answer(first, again)
    visits = http.get(f"/customers/{customer}", "alice").json()["visits"]
    assert [v["visit_id"] for v in visits] == [first.json()["visit_id"]]
    history = http.get(f"/customers/{customer}/history", "alice").json()["items"]
    assert sum(1 for item in history if item["type"] == "VisitRecorded") == 1
    # Another photo under the same key is another request: refused, not recorded.
    other = http.post(f"/customers/{customer}/visits", "alice", headers={KEY: "visit-2026-11-02-1"},
                      data={"notes": "弱网重试", "stage": "需求确认"},
                      files={"photo": ("visit.jpg", jpeg(colour="blue"), "image/jpeg")})
    assert_error(other, 422, "idempotency_key_reused")
    assert len(http.get(f"/customers/{customer}", "alice").json()["visits"]) == 1


def test_keys_are_per_person(http: Http, shop: dict[str, str]) -> None:
    ok(http.post("/people", "root", json={"name": "carol", "username": "carol", "password": "password123",
                                          "department_id": shop["dept"], "roles": ["sales"]}))
    mine = ok(http.post("/customers", "alice", json={"name": "甲方客户"}, headers={KEY: "k-2"}))
    theirs = ok(http.post("/customers", "carol", json={"name": "乙方客户"}, headers={KEY: "k-2"}))
    assert mine["id"] != theirs["id"]
    assert http.get(f"/customers/{theirs['id']}", "carol").json()["name"] == "乙方客户"
    # Even alice's very request under alice's key: carol's key is her own, so her command runs
    # (and is refused on its own merits: the name is taken) instead of answering alice's 201.
    refused = http.post("/customers", "carol", json={"name": "甲方客户"}, headers={KEY: "same-key"})
    ok(http.post("/customers", "alice", json={"name": "丙方客户"}, headers={KEY: "same-key"}))
    assert_error(refused, 409, "duplicate_name")
    _same_answer(refused, http.post("/customers", "carol", json={"name": "甲方客户"}, headers={KEY: "same-key"}))


def test_the_same_key_for_another_request_is_refused(http: Http, shop: dict[str, str]) -> None:
    contract = _contract(http, shop)
    body = {"customer_id": shop["customer"], "contract_id": contract, "amount": "100.00"}
    first = http.post("/payments", "alice", json=body, headers={KEY: "k-1"})
    assert first.status_code == 201
    for method, path, payload in (("post", "/payments", {**body, "amount": "100.01"}),
                                  ("post", f"/contracts/{contract}/invoices", {"amount": "100.00"})):
        refused = getattr(http, method)(path, "alice", json=payload, headers={KEY: "k-1"})
        error = assert_error(refused, 422, "idempotency_key_reused")
        assert error["field"] == KEY
    assert http.get(f"/contracts/{contract}", "alice").json()["collected"] == "100.00"
    assert http.get(f"/contracts/{contract}", "alice").json()["invoiced"] == "0.00"
    # The key still answers its own request.
    _same_answer(first, http.post("/payments", "alice", json=body, headers={KEY: "k-1"}))


def test_a_key_is_kept_for_24_hours_of_the_service_clock(http: Http, shop: dict[str, str],
                                                         clock: ManualClock) -> None:
    contract = _contract(http, shop)
    body = {"customer_id": shop["customer"], "contract_id": contract, "amount": "250.00",
            "received_on": "2026-11-02"}
    first = http.post("/payments", "alice", json=body, headers={KEY: "day-key"})
    assert first.status_code == 201
    clock.advance(hours=23, minutes=59)
    _same_answer(first, http.post("/payments", "alice", json=body, headers={KEY: "day-key"}))
    assert _payments(http, shop["customer"]) == 1
    clock.advance(minutes=2)
    later = http.post("/payments", "alice", json=body, headers={KEY: "day-key"})
    assert later.status_code == 201 and later.headers.get(REPLAYED) is None
    assert later.json()["id"] != first.json()["id"]
    assert http.get(f"/contracts/{contract}", "alice").json()["collected"] == "500.00"
    assert _payments(http, shop["customer"]) == 2
    # The key now names the new payment, from the new moment on.
    _same_answer(later, http.post("/payments", "alice", json=body, headers={KEY: "day-key"}))


def test_a_refused_command_is_answered_the_same(http: Http, shop: dict[str, str]) -> None:
    contract = _contract(http, shop, amount="500.00")
    body = {"customer_id": shop["customer"], "contract_id": contract, "amount": "500.01"}
    first = http.post("/payments", "alice", json=body, headers={KEY: "too-much", "Accept-Language": "en"})
    assert_error(first, 409, "over_collected")
    again = http.post("/payments", "alice", json=body, headers={KEY: "too-much", "Accept-Language": "en"})
    _same_answer(first, again)
    assert _payments(http, shop["customer"]) == 0


def test_answers_about_the_caller_are_not_kept(http: Http, shop: dict[str, str]) -> None:
    body = {"customer_id": shop["customer"], "amount": "10.00"}
    # The warehouse keeper may not record payments: 403, and the key stays free.
    for _ in range(2):
        refused = http.post("/payments", "keeper", json=body, headers={KEY: "keeper-key"})
        assert_error(refused, 403, "forbidden")
        assert refused.headers.get(REPLAYED) is None
    # Not signed in (or a token that is not valid): 401 each time, nothing remembered.
    for token in (None, "Bearer not-a-token"):
        headers = {KEY: "anon-key", **({"Authorization": token} if token else {})}
        assert_error(http.client.post("/api/v1/payments", json=body, headers=headers), 401)
    assert _kept_rows(http_service(http)) == 0


def test_credentials_are_never_kept(http: Http, shop: dict[str, str]) -> None:
    form = {"username": "alice", "password": "password123"}
    tokens = [http.client.post("/api/v1/auth/token", data=form, headers={KEY: "sign-in"}) for _ in range(2)]
    assert all(t.status_code == 200 and t.headers.get(REPLAYED) is None for t in tokens)
    assert tokens[0].json()["access_token"] != tokens[1].json()["access_token"]
    ticket = http.post("/stream/tickets", "alice", headers={KEY: "ticket"})
    again = http.post("/stream/tickets", "alice", headers={KEY: "ticket"})
    if ticket.status_code == 201:  # the stream's tickets: each one new
        assert again.headers.get(REPLAYED) is None and again.content != ticket.content
    assert _kept_rows(http_service(http)) == 0


@pytest.mark.parametrize("value", ["", "x" * 256, "键".encode(), b"tab\there", b"nul\x00", b"del\x7f"])
def test_a_malformed_key_is_refused(http: Http, shop: dict[str, str], value: str | bytes) -> None:
    refused = http.post("/customers", "alice", json={"name": "格式客户"}, headers={KEY: value})  # type: ignore[dict-item]
    error = assert_error(refused, 422, "validation_error")
    assert error["field"] == KEY and error["details"]["max_length"] == 255
    assert http.get("/customers", "alice", params={"q": "格式客户"}).json()["total"] == 0


def test_the_longest_key_and_every_printable_character_are_accepted(http: Http, shop: dict[str, str]) -> None:
    printable = "".join(chr(c) for c in range(0x21, 0x7F))
    for key in ("k" * 255, printable, "with inner spaces"):
        first = http.post("/customers", "alice", json={"name": f"客户{len(key)}{key[:3]}"}, headers={KEY: key})
        assert first.status_code == 201, first.text
        _same_answer(first, http.post("/customers", "alice", json={"name": f"客户{len(key)}{key[:3]}"},
                                      headers={KEY: key}))


def test_two_keys_at_once_are_refused(http: Http, shop: dict[str, str]) -> None:
    headers = [(KEY, "a"), (KEY, "b"), ("Authorization", http.as_("alice")["Authorization"])]
    refused = http.client.post("/api/v1/customers", json={"name": "两把钥匙"}, headers=headers)
    assert_error(refused, 422, "validation_error")


def test_a_running_repeat_waits_then_says_so(http: Http, shop: dict[str, str], clock: ManualClock,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A pending row (its run still going) makes a repeat wait; past the bound it answers 409
    `idempotency_in_progress`. A pending row older than the takeover bound (its process died) is
    taken over, and the command runs."""
    contract = _contract(http, shop)
    raw = json.dumps({"customer_id": shop["customer"], "contract_id": contract, "amount": "40.00"}).encode()
    scope = {"method": "POST", "path": "/api/v1/payments", "query_string": b"",
             "headers": [(b"content-type", b"application/json")]}
    service = http_service(http)
    now = clock.now()
    with service.store.engine.begin() as conn:
        conn.execute(idempotency_keys.insert().values(
            person_id=shop["alice"], key="running", fingerprint=idempotency.fingerprint(scope, raw),
            created_at=now, claimed_at=now, owner="another-process"))
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.3)

    def send() -> Any:
        return http.post("/payments", "alice", content=raw,
                         headers={KEY: "running", "Content-Type": "application/json"})

    busy = send()
    assert_error(busy, 409, "idempotency_in_progress")
    assert busy.headers["retry-after"] == "1"
    assert _payments(http, shop["customer"]) == 0
    clock.advance(minutes=11)
    taken = send()
    assert taken.status_code == 201, taken.text
    assert _payments(http, shop["customer"]) == 1
    _same_answer(taken, send())


@pytest.fixture
def pg_http(tmp_path: Path, clock: ManualClock) -> Iterator[Http]:
    service = make_service(postgres_url(), clock, tmp_path / "blobs")
    handle(m.CreatePerson(name="管理员", username="root", password=ADMIN_PASSWORD, roles=["admin"]),
           SYSTEM, service.deps)
    try:
        with TestClient(create_app(service, background=False)) as client:
            h = Http(client)
            h.tokens["root"] = h.login("root", ADMIN_PASSWORD)["Authorization"]
            yield h
    finally:
        service.close()


@pytest.mark.postgres
def test_eight_retries_at_once_record_one_payment(pg_http: Http) -> None:
    http = pg_http
    dept = ok(http.post("/departments", "root", json={"name": "并发部"}))["id"]
    ok(http.post("/people", "root", json={"name": "alice", "username": "alice", "password": "password123",
                                          "department_id": dept, "roles": ["sales"]}))
    customer = ok(http.post("/customers", "alice", json={"name": "并发客户"}))["id"]
    contract = ok(http.post("/contracts", "alice", json={"customer_id": customer, "number": "HT-PG-1",
                                                         "name": "并发合同", "amount": "1000.00"}))["id"]
    body = {"customer_id": customer, "contract_id": contract, "amount": "125.00"}
    headers = {**http.as_("alice"), KEY: "eight-at-once"}
    lock = threading.Lock()
    answers: list[tuple[int, bytes]] = []
    replayed: list[str | None] = []

    def pay(_: int) -> int:
        response = http.client.post("/api/v1/payments", json=body, headers=headers)
        with lock:
            answers.append((response.status_code, response.content))
            replayed.append(response.headers.get(REPLAYED))
        return int(response.status_code)

    statuses = run_together(8, pay)
    assert statuses == [201] * 8, answers
    assert len({content for _, content in answers}) == 1
    assert sorted(replayed, key=str) == [None] + ["true"] * 7  # one ran; seven were answered its answer
    assert http.get(f"/contracts/{contract}", "alice").json()["collected"] == "125.00"
    assert _payments(http, customer) == 1


def http_service(http: Http) -> Service:
    app: Any = http.client.app
    service: Service = app.state.service
    return service


def test_expired_keys_are_forgotten_lazily(http: Http, shop: dict[str, str], clock: ManualClock) -> None:
    ok(http.post("/customers", "alice", json={"name": "旧钥匙客户"}, headers={KEY: "old"}))
    assert _kept_rows(http_service(http)) == 1
    answers = idempotency.KeptAnswers(http_service(http).store.engine)
    assert answers.sweep(clock.now() + timedelta(hours=23)) == 0
    assert answers.sweep(datetime.now(UTC).replace(year=2027)) == 1
    assert _kept_rows(http_service(http)) == 0


def test_the_openapi_document_can_name_the_header(http: Http) -> None:
    document = idempotency.document(json.loads(json.dumps(http.client.get("/openapi.json").json())))
    paths = document["paths"]

    def named(path: str, method: str) -> bool:
        return any(p["name"] == KEY for p in paths[path][method].get("parameters", []))

    assert named("/api/v1/payments", "post") and named("/api/v1/customers/{customer_id}/visits", "post")
    assert not named("/api/v1/auth/token", "post") and not named("/api/v1/customers", "get")
    assert len([p for p in paths["/api/v1/payments"]["post"]["parameters"] if p["name"] == KEY]) == 1
    again = idempotency.document(document)
    assert len([p for p in again["paths"]["/api/v1/payments"]["post"]["parameters"] if p["name"] == KEY]) == 1


def test_a_database_outage_while_looking_up_the_key_is_a_503(http: Http, shop: dict[str, str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.exc import OperationalError

    def down(*_: Any, **__: Any) -> Any:
        raise OperationalError("INSERT INTO crm_idempotency_keys", {}, Exception("connection refused"))

    with monkeypatch.context() as patched:
        patched.setattr(idempotency.KeptAnswers, "claim", down)
        refused = http.post("/customers", "alice", json={"name": "停电客户"}, headers={KEY: "outage"})
    assert_error(refused, 503, "unavailable")
    assert refused.headers["retry-after"] == "1"
    assert http.get("/customers", "alice", params={"q": "停电客户"}).json()["total"] == 0
