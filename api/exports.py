"""Tables as CSV or XLSX downloads (R-5): Chinese column titles, exact decimals, no ids,
times in the business time zone. A spreadsheet gets real cells: numbers it can sum, with
their places shown, and dates and times it can sort and filter, not text that looks like them."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pandas as pd
from fastapi import Response
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.styles import Font

from readmodels.i18n import N_, gettext

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# How a CSV writes a moment: the business wall time to the minute, as people write it.
CSV_DATETIME = "%Y-%m-%d %H:%M"
# The places exact decimals keep (API.md: money 2, quantities and shares 4).
PLACES = {"money": Decimal("0.01"), "quantity": Decimal("0.0001"), "share": Decimal("0.0001")}
# How the spreadsheet shows each kind of cell; the value stays the exact number or moment.
XLSX_FORMATS = {"money": "#,##0.00", "quantity": "#,##0.0000", "share": "0.00%", "int": "0",
                "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm"}


def _moment(value: Any, zone: tzinfo | None) -> datetime:
    """A moment on the business clock, to the second. Aware moments are turned to `zone`
    when one is given (rows that are in UTC, such as the operation log's); naive ones are
    stored UTC (SQLite hands them back so)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if zone is not None:
        moment = moment.astimezone(zone)
    return moment.replace(microsecond=0)


def _cell(value: Any, kind: str, format: str = "csv", zone: tzinfo | None = None) -> Any:
    """Numbers as exact decimals (a spreadsheet sums them), yes/no in words, moments on the
    business clock (CSV: `YYYY-MM-DD HH:MM`; XLSX: a datetime cell without zone, since a
    spreadsheet has none); text that a spreadsheet would take for a formula is quoted, so it
    stays text."""
    if value is None:
        return None
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and kind not in PLACES:
        return "'" + value
    if kind in PLACES:
        return Decimal(value).quantize(PLACES[kind])
    if kind == "bool":
        return gettext(N_("是") if value else N_("否"))
    if kind == "datetime":
        moment = _moment(value, zone)
        return moment.strftime(CSV_DATETIME) if format == "csv" else moment.replace(tzinfo=None)
    if kind == "date" and format == "xlsx":
        return date.fromisoformat(value) if isinstance(value, str) else value
    return value


def _xlsx_safe(value: Any) -> Any:
    """Control characters cannot be stored in a worksheet; they are dropped from XLSX only."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def table_bytes(columns: Sequence[tuple[str, str, str]], rows: Iterable[dict[str, Any]], format: str,
                sheet: str = "data", zone: tzinfo | None = None) -> bytes:
    """The rows under their column titles; `kind` "id" columns are left out. `zone` is the
    business time zone, for rows whose moments are not in it already."""
    shown = [c for c in columns if c[2] != "id"]
    titles = [title for _, title, _ in shown]
    if format == "csv":
        frame = pd.DataFrame([[_cell(row.get(key), kind, "csv", zone) for key, _, kind in shown] for row in rows],
                             columns=titles)
        # A byte-order mark, so spreadsheet programs read the Chinese titles as UTF-8.
        return frame.to_csv(index=False).encode("utf-8-sig")
    return _xlsx(shown, titles, rows, sheet, zone)


def _xlsx(shown: Sequence[tuple[str, str, str]], titles: list[str], rows: Iterable[dict[str, Any]], sheet: str,
          zone: tzinfo | None) -> bytes:
    """A worksheet written row by row (an export holds up to 200 000 rows): the titles in
    bold, then the cells typed by their column's kind, each with the number format above."""
    book = Workbook(write_only=True)
    sheet_ = book.create_sheet(sheet[:31])
    bold = Font(bold=True)
    head = []
    for title in titles:
        cell = WriteOnlyCell(sheet_, value=_xlsx_safe(title))
        cell.font = bold
        head.append(cell)
    sheet_.append(head)
    for row in rows:
        line: list[Any] = []
        for key, _, kind in shown:
            value = _xlsx_safe(_cell(row.get(key), kind, "xlsx", zone))
            if kind in XLSX_FORMATS and value is not None and not isinstance(value, str):
                cell = WriteOnlyCell(sheet_, value=value)
                cell.number_format = XLSX_FORMATS[kind]
                line.append(cell)
            else:
                line.append(value)
        sheet_.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def titled(columns: Iterable[tuple[str, str, str]], kept: Iterable[str] = ()) -> list[tuple[str, str, str]]:
    """The columns with their titles in the reader's locale (the titles are message ids of the
    `crm` catalogue); the titles in `kept` stay as written (an import template's headings,
    which a corrected file must repeat to be imported again)."""
    keep = set(kept)
    return [(key, title if title in keep else gettext(title), kind) for key, title, kind in columns]


def table_download(columns: Sequence[tuple[str, str, str]], rows: Iterable[dict[str, Any]], stem: str, title: str,
                   format: str, total: int | None = None, zone: tzinfo | None = None) -> Response:
    """A file to download. When `total` says there were more rows than the file holds, the
    headers say so (`X-Rows-Total`, `X-Truncated`)."""
    rows = list(rows)
    disposition = f"attachment; filename=\"{stem}.{format}\"; filename*=UTF-8''{quote(f'{title}.{format}')}"
    media = "text/csv; charset=utf-8" if format == "csv" else XLSX
    headers = {"Content-Disposition": disposition}
    if total is not None:
        headers["X-Rows-Total"] = str(total)
        headers["X-Truncated"] = "true" if total > len(rows) else "false"
    return Response(table_bytes(columns, rows, format, sheet=stem, zone=zone), media_type=media, headers=headers)
