"""A customer's audit dossier (H-2, H-3, H-5): one workbook an auditor takes away, with the
customer as it stands and as it stood after each of its events, the full history field by
field, its visits with their photo links and flags, its contracts and what was done on them,
the approval requests touching it, and the operation-log entries that targeted it.

The command line (`crm audit customer NUMBER --dossier FILE.xlsx`) and the API
(`GET /customers/{id}/dossier`) write it with this one builder. Titles are message ids of the
`crm` catalogue, read in the reader's locale. Cells are typed: moments are datetime cells on
the business clock (a spreadsheet has no time zones), dates date cells, money numbers with two
places; text stays text, also when it starts like a formula."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any
from uuid import UUID

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from aggregates.approval import KINDS as APPROVAL_KINDS
from api.exports import FORMULA_STARTS, XLSX_FORMATS
from commands import customers as cc
from commands.actor import Actor
from commands.adapters.infra import operation_log
from commands.base import business_tz, load_settings
from commands.bootstrap import Service
from commands.records import Replay, record_steps
from readmodels.history import history_items
from readmodels.i18n import N_, gettext
from readmodels.oplog import COLUMNS as OPLOG_COLUMNS
from readmodels.oplog import list_operations
from readmodels.org import people_names
from readmodels.reports.query_reports import DISTANCE_NOTES
from readmodels.sales import contract_view
from readmodels.tables import approvals, contracts, departments, payments, products, visits

# The customer's fields under their titles, in the order the state sheets show them; a field
# not named here (one added later) is shown under its own name.
FIELD_TITLES: dict[str, str] = {
    "number": N_("客户编号"), "name": N_("客户名称"), "type": N_("客户类型"), "source": N_("客户来源"),
    "region": N_("所属区域"), "address": N_("地址"), "building": N_("楼栋门牌"), "lat": N_("纬度"),
    "lng": N_("经度"), "contacts": N_("联系人"), "owner_id": N_("负责人"), "owner_since": N_("负责起始时间"),
    "in_pool": N_("在公海"), "pool_entered_at": N_("进入公海时间"), "pool_reason": N_("进入公海原因"),
    "shared_with": N_("共享给"), "shared_departments": N_("共享部门"), "status": N_("客户状态"),
    "stage": N_("跟进阶段"), "visit_count": N_("拜访次数"), "last_visit_at": N_("最近拜访时间"),
    "registered_by": N_("登记人"), "credited_to": N_("业绩归属"), "created_at": N_("登记时间"),
    "deleted": N_("已删除"), "deal_total": N_("成交金额"), "invoiced_total": N_("开票金额"),
    "collected_total": N_("回款金额"), "receivable": N_("应收金额"), "logo": N_("标志照片"),
}
# The fields that hold people's ids, and the one that holds departments' ids.
PEOPLE_FIELDS = frozenset({"owner_id", "shared_with", "registered_by", "credited_to", "last_owner_id"})
DEPARTMENT_FIELDS = frozenset({"shared_departments"})
MONEY_FIELDS = frozenset({"deal_total", "invoiced_total", "collected_total", "receivable"})

APPROVAL_STATUS = {"pending": N_("待审批"), "approved": N_("已批准"), "rejected": N_("已驳回"),
                   "withdrawn": N_("已撤回")}
# What was done on a contract, by the kind of its row in the execution sheet.
EXECUTION_KINDS = {"invoice": N_("开票"), "credit_note": N_("红字发票"), "payment": N_("回款"),
                   "delivery": N_("发货"), "return": N_("退货"), "exchange": N_("换货")}
DIRECTIONS = {"out": N_("出库"), "in": N_("入库")}

# A column: its key in the rows, its title (a message id), and the kind of its cells:
# text, int, number, money, quantity, date, datetime, bool, or value (typed by what it holds).
Column = tuple[str, str, str]
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


@dataclass(frozen=True)
class Sheet:
    title: str
    columns: Sequence[Column]
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class Dossier:
    """The workbook's sheets, and what names the file."""

    number: str
    name: str
    zone: tzinfo
    sheets: list[Sheet]

    def filename(self) -> str:
        return f"dossier-{self.number}.xlsx"


class NoSuchCustomer(LookupError):
    """The id is not a customer's (nothing of it is recorded, or it is another kind of record)."""


# ---- building --------------------------------------------------------------------------------

def build_dossier(service: Service, conn: Connection, viewer: Actor, customer_id: str) -> Dossier:
    """The dossier of one customer, read with the viewer's rights (admins and auditors see
    everything a dossier holds). NoSuchCustomer when the id is not a customer's."""
    try:
        uid = UUID(str(customer_id))
    except ValueError:
        raise NoSuchCustomer(customer_id) from None
    steps = record_steps(service.deps, "customer", uid)
    events = cc.customer_events(service.deps, uid)
    if not steps or not events:
        raise NoSuchCustomer(customer_id)
    zone = business_tz(load_settings(service.deps))
    states: list[tuple[Any, dict[str, Any]]] = []
    replay = Replay("customer")
    for step in steps:
        replay.apply(step)
        states.append((step.event, replay.view()))
    current = states[-1][1]
    names = _Names(conn)
    names.people({e.actor_id for e in events if e.actor_id})
    for _, state in states:
        names.people(_ids_in(state, PEOPLE_FIELDS))
        names.departments(_ids_in(state, DEPARTMENT_FIELDS))
    history = history_items(events, names.of_people)
    contract_ids = [str(i) for i in conn.execute(
        select(contracts.c.id).where(contracts.c.customer_id == str(uid))
        .order_by(contracts.c.signed_on, contracts.c.number, contracts.c.id)).scalars()]
    views = [v for v in (contract_view(conn, viewer, cid) for cid in contract_ids) if v is not None]
    names.people({str(v["salesperson_id"]) for v in views if v.get("salesperson_id")})
    sheets = [
        _current_sheet(current, names),
        _past_sheet(states, names),
        _history_sheet(history),
        _visits_sheet(conn, str(uid), names),
        _contracts_sheet(views, names),
        _lines_sheet(views),
        _execution_sheet(conn, str(uid), views),
        _approvals_sheet(conn, str(uid), contract_ids, names),
        _oplog_sheet(conn, viewer, [str(uid), *contract_ids]),
    ]
    return Dossier(str(current.get("number") or uid), str(current.get("name") or ""), zone, sheets)


class _Names:
    """People's and departments' names by id, looked up once each."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.of_people: dict[str, str] = {}
        self.of_departments: dict[str, str] = {}

    def people(self, ids: Iterable[str]) -> None:
        wanted = {str(i) for i in ids if i} - set(self.of_people)
        self.of_people.update(people_names(self.conn, wanted))

    def departments(self, ids: Iterable[str]) -> None:
        wanted = {str(i) for i in ids if i} - set(self.of_departments)
        if wanted:
            self.of_departments.update({str(i): str(n) for i, n in self.conn.execute(
                select(departments.c.id, departments.c.name).where(departments.c.id.in_(wanted)))})

    def person(self, person_id: Any) -> str | None:
        """`王芳 (id)`: the name a person reads and the id an auditor searches for."""
        if not person_id:
            return None
        name = self.of_people.get(str(person_id))
        return f"{name} ({person_id})" if name else str(person_id)

    def department(self, department_id: Any) -> str:
        name = self.of_departments.get(str(department_id))
        return f"{name} ({department_id})" if name else str(department_id)


def _ids_in(state: dict[str, Any], fields: frozenset[str]) -> set[str]:
    found: set[str] = set()
    for field in fields:
        value = state.get(field)
        if value:
            found.update(str(v) for v in (value if isinstance(value, list | tuple) else [value]))
    return found


def _field_value(field: str, value: Any, names: _Names) -> Any:
    """A field's value as the state sheets show it: people and departments by name and id,
    contacts one per line, the rest as it is (typed when written)."""
    if field in PEOPLE_FIELDS:
        ids = value if isinstance(value, list | tuple) else [value] if value else []
        return "\n".join(filter(None, (names.person(i) for i in ids))) or None
    if field in DEPARTMENT_FIELDS:
        return "\n".join(names.department(i) for i in value or []) or None
    if field == "contacts":
        return "\n".join(_contact(c) for c in value or []) or None
    if field in MONEY_FIELDS and value is not None:
        return Decimal(value)
    return value


def _contact(contact: dict[str, Any]) -> str:
    parts = [str(contact.get(k)) for k in ("name", "phone", "title") if contact.get(k)]
    return " ".join(parts) + ("（" + gettext(N_("主要联系人")) + "）" if contact.get("primary") else "")


def _field_title(field: str) -> str:
    return FIELD_TITLES.get(field, field)


def _current_sheet(state: dict[str, Any], names: _Names) -> Sheet:
    rows = [{"field": gettext(_field_title(f)), "key": f, "value": _field_value(f, v, names)}
            for f, v in state.items()]
    return Sheet(N_("当前状态"), (("field", N_("field"), "text"), ("key", N_("字段代码"), "text"),
                                  ("value", N_("value"), "value")), rows)


def _past_sheet(states: list[tuple[Any, dict[str, Any]]], names: _Names) -> Sheet:
    fields: list[str] = []
    for _, state in states:
        fields += [f for f in state if f not in fields]
    columns: list[Column] = [("_version", N_("version"), "int"), ("_at", N_("时间"), "datetime"),
                             ("_actor", N_("操作人"), "text"), ("_type", N_("事件类型"), "text")]
    columns += [(f, _field_title(f), "value") for f in fields]
    rows = []
    for version, (event, state) in enumerate(states, 1):
        row = {f: _field_value(f, state.get(f), names) for f in fields}
        row.update(_version=version, _at=event.timestamp, _actor=names.person(event.actor_id),
                   _type=type(event).__name__)
        rows.append(row)
    return Sheet(N_("历史状态"), columns, rows)


HISTORY_COLUMNS: tuple[Column, ...] = (
    ("version", N_("version"), "int"), ("at", N_("时间"), "datetime"), ("actor_name", N_("操作人"), "text"),
    ("actor_id", N_("操作人ID"), "text"), ("command_id", N_("命令ID"), "text"), ("type", N_("事件类型"), "text"),
    ("field_title", N_("field"), "text"), ("field", N_("字段代码"), "text"), ("old", N_("旧值"), "value"),
    ("new", N_("新值"), "value"),
)


def _history_sheet(items: list[dict[str, Any]]) -> Sheet:
    """A row per changed field of each event; an event that changed no field, one row."""
    rows = []
    for item in items:
        head = {k: item[k] for k in ("version", "at", "actor_name", "actor_id", "command_id", "type")}
        for change in item["changes"] or [None]:
            row = dict(head)
            if change is not None:
                row.update(field=change["field"], field_title=gettext(_field_title(change["field"])),
                           old=change["old"], new=change["new"])
            rows.append(row)
    return Sheet(N_("变更历史"), HISTORY_COLUMNS, rows)


def photo_path(customer_id: str, visit_id: str) -> str:
    """Where the API answers a visit's photo (for those who see the customer in full)."""
    return f"/api/v1/customers/{customer_id}/visits/{visit_id}/photo"


VISIT_COLUMNS: tuple[Column, ...] = (
    ("visited_at", N_("拜访时间"), "datetime"), ("recorded_at", N_("录入时间"), "datetime"),
    ("visitor", N_("拜访人"), "text"), ("address", N_("拜访地点"), "text"), ("region", N_("所属区域"), "text"),
    ("lat", N_("纬度"), "number"), ("lng", N_("经度"), "number"), ("contact", N_("联系人"), "text"),
    ("stage", N_("跟进阶段"), "text"), ("notes", N_("拜访内容"), "text"), ("late_entry", N_("补录"), "bool"),
    ("far_from_customer", N_("远离客户"), "bool"), ("distance_m", N_("距客户(米)"), "int"),
    ("distance_check", N_("距离核验"), "text"), ("distance_note", N_("距离核验说明"), "text"),
    ("photo", N_("照片链接"), "text"), ("photo_sha256", N_("照片SHA-256"), "text"),
    ("visit_id", N_("拜访ID"), "text"),
)


def _visits_sheet(conn: Connection, customer_id: str, names: _Names) -> Sheet:
    found = list(conn.execute(select(visits).where(visits.c.customer_id == customer_id)
                              .order_by(visits.c.visited_at, visits.c.visit_id)).mappings())
    names.people({v["visitor_id"] for v in found})
    rows = [{**dict(v), "visitor": names.person(v["visitor_id"]),
             "distance_note": gettext(DISTANCE_NOTES[v["distance_check"]]) if v["distance_check"] in DISTANCE_NOTES
             else None,
             "photo": photo_path(customer_id, v["visit_id"]) if v["photo"] else None, "photo_sha256": v["photo"]}
            for v in found]
    return Sheet(N_("拜访记录"), VISIT_COLUMNS, rows)


CONTRACT_COLUMNS: tuple[Column, ...] = (
    ("number", N_("合同编号"), "text"), ("name", N_("合同名称"), "text"), ("signed_on", N_("签订日期"), "date"),
    ("salesperson", N_("业务员"), "text"), ("amount", N_("合同金额"), "money"),
    ("returned_amount", N_("退货金额"), "money"), ("exchange_difference", N_("换货差价"), "money"),
    ("net_amount", N_("净成交金额"), "money"), ("invoiced", N_("开票金额"), "money"),
    ("credited_amount", N_("红冲金额"), "money"), ("collected", N_("回款金额"), "money"),
    ("remaining_to_invoice", N_("待开票金额"), "money"), ("outstanding", N_("应收金额"), "money"),
    ("credit", N_("超收金额"), "money"), ("fully_invoiced", N_("已开票完毕"), "bool"),
    ("fully_delivered", N_("已交付完毕"), "bool"), ("id", N_("合同ID"), "text"),
)


def _contracts_sheet(views: list[dict[str, Any]], names: _Names) -> Sheet:
    rows = [{**v, "salesperson": names.person(v.get("salesperson_id"))} for v in views]
    return Sheet(N_("合同"), CONTRACT_COLUMNS, rows)


LINE_COLUMNS: tuple[Column, ...] = (
    ("contract_number", N_("合同编号"), "text"), ("product_name", N_("产品名称"), "text"),
    ("signed_quantity", N_("签约数量"), "quantity"), ("returned", N_("退货数量"), "quantity"),
    ("exchanged", N_("换货数量"), "quantity"), ("quantity", N_("数量"), "quantity"),
    ("unit_price", N_("单价"), "money"), ("amount", N_("金额"), "money"),
    ("delivered", N_("已交付数量"), "quantity"), ("remaining", N_("待交付数量"), "quantity"),
    ("product_id", N_("产品ID"), "text"),
)


def _lines_sheet(views: list[dict[str, Any]]) -> Sheet:
    rows = [{**line, "contract_number": v["number"]} for v in views for line in v["lines"]]
    return Sheet(N_("合同明细"), LINE_COLUMNS, rows)


EXECUTION_COLUMNS: tuple[Column, ...] = (
    ("contract_number", N_("合同编号"), "text"), ("on", N_("日期"), "date"), ("kind", N_("类型"), "text"),
    ("amount", N_("金额"), "money"), ("product_name", N_("产品名称"), "text"), ("warehouse", N_("仓库"), "text"),
    ("direction", N_("方向"), "text"), ("quantity", N_("数量"), "quantity"),
    ("unit_cost", N_("单位成本"), "quantity"), ("note", N_("说明"), "text"), ("ref_id", N_("单据ID"), "text"),
)


def _execution_sheet(conn: Connection, customer_id: str, views: list[dict[str, Any]]) -> Sheet:
    """What was done on each contract, in date order: invoices and red-letter invoices, the
    customer's payments (also those not put against a contract), and the goods moved, a row
    per line."""
    product_names = {str(i): str(n) for i, n in conn.execute(select(products.c.id, products.c.name))}
    numbers = {str(v["id"]): v["number"] for v in views}
    rows: list[dict[str, Any]] = []

    def add(contract: str | None, kind: str, on: Any, ref: str, **more: Any) -> None:
        rows.append({"contract_number": contract, "on": on, "_kind": kind, "kind": gettext(EXECUTION_KINDS[kind]),
                     "ref_id": ref, **more})

    for v in views:
        for i in v["invoices"]:
            add(v["number"], "invoice", i["invoiced_on"], i["invoice_id"], amount=i["amount"])
        for n in v["credit_notes"]:
            add(v["number"], "credit_note", n["credited_on"], n["credit_note_id"], amount=n["amount"],
                note=n["reason"])
        for kind, key, on in (("delivery", "deliveries", "delivered_on"), ("return", "returns", "returned_on"),
                              ("exchange", "exchanges", "exchanged_on")):
            for moved in v[key]:
                ref = moved.get(f"{kind}_id")
                for line in moved["lines"]:
                    add(v["number"], kind, moved[on], ref, amount=line["amount"], warehouse=line["warehouse"],
                        product_name=product_names.get(str(line["product_id"]), line["product_id"]),
                        direction=gettext(DIRECTIONS[line["direction"]]), quantity=line["quantity"],
                        unit_cost=line["unit_cost"])
    for p in conn.execute(select(payments).where(payments.c.customer_id == customer_id)
                          .order_by(payments.c.received_on, payments.c.payment_id)):
        add(numbers.get(str(p.contract_id)) if p.contract_id else None, "payment", p.received_on, p.payment_id,
            amount=p.amount)
    order = list(EXECUTION_KINDS)
    rows.sort(key=lambda r: (r["on"], r["contract_number"] or "", order.index(r["_kind"])))
    return Sheet(N_("合同执行"), EXECUTION_COLUMNS, rows)


APPROVAL_COLUMNS: tuple[Column, ...] = (
    ("requested_at", N_("申请时间"), "datetime"), ("kind", N_("审批类型"), "text"),
    ("summary", N_("摘要"), "text"), ("status", N_("审批状态"), "text"), ("requester", N_("申请人"), "text"),
    ("decided_by", N_("审批人"), "text"), ("decided_at", N_("审批时间"), "datetime"),
    ("comment", N_("意见"), "text"), ("payload", N_("申请内容"), "value"), ("target_id", N_("对象"), "text"),
    ("id", N_("审批ID"), "text"),
)


def _approvals_sheet(conn: Connection, customer_id: str, contract_ids: list[str], names: _Names) -> Sheet:
    """The requests whose target is the customer or one of its contracts (a return, an exchange)."""
    found = [dict(r) for r in conn.execute(
        select(approvals).where(or_(approvals.c.target_id == customer_id, approvals.c.target_id.in_(contract_ids)))
        .order_by(approvals.c.requested_at, approvals.c.id)).mappings()]
    names.people({r["requester_id"] for r in found} | {r["decided_by"] for r in found if r["decided_by"]})
    rows = [{**r, "kind": gettext(APPROVAL_KINDS.get(r["kind"], r["kind"])),
             "status": gettext(APPROVAL_STATUS.get(r["status"], r["status"])),
             "requester": names.person(r["requester_id"]), "decided_by": names.person(r["decided_by"])}
            for r in found]
    return Sheet(N_("审批"), APPROVAL_COLUMNS, rows)


def _oplog_sheet(conn: Connection, viewer: Actor, targets: list[str]) -> Sheet:
    """The operation-log entries whose target was the customer, one of its contacts or visits,
    or one of its contracts, oldest first."""
    log = operation_log
    # An entry's target is its route's path parameters joined by "/": the customer's contacts
    # and visits are under the customer's id.
    within = [str(t) for t in conn.execute(select(log.c.target_id).distinct().where(
        or_(*(log.c.target_id.startswith(f"{target}/", autoescape=True) for target in targets)))).scalars()]
    rows: list[dict[str, Any]] = []
    for target in [*targets, *within]:
        rows += list_operations(conn, viewer, target_id=target, page_size=None)[0]
    rows.sort(key=lambda r: (r["at"], r["id"]))
    columns = [(k, title, "text" if kind == "id" else kind) for k, title, kind in OPLOG_COLUMNS]
    return Sheet(N_("操作日志"), columns, rows)


# ---- writing ---------------------------------------------------------------------------------

def dossier_bytes(dossier: Dossier) -> bytes:
    """The workbook: a sheet per part, its titles in bold, its cells typed."""
    zone = dossier.zone
    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for sheet in dossier.sheets:
        page = book.create_sheet(_sheet_title(gettext(sheet.title)))
        head = []
        for _, title, _ in sheet.columns:
            cell = _text_cell(page, gettext(title))
            cell.font = bold
            head.append(cell)
        page.append(head)
        for row in sheet.rows:
            page.append([_cell(page, row.get(key), kind, zone) for key, _, kind in sheet.columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_title(title: str) -> str:
    """A worksheet's name: at most 31 characters, none of those a workbook refuses in it."""
    return "".join("_" if ch in "[]:*?/\\" else ch for ch in title)[:31] or "sheet"


def _text_cell(page: WriteOnlyWorksheet, text: str) -> WriteOnlyCell:
    """Text that stays text: control characters (which a worksheet cannot hold) dropped, and
    one that starts like a formula stored as a string with the quote prefix, so neither the
    file nor a spreadsheet that edits the cell runs it."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    cell = WriteOnlyCell(page, value=text)
    if text.startswith(FORMULA_STARTS) or cell.data_type != "s":
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def _number(page: WriteOnlyWorksheet, value: Any, format: str | None) -> WriteOnlyCell:
    cell = WriteOnlyCell(page, value=value)
    if format:
        cell.number_format = format
    return cell


def business_moment(value: Any, zone: tzinfo) -> datetime:
    """A recorded moment (UTC; naive ones are UTC as SQLite hands them back) as the business
    clock showed it, to the second, without a zone (a spreadsheet cell has none)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).replace(tzinfo=None, microsecond=0)


def _cell(page: WriteOnlyWorksheet, value: Any, kind: str, zone: tzinfo) -> Any:
    if value is None or value == "" or value == []:
        return None
    if kind == "value":
        return _typed(page, value, zone)
    if kind == "datetime":
        return _number(page, business_moment(value, zone), DATETIME_FORMAT)
    if kind == "date":
        return _number(page, date.fromisoformat(value) if isinstance(value, str) else value, XLSX_FORMATS["date"])
    if kind in ("money", "quantity"):
        return _number(page, Decimal(value), XLSX_FORMATS[kind])
    if kind == "int":
        return _number(page, int(value), XLSX_FORMATS["int"])
    if kind == "number":
        return _number(page, value, None)
    if kind == "bool":
        return _text_cell(page, gettext(N_("是") if value else N_("否")))
    return _text_cell(page, str(value))


def _typed(page: WriteOnlyWorksheet, value: Any, zone: tzinfo) -> Any:
    """A cell of a column that holds values of every kind (a field's old and new values)."""
    if isinstance(value, bool):
        return _cell(page, value, "bool", zone)
    if isinstance(value, datetime):
        return _cell(page, value, "datetime", zone)
    if isinstance(value, date):
        return _cell(page, value, "date", zone)
    if isinstance(value, Decimal):
        return _number(page, value, XLSX_FORMATS["money"] if value.as_tuple().exponent == -2 else None)
    if isinstance(value, int | float):
        return _number(page, value, None)
    if isinstance(value, list | tuple | dict):
        return _text_cell(page, json.dumps(value, ensure_ascii=False, default=str, sort_keys=True))
    return _text_cell(page, str(value))
