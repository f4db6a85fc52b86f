"""Multipart forms with one file, read no further than a limit allows."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from python_multipart.multipart import parse_options_header
from starlette.datastructures import UploadFile

from aggregates.base import DomainError


@dataclass
class Form:
    fields: dict[str, str]
    data: bytes | None
    filename: str | None


async def read_form(request: Request, file_field: str, max_bytes: int) -> Form:
    """The form's text fields (blank ones dropped) and the named file; a file longer than
    `max_bytes` comes back one byte longer, for the caller to refuse."""
    # The body limit has read the body already; the form parser reads it from here.
    if not _complete(request.headers.get("content-type", ""), await request.body()):
        raise DomainError("validation_error", "not a readable multipart form: the body ends before the closing "
                                              "boundary")
    try:
        form = await request.form(max_files=1, max_fields=20)
    except Exception:
        raise DomainError("validation_error", "not a readable multipart form") from None
    fields: dict[str, str] = {}
    data, filename = None, None
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if key != file_field:
                raise DomainError("validation_error", "unexpected file field {field}", field=key)
            data, filename = await value.read(max_bytes + 1), value.filename
        elif value != "":
            fields[key] = value
    return Form(fields, data, filename)


def _complete(content_type: str, body: bytes) -> bool:
    """A multipart body ends with its closing delimiter, `--boundary--` (RFC 2046). The parser
    makes an empty form of a body cut short before it (`--x\\r\\n`), which would pass for a
    form without fields; other content types are left to the parser."""
    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        return True
    boundary = params.get(b"boundary")
    if not boundary:
        return False
    close = b"--" + boundary + b"--"
    return body.startswith(close) or b"\r\n" + close in body
