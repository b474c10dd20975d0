"""Streaming .xlsx responses: write-only workbook in constant memory, real numbers and dates."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from flask import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

CLP_FORMAT = "#,##0"
DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def write_workbook(
    path: str,
    sheet_title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence],
    *,
    money_columns: Sequence[int] = (),
) -> int:
    """Write rows to `path`; returns the number of data rows. Money columns get `#,##0`."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_title)
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for h in headers:
        c = WriteOnlyCell(ws, value=h)
        c.font = bold
        header_cells.append(c)
    ws.append(header_cells)
    money = set(money_columns)
    count = 0
    for row in rows:
        out = []
        for i, value in enumerate(row):
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
                c = WriteOnlyCell(ws, value=value)
                if i in money and isinstance(value, int):
                    c.number_format = CLP_FORMAT
            out.append(c)
        ws.append(out)
        count += 1
    last_col = _column_letter(len(headers))
    ws.auto_filter.ref = f"A1:{last_col}{count + 1}"
    wb.save(path)
    return count


def _column_letter(n: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(max(n, 1))


def xlsx_response(filename: str, sheet_title: str, headers, rows, *, money_columns=()) -> Response:
    """Build the workbook in a temporary file and stream it back in chunks."""
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    try:
        write_workbook(path, sheet_title, headers, rows, money_columns=money_columns)
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
