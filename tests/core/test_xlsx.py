from datetime import UTC, date, datetime

from openpyxl import load_workbook

from app.core.xlsx import Sheet, write_sheets


def test_sheets_have_styled_headers_real_types_and_overflow(tmp_path):
    path = str(tmp_path / "r.xlsx")
    rows = [(i, f"Cliente {i}", 12345 * i, date(2026, 3, 2), datetime(2026, 3, 2, 17, 30, tzinfo=UTC), "")
            for i in range(1, 6)]
    counts = write_sheets(path, [
        Sheet("Datos", ["ID", "Cliente", "Monto", "Fecha", "Fecha y hora", "Vacío"], iter(rows), money_columns=[2]),
        Sheet("Resumen", ["Filtro", "Valor"], [("Total", 185175)], money_columns=[1]),
    ], max_rows=2)
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
