"""Customer list and detail queries with the visibility rules R-2..R-4 applied."""

from __future__ import annotations

import math
import unicodedata
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Float, Text, and_, case, cast, exists, false, func, or_, select, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.sql import ColumnElement

from aggregates import bounds
from aggregates.base import Forbidden, Invalid
from commands.actor import Actor, is_sharee, sight
from readmodels.org import departments_above, managed_people, people_names, subtree
from readmodels.paging import Key, Keyset, page_of
from readmodels.search import word_grams
from readmodels.tables import (
    customer_contacts,
    customer_department_shares,
    customer_shares,
    customers,
    departments,
    people,
    visits,
)

ZERO = Decimal("0.00")
SCOPES = ("mine", "shared_by_me", "shared_with_me", "pool", "all")
SORTABLE = (
    "created_at", "updated_at", "name", "number", "type", "source", "region", "status", "stage",
    "visit_count", "last_visit_at", "pool_entered_at", "owner_since",
)
PUBLIC_FIELDS = (
    "id", "number", "name", "type", "region", "source", "status", "stage", "created_at",
    "pool_entered_at", "in_pool",
)


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without an offset; everything is stored in UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def search_normal(text: str) -> str:
    """What a search compares: the text's NFKC case fold (full-width characters match their
    half-width forms, as names are stored)."""
    return unicodedata.normalize("NFKC", text).casefold()


def like_pattern(text: str) -> str:
    """A LIKE pattern for "contains": wildcards in the text match themselves; full-width
    characters match their half-width forms (NFKC), as names are stored."""
    escaped = search_normal(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"



def access(conn: Connection, viewer: Actor, row: RowMapping, team: set[str] | None = None,
           shared: set[str] | None = None) -> str | None:
    """'full', 'public' (pool fields only) or None (hidden) for one customer row. A list
    passes the manager's `team` and the ids `shared` with the viewer, worked out once."""

    def in_team() -> bool:
        return row["owner_id"] in (team if team is not None else managed_people(conn, viewer))

    def is_shared() -> bool:
        if shared is not None:
            return row["id"] in shared
        sharees = {str(p) for p in conn.execute(select(customer_shares.c.person_id).where(
            customer_shares.c.customer_id == row["id"],
            customer_shares.c.person_id == viewer.person_id)).scalars()}
        return is_sharee(viewer.person_id, viewer.department_id, sharees,
                         lambda: subtree(conn, shared_departments(conn, str(row["id"]))))

    return sight(viewer, row["owner_id"], row["deleted"], in_team, is_shared)


def shared_departments(conn: Connection, customer_id: str) -> list[str]:
    return [str(d) for d in conn.execute(
        select(customer_department_shares.c.department_id)
        .where(customer_department_shares.c.customer_id == customer_id)
        .order_by(customer_department_shares.c.department_id)).scalars()]


def shared_with_viewer(conn: Connection, viewer: Actor,
                       column: ColumnElement[Any] | None = None) -> ColumnElement[bool]:
    """C-4, seed 002 §2.2.5 as one SQL condition on a customer id `column` (the customers'
    id by default): shared with the viewer by name, or with their department or one above it,
    as the viewer's department and the tree are now (`commands.actor.is_sharee`)."""
    column = customers.c.id if column is None else column
    by_name: ColumnElement[bool] = column.in_(
        select(customer_shares.c.customer_id).where(customer_shares.c.person_id == viewer.person_id))
    above = departments_above(conn, viewer.department_id)
    if not above:
        return by_name
    return or_(by_name, column.in_(select(customer_department_shares.c.customer_id).where(
        customer_department_shares.c.department_id.in_(above))))


def shared_ids(conn: Connection, viewer: Actor, among: list[str] | None = None) -> set[str]:
    """The ids of the customers shared with the viewer (`shared_with_viewer`), of `among`
    when given, looked up once."""
    conditions = [shared_with_viewer(conn, viewer)]
    if among is not None:
        conditions.append(customers.c.id.in_(among))
    return {str(c) for c in conn.execute(select(customers.c.id).where(*conditions)).scalars()}


def _seen_in_full(conn: Connection, viewer: Actor) -> ColumnElement[bool]:
    """The rows `access` reads in full, as one SQL condition (deleted rows aside: lists leave
    them out)."""
    if viewer.sees_everything:
        return true()
    me = viewer.person_id
    shared = shared_with_viewer(conn, viewer)
    full = or_(customers.c.owner_id == me, and_(customers.c.owner_id.is_not(None), shared))
    if viewer.is_manager:
        full = or_(full, customers.c.owner_id.is_(None), customers.c.owner_id.in_(managed_people(conn, viewer)))
    return full


def _scope_condition(conn: Connection, viewer: Actor, scope: str) -> ColumnElement[bool]:
    me = viewer.person_id
    if scope == "mine":
        return customers.c.owner_id == me
    if scope == "shared_by_me":
        return (customers.c.owner_id == me) & (customers.c.share_count > 0)
    if scope == "shared_with_me":
        # A customer shared with the owner's own department is still the owner's, not shared with them.
        return and_(shared_with_viewer(conn, viewer), customers.c.owner_id != me)
    if scope == "pool":
        return customers.c.in_pool == true()
    if viewer.sees_everything:
        return true()
    if viewer.is_manager:
        team = managed_people(conn, viewer) | {me}
        return or_(customers.c.in_pool == true(), customers.c.owner_id.in_(team))
    raise Forbidden("forbidden", "the 'all' scope is for managers, admins and auditors", field="scope")


def pool_due(conn: Connection, default_follow_days: int) -> ColumnElement[float]:
    """A-2: when a held, undealt customer's follow time runs out, in seconds since the epoch
    (UTC); NULL for the others. Reads the owner's `max_follow_days`, so the query joins people."""
    if conn.dialect.name == "postgresql":
        since: ColumnElement[Any] = func.extract("epoch", customers.c.owner_since)
    else:  # SQLite keeps the UTC moment as text; julianday reads it
        since = (func.julianday(customers.c.owner_since) - 2440587.5) * 86400.0
    follow = func.coalesce(people.c.max_follow_days, bounds.days(default_follow_days))
    held = and_(customers.c.owner_id.is_not(None), customers.c.owner_since.is_not(None),
                customers.c.status != "dealt")
    return cast(case((held, since + follow * 86400), else_=None), Float)


def _list_conditions(
    conn: Connection,
    viewer: Actor,
    *,
    scope: str,
    now: datetime,
    default_follow_days: int,
    q: str | None,
    types: list[str] | None,
    status: str | None,
    stage: str | None,
    region: str | None,
    source: str | None,
    owner_id: str | None,
    owner_inactive: bool | None,
    pool_within_days: int | None,
) -> list[ColumnElement[bool]]:
    if scope not in SCOPES:
        raise Invalid("validation_error", "scope must be one of {scopes}", field="scope", scopes=', '.join(SCOPES))
    conditions = [customers.c.deleted == false(), _scope_condition(conn, viewer, scope)]
    if owner_inactive is not None:
        # People leave: the customers still held by a deactivated person, for their manager to
        # hand on (`true`), or those whose owner is active (`false`); pool customers are neither.
        inactive = select(people.c.id).where(people.c.active == false())
        held = customers.c.owner_id.is_not(None)
        conditions.append(and_(held, customers.c.owner_id.in_(inactive)) if owner_inactive
                          else and_(held, customers.c.owner_id.not_in(inactive)))
    if pool_within_days is not None:
        # `days_until_pool` ≤ N: the follow time runs out within N days of now (or has).
        horizon = now.timestamp() + bounds.days(pool_within_days) * 86400
        conditions.append(pool_due(conn, default_follow_days) <= horizon)
    if q:
        pattern = like_pattern(q.strip())
        own_match: ColumnElement[bool] = or_(
            func.lower(customers.c.name).like(pattern, escape="\\"),
            func.lower(customers.c.number).like(pattern, escape="\\"),
        )
        contact_match: ColumnElement[bool] = exists().where(
            customer_contacts.c.customer_id == customers.c.id,
            or_(
                func.lower(customer_contacts.c.name).like(pattern, escape="\\"),
                func.lower(customer_contacts.c.phone).like(pattern, escape="\\"),
            ),
        )
        grams = word_grams(search_normal(q.strip()))
        if grams and conn.dialect.name == "postgresql":
            # The GIN indexes narrow the rows to those holding every gram of the word; the
            # LIKE above still decides (readmodels.search).
            wanted = cast(array(grams), postgresql.ARRAY(Text))
            own_match = and_(customers.c.grams.op("@>")(wanted), own_match)
            contact_match = and_(customers.c.contact_grams.op("@>")(wanted), contact_match)
        # A row matches only on what the viewer is shown of it: contacts and phones are not
        # among the public fields of a pool row, so they are searched on rows seen in full.
        if scope not in ("mine", "shared_by_me"):
            contact_match = and_(_seen_in_full(conn, viewer), contact_match)
        conditions.append(or_(own_match, contact_match))
    if types is not None:
        conditions.append(customers.c.type.in_(types))
    for column, value in (
        (customers.c.status, status), (customers.c.stage, stage), (customers.c.region, region),
        (customers.c.source, source), (customers.c.owner_id, owner_id),
    ):
        if value:
            conditions.append(column == value)
    return conditions


def list_customers(
    conn: Connection,
    viewer: Actor,
    *,
    scope: str,
    now: datetime,
    default_follow_days: int,
    q: str | None = None,
    types: list[str] | None = None,
    status: str | None = None,
    stage: str | None = None,
    region: str | None = None,
    source: str | None = None,
    owner_id: str | None = None,
    sort: str = "-created_at",
    page: int = 1,
    page_size: int = 50,
    owner_inactive: bool | None = None,
    pool_within_days: int | None = None,
    after: list[Any] | None = None,
) -> tuple[list[dict[str, Any]], int, list[Any] | None]:
    """A page of the list (`page`, or the rows `after` a cursor's key values), the exact total,
    and the key values of the page's last row when more rows follow (the next cursor's)."""
    conditions = _list_conditions(
        conn, viewer, scope=scope, now=now, default_follow_days=default_follow_days, q=q, types=types,
        status=status, stage=stage, region=region, source=source, owner_id=owner_id,
        owner_inactive=owner_inactive, pool_within_days=pool_within_days)
    descending = sort.startswith("-")
    key = sort.lstrip("-+")
    if key not in SORTABLE and key != "days_until_pool":
        raise Invalid("validation_error", "cannot sort by {key}", field="sort", key=key)
    # Sorting by the days left sorts by the moment the follow time runs out, which stays put
    # while the days count down; the rows without one (pool, dealt) come last.
    column = pool_due(conn, default_follow_days).label(key) if key == "days_until_pool" else customers.c[key]
    keyset = Keyset.of(Key(key, column, descending), Key("number", customers.c.number))
    joined = customers.outerjoin(people, people.c.id == customers.c.owner_id)

    counted = joined if pool_within_days is not None else customers
    total = conn.execute(select(func.count()).select_from(counted).where(*conditions)).scalar_one()
    extra = [column] if key == "days_until_pool" else []
    query = (
        select(customers, people.c.name.label("owner_name"), people.c.max_follow_days, *extra)
        .select_from(joined)
        .where(*conditions)
        .order_by(*keyset.order())
        .limit(page_size + 1)
    )
    query = query.where(keyset.after(after)) if after is not None else query.offset((page - 1) * page_size)
    found, last = page_of(list(conn.execute(query).mappings()), page_size, keyset)
    team = managed_people(conn, viewer) if viewer.is_manager and not viewer.sees_everything else None
    shared = shared_ids(conn, viewer, [r["id"] for r in found])
    items = []
    for row in found:
        level = access(conn, viewer, row, team, shared)
        item = customer_item(row, now, default_follow_days)
        items.append(public_only(item) if level != "full" else item)
    return items, int(total), last


def type_counts(
    conn: Connection,
    viewer: Actor,
    *,
    tree: list[dict[str, Any]],
    scope: str,
    now: datetime,
    default_follow_days: int,
    q: str | None = None,
    status: str | None = None,
    stage: str | None = None,
    region: str | None = None,
    source: str | None = None,
    owner_id: str | None = None,
    owner_inactive: bool | None = None,
    pool_within_days: int | None = None,
) -> dict[str, Any]:
    """C-14: the customer-type tree of the dictionary with, per node, the customers of the
    scope (and filters) of that very type (`count`) and of it with its subtypes (`total`), the
    numbers the list shows when filtered by that type. Customers of a type the dictionary no
    longer holds are counted in `unlisted`."""
    conditions = _list_conditions(
        conn, viewer, scope=scope, now=now, default_follow_days=default_follow_days, q=q, types=None,
        status=status, stage=stage, region=region, source=source, owner_id=owner_id,
        owner_inactive=owner_inactive, pool_within_days=pool_within_days)
    counted = (customers.outerjoin(people, people.c.id == customers.c.owner_id)
               if pool_within_days is not None else customers)
    by_type = {row.type: int(row.n) for row in conn.execute(
        select(customers.c.type, func.count().label("n")).select_from(counted)
        .where(*conditions).group_by(customers.c.type))}
    listed: set[str] = set()

    def node(entry: dict[str, Any]) -> dict[str, Any]:
        listed.add(entry["name"])
        children = [node(child) for child in entry.get("children") or []]
        own = by_type.get(entry["name"], 0)
        return {"name": entry["name"], "count": own, "total": own + sum(c["total"] for c in children),
                "children": children}

    items = [node(entry) for entry in tree]
    return {"scope": scope, "items": items, "total": sum(by_type.values()),
            "unlisted": sum(n for name, n in by_type.items() if name not in listed)}


def customer_id_by_number(conn: Connection, number: str) -> str | None:
    found = conn.execute(select(customers.c.id).where(customers.c.number == number)).scalar()
    return str(found) if found else None


def visit_photo(conn: Connection, customer_id: str, visit_id: str) -> str | None:
    return conn.execute(select(visits.c.photo).where(visits.c.customer_id == customer_id,
                                                     visits.c.visit_id == visit_id)).scalar()


def sweep_candidates(conn: Connection, now: datetime, default_follow_days: int, warning_days: int) -> list[str]:
    """A-1, A-2: held, undealt customers whose holding has run out at `now`, or whose owner
    is inside the warning window and not yet warned for this holding."""
    shortest = conn.execute(select(func.min(people.c.max_follow_days))).scalar()
    default_follow_days, warning_days = bounds.days(default_follow_days), bounds.days(warning_days)
    shortest = min(default_follow_days, bounds.days(shortest or default_follow_days))
    horizon = now - timedelta(days=max(shortest - warning_days, 0))
    rows = conn.execute(
        select(customers.c.id, customers.c.owner_since, customers.c.warned_for, people.c.max_follow_days)
        .select_from(customers.outerjoin(people, people.c.id == customers.c.owner_id))
        .where(customers.c.owner_id.is_not(None), customers.c.status != "dealt", customers.c.deleted == false(),
               customers.c.owner_since <= horizon)
        .order_by(customers.c.owner_since, customers.c.id)
    )
    due = []
    for row in rows:
        since = utc(row.owner_since)
        assert since is not None
        deadline = since + timedelta(days=bounds.days(row.max_follow_days or default_follow_days))
        warned = row.warned_for is not None and utc(row.warned_for) == since
        if now >= deadline or (now >= deadline - timedelta(days=warning_days) and not warned):
            due.append(str(row.id))
    return due


def days_until_pool(row: RowMapping, now: datetime, default_follow_days: int) -> int | None:
    """A-2: whole days left before the owner's follow time runs out (0 when overdue)."""
    since = utc(row["owner_since"])
    if row["owner_id"] is None or since is None or row["status"] == "dealt":
        return None
    limit = row.get("max_follow_days") or default_follow_days
    left = since + timedelta(days=bounds.days(limit)) - now
    return max(0, math.ceil(left.total_seconds() / 86400))


def customer_item(row: RowMapping, now: datetime, default_follow_days: int) -> dict[str, Any]:
    return {
        "id": row["id"],
        "number": row["number"],
        "name": row["name"],
        "type": row["type"],
        "source": row["source"],
        "region": row["region"],
        "address": row["address"],
        "building": row["building"],
        "lat": row["lat"],
        "lng": row["lng"],
        "status": row["status"],
        "stage": row["stage"],
        "owner_id": row["owner_id"],
        "owner_name": row.get("owner_name"),
        "owner_since": utc(row["owner_since"]),
        "in_pool": row["in_pool"],
        "pool_entered_at": utc(row["pool_entered_at"]),
        "pool_reason": row["pool_reason"],
        "created_at": utc(row["created_at"]),
        "updated_at": utc(row["updated_at"]),
        "visit_count": row["visit_count"],
        "last_visit_at": utc(row["last_visit_at"]),
        "primary_contact_name": row["primary_contact_name"],
        "primary_contact_phone": row["primary_contact_phone"],
        "days_until_pool": days_until_pool(row, now, default_follow_days),
        "deal_total": row["deal_total"],
        "invoiced_total": row["invoiced_total"],
        "collected_total": row["collected_total"],
        # D-3 as amended: what is left to collect of the net deals, or collected beyond them.
        "receivable": max(ZERO, row["deal_total"] - row["collected_total"]),
        "credit": max(ZERO, row["collected_total"] - row["deal_total"]),
        "deleted": row["deleted"],
        "logo": row["logo"],
        "version": row["version"],
    }


def public_only(item: dict[str, Any]) -> dict[str, Any]:
    return {key: item[key] for key in PUBLIC_FIELDS}


def get_customer_row(conn: Connection, customer_id: str) -> RowMapping | None:
    return (
        conn.execute(
            select(customers, people.c.name.label("owner_name"), people.c.max_follow_days)
            .select_from(customers.outerjoin(people, people.c.id == customers.c.owner_id))
            .where(customers.c.id == customer_id)
        )
        .mappings()
        .first()
    )


def customer_detail(
    conn: Connection, row: RowMapping, now: datetime, default_follow_days: int
) -> dict[str, Any]:
    """The full view: the list row plus contacts, sharees and recent visits."""
    item = customer_item(row, now, default_follow_days)
    cid = row["id"]
    item["contacts"] = [
        {"id": c.contact_id, "name": c.name, "phone": c.phone, "title": c.title, "primary": c.is_primary}
        for c in conn.execute(
            select(customer_contacts)
            .where(customer_contacts.c.customer_id == cid)
            .order_by(customer_contacts.c.seq)
        )
    ]
    sharees = [str(p) for p in conn.execute(
        select(customer_shares.c.person_id).where(customer_shares.c.customer_id == cid)
    ).scalars()]
    names = people_names(conn, set(sharees))
    item["shared_with"] = [{"person_id": p, "name": names.get(p)} for p in sorted(sharees)]
    department_ids = shared_departments(conn, str(cid))
    department_names = dict(conn.execute(select(departments.c.id, departments.c.name)
                                         .where(departments.c.id.in_(department_ids))).tuples().all())
    item["shared_departments"] = [{"department_id": d, "name": department_names.get(d)} for d in department_ids]
    visit_rows = list(
        conn.execute(
            select(visits).where(visits.c.customer_id == cid).order_by(visits.c.visited_at.desc()).limit(50)
        ).mappings()
    )
    visitor_names = people_names(conn, {v["visitor_id"] for v in visit_rows})
    item["visits"] = [
        {
            "visit_id": v["visit_id"], "visited_at": utc(v["visited_at"]),
            "visitor_id": v["visitor_id"], "visitor_name": visitor_names.get(v["visitor_id"]),
            "lat": v["lat"], "lng": v["lng"], "address": v["address"], "contact": v["contact"],
            "stage": v["stage"], "notes": v["notes"], "late_entry": v["late_entry"], "photo": v["photo"],
            "region": v["region"], "far_from_customer": v["far_from_customer"], "distance_m": v["distance_m"],
            "distance_check": v["distance_check"],
        }
        for v in visit_rows
    ]
    return item
