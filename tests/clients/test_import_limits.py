"""Client import against zip bombs (security review M2): the archive is checked before openpyxl parses it, every
sheet row counts toward the row cap and the read has a wall-clock budget; each refusal is a quick Spanish 422."""

from __future__ import annotations

import io
import time
import zipfile

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from app.clients.models import ClientImport

URL = "/ventas/importar-clientes/"


@pytest.fixture
def import_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_DIR", str(tmp_path / "imports"))
    return tmp_path / "imports"


def base_xlsx() -> dict[str, bytes]:
    """The parts of a small valid workbook (header + one client), to be doctored."""
    wb = Workbook()
    ws = wb.active
    ws.append(["Nombre", "Teléfono"])
    ws.append(["Ana Bomba", "+56981112222"])
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as z:
        return {name: z.read(name) for name in z.namelist()}


def build(parts: dict[str, bytes | object]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in parts.items():
            if callable(data):
                with z.open(name, "w", force_zip64=True) as fh:
                    data(fh)
            else:
                z.writestr(name, data)
    return out.getvalue()


SHEET = "xl/worksheets/sheet1.xml"
HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
    b'2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Nombre</t></is></c><c r="B1" '
    b't="inlineStr"><is><t>Tel\xc3\xa9fono</t></is></c></row>'
)
TAIL = b"</sheetData></worksheet>"


def empty_rows_sheet(n: int):
    def write(fh):
        fh.write(HEAD)
        row = b'<row><c t="inlineStr"><is><t></t></is></c></row>'
        block = row * 10_000
        for _ in range(n // 10_000):
            fh.write(block)
        fh.write(
            b'<row><c t="inlineStr"><is><t>Al Final</t></is></c><c t="inlineStr"><is><t>+56981113333</t></is></c></row>'
        )
        fh.write(TAIL)

    return write


def upload(c, data: bytes):
    return c.post(URL, data={"archivo": (io.BytesIO(data), "bomba.xlsx")}, content_type="multipart/form-data")


def n_imports(db_session) -> int:
    db_session.expire_all()
    return db_session.scalar(sa.select(sa.func.count(ClientImport.id)))


def test_empty_rows_count_toward_the_row_cap(login, db_session, import_dir):
    parts = base_xlsx()
    parts[SHEET] = empty_rows_sheet(60_000)  # 60,000 empty rows, then one client: old code previewed 1 row
    data = build(parts)
    assert len(data) < 200_000
    c = login("gerente")
    started = time.monotonic()
    resp = upload(c, data)
    assert resp.status_code == 422 and "El archivo supera 50.000 filas." in resp.text
    assert time.monotonic() - started < 20
    assert n_imports(db_session) == 0
    assert not list(import_dir.iterdir())  # the stored upload is removed


def test_huge_uncompressed_entry_is_refused_before_parsing(login, db_session, import_dir, monkeypatch):
    from app.clients import import_services as importer

    parts = base_xlsx()

    def shared_strings(fh):  # 101 MB of shared strings in a few hundred KB
        fh.write(
            b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main">'
        )
        block = b"<si><t>x</t></si>" * 65_536
        for _ in range(101 * 1024 * 1024 // len(block) + 1):
            fh.write(block)
        fh.write(b"</sst>")

    parts["xl/sharedStrings.xml"] = shared_strings
    data = build(parts)
    assert len(data) < 1_000_000
    parsed = []
    monkeypatch.setattr("openpyxl.load_workbook", lambda *a, **k: parsed.append(1))  # must never be reached
    c = login("gerente")
    started = time.monotonic()
    resp = upload(c, data)
    assert resp.status_code == 422 and "El archivo descomprimido es demasiado grande" in resp.text
    assert time.monotonic() - started < 5 and parsed == []
    assert n_imports(db_session) == 0
    assert importer.MAX_UNCOMPRESSED_BYTES == 100 * 1024 * 1024


def test_total_size_entry_count_and_time_budget_are_configurable(app, login, db_session, import_dir, monkeypatch):
    c = login("gerente")
    parts = base_xlsx()
    monkeypatch.setitem(app.config, "IMPORT_MAX_UNCOMPRESSED_BYTES", sum(map(len, parts.values())) - 1)
    resp = upload(c, build(parts))
    assert resp.status_code == 422 and "El archivo descomprimido es demasiado grande" in resp.text
    monkeypatch.delitem(app.config, "IMPORT_MAX_UNCOMPRESSED_BYTES")

    many = dict(parts, **{f"xl/extra/{i}.xml": b"<a/>" for i in range(50)})
    monkeypatch.setitem(app.config, "IMPORT_MAX_ENTRIES", 40)
    resp = upload(c, build(many))
    assert resp.status_code == 422 and "demasiadas partes internas" in resp.text
    monkeypatch.delitem(app.config, "IMPORT_MAX_ENTRIES")

    monkeypatch.setitem(app.config, "IMPORT_TIME_LIMIT_SECONDS", -1)
    resp = upload(c, build(parts))
    assert resp.status_code == 422 and "tardó demasiado en procesarse" in resp.text
    monkeypatch.delitem(app.config, "IMPORT_TIME_LIMIT_SECONDS")

    resp = upload(c, build(parts))  # the same workbook within the limits: previewed
    assert resp.status_code == 200 and 'id="count-new">1 nuevos' in resp.text
    assert n_imports(db_session) == 1


def test_a_zip_without_workbook_is_still_not_xlsx(login, import_dir):
    c = login("gerente")
    resp = upload(c, build({"hola.txt": b"hola"}))
    assert resp.status_code == 422 and "El archivo no es un Excel .xlsx válido." in resp.text


@pytest.mark.parametrize("raw_id", ["²", "١٢", "-3", "2147483648"])
def test_an_id_with_unicode_digits_is_a_row_error_not_a_crash(raw_id):
    from app.clients.import_services import RowPlan, _clean

    plan = RowPlan(row=2, raw={"id": raw_id, "name": "Ana Pérez", "phone": "+56912345678"})
    _clean(plan)  # "²".isdigit() is True but int("²") raises
    assert plan.error == f"ID inválido: «{raw_id}»"
