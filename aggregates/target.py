"""Sales targets (T-1..T-3) and work reports (W-1).

A target belongs to one person and one period. Periods of one person never overlap:
each person has a `TargetCalendar` index aggregate that is saved together with every
target it admits, so two overlapping targets set at the same moment cannot both commit.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from aggregates import bounds
from aggregates.base import Conflict, Context, CrmAggregate, Invalid, derived_id

FIGURES = ("new_customers", "visits", "deal_amount", "collected_amount")
COUNT_FIGURES = ("new_customers", "visits")
MONEY_FIGURES = ("deal_amount", "collected_amount")


def check_period(start: date, end: date) -> None:
    """T-2: a period starts on or before it ends."""
    if start > end:
        raise Invalid("invalid_period", "the period starts after it ends", field="start",
                      details={"start": start.isoformat(), "end": end.isoformat()})


def check_figures(figures: dict[str, Any]) -> dict[str, Any]:
    """Counts are whole numbers ≥ 0, amounts decimals ≥ 0 with at most 2 places."""
    checked: dict[str, Any] = {}
    for name in COUNT_FIGURES:
        value = figures.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise Invalid("validation_error", "a whole number ≥ 0", field=name)
        checked[name] = bounds.at_most(value, name, bounds.COUNT_MAX)
    for name in MONEY_FIGURES:
        value = Decimal(str(figures.get(name, 0)))
        if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
            raise Invalid("validation_error", "an amount ≥ 0 with at most 2 decimal places", field=name)
        checked[name] = bounds.amount(value, name).quantize(Decimal("0.01"))
    return checked


class SalesTarget(CrmAggregate):
    """T-1: a person's targets for a named period."""

    TEXT_LIMITS: ClassVar[dict[str, int]] = {"period": bounds.PERIOD_NAME}

    person_id: str
    period: str
    start: date
    end: date
    figures: dict[str, Any]
    cancelled: bool

    def __init__(self) -> None:
        """Empty: the Created event's apply() sets the state."""

    class Set(CrmAggregate.Created):
        person_id: str
        period: str
        start: date
        end: date
        figures: dict[str, Any]
        approved_by: str | None = None

        def apply(self, t: SalesTarget) -> None:
            t.person_id, t.period, t.start, t.end = self.person_id, self.period, self.start, self.end
            t.figures = dict(self.figures)
            t.cancelled = False

    class Revised(CrmAggregate.Event):
        period: str
        start: date
        end: date
        figures: dict[str, Any]
        approved_by: str | None = None

        def apply(self, t: SalesTarget) -> None:
            t.period, t.start, t.end, t.figures = self.period, self.start, self.end, dict(self.figures)

    class Cancelled(CrmAggregate.Event):
        reason: str

        def apply(self, t: SalesTarget) -> None:
            t.cancelled = True

    @classmethod
    def set(cls, ctx: Context, *, id: UUID, person_id: str, period: str, start: date, end: date,
            figures: dict[str, Any], approved_by: str | None = None) -> SalesTarget:
        if not period.strip():
            raise Invalid("validation_error", "name the period", field="period")
        check_period(start, end)
        return cls._create_by(ctx, cls.Set, id=id, person_id=person_id, period=period.strip(), start=start,
                              end=end, figures=check_figures(figures), approved_by=approved_by)

    def revise(self, ctx: Context, changes: dict[str, Any], approved_by: str | None = None) -> None:
        if self.cancelled:
            raise Conflict("cancelled", "the target has been cancelled")
        period = str(changes.get("period", self.period)).strip()
        if not period:
            raise Invalid("validation_error", "name the period", field="period")
        start, end = changes.get("start", self.start), changes.get("end", self.end)
        check_period(start, end)
        figures = check_figures({**self.figures, **{k: v for k, v in changes.items() if k in FIGURES}})
        if (period, start, end, figures) == (self.period, self.start, self.end, self.figures):
            raise Invalid("no_change", "nothing to change")
        self._record(ctx, self.Revised, period=period, start=start, end=end, figures=figures,
                     approved_by=approved_by)

    def cancel(self, ctx: Context, reason: str) -> None:
        if self.cancelled:
            raise Conflict("cancelled", "the target has been cancelled already")
        self._record(ctx, self.Cancelled, reason=reason)


class TargetCalendar(CrmAggregate):
    """Index aggregate: the periods one person has targets for (T-2)."""

    person_id: str
    periods: dict[str, list[str]]  # target id → [start, end] as ISO dates

    @staticmethod
    def id_for(person_id: str) -> UUID:
        return derived_id("target-calendar", person_id)

    def __init__(self) -> None:
        """Empty: the Created event's apply() sets the state."""

    class Opened(CrmAggregate.Created):
        person_id: str

        def apply(self, c: TargetCalendar) -> None:
            c.person_id = self.person_id
            c.periods = {}

    class PeriodBooked(CrmAggregate.Event):
        target_id: str
        start: date
        end: date

        def apply(self, c: TargetCalendar) -> None:
            c.periods[self.target_id] = [self.start.isoformat(), self.end.isoformat()]

    class PeriodFreed(CrmAggregate.Event):
        target_id: str

        def apply(self, c: TargetCalendar) -> None:
            c.periods.pop(self.target_id, None)

    @classmethod
    def open(cls, ctx: Context, person_id: str) -> TargetCalendar:
        return cls._create_by(ctx, cls.Opened, id=cls.id_for(person_id), person_id=person_id)

    def book(self, ctx: Context, target_id: str, start: date, end: date) -> None:
        """Refuse a period that shares a day with another target of the person."""
        for other_id, (other_start, other_end) in sorted(self.periods.items()):
            if other_id == target_id:
                continue
            if start <= date.fromisoformat(other_end) and date.fromisoformat(other_start) <= end:
                raise Conflict("overlapping_period", "the period overlaps another target of this person",
                               field="start", details={"target_id": other_id, "start": other_start,
                                                       "end": other_end})
        if self.periods.get(target_id) != [start.isoformat(), end.isoformat()]:
            self._record(ctx, self.PeriodBooked, target_id=target_id, start=start, end=end)

    def free(self, ctx: Context, target_id: str) -> None:
        if target_id in self.periods:
            self._record(ctx, self.PeriodFreed, target_id=target_id)


# ---- work reports (W-1) ------------------------------------------------------------------------

REPORT_KINDS = ("daily", "weekly", "monthly")


def report_period(kind: str, day: date) -> tuple[date, date]:
    """The period a report for `day` covers: that day, its ISO week (Monday to Sunday),
    or its calendar month."""
    if kind == "daily":
        return day, day
    if kind == "weekly":
        monday = day - timedelta(days=day.isoweekday() - 1)
        return monday, monday + timedelta(days=6)
    if kind == "monthly":
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return first, following - timedelta(days=1)
    raise Invalid("validation_error", "kind must be one of {kinds}", field="kind", kinds=', '.join(REPORT_KINDS))


class WorkReport(CrmAggregate):
    """One person's report for one period; submitting it again revises it (history kept)."""

    person_id: str
    kind: str
    start: date
    end: date
    figures: dict[str, Any]
    summary: str
    plan: str
    revision: int

    @staticmethod
    def id_for(person_id: str, kind: str, start: date) -> UUID:
        return derived_id("work-report", f"{person_id}:{kind}:{start.isoformat()}")

    def __init__(self) -> None:
        """Empty: the Created event's apply() sets the state."""

    class Submitted(CrmAggregate.Created):
        person_id: str
        kind: str
        start: date
        end: date
        figures: dict[str, Any]
        summary: str
        plan: str

        def apply(self, r: WorkReport) -> None:
            r.person_id, r.kind, r.start, r.end = self.person_id, self.kind, self.start, self.end
            r.figures, r.summary, r.plan, r.revision = dict(self.figures), self.summary, self.plan, 1

    class Revised(CrmAggregate.Event):
        figures: dict[str, Any]
        summary: str
        plan: str

        def apply(self, r: WorkReport) -> None:
            r.figures, r.summary, r.plan = dict(self.figures), self.summary, self.plan
            r.revision += 1

    @classmethod
    def submit(cls, ctx: Context, *, person_id: str, kind: str, day: date, figures: dict[str, Any],
               summary: str, plan: str) -> WorkReport:
        start, end = report_period(kind, day)
        return cls._create_by(ctx, cls.Submitted, id=cls.id_for(person_id, kind, start), person_id=person_id,
                              kind=kind, start=start, end=end, figures=figures, summary=summary, plan=plan)

    def revise(self, ctx: Context, figures: dict[str, Any], summary: str, plan: str) -> None:
        self._record(ctx, self.Revised, figures=figures, summary=summary, plan=plan)
