"""Handlers for customers: register, change, contacts, shares, pool moves, visits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal
from uuid import UUID, uuid4

from aggregates import bounds
from aggregates.base import Context, DomainError, Forbidden, Invalid, NotFound
from aggregates.customer import Customer
from aggregates.names import CustomerName, clean_name
from aggregates.organisation import Department
from aggregates.settings import Settings, type_names
from commands.actor import Actor, is_sharee, sight
from commands.adapters.photos import read_photo
from commands.base import (
    Deps,
    Handler,
    Result,
    as_utc,
    business_day,
    business_tz,
    cap_of,
    check_in,
    check_people,
    context,
    load_customer,
    load_salesperson,
    load_settings,
    parse_uuid,
    retrying,
    save,
)
from commands.messages import (
    AddContact,
    AssignCustomer,
    ChangeCustomerInfo,
    ChangeLogo,
    ChangeShares,
    ClaimCustomer,
    ClaimCustomers,
    Command,
    DeleteCustomer,
    EditContact,
    RecordVisit,
    RegisterCustomer,
    RemoveContact,
    RestoreCustomer,
    ReturnCustomersToPool,
    ReturnToPool,
    ShareCustomers,
    TransferCustomer,
    TransferCustomers,
)
from commands.names import check_name_free, free_name, take_name


def _check_dictionary_values(settings: Settings, values: dict[str, Any]) -> None:
    d = settings.dictionaries
    check_in(values.get("type"), type_names(d["customer_types"]), "type")
    check_in(values.get("source"), d["sources"], "source")
    check_in(values.get("region"), d["regions"], "region")
    check_in(values.get("stage"), d["stages"], "stage")


def _may_change(deps: Deps, actor: Actor, customer: Customer) -> None:
    """R-2: the owner, a manager of the owner, or an admin; sharees only read."""
    customer.ensure_changeable_by(actor.person_id, deps.organisation.manages(actor, customer.owner_id))


def may_see(deps: Deps, actor: Actor, customer: Customer) -> bool:
    """R-2..R-4 on the customer's own state, as the read side decides them (`sight`): the
    owner, sharees, managers of the owner, admins and auditors; the pool (its public fields)
    everybody."""
    return sight(actor, customer.owner_id, customer.deleted,
                 lambda: deps.organisation.manages(actor, customer.owner_id),
                 lambda: shares_with(deps, actor, customer)) is not None


def shares_with(deps: Deps, actor: Actor, customer: Customer) -> bool:
    """C-4, seed 002 §2.2.5: the customer is shared with the actor by name, or with the
    department they are in now (as the event store has it) or one above it."""

    def departments_below() -> set[str]:
        return deps.organisation.subtree(customer.shared_departments)

    if not customer.shared_departments:
        return actor.person_id in customer.shared_with
    current = deps.organisation.actor_of(actor.person_id)
    department = current.department_id if current is not None else actor.department_id
    return is_sharee(actor.person_id, department, customer.shared_with, departments_below)


def load_visible(deps: Deps, actor: Actor, customer_id: str) -> Customer:
    """The customer, when the actor may see it: one they may not see is as missing as one that
    does not exist (404), so no refusal tells its existence or its state away."""
    customer = load_customer(deps, customer_id)
    if not may_see(deps, actor, customer):
        raise NotFound("not_found", "no such customer")
    return customer


def register_customer(cmd: RegisterCustomer, actor: Actor, deps: Deps) -> Result:
    """C-1, C-2: a unique name, a fresh number, into the registrant's hands or the pool."""
    settings = load_settings(deps)
    name = clean_name(cmd.name)
    if not name:
        raise Invalid("validation_error", "name is required", field="name")
    fields = {
        "type": cmd.type, "source": cmd.source, "region": cmd.region, "address": cmd.address,
        "building": cmd.building, "lat": cmd.lat, "lng": cmd.lng, "stage": cmd.stage,
    }
    _check_dictionary_values(settings, fields)
    if cmd.created_at is not None and "admin" not in actor.roles:
        raise Forbidden("forbidden", "only admins set a historical created_at", field="created_at")
    owner = None if cmd.to_pool else actor.person_id
    check_people(deps, cmd.share_with, "share_with")
    customer_id = uuid4()
    number: list[str] = []

    def attempt() -> Result:
        ctx = context(deps, actor)
        check_name_free(deps, name)
        profile = load_salesperson(deps, owner, "to_pool") if owner else None
        if not number:
            month = ctx.at.astimezone(business_tz(settings)).strftime("%Y%m")
            number.append(f"KH{month}{deps.sequences.take('customer:' + month):06d}")
        customer = Customer.register(
            ctx, id=customer_id, number=number[0], name=name, fields=fields,
            contacts=cmd.contacts, owner_id=owner, shared_with=cmd.share_with,
            created_at=as_utc(cmd.created_at, settings),
        )
        names = take_name(deps, ctx, name, str(customer_id), number[0])
        if profile is not None:
            profile.take(
                ctx, str(customer_id), how="register", cap=cap_of(profile, settings),
                day=business_day(ctx.at, settings).isoformat(),
            )
        position = save(deps, customer, *names, profile)
        return Result(position, {"id": str(customer_id), "number": number[0]})

    return retrying(attempt)


def change_customer_info(cmd: ChangeCustomerInfo, actor: Actor, deps: Deps) -> Result:
    """C-3: field-level old→new; a new name moves the name reservation in the same save. On
    approval (`approved_by`) the approver sees the customer; the requester's rights are
    checked, and one who lost them gets `not_owner`."""
    changes = clean_changes(cmd.changes, deps)

    def attempt() -> Result:
        ctx = context(deps, actor)
        customer = (load_customer(deps, cmd.customer_id) if cmd.approved_by
                    else load_visible(deps, actor, cmd.customer_id))
        _may_change(deps, actor, customer)
        old_name = customer.name
        customer.change_info(ctx, changes, cmd.reason, cmd.approved_by, cmd.requested_at)
        return Result(save(deps, customer, *_move_name(deps, ctx, customer, old_name)), {"id": cmd.customer_id})

    return retrying(attempt)


def _move_name(deps: Deps, ctx: Context, customer: Customer, old_name: str) -> list[Any]:
    """C-2 after a rename: take the new name's reservation (or refuse), free the old one."""
    if CustomerName.id_for(customer.name) == CustomerName.id_for(old_name):
        return []
    taken = take_name(deps, ctx, customer.name, str(customer.id), customer.number)
    return [*taken, *free_name(deps, ctx, old_name, str(customer.id), keep=customer.name)]


def restore_customer(cmd: RestoreCustomer, actor: Actor, deps: Deps) -> Result:
    """H-4: an admin puts the customer's fields back to an earlier version, as a new event."""
    if "admin" not in actor.roles:
        raise Forbidden("forbidden", "only admins restore a customer")

    def attempt() -> Result:
        ctx = context(deps, actor)
        customer = load_visible(deps, actor, cmd.customer_id)
        if not 1 <= cmd.version < customer.version:
            raise Invalid("invalid_version", "choose a version from 1 to {last}",
                          field="version", last=customer.version - 1)
        past = customer_at(deps, cmd.customer_id, version=cmd.version).view()
        old_name = customer.name
        changes = customer.restore(ctx, cmd.version, past, cmd.reason)
        # Dictionary values removed since that version do not come back.
        _check_dictionary_values(load_settings(deps), {c["field"]: c["new"] for c in changes})
        return Result(save(deps, customer, *_move_name(deps, ctx, customer, old_name)), {"id": cmd.customer_id})

    return retrying(attempt)


def clean_changes(changes: dict[str, Any], deps: Deps) -> dict[str, Any]:
    cleaned = dict(changes)
    if "name" in cleaned:
        cleaned["name"] = clean_name(str(cleaned["name"] or ""))
    _check_dictionary_values(load_settings(deps), cleaned)
    return cleaned


def add_contact(cmd: AddContact, actor: Actor, deps: Deps) -> Result:
    def attempt() -> Result:
        customer = load_visible(deps, actor, cmd.customer_id)
        _may_change(deps, actor, customer)
        contact_id = customer.add_contact(context(deps, actor), cmd.contact)
        return Result(save(deps, customer), {"id": contact_id})

    return retrying(attempt)


def edit_contact(cmd: EditContact, actor: Actor, deps: Deps) -> Result:
    def attempt() -> Result:
        customer = load_visible(deps, actor, cmd.customer_id)
        _may_change(deps, actor, customer)
        customer.edit_contact(context(deps, actor), cmd.contact_id, cmd.changes)
        return Result(save(deps, customer), {"id": cmd.contact_id})

    return retrying(attempt)


def remove_contact(cmd: RemoveContact, actor: Actor, deps: Deps) -> Result:
    def attempt() -> Result:
        customer = load_visible(deps, actor, cmd.customer_id)
        _may_change(deps, actor, customer)
        customer.remove_contact(context(deps, actor), cmd.contact_id)
        return Result(save(deps, customer), {"id": cmd.contact_id})

    return retrying(attempt)


def change_shares(cmd: ChangeShares, actor: Actor, deps: Deps) -> Result:
    """C-4: the owner or a manager shares read access with named people; seed 002 §2.2.5:
    or with whole departments, whose members (and those of the departments below) read it
    for as long as they belong there."""
    check_people(deps, cmd.add, "add")
    check_departments(deps, cmd.add_departments, "add_departments")

    def attempt() -> Result:
        customer = load_visible(deps, actor, cmd.customer_id)
        _may_change(deps, actor, customer)
        customer.change_shares(context(deps, actor), cmd.add, cmd.remove, cmd.add_departments,
                               cmd.remove_departments)
        return Result(save(deps, customer), {"id": cmd.customer_id})

    return retrying(attempt)


def check_departments(deps: Deps, department_ids: list[str], field_name: str) -> None:
    for department_id in department_ids:
        if deps.store.find(parse_uuid(department_id, field_name), Department) is None:
            raise Invalid("unknown_department", "no such department {department_id}", field=field_name,
                          department_id=department_id)


def claim_customer(cmd: ClaimCustomer, actor: Actor, deps: Deps) -> Result:
    """C-5, P-3: customer and salesperson are saved together, so neither the one-owner
    rule nor the cap can be broken by simultaneous claims."""

    def attempt() -> Result:
        settings = load_settings(deps)
        ctx = context(deps, actor)
        customer = load_visible(deps, actor, cmd.customer_id)
        profile = load_salesperson(deps, actor.person_id)
        customer.claim(ctx, actor.person_id, int(settings.rules["reclaim_cooldown_days"] or 0))
        # P-3: a dealt customer does not count against the cap; the daily limit still counts it.
        profile.take(
            ctx, cmd.customer_id, how="claim", cap=cap_of(profile, settings),
            day=business_day(ctx.at, settings).isoformat(),
            daily_limit=settings.rules.get("daily_claim_limit"), counted=customer.status != "dealt",
        )
        return Result(save(deps, customer, profile), {"id": cmd.customer_id})

    return retrying(attempt)


def return_to_pool(cmd: ReturnToPool, actor: Actor, deps: Deps) -> Result:
    """C-6: release by the owner, recall by a manager of the owner (or an admin)."""

    if cmd.reason not in ("released", "recalled"):
        # `overdue` is the sweep's, which decides it on the customer's own events.
        raise Invalid("validation_error", "reason must be released or recalled", field="reason")

    def attempt() -> Result:
        ctx = context(deps, actor)
        customer = load_visible(deps, actor, cmd.customer_id)
        if cmd.reason == "released" and customer.owner_id != actor.person_id:
            raise Forbidden("not_owner", "only the owner releases a customer")
        if cmd.reason == "recalled" and not deps.organisation.manages(actor, customer.owner_id):
            raise Forbidden("forbidden", "only a manager of the owner recalls a customer")
        previous = customer.return_to_pool(ctx, cmd.reason, cmd.note)
        profile = load_salesperson(deps, previous)
        profile.let_go(ctx, cmd.customer_id, cmd.reason)
        return Result(save(deps, customer, profile), {"id": cmd.customer_id})

    return retrying(attempt)


def transfer_customer(cmd: TransferCustomer, actor: Actor, deps: Deps) -> Result:
    """C-7: the owner (or a manager) hands a customer to a colleague; the receiver's cap holds."""
    parse_uuid(cmd.to_person_id, "to_person_id")

    def attempt() -> Result:
        settings = load_settings(deps)
        ctx = context(deps, actor)
        customer = load_visible(deps, actor, cmd.customer_id)
        _may_change(deps, actor, customer)
        receiver = load_salesperson(deps, cmd.to_person_id, "to_person_id")
        previous = customer.transfer(ctx, cmd.to_person_id, cmd.reason)
        giver = load_salesperson(deps, previous)
        giver.let_go(ctx, cmd.customer_id, "transfer")
        receiver.take(  # P-3: dealt customers do not count against the cap
            ctx, cmd.customer_id, how="transfer", cap=cap_of(receiver, settings),
            day=business_day(ctx.at, settings).isoformat(), counted=customer.status != "dealt",
        )
        return Result(save(deps, customer, giver, receiver), {"id": cmd.customer_id})

    return retrying(attempt)


def assign_customer(cmd: AssignCustomer, actor: Actor, deps: Deps) -> Result:
    """C-7: a manager assigns a pool customer or one of their people's customers."""
    parse_uuid(cmd.to_person_id, "to_person_id")
    if not deps.organisation.manages(actor, cmd.to_person_id):
        raise Forbidden("forbidden", "the receiver is outside your departments", field="to_person_id")

    def attempt() -> Result:
        settings = load_settings(deps)
        ctx = context(deps, actor)
        customer = load_visible(deps, actor, cmd.customer_id)
        if customer.owner_id is not None and not deps.organisation.manages(actor, customer.owner_id):
            raise Forbidden("forbidden", "the customer is held outside your departments")
        receiver = load_salesperson(deps, cmd.to_person_id, "to_person_id")
        previous = customer.assign(ctx, cmd.to_person_id)
        giver = load_salesperson(deps, previous) if previous else None
        if giver is not None:
            giver.let_go(ctx, cmd.customer_id, "assign")
        receiver.take(  # P-3: dealt customers do not count against the cap
            ctx, cmd.customer_id, how="assign", cap=cap_of(receiver, settings),
            day=business_day(ctx.at, settings).isoformat(), counted=customer.status != "dealt",
        )
        return Result(save(deps, customer, giver, receiver), {"id": cmd.customer_id})

    return retrying(attempt)


def delete_customer(cmd: DeleteCustomer, actor: Actor, deps: Deps) -> Result:
    """C-8: unclaimed pool customers only; the name becomes free again, history stays."""

    def attempt() -> Result:
        ctx = context(deps, actor)
        customer = load_visible(deps, actor, cmd.customer_id)
        customer.delete(ctx)
        freed = free_name(deps, ctx, customer.name, cmd.customer_id)
        return Result(save(deps, customer, *freed), {"id": cmd.customer_id})

    return retrying(attempt)


def record_visit(cmd: RecordVisit, actor: Actor, deps: Deps) -> Result:
    """C-10: by the owner, a sharee or a manager of the owner. C-11: a JPEG photo's EXIF
    time and GPS position become the visit's time and location; the photo is stored by
    its sha256. Seed 000 §2: the photo may be required (`visit_photo_required`), and one taken
    farther than `visit_max_distance_m` from the customer flags the visit `far_from_customer`."""
    settings = load_settings(deps)
    check_in(cmd.stage, settings.dictionaries["stages"], "stage")
    check_in(cmd.region, settings.dictionaries["regions"], "region")
    bounds.day(cmd.visited_at, "visited_at")  # before it is moved to UTC, which year 1 or 9999 cannot take
    photo = cmd.photo
    info = read_photo(photo, business_tz(settings), deps.max_photo_bytes) if photo is not None else None
    visited_at = as_utc(info.taken_at if info and info.taken_at else cmd.visited_at, settings)
    lat, lng = (info.lat, info.lng) if info and info.lat is not None else (cmd.lat, cmd.lng)

    def attempt() -> Result:
        ctx = context(deps, actor)
        customer = load_visible(deps, actor, cmd.customer_id)
        allowed = (
            customer.owner_id == actor.person_id
            or shares_with(deps, actor, customer)  # by name or through a department (seed 002 §2.2.5)
            or deps.organisation.manages(actor, customer.owner_id)
        )
        if not allowed:
            raise Forbidden("not_owner", "only the owner, a sharee or a manager records visits")
        visit = customer.record_visit(
            ctx,
            visited_at=visited_at or ctx.at,
            late_entry_hours=int(settings.rules["late_entry_hours"]),
            lat=lat, lng=lng, address=cmd.address, contact=cmd.contact,
            stage=cmd.stage, notes=cmd.notes,
            photo=info.sha256 if info else None, photo_exif=info.exif() if info else None,
            region=cmd.region, photo_required=bool(settings.rules["visit_photo_required"]),
            max_distance_m=int(settings.rules["visit_max_distance_m"]),
        )
        if photo is not None:
            deps.blobs.put(photo)  # the checks passed; the blob lands before the event that names it
        return Result(save(deps, customer), {
            "visit_id": visit.visit_id, "late_entry": visit.late_entry,
            "far_from_customer": visit.distance.far, "distance_m": visit.distance.distance_m,
            "distance_check": visit.distance.status,
        })

    return retrying(attempt)


def change_logo(cmd: ChangeLogo, actor: Actor, deps: Deps) -> Result:
    """C-1, C-11: the customer's logo, a JPEG stored by its sha256."""
    settings = load_settings(deps)
    info = read_photo(cmd.photo, business_tz(settings), deps.max_photo_bytes)

    def attempt() -> Result:
        customer = load_visible(deps, actor, cmd.customer_id)
        _may_change(deps, actor, customer)
        customer.change_logo(context(deps, actor), info.sha256)
        deps.blobs.put(cmd.photo)
        return Result(save(deps, customer), {"id": cmd.customer_id, "photo": info.sha256})

    return retrying(attempt)


def customer_at(deps: Deps, customer_id: str, *, version: int | None = None,
                as_of: datetime | None = None) -> Customer:
    """H-3: the customer as it was at a version or a moment, rebuilt from its events."""
    uid = parse_uuid(customer_id, "customer_id")
    if as_of is not None:
        version = None
        events: list[Any] = list(deps.store.events.get(uid))
        for event in events:
            if event.timestamp <= as_of:
                version = event.originator_version
        if version is None:
            raise NotFound("not_found", "the customer did not exist at that moment", field="as_of")
    try:
        customer: Any = deps.store.repository.get(uid, version=version)
    except Exception:
        raise NotFound("not_found", "no such customer or version") from None
    if not isinstance(customer, Customer):
        raise NotFound("not_found", "no such customer")
    return customer


def customer_events(deps: Deps, customer_id: UUID) -> list[Any]:
    """The customer's events in order; none when the id is not a customer's (a person's, the
    settings'), so such an id is as unknown as one without events."""
    events = list(deps.store.events.get(customer_id))
    return events if events and isinstance(events[0], Customer.Registered) else []


# ---- batches (seed 002: 全选 batch actions) ----------------------------------------------------

# 全选 selects the rows of a page; a batch takes at most 200 of them (a page may hold 500: select
# part of it), so one answer stays quick.
BATCH_MAX = 200


@dataclass(frozen=True)
class BatchItem:
    """What became of one customer of a batch: `ok` (done), `pending` (filed for approval,
    AP-1) or `error` (refused, with the refusal)."""

    customer_id: str
    status: Literal["ok", "pending", "error"]
    approval_id: str | None = None
    error: DomainError | None = None


def _batch_ids(customer_ids: list[str]) -> list[str]:
    """The customers in the order given, each once (an id in other letter cases is the same
    customer); between 1 and BATCH_MAX of them."""
    ids: dict[str, None] = {}
    for raw in customer_ids:
        try:
            ids[str(UUID(str(raw)))] = None
        except ValueError:
            ids[str(raw)] = None  # refused on its own, as not a valid id
    if not ids:
        raise Invalid("validation_error", "choose at least one customer", field="customer_ids")
    if len(ids) > BATCH_MAX:
        raise Invalid("out_of_range", "at most {batch_max} customers at once", field="customer_ids",
                      details={"limit": BATCH_MAX}, batch_max=BATCH_MAX)
    return list(ids)


def _each(customer_ids: list[str], make: Callable[[str], Command], actor: Actor, deps: Deps,
          handle: Handler) -> Result:
    """Run each customer's own command through `handle` (so the approval policy applies to
    each, AP-1), each in its own atomic save: one refused customer neither undoes nor stops
    the others, and the cap and the daily limit (P-3, C-5) are checked against what the
    customers before it took. The read side is told once, at the end."""
    ids = _batch_ids(customer_ids)
    quiet = replace(deps, after_commit=lambda position: None)
    items: list[BatchItem] = []
    position: int | None = None
    for customer_id in ids:
        try:
            done = handle(make(customer_id), actor, quiet)
        except DomainError as error:
            items.append(BatchItem(customer_id, "error", error=error))
            continue
        position = done.position
        items.append(BatchItem(customer_id, "pending", approval_id=done.ids["approval_id"]) if done.pending
                     else BatchItem(customer_id, "ok"))
    if position is not None and not deps.dry_run:
        deps.after_commit(position)
    return Result(deps.store.head() if position is None else position, {"results": items})


def claim_customers(cmd: ClaimCustomers, actor: Actor, deps: Deps, handle: Handler) -> Result:
    """C-5 for each selected pool customer, one after the other."""
    ids = _batch_ids(cmd.customer_ids)
    load_salesperson(deps, actor.person_id)
    return _each(ids, ClaimCustomer, actor, deps, handle)


def return_customers_to_pool(cmd: ReturnCustomersToPool, actor: Actor, deps: Deps, handle: Handler) -> Result:
    """C-6 for each selected customer: released by its owner or recalled by a manager."""
    if cmd.reason not in ("released", "recalled"):
        raise Invalid("validation_error", "reason must be released or recalled", field="reason")
    return _each(cmd.customer_ids, lambda cid: ReturnToPool(cid, cmd.reason, cmd.note), actor, deps, handle)


def transfer_customers(cmd: TransferCustomers, actor: Actor, deps: Deps, handle: Handler) -> Result:
    """C-7 for each selected customer: its owner or a manager of the owner hands it to one
    colleague, whose cap (P-3) counts each customer the batch gave them before."""
    _batch_ids(cmd.customer_ids)
    parse_uuid(cmd.to_person_id, "to_person_id")
    load_salesperson(deps, cmd.to_person_id, "to_person_id")
    return _each(cmd.customer_ids, lambda cid: TransferCustomer(cid, cmd.to_person_id, cmd.reason), actor, deps,
                 handle)


def share_customers(cmd: ShareCustomers, actor: Actor, deps: Deps, handle: Handler) -> Result:
    """C-4, seed 002 §2.2.5 i: one share change on each selected customer."""
    _batch_ids(cmd.customer_ids)
    check_people(deps, cmd.add, "add")
    check_departments(deps, cmd.add_departments, "add_departments")
    return _each(cmd.customer_ids, lambda cid: ChangeShares(cid, cmd.add, cmd.remove, cmd.add_departments,
                                                            cmd.remove_departments), actor, deps, handle)
