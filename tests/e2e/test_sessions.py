"""P-4, sessions and sign-in: sessions end with a password change, a deactivation, a lost role
or a sign-out; a person changes their own password; inactive people cannot sign in. The
sign-in throttle works per username and client address with growing delays, believes
X-Forwarded-For only from trusted proxies, and is not fooled by control characters."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from commands import messages as m
from commands.adapters.clock import ManualClock
from commands.handlers import handle
from tests.conftest import ADMIN_PASSWORD, SYSTEM, Http, assert_error, make_service
from tests.e2e.helpers import org_with_two_salespeople

ATTACKER = "203.0.113.66"
VICTIM = "198.51.100.7"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_of(client: TestClient, username: str, password: str = "password123") -> str:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def me(client: TestClient, token: str) -> Any:
    return client.get("/api/v1/me", headers=bearer(token))


# ---- sessions -----------------------------------------------------------------------------


def test_a_password_change_by_an_admin_ends_the_sessions_signed_before(http: Http) -> None:
    ids = org_with_two_salespeople(http)
    before = token_of(http.client, "alice")
    assert me(http.client, before).status_code == 200
    assert http.patch(f"/people/{ids['alice']}", "root", json={"password": "a-new-password"}).status_code == 200
    assert_error(me(http.client, before), 401, "session_ended")
    assert_error(http.client.post("/api/v1/auth/token", data={"username": "alice", "password": "password123"}),
                 401, "invalid_credentials")
    after = token_of(http.client, "alice", "a-new-password")
    assert me(http.client, after).status_code == 200


def test_deactivation_ends_sessions_for_good_and_an_inactive_person_cannot_sign_in(http: Http) -> None:
    ids = org_with_two_salespeople(http)
    before = token_of(http.client, "alice")
    assert http.patch(f"/people/{ids['alice']}", "root", json={"active": False}).status_code == 200
    assert_error(me(http.client, before), 401)
    inactive = http.client.post("/api/v1/auth/token", data={"username": "alice", "password": "password123"})
    assert_error(inactive, 401, "invalid_credentials")
    # Back in service: a new sign-in works, the session from before the deactivation does not.
    assert http.patch(f"/people/{ids['alice']}", "root", json={"active": True}).status_code == 200
    assert_error(me(http.client, before), 401, "session_ended")
    assert me(http.client, token_of(http.client, "alice")).status_code == 200


def test_losing_a_role_ends_the_sessions_and_gaining_one_does_not(http: Http) -> None:
    ids = org_with_two_salespeople(http)
    boss, alice = token_of(http.client, "boss"), token_of(http.client, "alice")
    assert http.patch(f"/people/{ids['alice']}", "root", json={"roles": ["sales", "auditor"]}).status_code == 200
    assert me(http.client, alice).json()["roles"] == ["sales", "auditor"]
    assert http.patch(f"/people/{ids['boss']}", "root", json={"roles": ["sales"]}).status_code == 200
    assert_error(me(http.client, boss), 401, "session_ended")
    assert_error(http.client.get("/api/v1/operation-log", headers=bearer(boss)), 401, "session_ended")
    assert me(http.client, token_of(http.client, "boss")).json()["roles"] == ["sales"]


def test_logout_ends_that_session_only(http: Http) -> None:
    org_with_two_salespeople(http)
    phone, laptop = token_of(http.client, "alice"), token_of(http.client, "alice")
    assert_error(http.client.post("/api/v1/auth/logout"), 401, "not_authenticated")
    out = http.client.post("/api/v1/auth/logout", headers=bearer(phone))
    assert out.status_code == 204 and out.content == b""
    assert_error(me(http.client, phone), 401, "session_ended")
    assert_error(http.client.post("/api/v1/auth/logout", headers=bearer(phone)), 401, "session_ended")
    assert me(http.client, laptop).status_code == 200
    logged = http.get("/operation-log", "root", params={"operation": "auth/logout"}).json()["items"]
    assert [e["status"] for e in logged if e["outcome"] == "accepted"] == [204]


def test_changing_ones_own_password(http: Http) -> None:
    org_with_two_salespeople(http)
    here, elsewhere = token_of(http.client, "alice"), token_of(http.client, "alice")

    def change(token: str | None, **body: Any) -> Any:
        return http.client.post("/api/v1/me/password", json=body, headers=bearer(token) if token else {})

    assert_error(change(None, old_password="password123", new_password="another-one"), 401, "not_authenticated")
    wrong = assert_error(change(here, old_password="not-my-password", new_password="another-one"), 403,
                         "wrong_password")
    assert wrong["field"] == "old_password"
    assert_error(change(here, new_password="another-one"), 422, "validation_error")
    assert_error(change(here, old_password="password123", new_password="short"), 422, "weak_password")
    assert_error(change(here, old_password="password123", new_password="password123"), 422, "same_password")
    # Nothing changed so far: both sessions go on, the old password still signs in.
    assert me(http.client, elsewhere).status_code == 200 and me(http.client, here).status_code == 200
    done = change(here, old_password="password123", new_password="another-one")
    assert done.status_code == 200, done.text
    fresh = done.json()["access_token"]
    assert me(http.client, fresh).json()["name"] == "Alice"
    assert_error(me(http.client, elsewhere), 401, "session_ended")
    assert_error(me(http.client, here), 401, "session_ended")
    assert_error(http.client.post("/api/v1/auth/token", data={"username": "alice", "password": "password123"}),
                 401, "invalid_credentials")
    assert me(http.client, token_of(http.client, "alice", "another-one")).status_code == 200


# ---- the sign-in throttle -----------------------------------------------------------------


def from_(http: Http, address: str) -> TestClient:
    """A client whose requests come from `address`."""
    return TestClient(http.client.app, client=(address, 40000))


def attempt(client: TestClient, username: str, password: str, headers: dict[str, str] | None = None) -> Any:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password},
                       headers=headers or {})


def test_guessing_from_one_address_does_not_lock_out_the_person_elsewhere(http: Http) -> None:
    org_with_two_salespeople(http)
    attacker, victim = from_(http, ATTACKER), from_(http, VICTIM)
    for username in ("root", "nobody-at-all"):
        for _ in range(5):
            assert_error(attempt(attacker, username, "guess-guess"), 401, "invalid_credentials")
        assert_error(attempt(attacker, username, "guess-guess"), 429, "too_many_attempts")
    # Even the right password waits at the attacker's address; the victim's address is not slowed.
    assert_error(attempt(attacker, "root", ADMIN_PASSWORD), 429, "too_many_attempts")
    assert attempt(victim, "root", ADMIN_PASSWORD).status_code == 200
    assert attempt(victim, "ROOT", ADMIN_PASSWORD).status_code == 200


def test_refused_attempts_do_not_extend_the_wait_and_the_delays_grow(http: Http, clock: ManualClock) -> None:
    org_with_two_salespeople(http)
    attacker = from_(http, ATTACKER)
    for _ in range(5):
        assert_error(attempt(attacker, "bob", "guess-guess"), 401)
    waits = []
    for _ in range(3):
        refused = attempt(attacker, "bob", "guess-guess")
        error = assert_error(refused, 429, "too_many_attempts")
        wait = int(refused.headers["Retry-After"])
        assert wait == error["details"]["retry_after_seconds"] and wait > 0
        waits.append(wait)
        # Refused attempts meanwhile: the wait counts down, it does not start again.
        step = wait // 4
        for n in range(1, 4):
            clock.advance(seconds=step)
            shorter = attempt(attacker, "bob", "guess-guess")
            assert_error(shorter, 429)
            assert int(shorter.headers["Retry-After"]) == wait - n * step
        clock.advance(seconds=wait - 3 * step)
        assert_error(attempt(attacker, "bob", "guess-guess"), 401)  # its password was checked
    assert waits[0] < waits[1] < waits[2], waits
    # The right password, once the wait is over, signs in and clears this address's failures.
    clock.advance(minutes=15)
    assert attempt(attacker, "bob", "password123").status_code == 200
    for _ in range(5):
        assert_error(attempt(attacker, "bob", "guess-guess"), 401)


def test_one_guess_every_two_and_a_half_minutes_does_not_keep_the_admin_out(http: Http, clock: ManualClock) -> None:
    attacker, admin = from_(http, ATTACKER), from_(http, VICTIM)
    for _ in range(6):
        attempt(attacker, "root", "guess-guess")
    for _ in range(24):  # an hour of it
        clock.advance(seconds=150)
        assert attempt(attacker, "root", "guess-guess").status_code in (401, 429)
    assert attempt(admin, "root", ADMIN_PASSWORD).status_code == 200


def test_parallel_guesses_from_one_address_get_no_more_checks_than_allowed(http: Http, clock: ManualClock) -> None:
    org_with_two_salespeople(http)
    attacker = from_(http, ATTACKER)

    def burst(count: int) -> list[int]:
        answers: list[int] = []

        def guess() -> None:
            answers.append(attempt(attacker, "bob", "wrong-password").status_code)

        threads = [threading.Thread(target=guess) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return answers

    first = burst(12)
    assert first.count(401) <= 5 and first.count(401) + first.count(429) == 12, first
    # Meanwhile bob, at his own address, signs in.
    assert attempt(from_(http, VICTIM), "bob", "password123").status_code == 200
    for _ in range(5 - first.count(401)):  # the failures that the burst left unused
        assert_error(attempt(attacker, "bob", "wrong-password"), 401)
    # Once the first wait is over, a second burst gets at most one more password check, and
    # the attempts it had refused did not add to the wait.
    clock.advance(minutes=1)
    second = burst(8)
    assert second.count(401) <= 1 and second.count(401) + second.count(429) == 8, second
    after = attempt(attacker, "bob", "wrong-password")
    assert after.status_code == (429 if second.count(401) else 401), after.text


@pytest.fixture
def proxied(tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """A service behind two trusted proxies (a network and an address)."""
    monkeypatch.setenv("CRM_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.7.7")
    service = make_service(f"sqlite:///{tmp_path}/crm.db", clock, tmp_path / "blobs")
    handle(m.CreatePerson(name="管理员", username="root", password=ADMIN_PASSWORD, roles=["admin"]),
           SYSTEM, service.deps)
    yield TestClient(create_app(service, background=False), client=("10.1.2.3", 40000))
    service.close()


def xff(value: str) -> dict[str, str]:
    return {"X-Forwarded-For": value}


def test_x_forwarded_for_counts_from_trusted_proxies_only(proxied: TestClient) -> None:
    app = proxied.app
    # Through the proxy, the address it names is the client's.
    for _ in range(5):
        assert_error(attempt(proxied, "root", "guess-guess", xff(ATTACKER)), 401)
    assert_error(attempt(proxied, "root", ADMIN_PASSWORD, xff(ATTACKER)), 429)
    assert attempt(proxied, "root", ADMIN_PASSWORD, xff(VICTIM)).status_code == 200
    # Addresses the attacker puts in front of their own change nothing; trusted hops are passed over.
    assert_error(attempt(proxied, "root", ADMIN_PASSWORD, xff(f"{VICTIM}, {ATTACKER}")), 429)
    assert_error(attempt(proxied, "root", ADMIN_PASSWORD, xff(f"{VICTIM}, {ATTACKER}, 192.168.7.7")), 429)
    assert attempt(proxied, "root", ADMIN_PASSWORD, xff(f"{ATTACKER}, {VICTIM}, 10.9.9.9")).status_code == 200
    # From a peer that is not a trusted proxy X-Forwarded-For is ignored: the peer is the client.
    direct = TestClient(app, client=("203.0.113.99", 40000))
    for _ in range(5):
        assert_error(attempt(direct, "root", "guess-guess", xff(VICTIM)), 401)
    assert_error(attempt(direct, "root", ADMIN_PASSWORD, xff("198.51.100.200")), 429)
    assert attempt(proxied, "root", ADMIN_PASSWORD, xff(VICTIM)).status_code == 200


def test_control_characters_in_a_username_are_refused_and_logged(http: Http) -> None:
    for username in ("ro\x00ot", "root\x00", "\x07root", "ro\x1bot", "ro\x7fot"):
        refused = assert_error(attempt(http.client, username, ADMIN_PASSWORD), 422, "validation_error")
        assert refused["field"] == "username"
    # The log has them, refused, with a username that can be stored and read.
    logged = http.get("/operation-log", "root", params={"operation": "auth/token", "outcome": "refused",
                                                        "page_size": 100}).json()["items"]
    assert [e["status"] for e in logged] == [422] * 5
    assert "ro\ufffdot" in {e["target_id"] for e in logged}
    assert attempt(http.client, "root", ADMIN_PASSWORD).status_code == 200
