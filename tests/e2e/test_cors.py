"""Cross-origin frontends: none by default (no CORS header on any answer, a preflight refused
as any OPTIONS request); with CRM_CORS_ORIGINS, exactly the named origins get
Access-Control-Allow-Origin and their preflights pass; a setting that is not a list of origins
stops the service at start."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from commands import messages as m
from commands.adapters.clock import ManualClock
from commands.bootstrap import bootstrap
from commands.config import Config, ConfigError, allowed_origins
from commands.handlers import handle
from tests.conftest import ADMIN_PASSWORD, SYSTEM, Http

ALLOWED = "https://crm.example.com"
LOCAL = "http://localhost:5173"
STRANGER = "https://evil.example.net"


def _cors_headers(response: Any) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


def _preflight(client: TestClient, origin: str, path: str = "/api/v1/payments", method: str = "POST",
               headers: str = "authorization, content-type, idempotency-key") -> Any:
    return client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                         "Access-Control-Request-Headers": headers})


def test_no_cors_by_default(http: Http) -> None:
    for response in (http.get("/me", "root", headers={"Origin": ALLOWED}),
                     http.client.get("/api/v1/me", headers={"Origin": ALLOWED}),
                     http.client.get("/healthz", headers={"Origin": ALLOWED})):
        assert response.status_code in (200, 401)
        assert _cors_headers(response) == {}
    refused = _preflight(http.client, ALLOWED)
    assert refused.status_code == 405
    assert _cors_headers(refused) == {}


@pytest.fixture
def cors_client(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, clock: ManualClock) -> Iterator[Http]:
    # As an operator would set it: spaces, a trailing slash, upper case and a default port.
    monkeypatch.setenv("CRM_CORS_ORIGINS", f" HTTPS://CRM.Example.com:443/ , {LOCAL}")
    config = Config(database_url=f"sqlite:///{tmp_path}/crm.db", mode="embedded", secret_key="",
                    blob_dir=str(tmp_path / "blobs"))
    service = bootstrap(config, clock=clock)
    handle(m.CreatePerson(name="管理员", username="root", password=ADMIN_PASSWORD, roles=["admin"]),
           SYSTEM, service.deps)
    try:
        with TestClient(create_app(service, background=False)) as client:
            h = Http(client)
            h.tokens["root"] = h.login("root", ADMIN_PASSWORD)["Authorization"]
            yield h
    finally:
        service.close()


def test_a_named_origin_may_call_the_api(cors_client: Http) -> None:
    http = cors_client
    for origin in (ALLOWED, LOCAL):
        answer = http.get("/me", "root", headers={"Origin": origin})
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == origin
        assert "origin" in answer.headers["vary"].lower()
        exposed = {h.strip().lower() for h in answer.headers["access-control-expose-headers"].split(",")}
        assert {"idempotent-replayed", "retry-after", "content-disposition", "x-position"} <= exposed
        # Bearer tokens, not cookies: credentials are never allowed.
        assert "access-control-allow-credentials" not in answer.headers
    # A refusal can be read by the frontend too.
    refused = http.client.get("/api/v1/me", headers={"Origin": ALLOWED})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == ALLOWED
    # A command with an Idempotency-Key, across origins: made, then answered again.
    headers = {"Origin": ALLOWED, "Idempotency-Key": "cors-1"}
    made = http.post("/departments", "root", json={"name": "跨域部"}, headers=headers)
    again = http.post("/departments", "root", json={"name": "跨域部"}, headers=headers)
    assert made.status_code == again.status_code == 201
    assert again.content == made.content and again.headers["idempotent-replayed"] == "true"
    assert again.headers["access-control-allow-origin"] == ALLOWED


def test_a_named_origin_s_preflight_passes(cors_client: Http) -> None:
    passed = _preflight(cors_client.client, ALLOWED,
                        headers="authorization, content-type, idempotency-key, x-min-position, last-event-id")
    assert passed.status_code == 200, passed.text
    assert passed.headers["access-control-allow-origin"] == ALLOWED
    methods = {m.strip() for m in passed.headers["access-control-allow-methods"].split(",")}
    assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= methods
    allowed = {h.strip().lower() for h in passed.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key", "x-min-position", "last-event-id"} <= allowed
    assert int(passed.headers["access-control-max-age"]) > 0
    # A header the API does not read is not allowed.
    assert _preflight(cors_client.client, ALLOWED, headers="x-anything-else").status_code == 400


@pytest.mark.parametrize("origin", [STRANGER, "https://crm.example.com.evil.net", "http://crm.example.com",
                                    "https://crm.example.com:8443", "null"])
def test_another_origin_gets_no_cors_header(cors_client: Http, origin: str) -> None:
    answer = cors_client.get("/me", "root", headers={"Origin": origin})
    assert answer.status_code == 200  # the server answers; the browser keeps it from the page
    assert _cors_headers(answer) == {}
    assert "origin" in answer.headers["vary"].lower()
    refused = _preflight(cors_client.client, origin)
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers


@pytest.mark.parametrize("setting", [
    "*", "https://*.example.com", "https://crm.example.com/app", "https://crm.example.com?x=1",
    "https://crm.example.com#top", "crm.example.com", "//crm.example.com", "ftp://crm.example.com",
    "https://user@crm.example.com", "https://crm.example.com:99999", "https://crm.example.com:port",
    "https://例子.中国", "https://crm example.com", "https://", "https://[::1", "https://crm.exa\tmple.com", "https://crm.example.com\x00",
])
def test_a_bad_origin_setting_is_refused(setting: str) -> None:
    with pytest.raises(ConfigError, match="CRM_CORS_ORIGINS"):
        allowed_origins(f"{LOCAL}, {setting}")


def test_a_bad_origin_setting_stops_the_service_at_start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CRM_CORS_ORIGINS", "https://crm.example.com/frontend")
    with pytest.raises(ConfigError, match="path"):
        bootstrap(Config(database_url=f"sqlite:///{tmp_path}/crm.db", mode="embedded", secret_key=""))
    assert not (tmp_path / "crm.db").exists()


def test_origins_are_read_as_browsers_send_them() -> None:
    assert allowed_origins("") == ()
    assert allowed_origins(" , ") == ()
    assert allowed_origins("HTTP://LocalHost:80, http://localhost, https://[::1]:8443/, http://10.0.0.5:3000") == (
        "http://localhost", "https://[::1]:8443", "http://10.0.0.5:3000")
