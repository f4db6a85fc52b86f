"""Schemas of api/routes/targets.py: sales targets with their figures, attainment and
records, and work reports (daily, weekly, monthly) with their revisions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from aggregates import bounds
from api.schemas.common import AmountIn, BizDate, CountIn, Id, Strict

Period = Annotated[str, Field(min_length=1, max_length=bounds.PERIOD_NAME)]
Notes = Annotated[str, Field(max_length=bounds.NOTES)]
C = TypeVar("C")
A = TypeVar("A")


# ---- targets --------------------------------------------------------------------------------


class TargetBase(Strict):
    period: Period | None = None
    start: BizDate | None = None
    end: BizDate | None = None
    new_customers: CountIn | None = None
    visits: CountIn | None = None
    deal_amount: AmountIn | None = None
    collected_amount: AmountIn | None = None


class TargetPerson(Strict):
    person_id: Id


class TargetIn(TargetBase, TargetPerson):  # person_id first, then the target's fields
    period: Period = Field(description="a name such as 2026年11月")
    start: BizDate
    end: BizDate
    new_customers: CountIn = 0
    visits: CountIn = 0
    deal_amount: AmountIn = Decimal("0")
    collected_amount: AmountIn = Decimal("0")


class TargetUpdate(TargetBase):
    pass


class Figures(BaseModel, Generic[C, A]):
    """The figures of a target: counts (C) and amounts (A)."""

    new_customers: C
    visits: C
    deal_amount: A
    collected_amount: A


class TargetFigures(Figures[int, Decimal]):
    pass


class Attainment(Figures[str | None, str | None]):
    """Actual ÷ target per figure, a decimal string with 4 places; null where the target is 0."""


class TargetOut(TargetFigures):
    id: str
    person_id: str
    person_name: str | None
    period: str
    start: date
    end: date
    actual: TargetFigures
    attainment: Attainment
    cancelled: bool
    set_by: str
    approved_by: str | None
    updated_at: datetime
    version: int


class TargetState(TargetFigures):
    """A target as its events left it: the person, period and figures, and whether it was
    cancelled (the actual figures and attainment are today's reads, not kept here)."""

    person_id: str
    period: str
    start: date
    end: date
    cancelled: bool


class TargetAt(BaseModel):
    """A target rebuilt from its events at a version or a moment (H-3)."""

    id: str
    version: int
    at: datetime
    state: TargetState


class TargetRecord(BaseModel):
    id: str
    customer_id: str
    customer_number: str | None
    customer_name: str | None
    on: date
    at: datetime | None
    amount: Decimal | None
    kind: str | None = Field(default=None, description="deal_amount records: deal, return or exchange "
                                                       "(the amount of a return or exchange signed)")


class TargetRecords(BaseModel):
    target_id: str
    figure: str
    items: list[TargetRecord]


class DepartmentAttainment(BaseModel):
    department_id: str
    department_name: str
    targets: int = Field(description="targets of the subtree whose period holds the day")
    target: TargetFigures
    actual: TargetFigures
    attainment: Attainment


# ---- work reports ---------------------------------------------------------------------------


class WorkReportIn(Strict):
    kind: Literal["daily", "weekly", "monthly"]
    date: BizDate
    summary: Notes = ""
    plan: Notes = ""


class WorkFigures(BaseModel):
    new_customers: int
    visits: int
    deals: int
    deal_amount: Decimal
    collected_amount: Decimal


class WorkReportSubmitted(BaseModel):
    id: str
    kind: str
    start: date
    end: date
    figures: WorkFigures
    revision: int
    position: int


class WorkReportOut(BaseModel):
    id: str
    person_id: str
    person_name: str | None
    kind: str
    start: date
    end: date
    figures: WorkFigures
    summary: str
    plan: str
    revision: int
    submitted_at: datetime
    revised_at: datetime


class WorkReportRevision(BaseModel):
    revision: int
    at: datetime
    figures: WorkFigures
    summary: str
    plan: str


class WorkReportView(WorkReportOut):
    revisions: list[WorkReportRevision]
