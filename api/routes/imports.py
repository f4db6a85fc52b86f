"""Bulk import of historical customers (C-13): the template, a dry run, the commit, and the
refused rows to download, fix and upload again."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from aggregates.base import DomainError, NotFound
from api.deps import Id, ServiceDep, require
from api.errors import ApiError, localised_entry
from api.exports import XLSX, table_download, titled
from api.schemas import ImportOut, ImportSummary
from api.uploads import read_form
from commands import imports as ic
from commands.actor import Actor
from commands.handlers import handle
from commands.messages import ImportCustomers
from readmodels.i18n import N_, t

router = APIRouter(prefix="/imports", tags=["imports"])
Admin = Annotated[Actor, require("admin")]
MAX_FILE_BYTES = 20 * 1024 * 1024
IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {"$ref": "#/components/schemas/ImportForm"}}},
    },
    # The route reads `dry_run` by hand, from the form or else the query string.
    "parameters": [{"name": "dry_run", "in": "query", "required": False,
                    "schema": {"type": "string", "enum": ["true", "false", "1", "0"]},
                    "description": "as the form field `dry_run` (the form's wins)"}],
}
REJECT_COLUMNS = (("row", N_("行号"), "int"), *((c, c, "text") for c in ic.TEMPLATE),
                  ("error", N_("错误"), "text"))


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
        raise ApiError(413, "too_large", "the file is larger than {max_file_bytes} bytes", field="file",
                       details={"max_bytes": MAX_FILE_BYTES}, max_file_bytes=MAX_FILE_BYTES)
    dry_run = (fields.pop("dry_run", None) or request.query_params.get("dry_run", "false")).lower()
    if dry_run not in ("true", "false", "1", "0") or set(fields):
        raise DomainError("validation_error", "the form takes `file` and `dry_run` (true or false)",
                          field="dry_run" if not set(fields) else sorted(fields)[0])
    command = ImportCustomers(data, form.filename or "import", dry_run in ("true", "1"))
    result = await run_in_threadpool(handle, command, user, service.deps)
    return {"import_id": result.import_id, "rows": result.rows, "accepted": result.accepted,
            "dry_run": result.dry_run, "errors": [localised_entry(e.as_dict()) for e in result.errors],
            "position": result.position,
            "rejects_url": f"/api/v1/imports/{result.import_id}/rejects" if result.errors else None}


def _found(service: ServiceDep, import_id: str) -> dict[str, Any]:
    found = ic.load_import(service.deps, import_id)
    if found is None:
        raise NotFound("not_found", "no such import")
    return found


@router.get("/{import_id}", response_model=ImportSummary)
def summary(service: ServiceDep, _: Admin, import_id: Id) -> Any:
    """One import: when, by whom, what file, how many rows accepted, every error."""
    found = _found(service, str(import_id))
    return {**found, "errors": [localised_entry(e) for e in found["errors"]]}


@router.get("/{import_id}/rejects", response_class=Response,
            responses={200: {"content": {"text/csv": {}, XLSX: {}}, "description": "the refused rows"}})
def rejects(request: Request, service: ServiceDep, _: Admin, import_id: Id,
            format: Literal["csv", "xlsx"] = "csv") -> Response:
    """The refused rows in the template's columns, with their row number and errors."""
    request.state.op_export = True
    found = _found(service, str(import_id))
    # The template's headings stay as written: a corrected file must repeat them to be imported.
    return table_download(titled(REJECT_COLUMNS, kept=ic.TEMPLATE), _rejected(found),
                          f"rejects-{str(import_id)[:8]}", t(N_("导入失败行")), format)


def _rejected(found: dict[str, Any]) -> list[dict[str, Any]]:
    """The refused rows, each with its errors in the reader's language."""
    errors: dict[int, list[dict[str, Any]]] = {}
    for entry in found["errors"]:
        errors.setdefault(entry["row"], []).append(localised_entry(entry))
    return [{**row, "error": "；".join(f"{e['field'] or ''} {e['code']}: {e['message']}".strip()
                                      for e in errors.get(row["row"], [])) or row.get("error")}
            for row in found["rejected"]]
