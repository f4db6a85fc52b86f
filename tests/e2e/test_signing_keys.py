"""P-4, signing keys: no key in the repository signs a token the service accepts. The embedded
SQLite store makes its own key file (private, kept across restarts, taken along by backups);
elsewhere CRM_SECRET_KEY is required, long enough and not one of the repository's strings.
Tokens must be HS256 and carry `exp` and `iat`."""

from __future__ import annotations

import ast
import base64
import hashlib
import hmac
import json
import secrets
import shutil
import stat
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import app as cli
from api.main import create_app
from commands import messages as m
from commands.adapters.clock import ManualClock
from commands.bootstrap import Service, bootstrap
from commands.config import Config, published_strings
from commands.handlers import handle
from tests.conftest import ADMIN_PASSWORD, SYSTEM, Http, assert_error, make_service

ROOT = Path(__file__).resolve().parents[2]
# Keys people try first, and the development key earlier releases shipped with.
OBVIOUS = ["", "secret", "changeme", "change-me", "password", "password123", "admin", "crm", "key",
           "secret-key", "jwt-secret", "development", "crm-embedded-development-secret-change-me-in-production"]


def repository_strings() -> list[str]:
    """Every string constant of 8 or more characters in the repository's Python files."""
    found: set[str] = set()
    for source in ROOT.rglob("*.py"):
        if any(part.startswith(".") for part in source.relative_to(ROOT).parts):
            continue
        tree = ast.parse(source.read_text(encoding="utf-8"))
        found.update(node.value for node in ast.walk(tree)
                     if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) >= 8)
    return sorted(found | set(OBVIOUS))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(claims: dict[str, Any], key: str, alg: str = "HS256") -> str:
    """A token signed by hand (PyJWT refuses some of the keys tried, the empty one say)."""
    digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[alg]
    head = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    signature = hmac.new(key.encode(), f"{head}.{body}".encode(), digest).digest()
    return f"{head}.{body}.{_b64(signature)}"


def full_claims(person_id: str, **extra: Any) -> dict[str, Any]:
    now = int(datetime.now(UTC).timestamp())
    return {"sub": person_id, "iat": now, "exp": now + 3600, "jti": uuid.uuid4().hex, "sv": 0, **extra}


def me(client: TestClient, token: str) -> Any:
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def sign_in(client: TestClient, username: str = "root", password: str = ADMIN_PASSWORD) -> str:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def admin(service: Service) -> str:
    made = handle(m.CreatePerson(name="管理员", username="root", password=ADMIN_PASSWORD, roles=["admin"]),
                  SYSTEM, service.deps)
    return str(made.ids["id"])


def assert_no_repository_string_signs(client: TestClient, person_id: str) -> None:
    accepted = [key for key in repository_strings() if me(client, hs256(full_claims(person_id), key)).status_code != 401]
    assert accepted == [], f"tokens signed with these keys were not refused: {accepted[:5]}"


@pytest.fixture
def keyless(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CRM_SECRET_KEY in the environment: the embedded SQLite store uses its key file."""
    monkeypatch.delenv("CRM_SECRET_KEY", raising=False)


def test_embedded_sqlite_makes_a_private_key_file_and_no_repository_string_signs(
        keyless: None, tmp_path: Path, clock: ManualClock) -> None:
    service = make_service(f"sqlite:///{tmp_path}/data/crm.db", clock, tmp_path / "blobs")
    try:
        person = admin(service)
        with TestClient(create_app(service, background=False)) as client:
            assert me(client, sign_in(client)).status_code == 200
            assert_no_repository_string_signs(client, person)
            # The attack to stop: an admin's id, signed without an expiry.
            for candidate in OBVIOUS:
                assert_error(me(client, hs256({"sub": person}, candidate)), 401)
            # The key is in a file beside the database that only its owner reads; a token signed
            # with it passes.
            key_file = tmp_path / "data" / "crm.db.key"
            assert key_file.exists() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
            key = key_file.read_text().strip()
            assert len(key) >= 32 and key not in repository_strings()
            assert me(client, hs256(full_claims(person), key)).status_code == 200
    finally:
        service.close()


@pytest.mark.postgres
def test_the_distributed_mode_with_its_own_key_refuses_every_repository_string(
        pg_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A key copied from the repository is refused at start, whichever it is (read afresh: the
    # service reads the sources once per process).
    published_strings.cache_clear()
    for published in [k for k in repository_strings() if len(k) >= 32]:
        monkeypatch.setenv("CRM_SECRET_KEY", published)
        with pytest.raises(ValueError, match="published"):
            bootstrap(Config(database_url=pg_url, mode="distributed", blob_dir=str(tmp_path)), clock=clock)
    key = secrets.token_urlsafe(48)
    monkeypatch.setenv("CRM_SECRET_KEY", key)
    service = bootstrap(Config(database_url=pg_url, mode="distributed", blob_dir=str(tmp_path)), clock=clock)
    try:
        person = admin(service)
        service.projector.catch_up()  # what a worker would do
        with TestClient(create_app(service, background=False)) as client:
            assert me(client, sign_in(client)).status_code == 200
            assert me(client, hs256(full_claims(person), key)).status_code == 200
            assert_no_repository_string_signs(client, person)
    finally:
        service.close()


def test_tokens_need_hs256_an_expiry_and_a_moment_of_issue(http: Http, service: Service) -> None:
    person = http.get("/me", "root").json()["id"]
    key = service.config.secret_key
    now = datetime.now(UTC)
    good = full_claims(person)
    assert http.client.get("/api/v1/me", headers={"Authorization": f"Bearer {hs256(good, key)}"}).status_code == 200

    def refused(token: str, code: str = "invalid_token") -> None:
        assert_error(http.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}), 401, code)

    refused(jwt.encode(good, None, algorithm="none"))
    refused(hs256(good, key, alg="HS512"))
    refused(hs256({k: v for k, v in good.items() if k != "exp"}, key))
    refused(hs256({k: v for k, v in good.items() if k != "iat"}, key))
    refused(hs256({"sub": person}, key))
    refused(hs256({"sub": person, "iat": int(now.timestamp()), "exp": int((now + timedelta(hours=1)).timestamp())},
                  key))  # no session version, no token id: not one of ours
    refused(hs256({**good, "iat": int((now + timedelta(hours=1)).timestamp())}, key))  # issued in the future
    refused(hs256({**good, "exp": int((now - timedelta(minutes=1)).timestamp())}, key), "token_expired")


def test_the_key_file_outlives_restarts_and_removing_it_signs_everybody_out(
        keyless: None, tmp_path: Path, clock: ManualClock) -> None:
    url = f"sqlite:///{tmp_path}/crm.db"
    first = make_service(url, clock, tmp_path / "blobs")
    admin(first)
    with TestClient(create_app(first, background=False)) as client:
        token = sign_in(client)
    first.close()
    again = make_service(url, clock, tmp_path / "blobs")
    with TestClient(create_app(again, background=False)) as client:
        assert me(client, token).status_code == 200
    again.close()
    # Rotation: stop, remove the key file, start; a new key is made and old tokens are refused.
    (tmp_path / "crm.db.key").unlink()
    rotated = make_service(url, clock, tmp_path / "blobs")
    try:
        with TestClient(create_app(rotated, background=False)) as client:
            assert_error(me(client, token), 401, "invalid_token")
            assert me(client, sign_in(client)).status_code == 200
    finally:
        rotated.close()


def cli_run(args: list[str], env: dict[str, str]) -> Any:
    return CliRunner().invoke(cli, args, env={"COLUMNS": "300", **env})


@pytest.mark.postgres
def test_a_key_is_required_outside_embedded_sqlite_and_must_be_long_and_unpublished(
        keyless: None, pg_url: str, tmp_path: Path) -> None:
    blobs = {"CRM_BLOB_DIR": str(tmp_path / "blobs")}
    no_key = cli_run(["check"], {"CRM_DATABASE_URL": pg_url, "CRM_MODE": "embedded", **blobs})
    assert no_key.exit_code == 2 and "CRM_SECRET_KEY is required" in no_key.output, no_key.output
    sqlite_distributed = cli_run(["check"], {"CRM_DATABASE_URL": f"sqlite:///{tmp_path}/d.db", "CRM_MODE": "distributed",
                                            **blobs})
    assert sqlite_distributed.exit_code == 2 and "CRM_SECRET_KEY" in sqlite_distributed.output
    for mode in ("embedded", "distributed"):
        short = cli_run(["check"], {"CRM_DATABASE_URL": pg_url, "CRM_MODE": mode, "CRM_SECRET_KEY": "s3cr3t-but-short",
                                   **blobs})
        assert short.exit_code == 2 and "too short" in short.output, short.output
        for published in ("crm-embedded-development-secret-change-me-in-production",
                          "another-secret-another-secret-1234"):
            refused = cli_run(["check"], {"CRM_DATABASE_URL": pg_url, "CRM_MODE": mode, "CRM_SECRET_KEY": published,
                                         **blobs})
            assert refused.exit_code == 2 and "published" in refused.output, refused.output
    # Not via the command line either: the service itself will not start without a good key.
    with pytest.raises(ValueError, match="CRM_SECRET_KEY"):
        bootstrap(Config(database_url=pg_url, mode="embedded"))
    with pytest.raises(ValueError, match="too short"):
        bootstrap(Config(database_url=pg_url, mode="distributed", secret_key="x" * 31))
    own = cli_run(["check"], {"CRM_DATABASE_URL": pg_url, "CRM_MODE": "embedded",
                             "CRM_SECRET_KEY": secrets.token_urlsafe(32), **blobs})
    assert own.exit_code == 0, own.output


def test_make_run_needs_no_key(keyless: None, tmp_path: Path) -> None:
    """`crm api --demo` on the default embedded SQLite store: nothing to set; the key is made."""
    made = cli_run(["check"], {"CRM_DATABASE_URL": f"sqlite:///{tmp_path}/data/crm.db",
                              "CRM_BLOB_DIR": str(tmp_path / "data" / "blobs")})
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE((tmp_path / "data" / "crm.db.key").stat().st_mode) == 0o600


@pytest.fixture
def embedded_store(keyless: None, tmp_path: Path, clock: ManualClock,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    service = make_service(f"sqlite:///{tmp_path}/data/crm.db", clock, tmp_path / "data" / "blobs")
    monkeypatch.setenv("CRM_DATABASE_URL", service.config.database_url)
    monkeypatch.setenv("CRM_BLOB_DIR", service.config.blob_dir)
    yield service
    service.close()


def test_backup_takes_the_key_along_and_restore_puts_it_back(embedded_store: Service, tmp_path: Path,
                                                            clock: ManualClock) -> None:
    admin(embedded_store)
    with TestClient(create_app(embedded_store, background=False)) as client:
        token = sign_in(client)
    key = (tmp_path / "data" / "crm.db.key").read_bytes()
    saved = cli_run(["backup", str(tmp_path / "backup")], {})
    assert saved.exit_code == 0, saved.output
    assert (tmp_path / "backup" / "crm.db.key").read_bytes() == key
    assert stat.S_IMODE((tmp_path / "backup" / "crm.db.key").stat().st_mode) == 0o600
    embedded_store.close()

    shutil.rmtree(tmp_path / "data")
    back = cli_run(["restore", str(tmp_path / "backup")], {})
    assert back.exit_code == 0, back.output
    assert (tmp_path / "data" / "crm.db.key").read_bytes() == key
    assert stat.S_IMODE((tmp_path / "data" / "crm.db.key").stat().st_mode) == 0o600
    restored = make_service(f"sqlite:///{tmp_path}/data/crm.db", clock, tmp_path / "data" / "blobs")
    try:
        with TestClient(create_app(restored, background=False)) as client:
            restored.projector.catch_up()
            assert me(client, token).status_code == 200  # a session from before the backup goes on
    finally:
        restored.close()
