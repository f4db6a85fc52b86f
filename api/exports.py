"""Tables as CSV or XLSX downloads (R-5): Chinese column titles, exact decimals, no ids."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pandas as pd
from fastapi import Response
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any, kind: str) -> Any:
    """Numbers as exact decimals (a spreadsheet sums them), yes/no in words, times ISO;
    text that a spreadsheet would take for a formula is quoted, so it stays text."""
    if value is None:
        return None
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    if kind in ("money", "quantity", "share"):
        return Decimal(value)
    if kind == "bool":
        return "是" if value else "否"
    if kind == "datetime":
        return value.isoformat()
    return value


def _xlsx_safe(value: Any) -> Any:
    """Control characters cannot be stored in a worksheet; they are dropped from XLSX only."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def table_bytes(columns: Sequence[tuple[str, str, str]], rows: Iterable[dict[str, Any]], format: str,
                sheet: str = "data") -> bytes:
    """The rows under their column titles; `kind` "id" columns are left out."""
    shown = [c for c in columns if c[2] != "id"]
    clean = _xlsx_safe if format == "xlsx" else (lambda value: value)
    frame = pd.DataFrame([[clean(_cell(row.get(key), kind)) for key, _, kind in shown] for row in rows],
                         columns=[title for _, title, _ in shown])
    if format == "csv":
        # A byte-order mark, so spreadsheet programs read the Chinese titles as UTF-8.
        return frame.to_csv(index=False).encode("utf-8-sig")
    out = io.BytesIO()
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name=sheet[:31])
    return out.getvalue()


def table_download(columns: Sequence[tuple[str, str, str]], rows: Iterable[dict[str, Any]], stem: str, title: str,
                   format: str, total: int | None = None) -> Response:
    """A file to download. When `total` says there were more rows than the file holds, the
    headers say so (`X-Rows-Total`, `X-Truncated`)."""
    rows = list(rows)
    disposition = f"attachment; filename=\"{stem}.{format}\"; filename*=UTF-8''{quote(f'{title}.{format}')}"
    media = "text/csv; charset=utf-8" if format == "csv" else XLSX
    headers = {"Content-Disposition": disposition}
    if total is not None:
        headers["X-Rows-Total"] = str(total)
        headers["X-Truncated"] = "true" if total > len(rows) else "false"
    return Response(table_bytes(columns, rows, format, sheet=stem), media_type=media, headers=headers)
