"""Streaming .xlsx downloads (spec reports.md §1): write-only workbooks in constant memory, real numbers and dates.

A report builds a list of `Sheet`s (data sheet first, then "Resumen") and returns `xlsx_download(...)`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

CLP_FORMAT = "#,##0"
DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_DATA_ROWS = 1_048_575  # Excel's row limit minus the header; further rows continue on "<title> (2)"
HEADER_FILL = PatternFill("solid", start_color="D9D9D9", end_color="D9D9D9")
DEFAULT_WIDTH = 20


@dataclass
class Sheet:
    """One worksheet: `rows` may be any iterable (a streaming query); money columns are 0-based indexes."""

    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence]
    money_columns: Sequence[int] = ()
    wide_columns: Sequence[int] = field(default_factory=tuple)  # texts: 40 characters instead of 20


def _cell(ws, value, money: bool):
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            from app.core.clock import to_local

            value = to_local(value).replace(tzinfo=None)
        c = WriteOnlyCell(ws, value=value)
        c.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        c = WriteOnlyCell(ws, value=value)
        c.number_format = DATE_FORMAT
    else:
        c = WriteOnlyCell(ws, value=value if value != "" else None)
        if money and isinstance(value, int):
            c.number_format = CLP_FORMAT
    return c


def _start_sheet(wb: Workbook, sheet: Sheet, title: str):
    ws = wb.create_sheet(title[:31])
    ws.freeze_panes = "A2"
    wide = set(sheet.wide_columns)
    for i in range(len(sheet.headers)):
        ws.column_dimensions[get_column_letter(i + 1)].width = 40 if i in wide else DEFAULT_WIDTH
    header = []
    for h in sheet.headers:
        c = WriteOnlyCell(ws, value=h)
        c.font = Font(bold=True)
        c.fill = HEADER_FILL
        header.append(c)
    ws.append(header)
    return ws


def _finish_sheet(ws, n_columns: int, count: int) -> None:
    ws.auto_filter.ref = f"A1:{get_column_letter(max(n_columns, 1))}{count + 1}"


def write_sheets(path: str, sheets: Sequence[Sheet], *, max_rows: int = MAX_DATA_ROWS) -> list[int]:
    """Write every sheet to `path`; returns the number of data rows of each."""
    wb = Workbook(write_only=True)
    counts = []
    for sheet in sheets:
        money = set(sheet.money_columns)
        part, count, total = 1, 0, 0
        ws = _start_sheet(wb, sheet, sheet.title)
        for row in sheet.rows:
            if count == max_rows:
                _finish_sheet(ws, len(sheet.headers), count)
                part += 1
                count = 0
                ws = _start_sheet(wb, sheet, f"{sheet.title[:26]} ({part})")
            ws.append([_cell(ws, v, i in money) for i, v in enumerate(row)])
            count += 1
            total += 1
        _finish_sheet(ws, len(sheet.headers), count)
        counts.append(total)
    wb.save(path)
    return counts


def export_filename(name: str, *, stamp: str | None = None) -> str:
    """`<Nombre>_<YYYYMMDD_HHMMSS>.xlsx` in local time (or a given stamp such as a date)."""
    from app.core.clock import local_now

    return f"{name}_{stamp or local_now().strftime('%Y%m%d_%H%M%S')}.xlsx"


def xlsx_download(filename: str, sheets: Sequence[Sheet]) -> Response:
    """Build the workbook in a temporary file, then stream it back in chunks (constant memory)."""
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    try:
        write_sheets(path, sheets)
    except BaseException:
        os.unlink(path)
        raise

    def generate():
        try:
            with open(path, "rb") as fh:
                while chunk := fh.read(64 * 1024):
                    yield chunk
        finally:
            os.unlink(path)

    response = Response(generate(), mimetype=XLSX_MIME)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Content-Length"] = str(os.path.getsize(path))
    return response


def xlsx_response(filename: str, sheet_title: str, headers, rows, *, money_columns=()) -> Response:
    """A one-sheet download."""
    return xlsx_download(filename, [Sheet(sheet_title, headers, rows, money_columns)])
