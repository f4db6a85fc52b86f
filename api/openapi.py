"""The OpenAPI document and the pages that show it.

FastAPI writes most of `/openapi.json` from the routes. What it cannot see is completed here,
after it, so the document describes every request and answer a client meets:

- the routes that read their body by hand (a visit as JSON or as a multipart form with its
  photo, a logo, an import file) name their body schemas in `openapi_extra`; those models are
  added to the components, so no `$ref` dangles;
- a model used both as a request and as an answer that pydantic writes twice (`X-Input`,
  `X-Output`) is kept once when both are the same, and otherwise given distinct titles, as
  client generators name their classes by title;
- file answers (CSV, XLSX, JPEG) are binary strings;
- path parameters parsed as UUIDs say `format: uuid`;
- every request body carries an example (from `BODY_EXAMPLES`, keyed by its schema);
- operation ids are short and stable: the route module and the route function's name
  (`customers_claim`), unique because a module cannot hold two functions of one name.

Nothing here changes what a route accepts or answers; it only describes it.

`/docs` (Swagger UI) and `/redoc` load their scripts and styles from the service itself, from
the `fastapi-offline` package that ships them, so the pages work without internet access.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Sequence
from importlib import resources
from typing import Any
from uuid import UUID

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.responses import HTMLResponse

from api.schemas import ImportForm, LogoForm, VisitForm, VisitIn

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Answers that are files: binary strings (`format: binary`), and the text ones.
FILE_TYPES = (XLSX, "image/jpeg", "image/png", "application/octet-stream")
TEXT_FILE_TYPES = ("text/csv",)
# What openapi-python-client needs told to read the binary answers as bytes (it knows only
# application/octet-stream); `openapi-python-client generate --config <this as YAML or JSON>`.
CLIENT_GENERATOR_CONFIG: dict[str, Any] = {
    "content_type_overrides": {kind: "application/octet-stream" for kind in FILE_TYPES if "octet" not in kind},
}
BINARY: dict[str, Any] = {"type": "string", "format": "binary"}
# The models of the bodies routes read by hand (their `openapi_extra` names them).
BODY_MODELS: tuple[type[BaseModel], ...] = (VisitIn, VisitForm, LogoForm, ImportForm)
REF = "#/components/schemas/"
DOCS_ASSETS = "/docs/assets"

_CUSTOMER = "0b6f3c2e-4d7a-4f1e-9c3b-5a8d2e6f7a10"
_PERSON = "6a1d9e4b-2c3f-4b8a-8e7d-1f0c9b2a3d45"
_DEPARTMENT = "9c2e7a1b-5d4f-4e3a-b6c8-0d1e2f3a4b56"
_CONTRACT = "2d4f6a8c-1e3b-4c5d-9e7f-8a0b1c2d3e4f"
_PRODUCT = "7e9a1c3d-5f2b-4a6c-8d0e-3b5a7c9d1e2f"
_DELIVERY = "4c6e8a0b-2d4f-4b1c-a3e5-7f9b1d3c5e6a"
_REQUEST = "5b7d9f1a-3c5e-4d2f-b4a6-8c0d2e4f6a7b"
_LINE = {"product_id": _PRODUCT, "quantity": "2", "warehouse": "总仓"}

# One example per request body schema: what Swagger UI fills in and what a client's author
# reads first. tests/e2e/test_openapi_contract.py checks each against the route's own model.
BODY_EXAMPLES: dict[str, Any] = {
    "Body_identity_sign_in": {"username": "wangfang", "password": "a-long-password"},
    "PasswordChange": {"old_password": "a-long-password", "new_password": "another-long-password"},
    "DepartmentCreate": {"name": "华东销售部", "parent_id": None, "manager_ids": [_PERSON]},
    "DepartmentUpdate": {"name": "华东大区"},
    "PersonCreate": {"name": "王芳", "username": "wangfang", "password": "a-long-password", "roles": ["sales"],
                     "department_id": _DEPARTMENT, "mobile": "13800000000", "max_customers": 50},
    "PersonUpdate": {"position": "高级销售", "max_follow_days": 45},
    "SettingsUpdate": {"rules": {"default_max_customers": 50, "daily_claim_limit": 5,
                                 "approval_required": ["claim"]},
                       "dictionaries": {
                           "regions": ["华东", "华南", "华北"],
                           "customer_types": [{"name": "企业客户", "children": [{"name": "民营企业"}]}]}},
    "CustomerCreate": {"name": "上海晨星科技有限公司", "type": "民营企业", "source": "展会", "region": "华东",
                       "address": "上海市浦东新区世纪大道100号", "lat": 31.2304, "lng": 121.4737,
                       "stage": "初步接触",
                       "contacts": [{"name": "李经理", "phone": "13900000000", "title": "采购经理",
                                     "primary": True}]},
    "Assign": {"customer_ids": [_CUSTOMER], "to_person_id": _PERSON},
    "ClaimBatch": {"customer_ids": [_CUSTOMER]},
    "ReleaseBatch": {"customer_ids": [_CUSTOMER], "reason": "暂无合作意向"},
    "TransferBatch": {"customer_ids": [_CUSTOMER], "to_person_id": _PERSON, "reason": "区域调整"},
    "ShareBatch": {"customer_ids": [_CUSTOMER], "add": [_PERSON], "add_departments": [_DEPARTMENT]},
    "CustomerChange": {"changes": {"stage": "方案报价", "address": "上海市浦东新区世纪大道200号"},
                       "reason": "客户搬迁"},
    "RestoreIn": {"version": 3, "reason": "误改恢复"},
    "ShareChange": {"add": [_PERSON], "remove": []},
    "Reason": {"reason": "客户暂无需求"},
    "Transfer": {"to_person_id": _PERSON, "reason": "区域调整"},
    "ContactIn": {"name": "李经理", "phone": "13900000000", "title": "采购经理", "primary": True},
    "ContactUpdate": {"phone": "13900000001"},
    "VisitIn": {"visited_at": "2026-11-02T09:30:00+08:00", "lat": 31.2304, "lng": 121.4737,
                "address": "上海市浦东新区世纪大道100号", "contact": "李经理", "stage": "方案报价",
                "notes": "演示了新方案，客户下周答复"},
    "VisitForm": {"visited_at": "2026-11-02T09:30:00+08:00", "contact": "李经理", "notes": "现场拜访，照片为证",
                  "photo": "(a JPEG file)"},
    "LogoForm": {"logo": "(a JPEG file)"},
    "ImportForm": {"file": "(the CSV or XLSX template, filled in)", "dry_run": True},
    "ContractCreate": {"customer_id": _CUSTOMER, "number": "HT-2026-001", "name": "服务器采购合同",
                       "signed_on": "2026-11-02",
                       "lines": [{"product_id": _PRODUCT, "quantity": "2", "unit_price": "15000.00"}]},
    "InvoiceIn": {"amount": "30000.00", "invoiced_on": "2026-11-05"},
    "CreditNoteIn": {"amount": "15000.00", "credited_on": "2026-11-20", "reason": "退货冲红"},
    "PaymentIn": {"customer_id": _CUSTOMER, "contract_id": _CONTRACT, "amount": "10000.00",
                  "received_on": "2026-11-10"},
    "DeliveryIn": {"delivered_on": "2026-11-06", "lines": [_LINE]},
    "ReturnIn": {"delivery_id": _DELIVERY, "returned_on": "2026-11-15",
                 "lines": [{"product_id": _PRODUCT, "quantity": "1"}]},
    "ExchangeIn": {"delivery_id": _DELIVERY, "exchanged_on": "2026-11-16", "lines": [_LINE]},
    "ProductCreate": {"name": "服务器", "spec": "R740", "unit": "台"},
    "ProductUpdate": {"spec": "R750", "enabled": True},
    "StockIn": {"warehouse": "总仓", "quantity": "10", "unit_cost": "9000.00", "received_on": "2026-11-01"},
    "PriceChangeIn": {"price": "15000.00", "reason": "年度调价"},
    "ProblemIn": {"customer_id": _CUSTOMER, "type": "质量问题", "description": "一台服务器无法开机",
                  "responsible_id": _PERSON},
    "ProblemResolve": {"resolution": "已更换主板"},
    "TargetIn": {"person_id": _PERSON, "period": "2026年11月", "start": "2026-11-01", "end": "2026-11-30",
                 "new_customers": 10, "visits": 40, "deal_amount": "200000.00", "collected_amount": "150000.00"},
    "TargetUpdate": {"visits": 45},
    "WorkReportIn": {"kind": "daily", "date": "2026-11-02", "summary": "拜访客户3家", "plan": "跟进报价"},
    "Decision": {"comment": "同意"},
    "SweepIn": {"now": "2026-11-02T00:00:00+08:00"},
    "DeliveryRequestIn": {"lines": [_LINE], "note": "请尽快发货"},
    "ReturnRequestIn": {"delivery_id": _DELIVERY, "lines": [{"product_id": _PRODUCT, "quantity": "1"}],
                        "note": "客户退回一台"},
    "ExchangeRequestIn": {"delivery_id": _DELIVERY, "lines": [{"product_id": _PRODUCT, "quantity": "1"}],
                          "note": "换一台新的"},
    "CancelIn": {"reason": "客户取消"},
}


def operation_id(route: APIRoute) -> str:
    """`<route module>_<route function>`: short, stable while the function keeps its name, and
    what a generated client names its functions after (FastAPI's default adds the path and
    the method, e.g. `claim_api_v1_customers__customer_id__claim_post`)."""
    module = route.endpoint.__module__.rsplit(".", 1)[-1]
    return f"{module}_{route.name.rstrip('_')}"


def install(app: FastAPI, *, also: Sequence[Callable[[dict[str, Any]], dict[str, Any]]] = ()) -> None:
    """Complete the app's document once its routes are in, and serve the offline docs pages.
    The app is built with `docs_url=None, redoc_url=None` so FastAPI's CDN pages stay away.
    `also`: further steps over the completed document (a middleware naming its header), in order."""
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        # FastAPI's own method keeps its plain document in `openapi_schema`; the completed one
        # replaces it there, so later calls answer it at once.
        if app.openapi_schema is None:
            document = complete(plain(), _api_routes(app.routes))
            for step in also:
                document = step(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    _install_docs(app)


def complete(document: dict[str, Any], routes: list[APIRoute]) -> dict[str, Any]:
    """The document with what FastAPI leaves out added (see the module's docstring)."""
    document = copy.deepcopy(document)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    _add_models(schemas, BODY_MODELS)
    _merge_twins(document)
    for _, _, operation in _operations(document):
        for status, response in operation.get("responses", {}).items():
            if str(status).startswith("2") and "content" in response:
                response["content"] = _file_answers(response["content"])
        body = operation.get("requestBody")
        for content in (body or {}).get("content", {}).values():
            name = _schema_name(content.get("schema", {}))
            if name in BODY_EXAMPLES and "example" not in content and "examples" not in content:
                content["example"] = copy.deepcopy(BODY_EXAMPLES[name])
    _uuid_paths(document, routes)
    return document


def _file_answers(content: dict[str, Any]) -> dict[str, Any]:
    """A CSV answer is text; XLSX and images are binary strings. Where an answer is only a file,
    the binary kinds come first: a generator that reads bytes for them (see
    `CLIENT_GENERATOR_CONFIG`) then hands over the bytes of either kind, and one that does not
    falls back to the CSV as text."""
    for media, entry in content.items():
        if not entry.get("schema"):
            if media in TEXT_FILE_TYPES:
                entry["schema"] = {"type": "string", "description": "the file's text (UTF-8)"}
            elif media in FILE_TYPES:
                entry["schema"] = dict(BINARY)
    if "application/json" in content:
        return content
    first = [m for m in content if m in FILE_TYPES]
    return {m: content[m] for m in (*first, *(m for m in content if m not in FILE_TYPES))}


def _api_routes(routes: Any) -> list[APIRoute]:
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):  # an included router kept as one route
            found.extend(_api_routes(route.original_router.routes))
    return found


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method in {"get", "put", "post", "patch", "delete", "head", "options", "trace"}:
                yield path, method, operation


def _schema_name(schema: dict[str, Any]) -> str | None:
    """The component a body's schema names: `$ref`, or the one `$ref` of an optional body."""
    if "$ref" in schema:
        return str(schema["$ref"]).removeprefix(REF)
    refs = [s["$ref"] for s in schema.get("anyOf", ()) if "$ref" in s]
    return str(refs[0]).removeprefix(REF) if len(refs) == 1 else None


def _add_models(schemas: dict[str, Any], models: tuple[type[BaseModel], ...]) -> None:
    for model in models:
        schema = model.model_json_schema(ref_template=REF + "{model}", mode="validation")
        for name, definition in schema.pop("$defs", {}).items():
            schemas.setdefault(name, definition)
        schemas.setdefault(model.__name__, schema)


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.removeprefix(REF) in renames:
            node = {**node, "$ref": REF + renames[ref.removeprefix(REF)]}
        return {k: _rename_refs(v, renames) for k, v in node.items()}
    if isinstance(node, list):
        return [_rename_refs(v, renames) for v in node]
    return node


def _merge_twins(document: dict[str, Any]) -> None:
    """`X-Input` and `X-Output` that say the same become one `X`; different ones keep their
    names and get the titles `XInput` and `XOutput`."""
    schemas = document["components"]["schemas"]
    renames: dict[str, str] = {}
    for name in [n for n in schemas if n.endswith("-Input")]:
        base = name.removesuffix("-Input")
        twin = base + "-Output"
        if twin not in schemas or base in schemas:
            continue
        as_base = {name: base, twin: base}
        if json.dumps(_rename_refs(schemas[name], as_base), sort_keys=True) == json.dumps(
                _rename_refs(schemas[twin], as_base), sort_keys=True):
            renames.update(as_base)
        else:
            schemas[name] = {**schemas[name], "title": base + "Input"}
            schemas[twin] = {**schemas[twin], "title": base + "Output"}
    if not renames:
        return
    for old, new in renames.items():
        schemas[new] = schemas.pop(old)
    merged = _rename_refs(document, renames)
    document.clear()
    document.update(merged)


def _uuid_paths(document: dict[str, Any], routes: list[APIRoute]) -> None:
    """Path parameters the route parses as a UUID are documented as one. Routes and operations
    meet by operation id (an included router's routes keep their paths without its prefix)."""
    uuids = {operation_id(route): {p.alias for p in route.dependant.path_params if p.field_info.annotation is UUID}
             for route in routes}
    for _, _, operation in _operations(document):
        names = uuids.get(str(operation.get("operationId")), set())
        for parameter in operation.get("parameters", ()):
            if parameter.get("in") == "path" and parameter.get("name") in names:
                parameter["schema"] = {**parameter.get("schema", {}), "type": "string", "format": "uuid"}


def _install_docs(app: FastAPI) -> None:
    """Swagger UI at /docs and ReDoc at /redoc, their assets from the installed package."""
    static = resources.files("fastapi_offline") / "static"
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(static)), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    redirect_url = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    def root(request: Request) -> str:
        return str(request.scope.get("root_path", ""))

    async def swagger(request: Request) -> HTMLResponse:
        base = root(request)
        return get_swagger_ui_html(
            openapi_url=base + openapi_url, title=app.title + " - Swagger UI",
            oauth2_redirect_url=base + redirect_url,
            swagger_js_url=f"{base}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{base}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{base}{DOCS_ASSETS}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters)

    async def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(request: Request) -> HTMLResponse:
        base = root(request)
        return get_redoc_html(
            openapi_url=base + openapi_url, title=app.title + " - ReDoc",
            redoc_js_url=f"{base}{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{base}{DOCS_ASSETS}/favicon.png", with_google_fonts=False)

    pages: tuple[tuple[str, Callable[..., Any]], ...] = (
        ("/docs", swagger), (redirect_url, oauth2_redirect), ("/redoc", redoc))
    for path, page in pages:
        app.add_api_route(path, page, methods=["GET"], include_in_schema=False, response_class=HTMLResponse)
