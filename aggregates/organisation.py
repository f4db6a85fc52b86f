"""People and organisation (P-1..P-4): departments, people, usernames, salesperson profiles."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from aggregates import bounds
from aggregates.base import Conflict, Context, CrmAggregate, Invalid, derived_id

ROLES = ("sales", "manager", "warehouse", "admin", "auditor")
PERSON_FIELDS = ("name", "department_id", "roles", "position", "mobile", "gender", "active")


class Department(CrmAggregate):
    """A node of the department tree, with the managers who manage it."""

    TEXT_LIMITS: ClassVar[dict[str, int]] = {"name": bounds.SHORT_TEXT}

    name: str
    parent_id: str | None
    manager_ids: list[str]

    def __init__(self) -> None:
        """Empty: the Created event's apply() sets the state."""

    class Created(CrmAggregate.Created):
        name: str
        parent_id: str | None
        manager_ids: list[str]

        def apply(self, d: Department) -> None:
            d.name = self.name
            d.parent_id = self.parent_id
            d.manager_ids = list(self.manager_ids)

    class Changed(CrmAggregate.Event):
        changes: dict[str, Any]

        def apply(self, d: Department) -> None:
            for field, value in self.changes.items():
                setattr(d, field, value)

    @classmethod
    def create(
        cls, ctx: Context, *, id: UUID, name: str, parent_id: str | None, manager_ids: list[str]
    ) -> Department:
        if not name.strip():
            raise Invalid("validation_error", "name is required", field="name")
        return cls._create_by(
            ctx, cls.Created, id=id, name=name.strip(), parent_id=parent_id,
            manager_ids=list(dict.fromkeys(manager_ids)),
        )

    def change(self, ctx: Context, changes: dict[str, Any]) -> None:
        if "name" in changes and not (changes["name"] or "").strip():
            raise Invalid("validation_error", "name is required", field="name")
        if changes.get("manager_ids", []) is None:
            raise Invalid("validation_error", "manager_ids must be a list", field="manager_ids")
        effective = {k: v for k, v in changes.items() if getattr(self, k) != v}
        if "parent_id" in effective and effective["parent_id"] == str(self.id):
            raise Invalid("invalid_parent", "a department cannot be its own parent", field="parent_id")
        if effective:
            self._record(ctx, self.Changed, changes=effective)


class Person(CrmAggregate):
    """A person in the directory. Credentials are not here (P-4)."""

    TEXT_LIMITS: ClassVar[dict[str, int]] = {
        "name": bounds.SHORT_TEXT, "username": bounds.USERNAME, "position": bounds.SHORT_TEXT,
        "mobile": bounds.PHONE, "gender": bounds.GENDER,
    }

    name: str
    username: str
    department_id: str | None
    roles: list[str]
    position: str | None
    mobile: str | None
    gender: str | None
    active: bool

    def __init__(self) -> None:
        """Empty: the Created event's apply() sets the state."""

    class Created(CrmAggregate.Created):
        name: str
        username: str
        department_id: str | None
        roles: list[str]
        position: str | None
        mobile: str | None
        gender: str | None

        def apply(self, p: Person) -> None:
            p.name = self.name
            p.username = self.username
            p.department_id = self.department_id
            p.roles = list(self.roles)
            p.position = self.position
            p.mobile = self.mobile
            p.gender = self.gender
            p.active = True

    class Changed(CrmAggregate.Event):
        changes: list[dict[str, Any]]

        def apply(self, p: Person) -> None:
            for change in self.changes:
                setattr(p, change["field"], change["new"])

    @classmethod
    def create(
        cls,
        ctx: Context,
        *,
        id: UUID,
        name: str,
        username: str,
        department_id: str | None,
        roles: list[str],
        position: str | None = None,
        mobile: str | None = None,
        gender: str | None = None,
    ) -> Person:
        check_roles(roles)
        if not name.strip():
            raise Invalid("validation_error", "name is required", field="name")
        return cls._create_by(
            ctx, cls.Created, id=id, name=name.strip(), username=username,
            department_id=department_id, roles=list(dict.fromkeys(roles)),
            position=position, mobile=mobile, gender=gender,
        )

    def change(self, ctx: Context, changes: dict[str, Any]) -> None:
        for required in ("name", "roles", "active"):
            if required in changes and changes[required] in (None, ""):
                raise Invalid("validation_error", "{field} cannot be empty", field=required)
        if "roles" in changes:
            check_roles(changes["roles"])
        recorded = []
        for field, new in changes.items():
            if field not in PERSON_FIELDS:
                raise Invalid("unknown_field", "{field} cannot be changed", field=field)
            old = getattr(self, field)
            if old != new:
                recorded.append({"field": field, "old": old, "new": new})
        if recorded:
            self._record(ctx, self.Changed, changes=recorded)


def check_roles(roles: list[str] | None) -> None:
    if not isinstance(roles, list):
        raise Invalid("invalid_role", "roles must be a list", field="roles")
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise Invalid("invalid_role", "roles must be some of {roles}", field="roles", roles=', '.join(ROLES))


class Username(CrmAggregate):
    """Index aggregate: one per lower-cased username, created with its person."""

    TEXT_LIMITS: ClassVar[dict[str, int]] = {"username": bounds.USERNAME}

    person_id: str

    @staticmethod
    def id_for(username: str) -> UUID:
        return derived_id("username", username.strip().casefold())

    def __init__(self) -> None:
        """Empty: the Created event's apply() sets the state."""

    class Reserved(CrmAggregate.Created):
        username: str
        person_id: str

        def apply(self, u: Username) -> None:
            u.person_id = self.person_id

    @classmethod
    def reserve(cls, ctx: Context, username: str, person_id: str) -> Username:
        return cls._create_by(
            ctx, cls.Reserved, id=cls.id_for(username), username=username, person_id=person_id
        )


class Salesperson(CrmAggregate):
    """A salesperson profile: limits and the customers currently held (P-2, P-3).

    Held customers are saved with every claim, transfer and assignment, so the cap
    holds under concurrency: two claims both taking the last place cannot both commit.
    """

    person_id: str
    max_customers: int | None
    max_follow_days: int | None
    held: list[str]
    claim_day: str | None
    claims_that_day: int

    @staticmethod
    def id_for(person_id: str) -> UUID:
        return derived_id("salesperson", person_id)

    def __init__(self) -> None:
        """Empty: the Created event's apply() sets the state."""

    class Created(CrmAggregate.Created):
        person_id: str
        max_customers: int | None
        max_follow_days: int | None

        def apply(self, s: Salesperson) -> None:
            s.person_id = self.person_id
            s.max_customers = self.max_customers
            s.max_follow_days = self.max_follow_days
            s.held = []
            s.claim_day = None
            s.claims_that_day = 0

    class LimitsChanged(CrmAggregate.Event):
        max_customers: int | None
        max_follow_days: int | None

        def apply(self, s: Salesperson) -> None:
            s.max_customers = self.max_customers
            s.max_follow_days = self.max_follow_days

    class CustomerTaken(CrmAggregate.Event):
        customer_id: str
        how: str
        day: str

        def apply(self, s: Salesperson) -> None:
            if self.customer_id not in s.held:
                s.held.append(self.customer_id)
            if self.how == "claim":
                s._count_claim(self.day)

    class DealtClaimed(CrmAggregate.Event):
        """A dealt customer claimed: not held against the cap, but a claim of the day (C-5)."""

        customer_id: str
        day: str

        def apply(self, s: Salesperson) -> None:
            s._count_claim(self.day)

    class CustomerLeft(CrmAggregate.Event):
        customer_id: str
        how: str

        def apply(self, s: Salesperson) -> None:
            s.held = [c for c in s.held if c != self.customer_id]

    def _count_claim(self, day: str) -> None:
        """C-5: claims are counted per day; the first claim of a new day starts the count afresh."""
        if self.claim_day != day:
            self.claim_day = day
            self.claims_that_day = 0
        self.claims_that_day += 1

    def claims_on(self, day: str) -> int:
        """How many claims were made on `day` (a day other than the last one counted: none)."""
        return self.claims_that_day if self.claim_day == day else 0

    @classmethod
    def create(
        cls, ctx: Context, person_id: str, max_customers: int | None, max_follow_days: int | None
    ) -> Salesperson:
        check_limits(max_customers, max_follow_days)
        return cls._create_by(
            ctx, cls.Created, id=cls.id_for(person_id), person_id=person_id,
            max_customers=max_customers, max_follow_days=max_follow_days,
        )

    def change_limits(
        self, ctx: Context, max_customers: int | None, max_follow_days: int | None
    ) -> None:
        check_limits(max_customers, max_follow_days)
        if (max_customers, max_follow_days) != (self.max_customers, self.max_follow_days):
            self._record(
                ctx, self.LimitsChanged, max_customers=max_customers, max_follow_days=max_follow_days
            )

    def take(
        self,
        ctx: Context,
        customer_id: str,
        *,
        how: str,
        cap: int,
        day: str,
        daily_limit: int | None = None,
        counted: bool = True,
    ) -> None:
        """Take a customer into hand; refuses past the cap (P-3) or the daily claim limit (C-5).
        A customer that is not `counted` (a dealt one) is not held against the cap."""
        if customer_id in self.held:
            return
        if counted and len(self.held) >= cap:
            raise Conflict(
                "cap_reached",
                "the salesperson holds {held} customers, the limit is {cap}",
                details={"held": len(self.held), "max_customers": cap}, held=len(self.held), cap=cap,
            )
        if how == "claim" and daily_limit is not None:
            if self.claims_on(day) >= daily_limit:
                raise Conflict(
                    "daily_claim_limit",
                    "at most {daily_limit} claims a day",
                    details={"daily_claim_limit": daily_limit}, daily_limit=daily_limit,
                )
        if counted:
            self._record(ctx, self.CustomerTaken, customer_id=customer_id, how=how, day=day)
        elif how == "claim" and daily_limit is not None:
            self._record(ctx, self.DealtClaimed, customer_id=customer_id, day=day)

    def let_go(self, ctx: Context, customer_id: str, how: str) -> None:
        if customer_id in self.held:
            self._record(ctx, self.CustomerLeft, customer_id=customer_id, how=how)


def check_limits(max_customers: int | None, max_follow_days: int | None) -> None:
    if max_customers is not None and max_customers < 0:
        raise Invalid("validation_error", "must be 0 or more", field="max_customers")
    if max_follow_days is not None and max_follow_days < 1:
        raise Invalid("validation_error", "must be 1 or more", field="max_follow_days")
    if max_customers is not None:
        bounds.at_most(max_customers, "max_customers", bounds.COUNT_MAX)
    if max_follow_days is not None:
        bounds.at_most(max_follow_days, "max_follow_days", bounds.DAYS_MAX)
