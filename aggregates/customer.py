"""The Customer aggregate (C-1..C-12): registration, info changes, contacts, shares,
pool moves (claim, release, recall, transfer, assign), deletion and visits."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar, Literal
from uuid import UUID, uuid4

from aggregates import bounds, customer_fields, pool_rules, visit_evidence
from aggregates.base import Conflict, Context, CrmAggregate, Forbidden, Invalid
from aggregates.contacts import contact_edit, find_contact, new_contact, with_added, with_edited, with_removed
from aggregates.contacts import normalise_contacts as normalise_contacts
from aggregates.customer_fields import INFO_FIELDS as INFO_FIELDS
from aggregates.customer_fields import POOL_REASONS as POOL_REASONS
from aggregates.customer_fields import SETTABLE_STATUSES as SETTABLE_STATUSES
from aggregates.customer_fields import STATUSES as STATUSES


class Customer(CrmAggregate):
    """A customer and its whole life: who holds it, who it is shared with, what was seen."""

    TEXT_LIMITS: ClassVar[dict[str, int]] = customer_fields.TEXT_LIMITS

    number: str
    name: str
    type: str | None
    source: str | None
    region: str | None
    address: str | None
    building: str | None
    lat: float | None
    lng: float | None
    contacts: list[dict[str, Any]]
    owner_id: str | None
    owner_since: datetime | None
    shared_with: list[str]
    # C-4, seed 002 §2.2.5: departments the customer is shared with; everyone in one (or in a
    # department below it) reads it, whoever belongs there at the time.
    shared_departments: list[str]
    status: str
    stage: str | None
    visit_count: int
    last_visit_at: datetime | None
    registered_by: str
    created_at: datetime
    pool_entered_at: datetime | None
    pool_reason: str | None
    last_owner_id: str | None
    last_lost_at: datetime | None
    deleted: bool
    deal_total: Decimal
    invoiced_total: Decimal
    collected_total: Decimal
    # The holding (owner_since) whose owner has been warned of the pool return.
    warned_for: datetime | None
    logo: str | None

    # ---- events -------------------------------------------------------------------------

    def __init__(self) -> None:
        """Empty: the Created event's apply() sets the state."""

    class Registered(CrmAggregate.Created):
        """C-1. Version 2 (O-2) names the person the new customer is credited to (D-5):
        the registrant, or an import row's owner, or nobody for a pool import."""

        number: str
        name: str
        fields: dict[str, Any]
        contacts: list[dict[str, Any]]
        owner_id: str | None
        shared_with: list[str]
        created_at: datetime
        credited_to: str | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 events were all registrations by hand: the registrant has the credit."""
            state["credited_to"] = state["actor_id"]

        def apply(self, c: Customer) -> None:
            c.number, c.name = self.number, self.name
            for field in customer_fields.REGISTERED_FIELDS:
                setattr(c, field, self.fields.get(field))
            for field, value in customer_fields.FRESH_STATE.items():
                setattr(c, field, value)
            c.contacts = [dict(contact) for contact in self.contacts]
            c.owner_id = self.owner_id
            c.owner_since = self.timestamp if self.owner_id else None
            c.shared_with = list(self.shared_with) if self.owner_id else []
            c.shared_departments = []
            c.registered_by, c.created_at = self.actor_id, self.created_at
            c.pool_entered_at = None if self.owner_id else self.timestamp

    class InfoChanged(CrmAggregate.Event):
        changes: list[dict[str, Any]]
        reason: str
        # Who approved the change when it went through approval (AP-2), and when it was asked
        # for; older events, and changes made directly, have none.
        approved_by: str | None = None
        requested_at: datetime | None = None

        def apply(self, c: Customer) -> None:
            for change in self.changes:
                setattr(c, change["field"], change["new"])

    class Restored(CrmAggregate.Event):
        """H-4: the info fields put back to those of an earlier version; history stays."""

        version: int
        changes: list[dict[str, Any]]
        reason: str

        def apply(self, c: Customer) -> None:
            for change in self.changes:
                setattr(c, change["field"], change["new"])

    class ContactAdded(CrmAggregate.Event):
        contact: dict[str, Any]

        def apply(self, c: Customer) -> None:
            c.contacts = with_added(c.contacts, self.contact)

    class ContactEdited(CrmAggregate.Event):
        contact_id: str
        changes: dict[str, Any]

        def apply(self, c: Customer) -> None:
            c.contacts = with_edited(c.contacts, self.contact_id, self.changes)

    class ContactRemoved(CrmAggregate.Event):
        contact_id: str

        def apply(self, c: Customer) -> None:
            c.contacts = with_removed(c.contacts, self.contact_id)

    class SharesChanged(CrmAggregate.Event):
        """C-4: people added to and removed from the sharees. Version 2 (seed 002 §2.2.5) adds
        the departments shared with and unshared from."""

        added: list[str]
        removed: list[str]
        departments_added: list[str]
        departments_removed: list[str]

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 shared with people only."""
            state["departments_added"] = []
            state["departments_removed"] = []

        def apply(self, c: Customer) -> None:
            c._share(self.added, self.removed)
            c._share_departments(self.departments_added, self.departments_removed)

    class Claimed(CrmAggregate.Event):
        person_id: str

        def apply(self, c: Customer) -> None:
            c._take(self.person_id, self.timestamp)

    class ReturnedToPool(CrmAggregate.Event):
        reason: str
        note: str
        previous_owner_id: str

        def apply(self, c: Customer) -> None:
            c.last_owner_id = c.owner_id
            c.last_lost_at = self.timestamp
            c.owner_id = None
            c.owner_since = None
            c.shared_with = []
            c.shared_departments = []
            c.pool_entered_at = self.timestamp
            c.pool_reason = self.reason

    class Transferred(CrmAggregate.Event):
        from_person_id: str
        to_person_id: str
        reason: str

        def apply(self, c: Customer) -> None:
            c._take(self.to_person_id, self.timestamp)

    class Assigned(CrmAggregate.Event):
        from_person_id: str | None
        to_person_id: str

        def apply(self, c: Customer) -> None:
            c._take(self.to_person_id, self.timestamp)

    class Deleted(CrmAggregate.Event):
        reason: str

        def apply(self, c: Customer) -> None:
            c.deleted = True

    class VisitRecorded(CrmAggregate.Event):
        visit_id: str
        visited_at: datetime
        lat: float | None
        lng: float | None
        address: str | None
        contact: str | None
        stage: str | None
        notes: str | None
        late_entry: bool
        # C-11: the photo's sha256 in the blob store and what its EXIF said (older events: none).
        photo: str | None = None
        photo_exif: dict[str, Any] | None = None
        # Version 2 (seed 000 §2): the region visited (the customer's unless given), and how far
        # the photo was taken from the customer (aggregates.visit_evidence).
        region: str | None = None
        far_from_customer: bool = False
        distance_m: int | None = None
        distance_check: str = visit_evidence.UNCHECKED

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 visits were never checked: no region of their own (readers fall back
            to the customer's), no distance, not flagged."""
            state["region"] = None
            state["far_from_customer"] = False
            state["distance_m"] = None
            state["distance_check"] = visit_evidence.UNCHECKED

        def apply(self, c: Customer) -> None:
            c._visited(self.visited_at, self.stage)

    class PoolWarned(CrmAggregate.Event):
        """A-2: the owner is told, once per holding, when the customer goes back to the pool."""

        owner_id: str
        owner_since: datetime
        deadline: datetime

        def apply(self, c: Customer) -> None:
            c.warned_for = self.owner_since

    class LogoChanged(CrmAggregate.Event):
        photo: str | None

        def apply(self, c: Customer) -> None:
            c.logo = self.photo

    class DealRecorded(CrmAggregate.Event):
        """D-1: a contract was signed; the customer is dealt."""

        contract_id: str
        number: str
        amount: Decimal
        signed_on: date
        salesperson_id: str | None

        def apply(self, c: Customer) -> None:
            c.deal_total += self.amount
            c.status = "dealt"

    class InvoiceRecorded(CrmAggregate.Event):
        contract_id: str
        invoice_id: str
        amount: Decimal
        invoiced_on: date

        def apply(self, c: Customer) -> None:
            c.invoiced_total += self.amount

    class InvoiceCredited(CrmAggregate.Event):
        """A red-letter invoice on one of the customer's contracts."""

        contract_id: str
        credit_note_id: str
        amount: Decimal
        credited_on: date

        def apply(self, c: Customer) -> None:
            c.invoiced_total -= self.amount

    class DealAdjusted(CrmAggregate.Event):
        """A return (negative) or an exchange's price difference (signed) changed a deal; it
        counts for the contract's salesperson on the day it happened (D-2, D-3 as amended)."""

        contract_id: str
        number: str
        adjustment_id: str
        kind: str  # "return" | "exchange"
        amount: Decimal
        adjusted_on: date
        salesperson_id: str | None

        def apply(self, c: Customer) -> None:
            c.deal_total += self.amount

    class PaymentRecorded(CrmAggregate.Event):
        """D-3, D-5: a payment, against a contract or as a prepayment, credited to a salesperson."""

        payment_id: str
        contract_id: str | None
        amount: Decimal
        received_on: date
        salesperson_id: str | None

        def apply(self, c: Customer) -> None:
            c.collected_total += self.amount

    # ---- state helpers ------------------------------------------------------------------

    def _take(self, person_id: str, at: datetime) -> None:
        if self.owner_id != person_id:
            self.shared_with = [p for p in self.shared_with if p != person_id]
        self.owner_id = person_id
        self.owner_since = at
        self.pool_entered_at = None
        self.pool_reason = None

    def _share(self, added: list[str], removed: list[str]) -> None:
        kept = [p for p in self.shared_with if p not in removed]
        self.shared_with = kept + [p for p in added if p not in kept]

    def _share_departments(self, added: list[str], removed: list[str]) -> None:
        kept = [d for d in self.shared_departments if d not in removed]
        self.shared_departments = kept + [d for d in added if d not in kept]

    def _visited(self, visited_at: datetime, stage: str | None) -> None:
        """C-10: the latest visit time is kept, a stage given moves the stage, and only a
        potential customer becomes a followed one (dealt and lost ones keep their status)."""
        self.visit_count += 1
        if self.last_visit_at is None or visited_at > self.last_visit_at:
            self.last_visit_at = visited_at
        if stage:
            self.stage = stage
        if self.status == "potential":
            self.status = "following"

    @property
    def in_pool(self) -> bool:
        return self.owner_id is None and not self.deleted

    @property
    def receivable(self) -> Decimal:
        return max(self.deal_total - self.collected_total, Decimal("0.00"))

    @property
    def credit(self) -> Decimal:
        """Collected beyond the net deals: what the customer is owed (a return, a prepayment)."""
        return max(self.collected_total - self.deal_total, Decimal("0.00"))

    def view(self) -> dict[str, Any]:
        """The customer's fields as plain values, for history diffs and time travel."""
        values = {field: getattr(self, field) for field in customer_fields.VIEW_FIELDS}
        values["contacts"] = [dict(c) for c in self.contacts]
        values["shared_with"] = list(self.shared_with)
        values["shared_departments"] = list(self.shared_departments)
        return values

    def _info(self) -> dict[str, Any]:
        return {field: getattr(self, field) for field in INFO_FIELDS}

    # ---- commands -----------------------------------------------------------------------

    @classmethod
    def register(
        cls, ctx: Context, *, id: UUID, number: str, name: str, fields: dict[str, Any],
        contacts: list[dict[str, Any]], owner_id: str | None, shared_with: list[str],
        created_at: datetime | None = None, credited_to: str | None | Literal["registrant"] = "registrant",
    ) -> Customer:
        """C-1: a name is required; the shares of a pool customer are dropped; the credit (D-5)
        goes to the registrant unless it is given."""
        if not name.strip():
            raise Invalid("validation_error", "name is required", field="name")
        contacts = normalise_contacts(contacts)
        shares = [p for p in dict.fromkeys(shared_with) if p != owner_id] if owner_id else []
        return cls._create_by(
            ctx, cls.Registered, id=id, number=number, name=name, fields=fields, contacts=contacts,
            owner_id=owner_id, shared_with=shares, created_at=created_at or ctx.at,
            credited_to=ctx.actor_id if credited_to == "registrant" else credited_to,
        )

    def _check_live(self) -> None:
        if self.deleted:
            raise Conflict("deleted", "the customer has been deleted")

    def change_info(self, ctx: Context, changes: dict[str, Any], reason: str, approved_by: str | None = None,
                    requested_at: datetime | None = None) -> list[dict[str, Any]]:
        """C-3: record old and new value per field; fields that do not change are dropped."""
        self._check_live()
        recorded = customer_fields.info_changes(self._info(), changes)
        self._record(ctx, self.InfoChanged, changes=recorded, reason=reason, approved_by=approved_by,
                     requested_at=requested_at)
        return recorded

    def restore(self, ctx: Context, version: int, past: dict[str, Any], reason: str) -> list[dict[str, Any]]:
        """H-4: put the info fields back to those `past` had at `version`. The status is left
        alone when either side is `dealt`: that comes from deals, not from an edit."""
        self._check_live()
        recorded = customer_fields.restore_changes(self._info(), past, version)
        self._record(ctx, self.Restored, version=version, changes=recorded, reason=reason)
        return recorded

    def add_contact(self, ctx: Context, contact: dict[str, Any]) -> str:
        """C-9: the first contact is primary; a primary newcomer takes over."""
        self._check_live()
        entry = new_contact(contact, self.contacts)
        self._record(ctx, self.ContactAdded, contact=entry)
        return str(entry["id"])

    def edit_contact(self, ctx: Context, contact_id: str, changes: dict[str, Any]) -> None:
        self._check_live()
        effective = contact_edit(find_contact(self.contacts, contact_id), changes)
        self._record(ctx, self.ContactEdited, contact_id=contact_id, changes=effective)

    def remove_contact(self, ctx: Context, contact_id: str) -> None:
        self._check_live()
        find_contact(self.contacts, contact_id)
        self._record(ctx, self.ContactRemoved, contact_id=contact_id)

    def change_shares(self, ctx: Context, add: list[str], remove: list[str],
                      add_departments: list[str] | None = None,
                      remove_departments: list[str] | None = None) -> None:
        """C-4 with people; seed 002 §2.2.5 with whole departments (their members read it, now
        and later). Only what changes is recorded; nothing changing is refused."""
        self._check_live()
        if self.owner_id is None:
            raise Conflict("in_pool", "a pool customer cannot be shared")
        if self.owner_id in add:
            raise Invalid("share_with_owner", "the owner cannot be a sharee", field="add")
        added = [p for p in dict.fromkeys(add) if p not in self.shared_with]
        removed = [p for p in dict.fromkeys(remove) if p in self.shared_with and p not in added]
        departments_added = [d for d in dict.fromkeys(add_departments or []) if d not in self.shared_departments]
        departments_removed = [d for d in dict.fromkeys(remove_departments or [])
                               if d in self.shared_departments and d not in departments_added]
        if not (added or removed or departments_added or departments_removed):
            raise Invalid("no_change", "nothing to change")
        self._record(ctx, self.SharesChanged, added=added, removed=removed, departments_added=departments_added,
                     departments_removed=departments_removed)

    def claim(self, ctx: Context, person_id: str, cooldown_days: int) -> None:
        """C-5: only pool customers; the previous owner waits out the cooldown."""
        self._check_live()
        if not self.in_pool:
            raise Conflict("not_in_pool", "the customer is not in the pool")
        until = pool_rules.cooldown_until(self.last_owner_id, self.last_lost_at, person_id, cooldown_days, ctx.at)
        if until is not None:
            raise Conflict("claim_cooldown", "the previous owner cannot claim it back yet",
                           details={"until": until.isoformat()})
        self._record(ctx, self.Claimed, person_id=person_id)

    def return_to_pool(self, ctx: Context, reason: str, note: str = "") -> str:
        """C-6: back to the pool with a reason; owner and shares are cleared."""
        self._check_live()
        if reason not in POOL_REASONS:
            raise Invalid("validation_error", "unknown reason {reason}", field="reason", reason=reason)
        if self.owner_id is None:
            raise Conflict("in_pool", "the customer is in the pool already")
        previous = self.owner_id
        self._record(ctx, self.ReturnedToPool, reason=reason, note=note, previous_owner_id=previous)
        return previous

    def transfer(self, ctx: Context, to_person_id: str, reason: str) -> str:
        self._check_live()
        if self.owner_id is None:
            raise Conflict("in_pool", "a pool customer is claimed or assigned, not transferred")
        if to_person_id == self.owner_id:
            raise Invalid("same_owner", "the customer is held by that person already", field="to_person_id")
        previous = self.owner_id
        self._record(ctx, self.Transferred, from_person_id=previous, to_person_id=to_person_id, reason=reason)
        return previous

    def assign(self, ctx: Context, to_person_id: str) -> str | None:
        self._check_live()
        if to_person_id == self.owner_id:
            raise Invalid("same_owner", "the customer is held by that person already", field="to_person_id")
        previous = self.owner_id
        self._record(ctx, self.Assigned, from_person_id=previous, to_person_id=to_person_id)
        return previous

    def delete(self, ctx: Context, reason: str = "") -> None:
        """C-8: only unclaimed pool customers can be deleted."""
        self._check_live()
        if not self.in_pool:
            raise Conflict("not_in_pool", "only pool customers can be deleted")
        self._record(ctx, self.Deleted, reason=reason)

    def record_visit(
        self, ctx: Context, *, visited_at: datetime, late_entry_hours: int, lat: float | None = None,
        lng: float | None = None, address: str | None = None, contact: str | None = None,
        stage: str | None = None, notes: str | None = None, photo: str | None = None,
        photo_exif: dict[str, Any] | None = None, region: str | None = None, photo_required: bool = False,
        max_distance_m: int = 1000,
    ) -> visit_evidence.RecordedVisit:
        """C-10: only a held customer is visited, never in the future (5 minutes' grace for
        clocks); a visit entered more than `late_entry_hours` after it happened is late.
        Seed 000 §2 (杜绝编造): without its photo it is refused when `photo_required`; a photo
        whose GPS position lies farther than `max_distance_m` from the customer's location is
        flagged far from the customer. Address, contact and region not given are the customer's."""
        self._check_live()
        if self.owner_id is None:
            raise Conflict("in_pool", "claim the customer before visiting it")
        visit_evidence.require_photo(photo, photo_required)
        late = pool_rules.visit_is_late(visited_at, ctx.at, late_entry_hours)
        check = visit_evidence.check_distance(
            has_photo=photo is not None, photo_position=visit_evidence.exif_position(photo_exif),
            customer_position=visit_evidence.position(self.lat, self.lng), max_distance_m=max_distance_m,
        )
        given = visit_evidence.given
        primary = next((c["name"] for c in self.contacts if c.get("primary")), None)
        visit_id = uuid4().hex
        self._record(
            ctx, self.VisitRecorded, visit_id=visit_id, visited_at=visited_at, lat=lat, lng=lng,
            address=given(address) or self.address, contact=given(contact) or primary, stage=stage, notes=notes,
            late_entry=late, photo=photo, photo_exif=photo_exif, region=given(region) or self.region,
            far_from_customer=check.far, distance_m=check.distance_m, distance_check=check.status,
        )
        return visit_evidence.RecordedVisit(visit_id, late, check)

    def follow_deadline(self, follow_days: int) -> datetime | None:
        """A-1: when the current holding runs out; None for pool and dealt customers (A-3)."""
        if self.deleted or self.owner_id is None or self.owner_since is None or self.status == "dealt":
            return None
        return self.owner_since + timedelta(days=bounds.days(follow_days))

    def sweep(self, ctx: Context, now: datetime, follow_days: int, warning_days: int) -> str | None:
        """A-1, A-2: back to the pool when the holding has run out at `now`; a warning once per
        holding inside the warning window. Returns "returned", "warned" or None (nothing to do)."""
        deadline = self.follow_deadline(follow_days)
        if deadline is None:
            return None
        due = pool_rules.sweep_due(now, deadline, warning_days, warned=self.warned_for == self.owner_since)
        if due == "returned":
            self.return_to_pool(ctx, "overdue", f"held {follow_days} days without a deal")
        elif due == "warned":
            assert self.owner_id is not None and self.owner_since is not None
            self._record(ctx, self.PoolWarned, owner_id=self.owner_id, owner_since=self.owner_since,
                         deadline=deadline)
        return due

    def change_logo(self, ctx: Context, photo: str | None) -> None:
        self._check_live()
        if photo == self.logo:
            raise Invalid("no_change", "that is the logo already")
        self._record(ctx, self.LogoChanged, photo=photo)

    def record_deal(self, ctx: Context, contract_id: str, number: str, amount: Decimal,
                    signed_on: date) -> bool:
        """Returns whether the customer became dealt by this deal (P-3: the owner's count drops)."""
        self._check_live()
        if self.owner_id is None:
            raise Conflict("in_pool", "claim the customer before recording a deal")
        first = self.status != "dealt"
        bounds.within(self.deal_total + amount, "amount")
        self._record(ctx, self.DealRecorded, contract_id=contract_id, number=number, amount=amount,
                     signed_on=signed_on, salesperson_id=self.owner_id)
        return first

    def record_invoice(self, ctx: Context, contract_id: str, invoice_id: str, amount: Decimal,
                       invoiced_on: date) -> None:
        self._check_live()
        bounds.within(self.invoiced_total + amount, "amount")
        self._record(ctx, self.InvoiceRecorded, contract_id=contract_id, invoice_id=invoice_id,
                     amount=amount, invoiced_on=invoiced_on)

    def record_credit_note(self, ctx: Context, contract_id: str, credit_note_id: str, amount: Decimal,
                           credited_on: date) -> None:
        self._record(ctx, self.InvoiceCredited, contract_id=contract_id, credit_note_id=credit_note_id,
                     amount=amount, credited_on=credited_on)

    def adjust_deal(self, ctx: Context, *, contract_id: str, number: str, adjustment_id: str, kind: str,
                    amount: Decimal, adjusted_on: date, salesperson_id: str | None) -> None:
        """A return or an exchange on a deal, recorded even on a deleted customer's history:
        a money fact of a contract, not a change of the customer."""
        if not amount:
            return
        bounds.within(self.deal_total + amount, "amount")
        self._record(ctx, self.DealAdjusted, contract_id=contract_id, number=number, adjustment_id=adjustment_id,
                     kind=kind, amount=amount, adjusted_on=adjusted_on, salesperson_id=salesperson_id)

    def record_payment(self, ctx: Context, payment_id: str, contract_id: str | None, amount: Decimal,
                       received_on: date, salesperson_id: str | None) -> None:
        self._check_live()
        bounds.amount(amount, "amount", bounds.MONEY_MAX)
        bounds.within(self.collected_total + amount, "amount")
        self._record(ctx, self.PaymentRecorded, payment_id=payment_id, contract_id=contract_id,
                     amount=amount, received_on=received_on, salesperson_id=salesperson_id)

    def ensure_changeable_by(self, person_id: str, is_manager_of_owner: bool) -> None:
        """R-2: owners and their managers change a customer; sharees only read it."""
        if self.owner_id == person_id or is_manager_of_owner:
            return
        raise Forbidden("not_owner", "only the owner or a manager can change this customer")

