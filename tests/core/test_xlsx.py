import zipfile
from datetime import UTC, date, datetime, time
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook

from app.core.xlsx import MAX_CELL_CHARS, XLSX_MIME, Sheet, export_filename, write_sheets, xlsx_download


def test_sheets_have_styled_headers_real_types_and_overflow(tmp_path):
    path = str(tmp_path / "r.xlsx")
    rows = [
        (i, f"Cliente {i}", 12345 * i, date(2026, 3, 2), datetime(2026, 3, 2, 17, 30, tzinfo=UTC), "")
        for i in range(1, 6)
    ]
    counts = write_sheets(
        path,
        [
            Sheet("Datos", ["ID", "Cliente", "Monto", "Fecha", "Fecha y hora", "Vacío"], iter(rows), money_columns=[2]),
            Sheet("Resumen", ["Filtro", "Valor"], [("Total", 185175)], money_columns=[1]),
        ],
        max_rows=2,
    )
    assert counts == [5, 1]
    wb = load_workbook(path)
    assert wb.sheetnames == ["Datos", "Datos (2)", "Datos (3)", "Resumen"]
    ws = wb["Datos"]
    assert ws["A1"].value == "ID" and ws["A1"].font.bold and ws["A1"].fill.start_color.rgb.endswith("D9D9D9")
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:F3"
    assert ws["C2"].value == 12345 and ws["C2"].number_format == "#,##0"
    assert ws["D2"].is_date and ws["D2"].number_format == "DD/MM/YYYY"
    assert ws["E2"].value == datetime(2026, 3, 2, 14, 30)  # local (UTC-3), naive
    assert ws["F2"].value is None
    assert wb["Datos (3)"]["A2"].value == 5


# --- the streaming SpreadsheetML writer: openpyxl round trip and package checks --------------------------------

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
# CT_Worksheet's sequence (ECMA-376 part 1, §18.3.1.99), the elements this writer may use
WORKSHEET_ORDER = [
    "sheetPr",
    "dimension",
    "sheetViews",
    "sheetFormatPr",
    "cols",
    "sheetData",
    "autoFilter",
    "pageMargins",
]


def _write(tmp_path, sheets, **kw):
    path = str(tmp_path / "out.xlsx")
    counts = write_sheets(path, sheets, **kw)
    return path, counts


def test_header_is_bold_on_grey_first_row_frozen_and_filtered(tmp_path):
    headers = ["ID", "Cliente", "Servicio", "Monto"]
    path, counts = _write(
        tmp_path,
        [
            Sheet(
                "Servicios",
                headers,
                [(1, "Ana", "Tina", 1000), (2, "Luis", "Masaje", 2)],
                money_columns=(3,),
                wide_columns=(1, 2),
            )
        ],
    )
    assert counts == [2]
    ws = load_workbook(path)["Servicios"]
    assert [c.value for c in ws[1]] == headers
    for c in ws[1]:
        assert c.font.b and c.fill.fill_type == "solid" and c.fill.start_color.rgb == "FFD9D9D9"
    assert not ws["A2"].font.b and ws["A2"].fill.fill_type is None
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:D3"
    assert [ws.column_dimensions[x].width for x in "ABCD"] == [20, 40, 40, 20]


def test_dates_datetimes_and_money_read_back_as_real_values(tmp_path):
    rows = [
        (
            date(2026, 3, 2),
            datetime(2026, 1, 15, 12, 0, tzinfo=UTC),
            datetime(2026, 7, 15, 12, 0, tzinfo=UTC),
            datetime(2026, 3, 2, 17, 45),
            1_234_567,
            Decimal("1500"),
            2.5,
            7,
        )
    ]
    path, _ = _write(
        tmp_path,
        [
            Sheet(
                "D",
                ["Día", "Verano", "Invierno", "Ingenua", "Monto", "Dec", "Float", "Cant"],
                rows,
                money_columns=(4, 5),
            )
        ],
    )
    ws = load_workbook(path)["D"]
    a, b, c, d, e, f, g, h = ws[2]
    assert a.value == datetime(2026, 3, 2) and a.is_date and a.number_format == "DD/MM/YYYY"
    assert b.value == datetime(2026, 1, 15, 9, 0) and b.number_format == "DD/MM/YYYY HH:MM"  # UTC-3 in summer
    assert c.value == datetime(2026, 7, 15, 8, 0) and c.number_format == "DD/MM/YYYY HH:MM"  # UTC-4 in winter
    assert d.value == datetime(2026, 3, 2, 17, 45)  # naive: written as given
    assert e.value == 1_234_567 and isinstance(e.value, int) and e.number_format == "#,##0"
    assert f.value == 1500 and f.number_format == "#,##0"
    assert g.value == 2.5 and g.number_format == "General"
    assert h.value == 7 and isinstance(h.value, int) and h.number_format == "General"  # not a money column


def test_strings_are_escaped_and_illegal_characters_removed(tmp_path):
    special = "<b>Tom & \"Jerry\" 'SpA'</b> ]]> &amp;"
    rows = [
        (
            special,
            "a\x00b\x0bc\x1fd\ufffee",
            "  espacios  ",
            "línea 1\r\nlínea 2\tfin",
            "Ñandú ☃ 🎉",
            "x" * (MAX_CELL_CHARS + 10),
        )
    ]
    path, _ = _write(
        tmp_path, [Sheet("T", ['<Especial> & "h"', "Ilegales", "Espacios", "Saltos", "Unicode", "Largo"], rows)]
    )
    ws = load_workbook(path)["T"]
    assert ws["A1"].value == '<Especial> & "h"'
    assert [c.value for c in ws[2]] == [
        special,
        "abcde",
        "  espacios  ",
        "línea 1\r\nlínea 2\tfin",
        "Ñandú ☃ 🎉",
        "x" * MAX_CELL_CHARS,
    ]
    assert all(c.data_type == "s" for c in ws[2])


def test_none_and_empty_strings_are_empty_cells_booleans_and_times_are_typed(tmp_path):
    path, _ = _write(
        tmp_path,
        [
            Sheet(
                "V",
                ["A", "B", "C", "D", "E", "F"],
                [(None, "", True, False, time(14, 30), float("nan")), (1, None, None, None)],
            )
        ],
    )
    ws = load_workbook(path)["V"]
    assert [c.value for c in ws[2]] == [None, None, True, False, time(14, 30), None]
    assert ws["E2"].is_date
    assert [c.value for c in ws[3]] == [1, None, None, None, None, None]
    assert ws.auto_filter.ref == "A1:F3"


def test_unexportable_values_are_refused(tmp_path):
    with pytest.raises(TypeError):
        _write(tmp_path, [Sheet("X", ["A"], [(object(),)])])


def test_sheets_split_at_max_rows_without_an_empty_last_part(tmp_path):
    rows = [(i, f"Fila {i}") for i in range(1, 7)]
    path, counts = _write(
        tmp_path,
        [Sheet("ServiciosVendidosDelPeriodoCompleto", ["N", "Texto"], iter(rows)), Sheet("Vacía", ["N"], iter([]))],
        max_rows=3,
    )
    assert counts == [6, 0]
    wb = load_workbook(path)
    assert wb.sheetnames == ["ServiciosVendidosDelPeriodoComp", "ServiciosVendidosDelPeriod (2)", "Vacía"]
    first, second, empty = (wb[n] for n in wb.sheetnames)
    assert [r[0] for r in first.iter_rows(min_row=2, values_only=True)] == [1, 2, 3]
    assert [r[0] for r in second.iter_rows(min_row=2, values_only=True)] == [4, 5, 6]
    assert second["A1"].value == "N" and second["A1"].font.b and second.freeze_panes == "A2"
    assert first.auto_filter.ref == "A1:B4" and second.auto_filter.ref == "A1:B4"
    assert empty.max_row == 1 and empty.auto_filter.ref == "A1:A1"


def test_many_rows_across_write_chunks_keep_order(tmp_path):
    n = 2_345  # more than two chunks of rows
    path, counts = _write(
        tmp_path, [Sheet("Muchas", ["N", "Monto"], ((i, i * 1000) for i in range(n)), money_columns=(1,))]
    )
    assert counts == [n]
    wb = load_workbook(path, read_only=True)
    values = list(wb["Muchas"].iter_rows(min_row=2, values_only=True))
    wb.close()
    assert values == [(i, i * 1000) for i in range(n)]


def test_sheet_titles_are_valid_unique_and_escaped(tmp_path):
    sheets = [
        Sheet("Resumen", ["A"], [(1,)]),
        Sheet("resumen", ["A"], [(2,)]),
        Sheet("Ventas: 2026/03 [todo]?*", ["A"], [(3,)]),
        Sheet("'Tom & Jerry'", ["A"], [(4,)]),
        Sheet("", ["A"], [(5,)]),
    ]
    path, _ = _write(tmp_path, sheets)
    wb = load_workbook(path)
    assert wb.sheetnames == ["Resumen", "resumen1", "Ventas_ 2026_03 _todo___", "Tom & Jerry", "Hoja"]
    assert [wb[n]["A2"].value for n in wb.sheetnames] == [1, 2, 3, 4, 5]
    assert all(len(n) <= 31 for n in wb.sheetnames)


def test_package_is_well_formed(tmp_path):
    path, _ = _write(
        tmp_path,
        [Sheet("Datos & <más>", ["A", "B"], [(1, "x"), (2, "y")]), Sheet("Resumen", ["Dato", "Valor"], [("Total", 3)])],
        max_rows=1,
    )
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        parts = {name: ElementTree.fromstring(zf.read(name)) for name in names}  # every part parses
    types = parts["[Content_Types].xml"]
    ns = "{http://schemas.openxmlformats.org/package/2006/content-types}"
    defaults = {d.get("Extension") for d in types.iter(f"{ns}Default")}
    overrides = {o.get("PartName") for o in types.iter(f"{ns}Override")}
    for name in names:
        if name != "[Content_Types].xml":
            assert f"/{name}" in overrides or name.rsplit(".", 1)[-1] in defaults, name
    assert overrides <= {f"/{n}" for n in names}
    sheets = sorted(n for n in names if n.startswith("xl/worksheets/"))
    assert sheets == ["xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml", "xl/worksheets/sheet3.xml"]
    for name in sheets:
        assert f"/{name}" in overrides
        order = [child.tag.removeprefix(MAIN) for child in parts[name]]
        assert order == sorted(order, key=WORKSHEET_ORDER.index)
        assert {"sheetViews", "cols", "sheetData", "autoFilter"} <= set(order)
    rels = parts["xl/_rels/workbook.xml.rels"]
    targets = {r.get("Target") for r in rels}
    assert {"worksheets/sheet1.xml", "worksheets/sheet2.xml", "worksheets/sheet3.xml", "styles.xml"} <= targets
    workbook = parts["xl/workbook.xml"]
    assert [s.get("name") for s in workbook.iter(f"{MAIN}sheet")] == ["Datos & <más>", "Datos & <más> (2)", "Resumen"]


def test_download_streams_the_file_with_its_name(tmp_path):
    rows = [(i, f"C{i}", date(2026, 3, 1)) for i in range(100)]
    resp = xlsx_download(
        export_filename("Servicios_Vendidos", stamp="20260302"),
        [Sheet("Servicios Vendidos", ["ID", "Cliente", "Fecha"], rows)],
    )
    body = b"".join(resp.response)
    assert resp.mimetype == XLSX_MIME and int(resp.headers["Content-Length"]) == len(body)
    assert resp.headers["Content-Disposition"] == 'attachment; filename="Servicios_Vendidos_20260302.xlsx"'
    (tmp_path / "d.xlsx").write_bytes(body)
    ws = load_workbook(tmp_path / "d.xlsx")["Servicios Vendidos"]
    assert ws.max_row == 101 and ws["C101"].value == datetime(2026, 3, 1)
