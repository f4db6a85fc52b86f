"""Bulk import of historical customers (C-13) from the CSV or XLSX template of API.md.

Every row is checked first (duplicate names in the store or in the file, unknown
dictionary values or owners, bad dates, lengths, the owners' caps); a dry run stops there.
A commit saves the good rows in batches — each customer together with its name
reservation and its owner's profile, so no customer is ever half there — and keeps the
bad rows with their errors to download, fix and upload again."""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from uuid import uuid4

import sqlalchemy.exc
from eventsourcing.persistence import IntegrityError
from openpyxl import Workbook, load_workbook

from aggregates import bounds
from aggregates.base import Conflict, Context, DomainError, Invalid
from aggregates.customer import Customer
from aggregates.errors import fill
from aggregates.names import clean_name, normalise_name
from aggregates.organisation import Salesperson, Username
from aggregates.settings import Settings, type_names
from commands.actor import Actor
from commands.base import Deps, business_tz, cap_of, load_settings, save
from commands.messages import ImportCustomers
from commands.names import check_name_free, take_name

TEMPLATE = ("name", "type", "source", "region", "address", "building", "contact_name", "contact_phone",
            "owner_username", "created_at")
LIMITS = {"name": 200, "type": 100, "source": 100, "region": 100, "address": 500, "building": 200,
          "contact_name": 100, "contact_phone": 50, "owner_username": 64, "created_at": 40}
MAX_ROWS = 50_000
BATCH = 250
EXAMPLE = {"name": "示例科技有限公司", "type": "民营企业", "source": "展会", "region": "华东",
           "address": "上海市浦东新区示例路1号", "building": "A栋1201", "contact_name": "张先生",
           "contact_phone": "13800000000", "owner_username": "", "created_at": "2024-03-15"}

@dataclass
class RowError:
    """A row's refusal. Like a `DomainError`'s, its message is a template of the `errors`
    catalogue and the values that fill it (kept with the import, so that the edge shows it in
    the reader's language); `message` is the English text."""

    row: int
    field: str | None
    code: str
    message: str
    template: str = ""
    params: dict[str, Any] = dataclasses.field(default_factory=dict)  # `field` is the column here

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "code": self.code, "message": self.message,
                "template": self.template or self.message, "params": self.params}


@dataclass
class Row:
    number: int  # as a spreadsheet shows it: the header is row 1
    values: dict[str, str]
    owner_id: str | None = None
    created_at: datetime | None = None
    errors: list[RowError] = field(default_factory=list)

    def refuse(self, field_name: str | None, code: str, template: str, **params: Any) -> None:
        self.errors.append(RowError(self.number, field_name, code, fill(template, params), template,
                                    {k: v if isinstance(v, int | str) else str(v) for k, v in params.items()}))

    def refused(self, error: DomainError, field_name: str | None = None) -> None:
        """The row is refused as the domain refused it."""
        self.refuse(field_name or error.field, error.code, error.template, **error.params)


@dataclass
class ImportResult:
    import_id: str
    rows: int
    accepted: int
    dry_run: bool
    errors: list[RowError]
    position: int


def template(format: str) -> bytes:
    """The empty template with one example row."""
    if format == "csv":
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(TEMPLATE)
        writer.writerow([EXAMPLE[k] for k in TEMPLATE])
        return text.getvalue().encode("utf-8-sig")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "customers"
    sheet.append(list(TEMPLATE))
    sheet.append([EXAMPLE[k] for k in TEMPLATE])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_rows(data: bytes, filename: str) -> list[Row]:
    """The file's rows under the template's header (CSV in UTF-8 or GB18030, or XLSX)."""
    if data[:2] == b"PK" or filename.lower().endswith(".xlsx"):
        table = _xlsx(data)
    else:
        table = _csv(data)
    # Blank rows are skipped, but every row keeps its number in the spreadsheet (1 = the first).
    numbered = [(n, r) for n, r in enumerate(table, start=1) if any(str(v).strip() for v in r)]
    if not numbered:
        raise Invalid("empty_file", "the file has no header row", field="file")
    header = [str(h or "").strip().lower() for h in numbered[0][1]]
    missing = [c for c in TEMPLATE if c not in header]
    unknown = [c for c in header if c and c not in TEMPLATE]
    if missing or unknown:
        raise Invalid("bad_template", "the header must be the template's columns",
                      field="file", details={"expected": list(TEMPLATE), "missing": missing, "unknown": unknown})
    if len(numbered) - 1 > MAX_ROWS:
        raise Invalid("too_many_rows", "at most {max_rows} rows per file", field="file", max_rows=MAX_ROWS)
    rows = []
    for n, raw in numbered[1:]:
        values = {name: _text(raw[i]) if i < len(raw) else "" for i, name in enumerate(header) if name}
        rows.append(Row(n, values))
    return rows


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone number a spreadsheet turned into a number
    return str(value).strip()


def _csv(data: bytes) -> list[list[Any]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        try:
            return list(itertools.islice(csv.reader(io.StringIO(text)), MAX_ROWS + 2))
        except csv.Error as error:
            raise Invalid("bad_file", "not a readable CSV file: {error}", field="file", error=error) from None
    raise Invalid("bad_encoding", "the CSV is neither UTF-8 nor GB18030", field="file")


def _xlsx(data: bytes) -> list[list[Any]]:
    """The first sheet's rows, read no further than the row limit allows."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        if not book.worksheets:
            raise Invalid("bad_file", "the workbook has no sheet", field="file")
        rows = book.worksheets[0].iter_rows(values_only=True)
        return [list(row) for row in itertools.islice(rows, MAX_ROWS + 2)]
    except Invalid:
        raise
    except Exception:  # whatever a damaged workbook makes the reader raise, also while reading rows
        raise Invalid("bad_file", "not a readable XLSX workbook", field="file") from None


def _parse_moment(text: str, settings: Settings, now: datetime) -> datetime:
    """A date or datetime; without an offset it is business time. Not in the future."""
    text = text.strip()
    try:
        if len(text) <= 10:
            moment = datetime.combine(date.fromisoformat(text.replace("/", "-")), time(9, 0))
        else:
            moment = datetime.fromisoformat(text.replace("/", "-"))
    except ValueError:
        raise Invalid("bad_date", "use YYYY-MM-DD or YYYY-MM-DD HH:MM") from None
    if not bounds.DATE_MIN <= moment.date() <= bounds.DATE_MAX:
        raise Invalid("bad_date", "must lie between the years {min_year} and {max_year}",
                      min_year=bounds.DATE_MIN.year, max_year=bounds.DATE_MAX.year)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=business_tz(settings))
    moment = moment.astimezone(UTC)
    if moment > now:
        raise Invalid("bad_date", "lies in the future")
    return moment


def check_rows(rows: list[Row], deps: Deps, settings: Settings, now: datetime) -> None:
    """Record every row's errors; rows without errors are good to import."""
    dictionaries = settings.dictionaries
    allowed = {"type": set(type_names(dictionaries["customer_types"])), "source": set(dictionaries["sources"]),
               "region": set(dictionaries["regions"])}
    owners: dict[str, str | None] = {}
    seen: dict[str, int] = {}
    for row in rows:
        v = row.values
        for name, limit in LIMITS.items():
            if len(v.get(name, "")) > limit:
                row.refuse(name, "too_long", "at most {limit} characters", limit=limit)
        name = clean_name(v.get("name", ""))
        if not name:
            row.refuse("name", "required", "the name is required")
        else:
            key = normalise_name(name)
            try:
                check_name_free(deps, name)
                taken = None
            except Conflict as refusal:
                taken = refusal
            if taken is not None:
                row.refused(taken, "name")
            elif key in seen:
                row.refuse("name", "duplicate_in_file", "the same name as row {row}", row=seen[key])
            else:
                seen[key] = row.number
        for column, values in allowed.items():
            if v.get(column) and v[column] not in values:
                row.refuse(column, "unknown_value", "{value!r} is not a known {field}", value=v[column],
                           field=column)
        if v.get("contact_phone") and not v.get("contact_name"):
            row.refuse("contact_name", "required", "a contact phone needs a contact name")
        username = v.get("owner_username", "").strip()
        if username:
            if username.casefold() not in owners:
                owners[username.casefold()] = _owner(deps, username)
            row.owner_id = owners[username.casefold()]
            if row.owner_id is None:
                row.refuse("owner_username", "unknown_owner", "no salesperson with the username {username!r}",
                           username=username)
        if v.get("created_at"):
            try:
                row.created_at = _parse_moment(v["created_at"], settings, now)
            except Invalid as error:
                row.refused(error, "created_at")
    _check_caps(rows, deps, settings)


def _owner(deps: Deps, username: str) -> str | None:
    index = deps.store.find(Username.id_for(username), Username)
    if index is None or deps.store.find(Salesperson.id_for(index.person_id), Salesperson) is None:
        return None
    return index.person_id


def _check_caps(rows: list[Row], deps: Deps, settings: Settings) -> None:
    """P-3: an owner takes the good rows up to their cap; the rest are refused."""
    wanted = Counter(row.owner_id for row in rows if row.owner_id and not row.errors)
    room: dict[str, int] = {}
    for owner_id in wanted:
        profile = deps.store.find(Salesperson.id_for(owner_id), Salesperson)
        assert profile is not None
        room[owner_id] = cap_of(profile, settings) - len(profile.held)
    for row in rows:
        if row.owner_id and not row.errors:
            if room[row.owner_id] <= 0:
                row.refuse("owner_username", "cap_reached", "the owner holds as many customers as allowed")
            room[row.owner_id] -= 1


def import_customers(cmd: ImportCustomers, actor: Actor, deps: Deps) -> ImportResult:
    """C-13: check every row; unless a dry run, import the good ones and keep the bad ones."""
    settings = load_settings(deps)
    now = deps.clock.now()
    rows = read_rows(cmd.data, cmd.filename)
    check_rows(rows, deps, settings, now)
    import_id = str(uuid4())
    position = deps.store.head()
    if not cmd.dry_run:
        position = _commit([r for r in rows if not r.errors], import_id, settings, actor, deps) or position
    errors = [e for row in rows for e in row.errors]
    accepted = sum(1 for row in rows if not row.errors)
    _keep(import_id, cmd.filename, cmd.dry_run, rows, accepted, errors, actor, now, deps)
    return ImportResult(import_id, len(rows), accepted, cmd.dry_run, errors, position)


def _commit(good: list[Row], import_id: str, settings: Settings, actor: Actor, deps: Deps) -> int:
    """Save the good rows in batches; a batch that meets a clash is saved row by row."""
    month = deps.clock.now().astimezone(business_tz(settings)).strftime("%Y%m")
    position = 0
    for start in range(0, len(good), BATCH):
        batch = good[start:start + BATCH]
        last = deps.sequences.next(f"customer:{month}", len(batch))
        numbers = [f"KH{month}{n:06d}" for n in range(last - len(batch) + 1, last + 1)]
        try:
            position = _save_rows(list(zip(batch, numbers, strict=True)), import_id, settings, actor, deps)
        except (IntegrityError, sqlalchemy.exc.IntegrityError, DomainError):
            for row, number in zip(batch, numbers, strict=True):
                try:
                    position = _save_rows([(row, number)], import_id, settings, actor, deps) or position
                except (IntegrityError, sqlalchemy.exc.IntegrityError):
                    row.refuse("name", "concurrent_change", "the data changed meanwhile; import the row again")
                except DomainError as error:
                    row.refused(error, error.field or "name")
    if position:
        deps.after_commit(position)
    return position


def _save_rows(rows: list[tuple[Row, str]], import_id: str, settings: Settings, actor: Actor, deps: Deps) -> int:
    ctx = Context(actor_id=actor.person_id, command_id=f"import:{import_id}", at=deps.clock.now())
    profiles: dict[str, Salesperson] = {}
    changed: list[Any] = []
    for row, number in rows:
        v = row.values
        customer_id = uuid4()
        contacts = [{"name": v["contact_name"], "phone": v.get("contact_phone") or None, "primary": True}] \
            if v.get("contact_name") else []
        fields = {key: v.get(key) or None for key in ("type", "source", "region", "address", "building")}
        name = clean_name(v["name"])
        customer = Customer.register(ctx, id=customer_id, number=number, name=name, fields=fields,
                                     contacts=contacts, owner_id=row.owner_id, shared_with=[],
                                     created_at=row.created_at, credited_to=row.owner_id)
        changed += [customer, *take_name(deps, ctx, name, str(customer_id), number)]
        if row.owner_id:
            if row.owner_id not in profiles:
                found = deps.store.find(Salesperson.id_for(row.owner_id), Salesperson)
                assert found is not None
                profiles[row.owner_id] = found
            profile = profiles[row.owner_id]
            profile.take(ctx, str(customer_id), how="import", cap=cap_of(profile, settings),
                         day=ctx.at.astimezone(business_tz(settings)).date().isoformat())
    return save(deps, *changed, *profiles.values(), announce=False)


def _keep(import_id: str, filename: str, dry_run: bool, rows: list[Row], accepted: int, errors: list[RowError],
          actor: Actor, at: datetime, deps: Deps) -> None:
    rejected = [{"row": row.number, **row.values,
                 "error": "；".join(f"{e.field or ''} {e.code}: {e.message}".strip() for e in row.errors)}
                for row in rows if row.errors]
    deps.imports.keep({
        "id": import_id, "actor_id": actor.person_id, "at": at, "filename": filename[:200], "dry_run": dry_run,
        "rows": len(rows), "accepted": accepted, "rejected": rejected, "errors": [e.as_dict() for e in errors]})


def load_import(deps: Deps, import_id: str) -> dict[str, Any] | None:
    return deps.imports.load(import_id)
