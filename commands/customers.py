"""Handlers for customers: register, change, contacts, shares, pool moves, visits."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from aggregates import bounds
from aggregates.base import Context, Forbidden, Invalid, NotFound
from aggregates.customer import Customer
from aggregates.names import CustomerName, clean_name
from aggregates.settings import Settings, type_names
from commands.actor import Actor, sight
from commands.adapters.photos import read_photo
from commands.base import (
    Deps,
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
    DeleteCustomer,
    EditContact,
    RecordVisit,
    RegisterCustomer,
    RemoveContact,
    RestoreCustomer,
    ReturnToPool,
    TransferCustomer,
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
                 lambda: actor.person_id in customer.shared_with) is not None


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
            raise Invalid("invalid_version", f"choose a version from 1 to {customer.version - 1}",
                          field="version")
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
    """C-4: the owner or a manager shares read access with named people."""
    check_people(deps, cmd.add, "add")

    def attempt() -> Result:
        customer = load_visible(deps, actor, cmd.customer_id)
        _may_change(deps, actor, customer)
        customer.change_shares(context(deps, actor), cmd.add, cmd.remove)
        return Result(save(deps, customer), {"id": cmd.customer_id})

    return retrying(attempt)


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
    its sha256."""
    settings = load_settings(deps)
    check_in(cmd.stage, settings.dictionaries["stages"], "stage")
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
            or actor.person_id in customer.shared_with
            or deps.organisation.manages(actor, customer.owner_id)
        )
        if not allowed:
            raise Forbidden("not_owner", "only the owner, a sharee or a manager records visits")
        visit_id, late = customer.record_visit(
            ctx,
            visited_at=visited_at or ctx.at,
            late_entry_hours=int(settings.rules["late_entry_hours"]),
            lat=lat, lng=lng, address=cmd.address, contact=cmd.contact,
            stage=cmd.stage, notes=cmd.notes,
            photo=info.sha256 if info else None, photo_exif=info.exif() if info else None,
        )
        if photo is not None:
            deps.blobs.put(photo)  # the checks passed; the blob lands before the event that names it
        return Result(save(deps, customer), {"visit_id": visit_id, "late_entry": late})

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
