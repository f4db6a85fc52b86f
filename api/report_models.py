"""Typed response models for the reports, made from each report's columns, so the OpenAPI
document names every report's row keys and their types."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field, create_model

from readmodels.reports import REPORTS, Report, ReportColumn

KIND_TYPES: dict[str, Any] = {
    "text": str | None, "id": str | None, "date": date | None, "datetime": datetime | None, "bool": bool | None,
    "metres": int | None,  # a whole number that may be unknown (Q-3's distance when not checked)
}
DECIMAL_TEXT = {"money": r"^-?\d+\.\d{2}$", "quantity": r"^-?\d+\.\d{4}$", "share": r"^-?\d+\.\d{4}$",
                "month": r"^\d{4}-\d{2}$"}


class CatalogueEntry(BaseModel):
    id: str
    title: str
    kind: Literal["query", "stat"]
    chart: Literal["line", "bar", "pie"] | None
    filters: list[str] = Field(default_factory=list, description=(
        "added: the filters the report takes (query parameters of GET /reports/{id}); another is 422 "
        "`unsupported_filter`"))


class ReportPeriod(BaseModel):
    """The period a report covers: its first and last business day; `year` is null when a query
    report was asked only for a range of days (`from`, `to`)."""

    year: int | None
    month: int | None
    start: date
    end: date


class ColumnOut(BaseModel):
    key: str
    title: str


class Series(BaseModel):
    name: str | None
    data: list[str | int]


class Chart(BaseModel):
    """Chart-ready series: x labels and one or more series of values (decimal strings or counts)."""

    type: Literal["line", "bar", "pie"]
    x: list[str]
    series: list[Series]


def _field(column: ReportColumn) -> tuple[Any, Any]:
    """(type, default) of one row key; decimals travel as strings (API.md)."""
    if column.kind in DECIMAL_TEXT:
        return Annotated[str | None, Field(pattern=DECIMAL_TEXT[column.kind], description=column.title)], None
    if column.kind == "int":
        return Annotated[int, Field(description=column.title)], 0
    kind = float | None if column.key in ("lat", "lng") else KIND_TYPES.get(column.kind, str | None)
    return Annotated[kind, Field(description=column.title)], None


def _model(spec: Report) -> type[BaseModel]:
    name = spec.id.replace("-", "")
    row = create_model(f"Row{name}", **{c.key: _field(c) for c in spec.columns})  # type: ignore[call-overload]
    fields: dict[str, Any] = {
        "id": (Literal[spec.id], ...), "title": (str, ...), "kind": (Literal["query", "stat"], ...),
        "period": (ReportPeriod | None, None),
        "as_of": (datetime | None, Field(None, description=(
            "the moment whose rows are shown (business time zone), when asked with as_of"))),
        "columns": (list[ColumnOut], ...), "rows": (list[row], ...),  # type: ignore[valid-type]
        "total": (int, ...), "page": (int, ...), "page_size": (int, ...), "chart": (Chart | None, None),
    }
    model: type[BaseModel] = create_model(f"Report{name}", __doc__=f"{spec.id} {spec.title}", **fields)
    return model


REPORT_MODELS = {spec_id: _model(spec) for spec_id, spec in REPORTS.items()}
AnyReport = Annotated[Union[tuple(REPORT_MODELS.values())], Field(discriminator="id")]  # type: ignore[valid-type]  # noqa: UP007
