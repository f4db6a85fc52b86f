"""The authorisation matrix (R-1..R-8): for every route of the app, what each role
gets. A test enumerates the app's routes and fails when one is missing from the table.

Expectations, one letter per role in the order sales, manager, warehouse, admin, auditor:
  o  allowed: any answer but 401, 403 and 404 (a 409 or 422 is the command's own refusal)
  d  denied: 403
  h  hidden: 404, the thing is not this person's to see
  f  filtered: 200, with only the rows this person may see
Routes marked public answer without a token; every other route answers 401 without one. The
stream, marked ticket, answers 401 to every role that brings no valid ticket: a token never opens it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from PIL import Image

from api.deps import issue_token
from api.main import create_app
from commands.adapters.clock import ManualClock
from tests.conftest import make_service

ROLES = ("sales", "manager", "warehouse", "admin", "auditor")
Request = Callable[["World", str], tuple[str, str, dict[str, Any]]]


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "JPEG")
    return out.getvalue()


class World:
    """People of every role in one department, and something of every kind to act on; the
    things a command uses up come one per role."""

    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client, self.tokens = client, tokens
        self.ids: dict[str, Any] = {}
        self.rebuild: Callable[[str], Any] = lambda name: None

    def rebuilt(self, name: str) -> str:
        """A read model rebuilt once (here and now), for the routes that tell of its rebuild."""
        if name not in self.ids.setdefault("rebuilt", set()):
            self.rebuild(name)
            self.ids["rebuilt"].add(name)
        return name

    def call(self, who: str | None, method: str, path: str, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return self.client.request(method, "/api/v1" + path, headers=headers, **kw)

    def ok(self, who: str, method: str, path: str, **kw: Any) -> Any:
        response = self.call(who, method, path, **kw)
        assert response.status_code < 300, (path, response.text)
        return response.json()

    def per_role(self, name: str, make: Callable[[str], str]) -> None:
        self.ids[name] = {role: make(role) for role in ROLES}


@pytest.fixture
def world(tmp_path: Any, clock: ManualClock) -> Iterator[World]:
    service = make_service(f"sqlite:///{tmp_path}/crm.db", clock, tmp_path / "blobs")
    service.deps.credentials.hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    from commands import messages as m
    from commands.handlers import handle
    from tests.conftest import SYSTEM

    deps = service.deps
    dept = handle(m.CreateDepartment(name="矩阵部"), SYSTEM, deps).ids["id"]
    people = {}
    for username, roles in (("sales", ["sales"]), ("manager", ["manager"]), ("warehouse", ["warehouse"]),
                            ("admin", ["admin"]), ("auditor", ["auditor"]), ("other", ["sales"])):
        people[username] = handle(m.CreatePerson(name=username, username=username, roles=roles,
                                                 password="password123", department_id=dept,
                                                 max_customers=200), SYSTEM, deps).ids["id"]
    handle(m.ChangeDepartment(dept, {"manager_ids": [people["manager"]]}), SYSTEM, deps)
    with TestClient(create_app(service, background=False)) as client:
        w = World(client, {who: issue_token(service, people[who])[0] for who in people})
        w.ids.update(people, dept=dept)
        count = iter(range(1000))

        def customer(who: str = "sales", **body: Any) -> str:
            return w.ok(who, "POST", "/customers", json={"name": f"客户{next(count)}", **body})["id"]

        own = customer(contacts=[{"name": "张三", "phone": "13800000000"}])
        w.ids["own"] = own
        w.per_role("owned", lambda role: customer())
        w.per_role("pool", lambda role: customer(to_pool=True))
        # By the manager: the owner's own contact edits wait for approval (seed 000 §5.1.6).
        w.per_role("contact", lambda role: w.ok("manager", "POST", f"/customers/{own}/contacts",
                                                json={"name": f"联系人{role}"})["id"])
        w.ids["visit"] = w.ok("sales", "POST", f"/customers/{own}/visits",
                              files={"photo": ("v.jpg", jpeg(), "image/jpeg")})["visit_id"]
        w.ok("sales", "PUT", f"/customers/{own}/logo", files={"logo": ("l.jpg", jpeg(), "image/jpeg")})
        w.ids["product"] = w.ok("warehouse", "POST", "/products", json={"name": "服务器"})["id"]
        w.ok("warehouse", "POST", f"/products/{w.ids['product']}/stock-ins",
             json={"warehouse": "总仓", "quantity": "100", "unit_cost": "10.00"})
        w.ids["contract"] = w.ok("sales", "POST", "/contracts", json={
            "customer_id": own, "number": "HT-M", "name": "合同",
            "lines": [{"product_id": w.ids["product"], "quantity": "50", "unit_price": "20.00"}]})["id"]
        w.ids["delivery"] = w.ok("warehouse", "POST", f"/contracts/{w.ids['contract']}/deliveries", json={
            "lines": [{"product_id": w.ids["product"], "warehouse": "总仓", "quantity": "20"}]})["delivery_id"]
        w.per_role("warehouse_request", lambda role: w.ok("sales", "POST", f"/contracts/{w.ids['contract']}/"
                                                         "delivery-requests", json={"lines": [
                                                             {"product_id": w.ids["product"], "quantity": "1"}]})["id"])
        w.per_role("approval", lambda role: w.ok("sales", "POST", f"/customers/{own}/changes",
                                                 json={"changes": {"address": f"地址{role}"}})["approval_id"])
        months = dict(zip(ROLES, range(1, 6), strict=True))
        w.per_role("target", lambda role: w.ok("manager", "POST", "/targets", json={
            "person_id": people["sales"], "period": f"2027年{months[role]}月", "start": f"2027-0{months[role]}-01",
            "end": f"2027-0{months[role]}-20"})["id"])
        w.ids["report"] = w.ok("sales", "POST", "/work-reports", json={"kind": "daily", "date": "2026-11-02"})["id"]
        w.ids["problem"] = w.ok("manager", "POST", "/problems", json={
            "customer_id": own, "type": "质量问题", "description": "坏了", "responsible_id": people["sales"]})["id"]
        w.ids["notification"] = w.ok("sales", "GET", "/notifications")[0]["id"]  # the problem assigned
        w.ids["import"] = w.ok("admin", "POST", "/imports/customers", data={"dry_run": "true"},
                               files={"file": ("c.csv", "name,type,source,region,address,building,contact_name,"
                                                        "contact_phone,owner_username,created_at\n导入,,,火星,,,,,,\n",
                                               "text/csv")})["import_id"]
        w.rebuild = service.projector.rebuild
        yield w
    service.close()


def body(**values: Any) -> dict[str, Any]:
    return {"json": values}


def per(name: str) -> Callable[[World, str], str]:
    return lambda w, role: w.ids[name][role]


# operation → (how to call it for a role, expectations: sales manager warehouse admin auditor)
MATRIX: dict[str, tuple[Request, str]] = {
    "POST /auth/token": (lambda w, r: ("POST", "/auth/token", {"data": {"username": r, "password": "password123"}}),
                         "public"),
    "GET /me": (lambda w, r: ("GET", "/me", {}), "o o o o o"),
    "POST /auth/logout": (lambda w, r: ("POST", "/auth/logout", {}), "o o o o o"),
    "POST /me/password": (lambda w, r: ("POST", "/me/password", body(old_password="password123",
                                                                     new_password=f"new-password-{r}")),
                          "o o o o o"),
    "POST /departments": (lambda w, r: ("POST", "/departments", body(name=f"部门{r}")), "d d d o d"),
    "PATCH /departments/{department_id}": (lambda w, r: ("PATCH", f"/departments/{w.ids['dept']}",
                                                         body(name=f"改名{r}")), "d d d o d"),
    "GET /departments": (lambda w, r: ("GET", "/departments", {}), "o o o o o"),
    "GET /departments/{department_id}": (lambda w, r: ("GET", f"/departments/{w.ids['dept']}", {}), "o o o o o"),
    "GET /departments/{department_id}/history": (lambda w, r: ("GET", f"/departments/{w.ids['dept']}/history",
                                                               {}), "d o d o o"),
    "POST /people": (lambda w, r: ("POST", "/people", body(name="新人", username=f"new{r}", password="password123",
                                                          roles=["sales"])), "d d d o d"),
    "PATCH /people/{person_id}": (lambda w, r: ("PATCH", f"/people/{w.ids['other']}", body(max_customers=300)),
                                  "d o d o d"),
    "GET /people": (lambda w, r: ("GET", "/people", {}), "o o o o o"),
    "GET /people/{person_id}": (lambda w, r: ("GET", f"/people/{w.ids['other']}", {"params": {"version": 1}}),
                                "d o d o o"),
    "GET /people/{person_id}/history": (lambda w, r: ("GET", f"/people/{w.ids['other']}/history", {}),
                                        "d o d o o"),
    "POST /stream/tickets": (lambda w, r: ("POST", "/stream/tickets", {}), "o o o o o"),
    # Opened with a ticket, never a token: 401 for everybody without one (tests/e2e/test_stream.py
    # covers tickets and what each role is told). A valid ticket would open a never-ending stream.
    "GET /stream": (lambda w, r: ("GET", "/stream", {"params": {"ticket": "not-a-ticket"}}), "ticket"),
    "GET /settings": (lambda w, r: ("GET", "/settings", {}), "o o o o o"),
    "PUT /settings": (lambda w, r: ("PUT", "/settings", body(rules={"pool_warning_days": 4})), "d d d o d"),
    "GET /settings/history": (lambda w, r: ("GET", "/settings/history", {}), "d o d o o"),
    "GET /customers": (lambda w, r: ("GET", "/customers", {}), "f f f f f"),
    "GET /customers/types": (lambda w, r: ("GET", "/customers/types", {}), "f f f f f"),
    "POST /customers": (lambda w, r: ("POST", "/customers", body(name=f"新客户{r}")), "o o d o d"),
    "POST /customers/assign": (lambda w, r: ("POST", "/customers/assign",
                                             body(customer_ids=[w.ids["pool"][r]], to_person_id=w.ids["sales"])),
                               "d o d o d"),
    # batches (seed 002 全选): 200 with a result per customer, or 403 for a role that has none to give
    "POST /customers/claim": (lambda w, r: ("POST", "/customers/claim", body(customer_ids=[w.ids["pool"][r]])),
                              "o d d d d"),
    "POST /customers/release": (lambda w, r: ("POST", "/customers/release",
                                              body(customer_ids=[w.ids["owned"][r]])), "o o d o d"),
    "POST /customers/recall": (lambda w, r: ("POST", "/customers/recall",
                                             body(customer_ids=[w.ids["owned"][r]])), "d o d o d"),
    "POST /customers/transfer": (lambda w, r: ("POST", "/customers/transfer", body(
        customer_ids=[w.ids["owned"][r]], to_person_id=w.ids["other"])), "o o d o d"),
    "POST /customers/share": (lambda w, r: ("POST", "/customers/share", body(
        customer_ids=[w.ids["owned"][r]], add=[w.ids["other"]])), "o o d o d"),
    "GET /customers/{customer_id}": (lambda w, r: ("GET", f"/customers/{w.ids['own']}", {}), "o o h o o"),
    "GET /customers/{customer_id}/history": (lambda w, r: ("GET", f"/customers/{w.ids['own']}/history", {}),
                                             "o o h o o"),
    "GET /customers/{customer_id}/dossier": (lambda w, r: ("GET", f"/customers/{w.ids['own']}/dossier", {}),
                                             "d d d o o"),
    "POST /customers/{customer_id}/changes": (lambda w, r: ("POST", f"/customers/{w.ids['own']}/changes",
                                                            body(changes={"building": f"楼{r}"})), "o o h o d"),
    "POST /customers/{customer_id}/restore": (lambda w, r: ("POST", f"/customers/{w.ids['own']}/restore",
                                                            body(version=1)), "d d d o d"),
    "POST /customers/{customer_id}/share": (lambda w, r: ("POST", f"/customers/{w.ids['owned'][r]}/share",
                                                          body(add=[w.ids["other"]])), "o o h o d"),
    "POST /customers/{customer_id}/claim": (lambda w, r: ("POST", f"/customers/{w.ids['pool'][r]}/claim", {}),
                                            "o d d d d"),
    "POST /customers/{customer_id}/release": (lambda w, r: ("POST", f"/customers/{w.ids['owned'][r]}/release", {}),
                                              "o d h d d"),
    "POST /customers/{customer_id}/recall": (lambda w, r: ("POST", f"/customers/{w.ids['owned'][r]}/recall", {}),
                                             "d o d o d"),
    "POST /customers/{customer_id}/transfer": (lambda w, r: ("POST", f"/customers/{w.ids['owned'][r]}/transfer",
                                                             body(to_person_id=w.ids["other"])), "o o h o d"),
    "DELETE /customers/{customer_id}": (lambda w, r: ("DELETE", f"/customers/{w.ids['pool'][r]}", {}), "d o d o d"),
    "POST /customers/{customer_id}/contacts": (lambda w, r: ("POST", f"/customers/{w.ids['own']}/contacts",
                                                             body(name=f"新联系人{r}")), "o o h o d"),
    "PATCH /customers/{customer_id}/contacts/{contact_id}": (
        lambda w, r: ("PATCH", f"/customers/{w.ids['own']}/contacts/{w.ids['contact'][r]}", body(title="经理")),
        "o o h o d"),
    "DELETE /customers/{customer_id}/contacts/{contact_id}": (
        lambda w, r: ("DELETE", f"/customers/{w.ids['own']}/contacts/{w.ids['contact'][r]}", {}), "o o h o d"),
    "POST /customers/{customer_id}/visits": (lambda w, r: ("POST", f"/customers/{w.ids['own']}/visits",
                                                           body(notes="拜访")), "o o h o d"),
    "PUT /customers/{customer_id}/logo": (lambda w, r: ("PUT", f"/customers/{w.ids['own']}/logo",
                                                        {"files": {"logo": ("l.jpg", jpeg(), "image/jpeg")}}),
                                          "o o h o d"),
    "GET /customers/{customer_id}/logo": (lambda w, r: ("GET", f"/customers/{w.ids['own']}/logo", {}), "o o h o o"),
    "GET /customers/{customer_id}/visits/{visit_id}/photo": (
        lambda w, r: ("GET", f"/customers/{w.ids['own']}/visits/{w.ids['visit']}/photo", {}), "o o h o o"),
    "GET /imports/customers/template": (lambda w, r: ("GET", "/imports/customers/template", {}), "d d d o d"),
    "POST /imports/customers": (lambda w, r: ("POST", "/imports/customers", {
        "data": {"dry_run": "true"}, "files": {"file": ("c.csv", "name\n", "text/csv")}}), "d d d o d"),
    "GET /imports/{import_id}": (lambda w, r: ("GET", f"/imports/{w.ids['import']}", {}), "d d d o d"),
    "GET /imports/{import_id}/rejects": (lambda w, r: ("GET", f"/imports/{w.ids['import']}/rejects", {}),
                                         "d d d o d"),
    "POST /contracts": (lambda w, r: ("POST", "/contracts", body(customer_id=w.ids["own"], number=f"HT-{r}",
                                                                 name="合同", amount="10.00")), "o o d o d"),
    "GET /contracts": (lambda w, r: ("GET", "/contracts", {}), "f f f f f"),
    "GET /contracts/{contract_id}": (lambda w, r: ("GET", f"/contracts/{w.ids['contract']}", {}), "o o o o o"),
    "GET /contracts/{contract_id}/history": (lambda w, r: ("GET", f"/contracts/{w.ids['contract']}/history",
                                                           {}), "o o o o o"),
    "POST /contracts/{contract_id}/invoices": (lambda w, r: ("POST", f"/contracts/{w.ids['contract']}/invoices",
                                                             body(amount="1.00")), "o o d o d"),
    "POST /contracts/{contract_id}/credit-notes": (
        lambda w, r: ("POST", f"/contracts/{w.ids['contract']}/credit-notes", body(amount="1.00", reason="冲红")),
        "o o d o d"),
    "POST /payments": (lambda w, r: ("POST", "/payments", body(customer_id=w.ids["own"], amount="1.00")),
                       "o o d o d"),
    "POST /contracts/{contract_id}/deliveries": (
        lambda w, r: ("POST", f"/contracts/{w.ids['contract']}/deliveries",
                      body(lines=[{"product_id": w.ids["product"], "warehouse": "总仓", "quantity": "1"}])),
        "d o o o d"),
    "POST /contracts/{contract_id}/returns": (
        lambda w, r: ("POST", f"/contracts/{w.ids['contract']}/returns",
                      body(delivery_id=w.ids["delivery"], lines=[{"product_id": w.ids["product"], "quantity": "1"}])),
        "d o o o d"),
    "POST /contracts/{contract_id}/exchanges": (
        lambda w, r: ("POST", f"/contracts/{w.ids['contract']}/exchanges",
                      body(delivery_id=w.ids["delivery"],
                           lines=[{"product_id": w.ids["product"], "quantity": "1", "warehouse": "总仓"}])),
        "d o o o d"),
    "POST /products": (lambda w, r: ("POST", "/products", body(name=f"产品{r}")), "d o o o d"),
    "PATCH /products/{product_id}": (lambda w, r: ("PATCH", f"/products/{w.ids['product']}", body(spec=f"型号{r}")),
                                     "d o o o d"),
    "GET /products": (lambda w, r: ("GET", "/products", {}), "o o o o o"),
    "GET /products/{product_id}": (lambda w, r: ("GET", f"/products/{w.ids['product']}", {}), "o o o o o"),
    "GET /products/{product_id}/history": (lambda w, r: ("GET", f"/products/{w.ids['product']}/history", {}),
                                           "o o o o o"),
    "POST /products/{product_id}/stock-ins": (lambda w, r: ("POST", f"/products/{w.ids['product']}/stock-ins",
                                                            body(warehouse="总仓", quantity="1", unit_cost="1")),
                                              "d d o o d"),
    "POST /products/{product_id}/price-changes": (lambda w, r: ("POST", f"/products/{w.ids['product']}/price-changes",
                                                                body(price="30.00")), "o o o o d"),
    "GET /stock": (lambda w, r: ("GET", "/stock", {}), "o o o o o"),
    "GET /stock/{product_id}/{warehouse}": (lambda w, r: ("GET", f"/stock/{w.ids['product']}/总仓", {}),
                                            "o o o o o"),
    "GET /stock/{product_id}/{warehouse}/history": (
        lambda w, r: ("GET", f"/stock/{w.ids['product']}/总仓/history", {}), "o o o o o"),
    "POST /problems": (lambda w, r: ("POST", "/problems", body(customer_id=w.ids["own"], type="其他",
                                                              description="问题", responsible_id=w.ids["sales"])),
                       "o o o o d"),
    "POST /problems/{problem_id}/resolve": (lambda w, r: ("POST", f"/problems/{w.ids['problem']}/resolve",
                                                          body(resolution="已处理")), "o o d o d"),
    "GET /problems": (lambda w, r: ("GET", "/problems", {}), "f f f f f"),
    "POST /targets": (lambda w, r: ("POST", "/targets", body(person_id=w.ids["sales"], period=f"期{r}",
                                                            start=f"2028-0{ROLES.index(r) + 1}-01",
                                                            end=f"2028-0{ROLES.index(r) + 1}-10")), "o o d o d"),
    "GET /targets": (lambda w, r: ("GET", "/targets", {}), "f f f f f"),
    "GET /targets/departments": (lambda w, r: ("GET", "/targets/departments", {}), "d o d o o"),
    "GET /targets/{target_id}": (lambda w, r: ("GET", f"/targets/{w.ids['target']['sales']}", {}), "o o h o o"),
    "GET /targets/{target_id}/history": (lambda w, r: ("GET", f"/targets/{w.ids['target']['sales']}/history",
                                                       {}), "o o h o o"),
    "GET /targets/{target_id}/records": (lambda w, r: ("GET", f"/targets/{w.ids['target']['sales']}/records",
                                                       {"params": {"figure": "visits"}}), "o o h o o"),
    "PATCH /targets/{target_id}": (lambda w, r: ("PATCH", f"/targets/{w.ids['target'][r]}", body(visits=9)),
                                   "d o d o d"),
    "DELETE /targets/{target_id}": (lambda w, r: ("DELETE", f"/targets/{w.ids['target'][r]}", {}), "d o d o d"),
    "POST /work-reports": (lambda w, r: ("POST", "/work-reports", body(kind="weekly", date="2026-11-02")),
                           "o o d d d"),
    "GET /work-reports": (lambda w, r: ("GET", "/work-reports", {}), "f f f f f"),
    "GET /work-reports/{report_id}": (lambda w, r: ("GET", f"/work-reports/{w.ids['report']}", {}), "o o h o o"),
    "GET /reports": (lambda w, r: ("GET", "/reports", {}), "o o o o o"),
    "GET /reports/assets/plotly.min.js": (lambda w, r: ("GET", "/reports/assets/plotly.min.js", {}), "public"),
    "GET /reports/{report_id}": (lambda w, r: ("GET", "/reports/S-15", {}), "f f f f f"),
    "GET /reports/{report_id}/view": (lambda w, r: ("GET", "/reports/S-8/view", {}), "public"),
    # the hand-off to the warehouse (seed 000 §5.6.1-§5.6.3): sales ask, keepers carry out
    "POST /contracts/{contract_id}/delivery-requests": (lambda w, r: (
        "POST", f"/contracts/{w.ids['contract']}/delivery-requests",
        body(lines=[{"product_id": w.ids["product"], "quantity": "1"}])), "o o d o d"),
    "POST /contracts/{contract_id}/return-requests": (lambda w, r: (
        "POST", f"/contracts/{w.ids['contract']}/return-requests",
        body(delivery_id=w.ids["delivery"], lines=[{"product_id": w.ids["product"], "quantity": "1"}])), "o o d o d"),
    "POST /contracts/{contract_id}/exchange-requests": (lambda w, r: (
        "POST", f"/contracts/{w.ids['contract']}/exchange-requests",
        body(delivery_id=w.ids["delivery"], lines=[{"product_id": w.ids["product"], "quantity": "1"}])), "o o d o d"),
    "GET /contracts/{contract_id}/warehouse-requests": (lambda w, r: (
        "GET", f"/contracts/{w.ids['contract']}/warehouse-requests", {}), "o o o o o"),
    "GET /warehouse-requests": (lambda w, r: ("GET", "/warehouse-requests", {}), "f f f f f"),
    "GET /warehouse-requests/{request_id}": (lambda w, r: (
        "GET", f"/warehouse-requests/{w.ids['warehouse_request']['sales']}", {}), "o o o o o"),
    "POST /warehouse-requests/{request_id}/cancel": (lambda w, r: (
        "POST", f"/warehouse-requests/{w.ids['warehouse_request'][r]}/cancel", {}), "o o d o d"),
    "GET /approvals": (lambda w, r: ("GET", "/approvals", {}), "f f f f f"),
    "GET /approvals/{approval_id}": (lambda w, r: ("GET", f"/approvals/{w.ids['approval']['sales']}", {}),
                                     "o o h o o"),
    "GET /approvals/{approval_id}/history": (
        lambda w, r: ("GET", f"/approvals/{w.ids['approval']['sales']}/history", {}), "o o h o o"),
    "POST /approvals/{approval_id}/approve": (lambda w, r: ("POST", f"/approvals/{w.ids['approval'][r]}/approve", {}),
                                              "d o d o d"),
    "POST /approvals/{approval_id}/reject": (lambda w, r: ("POST", f"/approvals/{w.ids['approval'][r]}/reject", {}),
                                             "d o d o d"),
    "POST /approvals/{approval_id}/withdraw": (lambda w, r: ("POST", f"/approvals/{w.ids['approval'][r]}/withdraw",
                                                             {}), "o d d d d"),
    "GET /notifications": (lambda w, r: ("GET", "/notifications", {}), "f f f f f"),
    "POST /notifications/{notification_id}/read": (
        lambda w, r: ("POST", f"/notifications/{w.ids['notification']}/read", {}), "o h h h h"),
    "GET /healthz": (lambda w, r: ("GET", "/healthz", {}), "public"),
    "GET /admin/projections": (lambda w, r: ("GET", "/admin/projections", {}), "d d d o o"),
    "GET /admin/projections/{name}/rebuild": (lambda w, r: ("GET", f"/admin/projections/{w.rebuilt('inbox')}/rebuild", {}),
                                              "d d d o o"),
    "POST /admin/projections/{name}/rebuild": (lambda w, r: ("POST", "/admin/projections/targets/rebuild", {}),
                                               "d d d o d"),
    "POST /admin/pool/sweep": (lambda w, r: ("POST", "/admin/pool/sweep", {}), "d d d o d"),
    "GET /operation-log": (lambda w, r: ("GET", "/operation-log", {}), "d o d o o"),
    "GET /metrics": (lambda w, r: ("GET", "/metrics", {}), "o o o o o"),
}
# Served beside the API, without the /api/v1 prefix: documentation, liveness, the scrape, the
# console's page (its data all comes through the matrix's routes).
OUTSIDE = {"GET /openapi.json", "GET /docs", "GET /docs/oauth2-redirect", "GET /redoc", "GET /healthz", "GET /metrics",
           "GET /"}


def app_operations(app: Any) -> set[str]:
    found = set()
    for route in app.routes:
        included = hasattr(route, "original_router")
        for inner in (route.original_router.routes if included else [route]):
            for method in getattr(inner, "methods", None) or ():
                if method != "HEAD":
                    found.add(f"{method} {inner.path}" if included else f"{method} {inner.path}#outside")
    return found


def test_every_route_is_in_the_matrix(world: World) -> None:
    operations = app_operations(world.client.app)
    inside = {op for op in operations if not op.endswith("#outside")}
    outside = {op.removesuffix("#outside") for op in operations if op.endswith("#outside")}
    assert inside == set(MATRIX), f"missing: {sorted(inside - set(MATRIX))}; stale: {sorted(set(MATRIX) - inside)}"
    assert outside == OUTSIDE


@pytest.mark.parametrize("operation", sorted(MATRIX))
def test_each_role_gets_what_the_matrix_says(world: World, operation: str) -> None:
    build, expected = MATRIX[operation]
    method, path, kwargs = build(world, "admin")
    anonymous = world.call(None, method, path, **kwargs)
    if expected == "public":
        assert anonymous.status_code < 400, (operation, anonymous.text)
        return
    if expected == "ticket":
        assert anonymous.status_code == 401, (operation, anonymous.text)
        for role in ROLES:
            method, path, kwargs = build(world, role)
            assert world.call(role, method, path, **kwargs).status_code == 401, (operation, role)
        return
    assert anonymous.status_code == 401, (operation, anonymous.status_code)
    letters = expected.split()
    results = {}
    for role, letter in zip(ROLES, letters, strict=True):
        method, path, kwargs = build(world, role)
        response = world.call(role, method, path, **kwargs)
        results[role] = response.status_code
        if letter == "o":
            assert response.status_code not in (401, 403, 404), (operation, role, response.text)
        elif letter == "d":
            assert response.status_code == 403, (operation, role, response.text)
        elif letter == "h":
            assert response.status_code == 404, (operation, role, response.text)
        else:
            assert response.status_code == 200, (operation, role, response.text)
    assert len(results) == len(ROLES)


def test_filtered_lists_hold_only_what_each_role_may_see(world: World) -> None:
    everything = world.ok("admin", "GET", "/customers", params={"scope": "all"})["total"]
    assert world.ok("sales", "GET", "/customers")["total"] < everything
    assert world.ok("warehouse", "GET", "/customers")["total"] == 0
    assert world.ok("warehouse", "GET", "/customers/types")["total"] == 0
    assert world.ok("sales", "GET", "/customers/types")["total"] == world.ok("sales", "GET", "/customers")["total"]
    assert world.ok("admin", "GET", "/customers/types", params={"scope": "all"})["total"] == everything
    assert world.ok("manager", "GET", "/customers", params={"scope": "all"})["total"] == everything
    assert len(world.ok("warehouse", "GET", "/contracts")["items"]) == 1
    assert world.ok("auditor", "GET", "/approvals") and world.ok("warehouse", "GET", "/approvals") == []
    sales_inbox = world.call("sales", "GET", "/notifications").json()
    # A keeper hears of the warehouse's work (the hand-off's requests), of nothing else.
    keeper_inbox = world.call("warehouse", "GET", "/notifications").json()
    assert sales_inbox and {n["kind"] for n in keeper_inbox} <= {"warehouse_request", "warehouse_request_cancelled"}
    assert world.ok("other", "GET", "/targets")["total"] == 0 and world.ok("sales", "GET", "/targets")["total"] == 5
