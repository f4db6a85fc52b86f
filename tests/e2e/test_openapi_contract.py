"""/openapi.json describes the whole contract: it passes openapi-spec-validator, every `$ref`
resolves, every operation has its id, a typed answer and an example body that the route itself
accepts, file answers say what they are, the documented operations are the routes, and a
path id documented as a UUID is refused when it is not one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from api.main import create_app
from commands import messages as m
from commands.adapters.clock import ManualClock
from commands.handlers import handle
from tests.conftest import ADMIN_PASSWORD, SYSTEM, make_service

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}
PREFIX = "/api/v1"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder: Path = tmp_path_factory.mktemp("contract")
    service = make_service(f"sqlite:///{folder}/crm.db", ManualClock(datetime(2026, 11, 2, 1, 0, tzinfo=UTC)),
                           folder / "blobs")
    handle(m.CreatePerson(name="管理员", username="root", password=ADMIN_PASSWORD, roles=["admin"]),
           SYSTEM, service.deps)
    with TestClient(create_app(service, background=False)) as test_client:
        yield test_client
    service.close()


@pytest.fixture(scope="module")
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"dangling $ref {ref}"
        node = node[part]
    return node


def test_the_document_passes_the_validator(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_every_ref_resolves(document: dict[str, Any]) -> None:
    found = set(refs(document))
    assert len(found) > 100
    for ref in found:
        resolve(document, ref)
    for name in ("VisitIn", "VisitForm", "LogoForm", "ImportForm", "TypeNode", "Dictionaries", "SettingsOut"):
        assert name in document["components"]["schemas"], name


def test_schema_titles_are_unique(document: dict[str, Any]) -> None:
    """Client generators name their classes by title: two schemas of one title clash."""
    titles: dict[str, str] = {}
    for name, schema in document["components"]["schemas"].items():
        title = schema.get("title", name)
        assert title not in titles, f"{name} and {titles[title]} are both titled {title}"
        titles[title] = name


def test_every_operation_has_an_id_and_a_typed_answer(document: dict[str, Any]) -> None:
    ids = []
    for path, method, operation in operations(document):
        where = f"{method.upper()} {path}"
        ids.append(operation.get("operationId"))
        assert operation.get("operationId"), where
        answers = {code: r for code, r in operation["responses"].items() if code.startswith("2")}
        assert answers, where
        for code, answer in answers.items():
            if code == "204":
                assert not answer.get("content"), where
                continue
            assert answer.get("content"), (where, code)
            for media, entry in answer["content"].items():
                schema = entry.get("schema")
                assert schema, (where, code, media)
                if media == "application/json":
                    assert set(schema) & {"$ref", "type", "anyOf", "oneOf", "allOf"}, (where, schema)
        for code, answer in operation["responses"].items():
            if code.startswith("4") or code.startswith("5"):
                assert answer["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorResponse"}, (where, code)
    assert len(ids) == len(set(ids)), "operation ids repeat"
    assert "customers_claim" in ids and "customers_visit" in ids and "sales_payment" in ids


def test_every_request_body_has_an_example_its_schema_accepts(document: dict[str, Any]) -> None:
    bodies = 0
    for path, method, operation in operations(document):
        body = operation.get("requestBody")
        if body is None:
            continue
        for media, entry in body["content"].items():
            bodies += 1
            where = f"{method.upper()} {path} {media}"
            assert "example" in entry or "examples" in entry, where
            examples = [entry["example"]] if "example" in entry else [e["value"] for e in entry["examples"].values()]
            for example in examples:
                schema = {**entry["schema"], "components": document["components"]}
                errors = list(OAS31Validator(schema, format_checker=OAS31Validator.FORMAT_CHECKER)
                              .iter_errors(example))
                assert not errors, (where, [e.message for e in errors])
    assert bodies >= 50


def _routes(client: TestClient) -> dict[str, APIRoute]:
    """The app's schema routes by method and full path."""
    found: dict[str, APIRoute] = {}

    def walk(routes: Any, prefix: str) -> None:
        for route in routes:
            if hasattr(route, "original_router"):
                walk(route.original_router.routes, PREFIX)
            elif isinstance(route, APIRoute) and route.include_in_schema:
                for method in (route.methods or set()) - {"HEAD"}:
                    found[f"{method} {prefix}{route.path}"] = route

    walk(client.app.routes, "")  # type: ignore[attr-defined]
    return found


def test_the_examples_pass_the_routes_own_models(client: TestClient, document: dict[str, Any]) -> None:
    """The examples are what the routes accept, not only what their schemas say (a Decimal's
    places, a date's range): each example goes through the route's body model, or, where the
    route reads its body by hand, through the model the document names (files as bytes)."""
    from api.openapi import BODY_MODELS

    routes = _routes(client)
    models = {model.__name__: model for model in BODY_MODELS}
    checked = 0
    for path, method, operation in operations(document):
        for media, entry in (operation.get("requestBody") or {}).get("content", {}).items():
            route = routes[f"{method.upper()} {path}"]
            if route.body_field is not None:
                _, errors = route.body_field.validate(entry["example"], {}, loc=("body",))
                assert errors == [], (operation["operationId"], media, errors)
            else:
                model = models[entry["schema"]["$ref"].rsplit("/", 1)[-1]]
                files = {name for name, field in model.model_fields.items() if field.annotation in (bytes, bytes | None)}
                model.model_validate({k: b"file" if k in files else v for k, v in entry["example"].items()})
            checked += 1
    assert checked >= 50


def test_the_operations_are_the_routes(client: TestClient, document: dict[str, Any]) -> None:
    documented = {f"{method.upper()} {path}" for path, method, _ in operations(document)}
    routes = set(_routes(client))
    assert documented == routes, (sorted(documented - routes), sorted(routes - documented))


def test_file_answers_are_described(document: dict[str, Any]) -> None:
    paths = document["paths"]
    binary = {"type": "string", "format": "binary"}
    for path in ("/api/v1/customers/{customer_id}/logo", "/api/v1/customers/{customer_id}/visits/{visit_id}/photo"):
        assert paths[path]["get"]["responses"]["200"]["content"]["image/jpeg"]["schema"] == binary, path
    for path in ("/api/v1/imports/customers/template", "/api/v1/imports/{import_id}/rejects",
                 "/api/v1/reports/{report_id}", "/api/v1/operation-log"):
        content = paths[path]["get"]["responses"]["200"]["content"]
        assert content[XLSX]["schema"] == binary, path
        assert content["text/csv"]["schema"]["type"] == "string", path
    visit = paths["/api/v1/customers/{customer_id}/visits"]["post"]["requestBody"]["content"]
    assert set(visit) == {"application/json", "multipart/form-data"}
    form = resolve(document, visit["multipart/form-data"]["schema"]["$ref"])
    photo = form["properties"]["photo"]
    assert binary in photo.get("anyOf", [photo])
    for path, method, field in (("/api/v1/customers/{customer_id}/logo", "put", "logo"),
                                ("/api/v1/imports/customers", "post", "file")):
        schema = resolve(document, paths[path][method]["requestBody"]["content"]["multipart/form-data"]["schema"]
                         ["$ref"])
        assert schema["properties"][field]["format"] == "binary" and field in schema["required"]


def test_a_path_id_documented_as_a_uuid_must_be_one(client: TestClient, document: dict[str, Any]) -> None:
    token = client.post(PREFIX + "/auth/token", data={"username": "root", "password": ADMIN_PASSWORD})
    headers = {"Authorization": "Bearer " + token.json()["access_token"]}
    checked = 0
    for path, method, operation in operations(document):
        uuids = [p["name"] for p in operation.get("parameters", ())
                 if p["in"] == "path" and p["schema"].get("format") == "uuid"]
        if method != "get" or not uuids:
            continue
        url = path
        for name in uuids:
            url = url.replace("{" + name + "}", "not-a-uuid")
        url = url.replace("{", "").replace("}", "")
        answer = client.get(url, headers=headers)
        assert answer.status_code == 422, (path, answer.status_code, answer.text)
        assert answer.json()["error"]["field"] in uuids, (path, answer.text)
        checked += 1
    assert checked >= 8
    names = {p["name"] for _, _, o in operations(document) for p in o.get("parameters", ())
             if p["in"] == "path" and p["schema"].get("format") == "uuid"}
    assert {"customer_id", "contract_id", "product_id", "approval_id", "import_id"} <= names
