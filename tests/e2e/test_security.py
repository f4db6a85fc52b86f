"""N-1, P-4: sign-in lockout, token expiry, request size limits, search that is neither fooled
by LIKE wildcards nor by full-width characters."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from typer.testing import CliRunner

from api.cli import app as cli
from commands.adapters.clock import ManualClock
from commands.bootstrap import Service
from tests.conftest import ADMIN_PASSWORD, Http, assert_error
from tests.e2e.helpers import ok, org_with_two_salespeople


def sign_in(http: Http, username: str, password: str) -> object:
    return http.client.post("/api/v1/auth/token", data={"username": username, "password": password})


def test_five_failed_sign_ins_from_one_address_make_it_wait(http: Http, clock: ManualClock) -> None:
    """Five failures for a username from one address make that address wait before the next
    try (see test_sessions.py for the growing delays and the other addresses)."""
    org_with_two_salespeople(http)
    for _ in range(5):
        assert_error(sign_in(http, "alice", "guess-guess"), 401, "invalid_credentials")
    locked = sign_in(http, "Alice", "password123")  # the right password, any case of the name
    error = assert_error(locked, 429, "too_many_attempts")
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60 and error["details"]["retry_after_seconds"] > 0
    # Another username is not affected; the wait ends in time.
    assert sign_in(http, "bob", "password123").status_code == 200
    clock.advance(minutes=15, seconds=1)
    assert sign_in(http, "alice", "password123").status_code == 200
    # A success clears the count: four new failures do not lock.
    for _ in range(4):
        assert_error(sign_in(http, "alice", "guess-guess"), 401)
    assert sign_in(http, "alice", "password123").status_code == 200
    # Failed attempts are in the operation log, with the username tried.
    refused = http.get("/operation-log", "root", params={"operation": "auth/token", "outcome": "refused",
                                                         "page_size": 100}).json()["items"]
    assert {e["target_id"] for e in refused} == {"alice"} and len(refused) == 10


def test_tokens_expire_and_tampered_ones_are_refused(http: Http, service: Service) -> None:
    org_with_two_salespeople(http)
    person = http.get("/me", "alice").json()["id"]
    expired = jwt.encode({"sub": person, "exp": service.deps.clock.now() - timedelta(minutes=1)},
                         service.config.secret_key, algorithm="HS256")
    assert_error(http.client.get("/api/v1/me", headers={"Authorization": f"Bearer {expired}"}), 401,
                 "token_expired")
    forged = jwt.encode({"sub": person}, "another-secret-another-secret-1234", algorithm="HS256")
    assert_error(http.client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"}), 401,
                 "invalid_token")
    unsigned = jwt.encode({"sub": person}, None, algorithm="none")
    assert_error(http.client.get("/api/v1/me", headers={"Authorization": f"Bearer {unsigned}"}), 401,
                 "invalid_token")
    assert sign_in(http, "root", ADMIN_PASSWORD).json()["expires_in"] == service.config.token_minutes * 60


def test_bodies_past_their_limit_are_413_and_write_nothing(http: Http) -> None:
    org_with_two_salespeople(http)
    huge = {"name": "大客户", "address": "x" * (1024 * 1024)}
    assert_error(http.post("/customers", "alice", json=huge), 413, "too_large")
    streamed = http.client.post("/api/v1/customers", headers={**http.as_("alice"), "Content-Type": "application/json"},
                                content=(b" " * 65536 for _ in range(20)))
    assert_error(streamed, 413, "too_large")
    assert http.get("/customers", "alice").json()["total"] == 0
    assert_error(http.get("/customers", "alice", params={"page_size": 501}), 422, "validation_error")
    assert_error(http.get("/customers", "alice", params={"q": "长" * 101}), 422, "validation_error")


def test_search_matches_wildcards_literally_and_full_width_as_half_width(http: Http) -> None:
    ids = org_with_two_salespeople(http)
    ok(http.patch(f"/people/{ids['alice']}", "root", json={"max_customers": 10}), 200)
    for name in ("百分之百%公司", "百分百公司", "ＡＢＣ科技", "下划_线商行", "下划线商行"):
        ok(http.post("/customers", "alice", json={"name": name}))

    def found(q: str) -> list[str]:
        return sorted(r["name"] for r in http.get("/customers", "alice", params={"q": q}).json()["items"])

    assert found("%") == ["百分之百%公司"]
    assert found("_") == ["下划_线商行"]
    assert found("abc") == ["ABC科技"]  # stored NFKC: full-width letters became half-width
    assert found("ＡＢＣ") == ["ABC科技"]  # and a full-width query finds them too


def test_the_distributed_mode_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_MODE", "distributed")
    monkeypatch.delenv("CRM_SECRET_KEY", raising=False)
    for command in (["api"], ["worker"], ["scheduler"]):
        refused = CliRunner().invoke(cli, command, env={"COLUMNS": "200"})
        assert refused.exit_code == 2 and "CRM_SECRET_KEY" in refused.output, (command, refused.output)


def test_parallel_guesses_cannot_slip_past_the_lock(http: Http) -> None:
    import threading

    org_with_two_salespeople(http)
    answers: list[int] = []

    def guess() -> None:
        answers.append(sign_in(http, "bob", "wrong-password").status_code)

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers).count(401) <= 5 and answers.count(429) >= 7


def test_hostile_files_are_refused_not_crashed_on(http: Http) -> None:
    import io
    import struct

    from PIL import Image

    ids = org_with_two_salespeople(http)
    customer = ok(http.post("/customers", "alice", json={"name": "文件客户"}))["id"]
    # A tiny JPEG that claims 60,000 × 60,000 pixels: a decompression bomb.
    out = io.BytesIO()
    Image.new("RGB", (16, 16)).save(out, "JPEG")
    bomb = bytearray(out.getvalue())
    at = bomb.find(b"\xff\xc0")
    bomb[at + 5:at + 9] = struct.pack(">HH", 60000, 60000)
    assert_error(http.post(f"/customers/{customer}/visits", "alice",
                           files={"photo": ("b.jpg", bytes(bomb), "image/jpeg")}), 415, "unsupported_media_type")
    # A CSV field longer than the reader takes.
    huge = b"name,type,source,region,address,building,contact_name,contact_phone,owner_username,created_at\n" + \
        b'"' + b"x" * 200_000 + b'",,,,,,,,,\n'
    assert_error(http.post("/imports/customers", "root", files={"file": ("big.csv", huge, "text/csv")}), 422,
                 "bad_file")
    assert ids
