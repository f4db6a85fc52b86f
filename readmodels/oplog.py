"""Queries over the operation log (H-5): who did what, when, to which target, with which
outcome; searchable by actor, period, outcome, operation and target. An operation is shown
by its name (`customer.claim`) with its method and route beside it (`route`)."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

from aggregates.base import Forbidden
from commands.actor import Actor
from commands.adapters.infra import operation_log
from readmodels.customers import like_pattern, utc
from readmodels.org import visible_people
from readmodels.paging import Key, Keyset, page_of
from readmodels.tables import people

COLUMNS = (("at", "时间", "datetime"), ("actor_id", "操作人ID", "id"), ("actor_name", "操作人", "text"),
           ("operation", "操作", "text"), ("route", "路由", "text"), ("target_id", "对象", "text"),
           ("status", "状态码", "int"),
           ("outcome", "结果", "text"), ("error_code", "错误代码", "text"), ("message", "说明", "text"),
           ("position", "事件位置", "int"), ("duration_ms", "耗时(ms)", "int"))

# Entries written before operations had names hold the method and route in `operation` and
# no `route`. They are shown with the name their route has had since (the routes of that
# time, which are never renamed), and their route in `route`; the stored rows stay as written.
LEGACY_NAMES: dict[str, str] = {
    "POST /api/v1/auth/token": "session.sign_in",
    "POST /api/v1/auth/logout": "session.sign_out",
    "POST /api/v1/me/password": "password.change",
    "GET /api/v1/me": "identity.me",
    "POST /api/v1/departments": "department.create",
    "PATCH /api/v1/departments/{department_id}": "department.change",
    "GET /api/v1/departments": "identity.departments",
    "POST /api/v1/people": "person.create",
    "PATCH /api/v1/people/{person_id}": "person.change",
    "GET /api/v1/people": "identity.people",
    "GET /api/v1/settings": "identity.read_settings",
    "PUT /api/v1/settings": "settings.change",
    "GET /api/v1/customers": "customers.list",
    "POST /api/v1/customers": "customer.register",
    "POST /api/v1/customers/assign": "customer.assign",
    "POST /api/v1/customers/claim": "customers.claim",
    "POST /api/v1/customers/release": "customers.release",
    "POST /api/v1/customers/recall": "customers.recall",
    "POST /api/v1/customers/transfer": "customers.transfer",
    "POST /api/v1/customers/share": "customers.share",
    "GET /api/v1/customers/{customer_id}": "customers.detail",
    "GET /api/v1/customers/{customer_id}/history": "customers.history",
    "POST /api/v1/customers/{customer_id}/changes": "customer.change",
    "POST /api/v1/customers/{customer_id}/restore": "customer.restore",
    "POST /api/v1/customers/{customer_id}/share": "customer.share",
    "POST /api/v1/customers/{customer_id}/claim": "customer.claim",
    "POST /api/v1/customers/{customer_id}/release": "customer.release",
    "POST /api/v1/customers/{customer_id}/recall": "customer.recall",
    "POST /api/v1/customers/{customer_id}/transfer": "customer.transfer",
    "DELETE /api/v1/customers/{customer_id}": "customer.delete",
    "POST /api/v1/customers/{customer_id}/contacts": "contact.add",
    "PATCH /api/v1/customers/{customer_id}/contacts/{contact_id}": "contact.edit",
    "DELETE /api/v1/customers/{customer_id}/contacts/{contact_id}": "contact.remove",
    "POST /api/v1/customers/{customer_id}/visits": "visit.record",
    "PUT /api/v1/customers/{customer_id}/logo": "customer.logo",
    "GET /api/v1/customers/{customer_id}/logo": "customers.get_logo",
    "GET /api/v1/customers/{customer_id}/visits/{visit_id}/photo": "customers.get_visit_photo",
    "GET /api/v1/imports/customers/template": "imports.template",
    "POST /api/v1/imports/customers": "customers.import",
    "GET /api/v1/imports/{import_id}": "imports.summary",
    "GET /api/v1/imports/{import_id}/rejects": "import.rejects",
    "POST /api/v1/contracts": "contract.create",
    "GET /api/v1/contracts": "sales.contracts",
    "GET /api/v1/contracts/{contract_id}": "sales.contract",
    "POST /api/v1/contracts/{contract_id}/invoices": "invoice.create",
    "POST /api/v1/contracts/{contract_id}/credit-notes": "credit_note.create",
    "POST /api/v1/payments": "payment.record",
    "POST /api/v1/contracts/{contract_id}/deliveries": "delivery.record",
    "POST /api/v1/contracts/{contract_id}/returns": "return.record",
    "POST /api/v1/contracts/{contract_id}/exchanges": "exchange.record",
    "POST /api/v1/products": "product.create",
    "PATCH /api/v1/products/{product_id}": "product.change",
    "GET /api/v1/products": "sales.products",
    "GET /api/v1/products/{product_id}": "sales.product",
    "POST /api/v1/products/{product_id}/stock-ins": "stock.receive",
    "POST /api/v1/products/{product_id}/price-changes": "product.price_change",
    "GET /api/v1/stock": "sales.stock",
    "POST /api/v1/problems": "problem.report",
    "POST /api/v1/problems/{problem_id}/resolve": "problem.resolve",
    "GET /api/v1/problems": "sales.problems",
    "POST /api/v1/targets": "target.set",
    "GET /api/v1/targets": "targets.list_targets",
    "GET /api/v1/targets/departments": "targets.department_attainment",
    "GET /api/v1/targets/{target_id}": "targets.get_target",
    "GET /api/v1/targets/{target_id}/records": "targets.target_records",
    "PATCH /api/v1/targets/{target_id}": "target.revise",
    "DELETE /api/v1/targets/{target_id}": "target.cancel",
    "POST /api/v1/work-reports": "work_report.submit",
    "GET /api/v1/work-reports": "targets.list_reports",
    "GET /api/v1/work-reports/{report_id}": "targets.get_report",
    "GET /api/v1/reports": "reports.catalogue",
    "GET /api/v1/reports/assets/plotly.min.js": "reports.chart_library",
    "GET /api/v1/reports/{report_id}": "report.read",
    "GET /api/v1/reports/{report_id}/view": "reports.view",
    "GET /api/v1/approvals": "inbox.approvals",
    "GET /api/v1/approvals/{approval_id}": "inbox.approval",
    "POST /api/v1/approvals/{approval_id}/approve": "approval.approve",
    "POST /api/v1/approvals/{approval_id}/reject": "approval.reject",
    "POST /api/v1/approvals/{approval_id}/withdraw": "approval.withdraw",
    "GET /api/v1/notifications": "inbox.notifications",
    "POST /api/v1/notifications/{notification_id}/read": "notification.read",
    "GET /api/v1/healthz": "admin.healthz",
    "GET /api/v1/admin/projections": "admin.projections",
    "POST /api/v1/admin/projections/{name}/rebuild": "projection.rebuild",
    "POST /api/v1/admin/pool/sweep": "pool.sweep",
    "GET /api/v1/operation-log": "operation_log.read",
    "GET /api/v1/metrics": "admin.metrics",
    "POST /api/v1/contracts/{contract_id}/delivery-requests": "delivery_request.create",
    "POST /api/v1/contracts/{contract_id}/return-requests": "return_request.create",
    "POST /api/v1/contracts/{contract_id}/exchange-requests": "exchange_request.create",
    "GET /api/v1/contracts/{contract_id}/warehouse-requests": "handoff.contract_requests",
    "GET /api/v1/warehouse-requests": "handoff.requests",
    "GET /api/v1/warehouse-requests/{request_id}": "handoff.request",
    "POST /api/v1/warehouse-requests/{request_id}/cancel": "warehouse_request.cancel",
}
UNKNOWN = "unknown"
_LEGACY_PATTERNS = [(re.compile("^" + re.sub(r"\\{[^}]*\\}", "[^/]+", re.escape(route)) + "$"), name)
                    for route, name in LEGACY_NAMES.items()]


def legacy_name(route: str) -> str:
    """The name of an entry written before names: its route's, also when it holds a path
    rather than the route's template (a request refused before routing)."""
    if route in LEGACY_NAMES:
        return LEGACY_NAMES[route]
    return next((name for pattern, name in _LEGACY_PATTERNS if pattern.match(route)), UNKNOWN)


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    if row.get("route") is None:
        row["route"] = row["operation"]
        row["operation"] = legacy_name(row["operation"])
    row["at"] = utc(row["at"])
    return row


def _legacy_routes(operation: str) -> list[str]:
    """The routes of entries written before names whose name contains the text searched for."""
    needle = unicodedata.normalize("NFKC", operation).casefold()
    return [route for route, name in LEGACY_NAMES.items() if needle in name]


def list_operations(
    conn: Connection, viewer: Actor, *, actor_id: str | None = None, start: datetime | None = None,
    end: datetime | None = None, outcome: str | None = None, operation: str | None = None,
    target_id: str | None = None, page: int = 1, page_size: int | None = 50, after: list[Any] | None = None,
) -> tuple[list[dict[str, Any]], int, list[Any] | None]:
    """Newest first. Admins and auditors read every entry, managers those of their people
    and their own."""
    log = operation_log
    conditions: list[ColumnElement[bool]] = []
    if not (viewer.sees_everything or viewer.is_manager):
        raise Forbidden("forbidden", "the operation log is for managers, admins and auditors")
    allowed = visible_people(conn, viewer)
    if allowed is not None:
        conditions.append(log.c.actor_id.in_(allowed))
    if actor_id:
        conditions.append(log.c.actor_id == actor_id)
    if start is not None:
        conditions.append(log.c.at >= start)
    if end is not None:
        conditions.append(log.c.at <= end)
    if outcome:
        conditions.append(log.c.outcome == outcome)
    if operation:
        # By name or by route, in new entries and in those written before names.
        pattern = like_pattern(operation)
        conditions.append(or_(func.lower(log.c.operation).like(pattern, escape="\\"),
                              func.lower(log.c.route).like(pattern, escape="\\"),
                              log.c.route.is_(None) & log.c.operation.in_(_legacy_routes(operation.strip()))))
    if target_id:
        conditions.append(log.c.target_id == target_id)
    total = conn.execute(select(func.count()).select_from(log).where(*conditions)).scalar_one()
    keyset = Keyset.of(Key("at", log.c.at, True), Key("id", log.c.id, True))
    query = (select(log, people.c.name.label("actor_name"))
             .select_from(log.outerjoin(people, people.c.id == log.c.actor_id))
             .where(*conditions).order_by(*keyset.order()))
    if after is not None:
        query = query.where(keyset.after(after))
    if page_size is not None:
        query = query.limit(page_size + 1)
        query = query if after is not None else query.offset((page - 1) * page_size)
    found, last = page_of(list(conn.execute(query).mappings()), page_size, keyset)
    rows = [_shown(dict(row)) for row in found]
    return rows, int(total), last
