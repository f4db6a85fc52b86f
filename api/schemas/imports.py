"""Schemas of api/routes/imports.py: the upload form of a customer import, its row errors,
its answer, and the imports as listed."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ImportForm(BaseModel):
    file: bytes = Field(json_schema_extra={"format": "binary"}, description="the CSV or XLSX template, filled in")
    dry_run: bool = False


class RowError(BaseModel):
    row: int
    field: str | None
    code: str
    message: str


class ImportOut(BaseModel):
    import_id: str
    rows: int
    accepted: int
    dry_run: bool
    errors: list[RowError]
    position: int
    rejects_url: str | None


class ImportSummary(BaseModel):
    id: str
    actor_id: str
    at: datetime
    filename: str
    dry_run: bool
    rows: int
    accepted: int
    errors: list[RowError]
