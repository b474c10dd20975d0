"""Streaming .xlsx downloads (spec reports.md §1): constant memory, real numbers and dates.

A report builds a list of `Sheet`s (data sheet first, then "Resumen") and returns `xlsx_download(...)`.

The SpreadsheetML (OOXML) package is written directly with the stdlib: every row becomes one pre-formatted XML string
that goes straight into its deflated zip entry (in chunks of `_CHUNK_ROWS` rows), so memory stays flat whatever the
number of rows. Strings are inline (`t="inlineStr"`), dates and datetimes are Excel serial numbers with a date
style (aware datetimes in America/Santiago local time), money columns get `#,##0`, the header is bold on grey, the
first row is frozen and the written range has an auto-filter.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from flask import Response

from app.core import clock

CLP_FORMAT = "#,##0"
DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_DATA_ROWS = 1_048_575  # Excel's row limit minus the header; further rows continue on "<title> (2)"
HEADER_COLOR = "D9D9D9"
DEFAULT_WIDTH = 20
WIDE_WIDTH = 40
MAX_TITLE = 31
MAX_CELL_CHARS = 32_767  # Excel's limit for the text of one cell

_CHUNK_ROWS = 1000  # rows joined per write into the zip entry
_COMPRESS_LEVEL = 1  # deflate level: the XML compresses ~8× even at level 1, and level 1 is several times faster


@dataclass
class Sheet:
    """One worksheet: `rows` may be any iterable (a streaming query); money columns are 0-based indexes."""

    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence]
    money_columns: Sequence[int] = ()
    wide_columns: Sequence[int] = field(default_factory=tuple)  # texts: 40 characters instead of 20


# --- styles (cellXfs indexes of _STYLES_XML) -------------------------------------------------------------------

_S_HEADER, _S_DATE, _S_DATETIME, _S_CLP, _S_TIME = 1, 2, 3, 4, 5

_STYLES_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    f'<numFmts count="2"><numFmt numFmtId="164" formatCode="{DATE_FORMAT}"/>'
    f'<numFmt numFmtId="165" formatCode="{DATETIME_FORMAT}"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    f'<fill><patternFill patternType="solid"><fgColor rgb="FF{HEADER_COLOR}"/><bgColor rgb="FF{HEADER_COLOR}"/>'
    "</patternFill></fill></fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="6">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'  # built-in 3 = #,##0
    '<xf numFmtId="21" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'  # built-in 21 = h:mm:ss
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)

# --- values -> <c> elements -------------------------------------------------------------------------------------
# Each column gets one cell writer, `cell(value, column_letter, row_number) -> "<c …>…</c>"` ('' leaves the cell
# empty). It tests the exact type of the common values (str, int, None, date, datetime) with `is`, so a row costs one
# call per value; anything else (bool, float, Decimal, time, subclasses) goes through `_other_cell`.

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")  # not allowed in XML 1.0
_NEEDS_ESCAPE = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EPOCH_ORDINAL = date(1899, 12, 30).toordinal()  # Excel's (1900 system) day 0, leap-year bug included
_EPOCH = datetime(1899, 12, 30)
_DAY = timedelta(days=1)
_DAY_SECONDS = 86_400
_STRING_CACHE = 20_000  # distinct texts per column whose escaped form is remembered (names, categories, states)


def xml_text(value: str) -> str:
    """Text for an XML element: cut at Excel's cell limit, characters illegal in XML 1.0 removed, &, <, > and CR
    escaped (a raw CR would be read back as LF)."""
    if len(value) > MAX_CELL_CHARS:
        value = value[:MAX_CELL_CHARS]
    if _NEEDS_ESCAPE.search(value) is None:
        return value
    value = _ILLEGAL_XML.sub("", value)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _xml_attr(value: str) -> str:
    return xml_text(value).replace('"', "&quot;")


def _string_tail(value: str) -> str:
    """A string cell after its reference; xml:space="preserve" only where leading/trailing whitespace needs it."""
    text = xml_text(value)
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f' t="inlineStr"><is><t{space}>{text}</t></is></c>'


def excel_serial(value: datetime) -> float | int:
    """Days since Excel's epoch; aware datetimes first become America/Santiago wall time."""
    if value.tzinfo is not None:
        value = clock.to_local(value).replace(tzinfo=None)
    if value.hour == value.minute == value.second == value.microsecond == 0:
        return value.toordinal() - _EPOCH_ORDINAL
    return (value - _EPOCH) / _DAY


def _other_cell(value, ref: str, number_style: str) -> str:
    """Values other than str/int/None/date/datetime of their exact type: subclasses, bool, float, Decimal, time."""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int):
        return f'<c r="{ref}"{number_style}><v>{int(value)}</v></c>'
    if isinstance(value, float | Decimal):
        if isinstance(value, Decimal):
            text = str(value) if value.is_finite() else None
        else:
            text = repr(float(value)) if math.isfinite(value) else None
        return "" if text is None else f'<c r="{ref}"{number_style}><v>{text}</v></c>'  # Excel has no NaN/∞
    if isinstance(value, str):
        return "" if value == "" else f'<c r="{ref}"{_string_tail(str(value))}'
    if isinstance(value, datetime):  # before date: a datetime is a date
        return f'<c r="{ref}" s="{_S_DATETIME}"><v>{excel_serial(value)}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}" s="{_S_DATE}"><v>{value.toordinal() - _EPOCH_ORDINAL}</v></c>'
    if isinstance(value, time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        return f'<c r="{ref}" s="{_S_TIME}"><v>{seconds / _DAY_SECONDS}</v></c>'
    raise TypeError(f"xlsx: valor no exportable de tipo {type(value).__name__}")


def _column_writer(money: bool) -> Callable[[object, str, str], str]:
    """The cell writer of one column; money columns format numbers as CLP (#,##0)."""
    number_style = f' s="{_S_CLP}"' if money else ""
    date_style, datetime_style = f' s="{_S_DATE}"', f' s="{_S_DATETIME}"'
    texts: dict[str, str] = {}

    def cell(value, letter: str, row: str) -> str:
        kind = type(value)
        if kind is str:
            tail = texts.get(value)
            if tail is None:
                if value == "":
                    return ""  # "" is an empty cell, as None
                tail = _string_tail(value)
                if len(texts) < _STRING_CACHE:
                    texts[value] = tail
            return f'<c r="{letter}{row}"{tail}'
        if kind is int:
            return f'<c r="{letter}{row}"{number_style}><v>{value}</v></c>'
        if value is None:
            return ""
        if kind is date:
            return f'<c r="{letter}{row}"{date_style}><v>{value.toordinal() - _EPOCH_ORDINAL}</v></c>'
        if kind is datetime:
            return f'<c r="{letter}{row}"{datetime_style}><v>{excel_serial(value)}</v></c>'
        return _other_cell(value, letter + row, number_style)

    return cell


def column_letter(index: int) -> str:
    """0-based column index -> "A", "B", … "Z", "AA", …"""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# --- package parts ----------------------------------------------------------------------------------------------

_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


def _content_types(n_sheets: int) -> str:
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_SHEET_TYPE}"/>'
        for i in range(1, n_sheets + 1)
    )
    return (
        f'{_XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f"{sheets}"
        '<Override PartName="/docProps/app.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        "</Types>"
    )


_ROOT_RELS = (
    f'{_XML_HEAD}<Relationships xmlns="{_NS_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_NS_REL}/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
    'core-properties" Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{_NS_REL}/extended-properties" Target="docProps/app.xml"/>'
    "</Relationships>"
)

_APP_XML = (
    f'{_XML_HEAD}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    "<Application>Aremko</Application></Properties>"
)


def _core_xml() -> str:
    stamp = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"{_XML_HEAD}<cp:coreProperties "
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<dc:creator>Aremko</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        "</cp:coreProperties>"
    )


def _workbook_xml(written: list[tuple[str, str]]) -> str:
    """`written`: (title, auto-filter ref) of each worksheet, in order."""
    sheets = "".join(
        f'<sheet name="{_xml_attr(title)}" sheetId="{i}" r:id="rId{i}"/>' for i, (title, _) in enumerate(written, 1)
    )
    names = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
        f"{xml_text(_quoted_title(title))}!{_absolute(ref)}</definedName>"
        for i, (title, ref) in enumerate(written)
    )
    return (
        f'{_XML_HEAD}<workbook xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}">'
        '<bookViews><workbookView activeTab="0"/></bookViews>'
        f"<sheets>{sheets}</sheets><definedNames>{names}</definedNames></workbook>"
    )


def _workbook_rels(n_sheets: int) -> str:
    sheets = "".join(
        f'<Relationship Id="rId{i}" Type="{_NS_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, n_sheets + 1)
    )
    return (
        f'{_XML_HEAD}<Relationships xmlns="{_NS_PKG_REL}">{sheets}'
        f'<Relationship Id="rId{n_sheets + 1}" Type="{_NS_REL}/styles" Target="styles.xml"/></Relationships>'
    )


def _quoted_title(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _absolute(ref: str) -> str:
    """ "A1:J15" -> "$A$1:$J$15"."""
    return ":".join(re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", part) for part in ref.split(":"))


_INVALID_TITLE = re.compile(r"[\\/?*\[\]:]")


def sheet_title(title: str, taken: set[str]) -> str:
    """A valid, unique worksheet name: at most 31 characters, none of \\ / ? * [ ] :, no apostrophe at either end;
    a repeated name gets a number, as Excel does ("Resumen1")."""
    base = _INVALID_TITLE.sub("_", _ILLEGAL_XML.sub("", title)).strip("'")[:MAX_TITLE].strip("'") or "Hoja"
    name, n = base, 0
    while name.casefold() in taken:
        n += 1
        name = f"{base[: MAX_TITLE - len(str(n))]}{n}"
    taken.add(name.casefold())
    return name


_TAB_SELECTED = ' tabSelected="1"'


def _sheet_head(sheet: Sheet, n_columns: int, selected: bool) -> str:
    wide = set(sheet.wide_columns)
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{WIDE_WIDTH if i - 1 in wide else DEFAULT_WIDTH}" customWidth="1"/>'
        for i in range(1, n_columns + 1)
    )
    header = "".join(
        f'<c r="{column_letter(i)}1" s="{_S_HEADER}"{_string_tail(str(h))}' for i, h in enumerate(sheet.headers)
    )
    # Schema order inside <worksheet>: sheetPr?, dimension?, sheetViews?, sheetFormatPr?, cols*, sheetData, …,
    # autoFilter? (written by _sheet_tail once the row count is known). No <dimension>: it is optional.
    return (
        f'{_XML_HEAD}<worksheet xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}">'
        f'<sheetViews><sheetView workbookViewId="0"{_TAB_SELECTED if selected else ""}>'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
        f"{f'<cols>{cols}</cols>' if cols else ''}"
        f'<sheetData><row r="1">{header}</row>'
    )


def _sheet_tail(ref: str) -> str:
    return (
        f'</sheetData><autoFilter ref="{ref}"/>'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
    )


# --- writing ----------------------------------------------------------------------------------------------------


class _Package:
    """The zip being written: worksheets stream in one at a time, the workbook parts follow at close."""

    def __init__(self, path: str):
        self.zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=_COMPRESS_LEVEL)
        self.written: list[tuple[str, str]] = []
        self.taken: set[str] = set()

    def write_sheet(self, sheet: Sheet, title: str, rows, max_rows: int) -> tuple[int, bool]:
        """Write up to `max_rows` rows of the iterator `rows`; returns (rows written, whether max_rows was reached)."""
        title = sheet_title(title, self.taken)
        n_columns = len(sheet.headers)
        money = set(sheet.money_columns)
        width = max(n_columns, 1)
        letters = [column_letter(i) for i in range(width)]
        cells = [_column_writer(i in money) for i in range(width)]
        count, full = 0, False
        with self.zip.open(f"xl/worksheets/sheet{len(self.written) + 1}.xml", "w", force_zip64=True) as fh:
            fh.write(_sheet_head(sheet, n_columns, selected=not self.written).encode())
            chunk: list[str] = []
            append, join = chunk.append, "".join
            for row in rows:
                count += 1
                n = str(count + 1)
                if len(row) > width:  # a row wider than the header: more columns
                    letters += [column_letter(i) for i in range(width, len(row))]
                    cells += [_column_writer(i in money) for i in range(width, len(row))]
                    width = len(row)
                values = join([cell(v, letter, n) for cell, v, letter in zip(cells, row, letters, strict=False)])
                append(f'<row r="{n}">{values}</row>')
                if len(chunk) == _CHUNK_ROWS:
                    fh.write(join(chunk).encode())
                    chunk.clear()
                if count == max_rows:
                    full = True
                    break
            fh.write("".join(chunk).encode())
            ref = f"A1:{letters[max(n_columns, 1) - 1]}{count + 1}"
            fh.write(_sheet_tail(ref).encode())
        self.written.append((title, ref))
        return count, full

    def close(self) -> None:
        n = len(self.written)
        self.zip.writestr("xl/styles.xml", _STYLES_XML)
        self.zip.writestr("xl/workbook.xml", _workbook_xml(self.written))
        self.zip.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(n))
        self.zip.writestr("docProps/app.xml", _APP_XML)
        self.zip.writestr("docProps/core.xml", _core_xml())
        self.zip.writestr("_rels/.rels", _ROOT_RELS)
        self.zip.writestr("[Content_Types].xml", _content_types(n))
        self.zip.close()


_END = object()


def write_sheets(path: str, sheets: Sequence[Sheet], *, max_rows: int = MAX_DATA_ROWS) -> list[int]:
    """Write every sheet to `path`; returns the number of data rows of each. A sheet with more than `max_rows`
    rows continues on "<title> (2)", "<title> (3)", …"""
    package = _Package(path)
    counts = []
    try:
        for sheet in sheets:
            rows = iter(sheet.rows)
            part = 1
            total, full = package.write_sheet(sheet, sheet.title, rows, max_rows)
            while full and (following := next(rows, _END)) is not _END:
                part += 1
                n, full = package.write_sheet(
                    sheet, f"{sheet.title[:26]} ({part})", itertools.chain((following,), rows), max_rows
                )
                total += n
            counts.append(total)
    except BaseException:
        package.zip.close()
        raise
    package.close()
    return counts


def export_filename(name: str, *, stamp: str | None = None) -> str:
    """`<Nombre>_<YYYYMMDD_HHMMSS>.xlsx` in local time (or a given stamp such as a date)."""
    return f"{name}_{stamp or clock.local_now().strftime('%Y%m%d_%H%M%S')}.xlsx"


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
