"""A client generated from the live /openapi.json drives the service: openapi-python-client
(a widely used generator) makes a Python package from the document of a running server, with
no warning and a function for every operation, and a walkthrough uses that package alone —
sign in, register, claim, a visit with its photo, a deal, a payment, a report, an export and
an approval — against the real server on a SQLite store."""

from __future__ import annotations

import importlib
import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import UUID

import httpx
import openpyxl
import pytest

from api.main import create_app
from api.openapi import CLIENT_GENERATOR_CONFIG, XLSX
from commands import messages as m
from commands.adapters.clock import ManualClock
from commands.handlers import handle
from tests.conftest import ADMIN_PASSWORD, SYSTEM, make_service
from tests.e2e.helpers import jpeg
from tests.e2e.live_server import serve

pytestmark = pytest.mark.xdist_group("processes")

PACKAGE = "crm_generated_client"
# What the generator says when it leaves something out.
TROUBLE = re.compile(r"warning|unable to|duplicate|will not be generated|omitted|could not|cannot|failure",
                     re.IGNORECASE)
SHANGHAI = timezone(timedelta(hours=8))


@dataclass
class Generated:
    package: ModuleType
    models: ModuleType
    modules: dict[str, str]  # operation id -> module path
    output: str
    operation_ids: list[str]

    def op(self, operation_id: str) -> Any:
        return importlib.import_module(self.modules[operation_id])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("live")
    service = make_service(f"sqlite:///{folder}/crm.db", ManualClock(datetime(2026, 11, 2, 1, 0, tzinfo=UTC)),
                           folder / "blobs")
    # The one person the walkthrough cannot make through the API: the first admin.
    handle(m.CreatePerson(name="管理员", username="root", password=ADMIN_PASSWORD, roles=["admin"]),
           SYSTEM, service.deps)
    try:
        with serve(create_app(service, background=False)) as base:
            yield base
    finally:
        service.close()


@pytest.fixture(scope="module")
def generated(live: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generated]:
    """The package, generated once for the module from the running server's document."""
    folder = tmp_path_factory.mktemp("generated")
    document = httpx.get(live + "/openapi.json", timeout=120).json()
    spec = folder / "openapi.json"
    spec.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    config = folder / "generator.json"
    config.write_text(json.dumps(CLIENT_GENERATOR_CONFIG), encoding="utf-8")
    bin_dir = Path(sys.executable).parent
    command = [str(bin_dir / "openapi-python-client"), "generate", "--path", str(spec), "--output-path",
               str(folder / PACKAGE), "--meta", "none", "--config", str(config)]
    # The venv's bin first on PATH: the generator formats its output with ruff from there.
    done = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(folder), "LANG": "C.UTF-8"})
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    operation_ids = [op["operationId"] for item in document["paths"].values() for op in item.values()
                     if isinstance(op, dict) and "operationId" in op]
    modules = {path.stem: f"{PACKAGE}.api.{path.parent.name}.{path.stem}"
               for path in (folder / PACKAGE / "api").glob("*/*.py") if path.stem != "__init__"}
    sys.path.insert(0, str(folder))
    try:
        package = importlib.import_module(PACKAGE)
        yield Generated(package, importlib.import_module(f"{PACKAGE}.models"), modules, output, operation_ids)
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_the_generator_makes_every_operation_without_a_warning(generated: Generated) -> None:
    trouble = [line for line in generated.output.splitlines() if TROUBLE.search(line)]
    assert not trouble, generated.output
    assert len(generated.operation_ids) >= 90
    assert sorted(generated.modules) == sorted(generated.operation_ids)
    for operation_id in generated.operation_ids:
        module = generated.op(operation_id)
        assert callable(module.sync_detailed) and callable(module.sync), operation_id


def test_a_walkthrough_through_the_generated_client(live: str, generated: Generated) -> None:
    op, models = generated.op, generated.models
    anonymous = generated.package.Client(base_url=live, raise_on_unexpected_status=True, timeout=httpx.Timeout(60))

    def sign_in(username: str, password: str = "password123") -> Any:
        token = op("identity_sign_in").sync(client=anonymous, body=models.BodyIdentitySignIn(
            username=username, password=password))
        assert isinstance(token, models.Token), token
        return generated.package.AuthenticatedClient(base_url=live, token=token.access_token,
                                                     raise_on_unexpected_status=True, timeout=httpx.Timeout(60))

    def done(answer: Any, kind: Any) -> Any:
        assert isinstance(answer, kind), answer
        return answer

    def photo_file(data: bytes, name: str) -> Any:
        return generated.package.types.File(payload=io.BytesIO(data), file_name=name, mime_type="image/jpeg")

    # The organisation, by the admin: a department, its manager, a salesperson; the settings.
    root = sign_in("root", ADMIN_PASSWORD)
    dept = done(op("identity_create_department").sync(client=root, body=models.DepartmentCreate(name="华东销售部")),
                models.Created)
    people = {}
    for username, name, role in (("boss", "经理", "manager"), ("alice", "王芳", "sales")):
        body = models.PersonCreate(name=name, username=username, password="password123",
                                   roles=[models.PersonCreateRolesItem(role)], department_id=dept.id)
        people[username] = done(op("identity_create_person").sync(client=root, body=body), models.Created).id
    done(op("identity_change_department").sync(client=root, department_id=UUID(dept.id),
                                               body=models.DepartmentUpdate(manager_ids=[people["boss"]])),
         models.Done)
    settings = done(op("identity_read_settings").sync(client=root), models.SettingsOut)
    assert isinstance(settings.dictionaries.customer_types[0], models.TypeNode)
    changed = done(op("identity_write_settings").sync(client=root, body=models.SettingsUpdate(
        rules=models.RulesUpdate(visit_max_distance_m=5000))), models.SettingsOut)
    assert changed.rules.visit_max_distance_m == 5000
    assert "customer_info_change" in changed.rules.approval_required

    # Register a customer; claim one from the pool.
    alice, boss = sign_in("alice"), sign_in("boss")
    customer = done(op("customers_register").sync(client=alice, body=models.CustomerCreate(
        name="上海晨星科技有限公司", region="华东", lat=31.2304, lng=121.4737)), models.CustomerCreated)
    pooled = done(op("customers_register").sync(client=root, body=models.CustomerCreate(
        name="公海里的客户", to_pool=True)), models.CustomerCreated)
    done(op("customers_claim").sync(client=alice, customer_id=UUID(pooled.id)), models.Done)
    claimed = done(op("customers_detail").sync(client=alice, customer_id=UUID(pooled.id)), models.CustomerDetail)
    assert claimed.owner_id == people["alice"] and not claimed.in_pool

    # A visit with its photo (multipart), the photo read back; a logo likewise.
    picture = jpeg(taken=datetime(2026, 11, 2, 8, 30, tzinfo=SHANGHAI), gps=(31.2306, 121.4739))
    visit = done(op("customers_visit").sync(client=alice, customer_id=UUID(customer.id), body=models.VisitForm(
        notes="现场拜访，照片为证", contact="李经理", photo=photo_file(picture, "visit.jpg"))), models.VisitCreated)
    assert visit.distance_check == "checked" and not visit.far_from_customer and not visit.late_entry
    back = op("customers_get_visit_photo").sync(client=alice, customer_id=UUID(customer.id),
                                                visit_id=visit.visit_id)
    assert isinstance(back, generated.package.types.File) and back.payload.read() == picture
    logo = jpeg(colour="blue")
    done(op("customers_logo").sync(client=alice, customer_id=UUID(customer.id),
                                   body=models.LogoForm(logo=photo_file(logo, "logo.jpg"))), models.Done)
    assert op("customers_get_logo").sync(client=alice, customer_id=UUID(customer.id)).payload.read() == logo
    json_visit = done(op("customers_visit").sync(client=alice, customer_id=UUID(customer.id), body=models.VisitIn(
        visited_at=datetime(2026, 11, 2, 8, 45, tzinfo=SHANGHAI), notes="电话后补充拜访")), models.VisitCreated)
    assert json_visit.distance_check == "no_photo"

    # A deal and a payment.
    contract = done(op("sales_sign").sync(client=alice, body=models.ContractCreate(
        customer_id=customer.id, number="HT-2026-001", name="服务器采购合同", signed_on=date(2026, 11, 2),
        amount="30000.00")), models.Created)
    done(op("sales_payment").sync(client=alice, body=models.PaymentIn(
        customer_id=customer.id, contract_id=contract.id, amount="10000.00", received_on=date(2026, 11, 2))),
        models.Created)
    view = done(op("sales_contract").sync(client=alice, contract_id=UUID(contract.id)), models.ContractView)
    assert view.id == contract.id

    # A report, typed; its export as XLSX (the request the generated function builds, sent by
    # the generated client: a typed function parses the JSON answer of the same operation);
    # and a typed CSV download.
    report = done(op("reports_get_report").sync(client=boss, report_id="Q-5", year=2026), models.ReportQ5)
    assert [(r.customer_name, r.amount) for r in report.rows] == [("上海晨星科技有限公司", "10000.00")]
    request = op("reports_get_report")._get_kwargs(report_id="Q-5", year=2026,
                                                   format_=models.ReportsGetReportFormat("xlsx"))
    export = boss.get_httpx_client().request(**request)
    assert export.status_code == 200 and export.headers["content-type"].startswith(XLSX)
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    assert any("上海晨星科技有限公司" in row for row in sheet.iter_rows(values_only=True))
    template = op("imports_template").sync(client=root, format_=models.ImportsTemplateFormat("csv"))
    assert isinstance(template, generated.package.types.File)
    assert "name" in template.payload.read().decode("utf-8-sig").splitlines()[0]

    # An approval: the salesperson's change of customer information waits (202) for the
    # manager, who approves it; the change is then in the customer.
    pending = done(op("customers_change").sync(client=alice, customer_id=UUID(customer.id), body=models.CustomerChange(
        changes=models.CustomerChanges(stage="方案报价"), reason="客户已看方案")), models.Pending)
    inbox = op("inbox_approvals").sync(client=boss)
    assert pending.approval_id in [a.id for a in inbox]
    done(op("inbox_approve").sync(client=boss, approval_id=UUID(pending.approval_id),
                                  body=models.Decision(comment="同意")), models.Done)
    after = done(op("customers_detail").sync(client=alice, customer_id=UUID(customer.id)), models.CustomerDetail)
    assert after.stage == "方案报价"

    # Refusals come back typed too: a second claim of the same customer.
    refused = op("customers_claim").sync_detailed(client=alice, customer_id=UUID(pooled.id))
    assert refused.status_code == 409, refused.content
    assert isinstance(refused.parsed, models.ErrorResponse) and refused.parsed.error.code
