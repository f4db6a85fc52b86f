"""Schemas of api/routes/identity.py: the sign-in token, departments, people, and the
settings (rules and dictionaries)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from aggregates import bounds
from aggregates.settings import DEFAULT_RULES, VISIT_DISTANCE_MAX, VISIT_DISTANCE_MIN
from api.schemas.common import Label, Strict


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


# ---- departments ----------------------------------------------------------------------------


class DepartmentBase(Strict):
    name: Label | None = None
    parent_id: str | None = None
    manager_ids: list[str] | None = None


class DepartmentCreate(DepartmentBase):
    name: Label
    manager_ids: list[str] = []


class DepartmentUpdate(DepartmentBase):
    pass


class DepartmentNode(BaseModel):
    id: str
    name: str
    parent_id: str | None
    manager_ids: list[str]
    children: list[DepartmentNode] = []


class DepartmentState(BaseModel):
    """A department as its events left it (the tree's node without its children)."""

    name: str
    parent_id: str | None
    manager_ids: list[str]


class DepartmentAt(BaseModel):
    """A department rebuilt from its events at a version or a moment (H-3)."""

    id: str
    version: int
    at: datetime
    state: DepartmentState


# ---- people ---------------------------------------------------------------------------------

RoleName = Literal["sales", "manager", "warehouse", "admin", "auditor"]
Roles = Annotated[list[RoleName], Field(min_length=1)]
Password = Annotated[str, Field(min_length=1, max_length=200)]

# Only a new person has a username, only a change sets `active`: the fields come in groups, in
# the order PersonName, [PersonLogin,] PersonProfile, [PersonActive,] PersonLimits (the classes
# list them last first, as pydantic reads them).


class PersonName(Strict):
    name: Label | None = None


class PersonLogin(Strict):
    username: str = Field(min_length=1, max_length=bounds.USERNAME, pattern=r"^[A-Za-z0-9_.@-]+$")


class PersonProfile(Strict):
    password: Password | None = None
    department_id: str | None = None
    roles: Roles | None = None
    position: str | None = Field(default=None, max_length=bounds.SHORT_TEXT)
    mobile: str | None = Field(default=None, max_length=bounds.PHONE)
    gender: str | None = Field(default=None, max_length=bounds.GENDER)


class PersonActive(Strict):
    active: bool | None = None


class PersonLimits(Strict):
    max_customers: int | None = Field(default=None, ge=0, le=100000)
    max_follow_days: int | None = Field(default=None, ge=1, le=3650)


class PersonCreate(PersonLimits, PersonProfile, PersonLogin, PersonName):
    name: Label
    password: Password
    roles: Roles


class PersonUpdate(PersonLimits, PersonActive, PersonProfile, PersonName):
    pass


class PersonOut(BaseModel):
    id: str
    name: str
    username: str
    department_id: str | None
    roles: list[str]
    position: str | None
    mobile: str | None
    gender: str | None
    active: bool
    is_salesperson: bool
    max_customers: int | None
    max_follow_days: int | None
    held_customers: int


class PersonState(BaseModel):
    """A person as their events and their salesperson profile's left them: the directory's
    fields but the customers held (no credential is ever in an event)."""

    name: str
    username: str
    department_id: str | None
    roles: list[str]
    position: str | None
    mobile: str | None
    gender: str | None
    active: bool
    is_salesperson: bool = Field(description="whether the salesperson profile existed by then")
    max_customers: int | None
    max_follow_days: int | None


class PersonAt(BaseModel):
    """A person rebuilt from their events at a version or a moment (H-3); the versions count
    the person's events and their profile's limit changes together."""

    id: str
    version: int
    at: datetime
    state: PersonState


class Me(PersonOut):
    departments: list[str] = Field(description="departments this person manages (with subtrees)")


# ---- settings -------------------------------------------------------------------------------

ZeroOrMore = Annotated[int, Field(ge=0)]
OneOrMore = Annotated[int, Field(ge=1)]


class RulesBase(BaseModel):
    default_max_customers: ZeroOrMore | None = None
    default_max_follow_days: OneOrMore | None = None
    pool_warning_days: ZeroOrMore | None = None
    reclaim_cooldown_days: ZeroOrMore | None = None
    daily_claim_limit: int | None = Field(default=None, ge=0)
    late_entry_hours: ZeroOrMore | None = None
    approval_required: list[str] | None = None
    timezone: str | None = None
    visit_photo_required: bool | None = Field(default=None, description="a visit needs its photo (seed 000 §2)")
    visit_max_distance_m: int | None = Field(default=None, ge=VISIT_DISTANCE_MIN, le=VISIT_DISTANCE_MAX,
                                             description="a visit photo's GPS farther than this from the "
                                                         "customer flags it `far_from_customer`")
    locale: str | None = Field(default=None, max_length=16,
                               description="the business locale (`zh_CN` or `en`): the language of messages "
                                           "where a request's `Accept-Language` names neither")


class Rules(RulesBase):
    default_max_customers: ZeroOrMore
    default_max_follow_days: OneOrMore
    pool_warning_days: ZeroOrMore
    reclaim_cooldown_days: ZeroOrMore
    late_entry_hours: ZeroOrMore
    approval_required: list[str]
    timezone: str
    # Rules read before the organisation projection holds them show their defaults.
    visit_photo_required: bool = DEFAULT_RULES["visit_photo_required"]
    visit_max_distance_m: int = DEFAULT_RULES["visit_max_distance_m"]
    locale: str = DEFAULT_RULES["locale"]


class RulesUpdate(RulesBase, Strict):
    pass


class TypeNode(BaseModel):
    name: Label
    children: list[TypeNode] = []


class DictionariesBase(BaseModel):
    customer_types: list[TypeNode] | None = None
    sources: list[str] | None = None
    regions: list[str] | None = None
    stages: list[str] | None = None
    warehouses: list[str] | None = None
    problem_types: list[str] | None = None


class Dictionaries(DictionariesBase):
    customer_types: list[TypeNode]
    sources: list[str]
    regions: list[str]
    stages: list[str]
    warehouses: list[str]
    problem_types: list[str]


class DictionariesUpdate(DictionariesBase, Strict):
    pass


class SettingsOut(BaseModel):
    rules: Rules
    dictionaries: Dictionaries


class SettingsState(SettingsOut):
    """The rules and dictionaries as the settings' events left them."""


class SettingsAt(BaseModel):
    """The settings rebuilt from their events at a version or a moment (H-3)."""

    id: str
    version: int
    at: datetime
    state: SettingsState


class SettingsUpdate(Strict):
    rules: RulesUpdate = RulesUpdate()
    dictionaries: DictionariesUpdate = DictionariesUpdate()
