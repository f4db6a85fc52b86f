"""Bulk import of historical customers (C-13): the template, a dry run, the commit, and the
refused rows to download, fix and upload again."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from aggregates.base import DomainError, NotFound
from api.deps import Id, ServiceDep, require
from api.errors import ApiError
from api.exports import XLSX, table_download
from api.schemas import ImportOut, ImportSummary
from api.uploads import read_form
from commands import imports as ic
from commands.actor import Actor
from commands.handlers import handle
from commands.messages import ImportCustomers

router = APIRouter(prefix="/imports", tags=["imports"])
Admin = Annotated[Actor, require("admin")]
MAX_FILE_BYTES = 20 * 1024 * 1024
IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {"$ref": "#/components/schemas/ImportForm"}}},
    }
}
REJECT_COLUMNS = (("row", "行号", "int"), *((c, c, "text") for c in ic.TEMPLATE), ("error", "错误", "text"))


@router.get("/customers/template", response_class=Response,
            responses={200: {"content": {"text/csv": {}, XLSX: {}}, "description": "the template"}})
def template(_: Admin, format: Literal["csv", "xlsx"] = "csv") -> Response:
    """The import template (API.md's columns, in order) with one example row."""
    media = "text/csv; charset=utf-8" if format == "csv" else XLSX
    return Response(ic.template(format), media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="customers-template.{format}"'})


@router.post("/customers", response_model=ImportOut, openapi_extra=IMPORT_BODY)
async def import_customers(request: Request, service: ServiceDep, user: Admin) -> Any:
    """Import historical customers from the CSV or XLSX template (C-13). `dry_run=true` only
    checks; otherwise the good rows are imported and the refused ones kept: every error names
    its row, field and code, and `rejects_url` downloads those rows to fix."""
    form = await read_form(request, "file", MAX_FILE_BYTES)
    fields, data = form.fields, form.data
    if data is None:
        raise DomainError("validation_error", "attach the CSV or XLSX file as `file`", field="file")
    if len(data) > MAX_FILE_BYTES:
        raise ApiError(413, "too_large", f"the file is larger than {MAX_FILE_BYTES} bytes", field="file",
                       details={"max_bytes": MAX_FILE_BYTES})
    dry_run = (fields.pop("dry_run", None) or request.query_params.get("dry_run", "false")).lower()
    if dry_run not in ("true", "false", "1", "0") or set(fields):
        raise DomainError("validation_error", "the form takes `file` and `dry_run` (true or false)",
                          field="dry_run" if not set(fields) else sorted(fields)[0])
    command = ImportCustomers(data, form.filename or "import", dry_run in ("true", "1"))
    result = await run_in_threadpool(handle, command, user, service.deps)
    return {"import_id": result.import_id, "rows": result.rows, "accepted": result.accepted,
            "dry_run": result.dry_run, "errors": [e.as_dict() for e in result.errors], "position": result.position,
            "rejects_url": f"/api/v1/imports/{result.import_id}/rejects" if result.errors else None}


def _found(service: ServiceDep, import_id: str) -> dict[str, Any]:
    found = ic.load_import(service.deps, import_id)
    if found is None:
        raise NotFound("not_found", "no such import")
    return found


@router.get("/{import_id}", response_model=ImportSummary)
def summary(service: ServiceDep, _: Admin, import_id: Id) -> Any:
    """One import: when, by whom, what file, how many rows accepted, every error."""
    return _found(service, str(import_id))


@router.get("/{import_id}/rejects", response_class=Response,
            responses={200: {"content": {"text/csv": {}, XLSX: {}}, "description": "the refused rows"}})
def rejects(request: Request, service: ServiceDep, _: Admin, import_id: Id,
            format: Literal["csv", "xlsx"] = "csv") -> Response:
    """The refused rows in the template's columns, with their row number and errors."""
    request.state.op_export = True
    found = _found(service, str(import_id))
    return table_download(REJECT_COLUMNS, found["rejected"], f"rejects-{str(import_id)[:8]}", "导入失败行", format)
