"""Client import (spec crm.md §7): preview before writing, row-level errors, idempotent re-import, bad files."""

from __future__ import annotations

import io
import os
import re

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from app.clients.models import Client, ClientEvent, ClientImport, ConsentEvent

URL = "/ventas/importar-clientes/"
HEADERS = [
    "ID",
    "Documento Identidad",
    "Nombre",
    "Teléfono",
    "Email",
    "Ciudad",
    "País",
    "Fecha Nacimiento",
    "Acepta Marketing",
]


def xlsx(rows, headers=HEADERS) -> bytes:
    wb = Workbook()
    ws = wb.active
    if headers:
        ws.append(headers)
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture
def import_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_DIR", str(tmp_path / "imports"))
    return tmp_path / "imports"


def upload(c, data: bytes, name="clientes.xlsx", **form):
    return c.post(URL, data={"archivo": (io.BytesIO(data), name), **form}, content_type="multipart/form-data")


def last_import(db_session) -> ClientImport:
    db_session.expire_all()
    return db_session.scalars(sa.select(ClientImport).order_by(ClientImport.id.desc())).first()


def n_clients(db_session) -> int:
    return db_session.scalar(sa.select(sa.func.count(Client.id)))


def test_good_file_preview_then_confirm(login, db_session, make_client, import_dir):
    existing = make_client(name="María Pérez", phone="+56987654321", email="maria@example.com", city=None)
    db_session.commit()
    c = login("gerente")
    before = n_clients(db_session)
    data = xlsx(
        [
            (
                None,
                "12.345.678-5",
                "Juan Soto",
                "9 1234 5678",
                "JUAN@example.com",
                "Puerto Varas",
                "Chile",
                "15/04/1980",
                "Sí",
            ),
            (None, None, "María Pérez", "987654321", None, "Osorno", None, None, None),  # update: city only
            (None, None, "Pedro Sin Cambios", "+56 9 2222 3333", None, None, None, None, "No"),
        ]
    )
    resp = upload(c, data)
    assert resp.status_code == 200
    assert 'id="count-new">2 nuevos' in resp.text and 'id="count-updated">1 actualizados' in resp.text
    assert "Ciudad: — → Osorno" in resp.text
    assert n_clients(db_session) == before  # nothing written yet
    record = last_import(db_session)
    assert record.status == "preview" and os.path.exists(import_dir / record.stored_name)

    done = c.post(f"{URL}{record.id}/confirmar/")
    assert done.status_code == 303
    db_session.expire_all()
    juan = db_session.scalar(sa.select(Client).where(Client.phone == "+56912345678"))
    assert juan.document_id == "12345678-5" and juan.email == "juan@example.com" and juan.origin == "import"
    assert juan.birth_date.isoformat() == "1980-04-15" and juan.preferences.accepts_promotional is True
    assert (
        db_session.scalar(
            sa.select(sa.func.count()).where(ConsentEvent.client_id == juan.id, ConsentEvent.source == "import")
        )
        == 4
    )
    pedro = db_session.scalar(sa.select(Client).where(Client.phone == "+56922223333"))
    assert pedro.preferences.accepts_promotional is False
    assert db_session.get(Client, existing.id).city == "Osorno"
    assert db_session.get(Client, existing.id).email == "maria@example.com"  # empty cell never erases
    assert (
        db_session.scalar(
            sa.select(sa.func.count()).where(
                ClientEvent.client_id == existing.id, ClientEvent.event_type == "client_updated"
            )
        )
        == 1
    )
    assert last_import(db_session).status == "aplicado" and not os.path.exists(import_dir / record.stored_name)
    page = c.get("/ventas/clientes/")
    assert "Importación completada: 2 creados, 1 actualizados, 0 sin cambios, 0 con errores." in page.text

    again = upload(c, data)  # idempotent: the same file again changes nothing
    assert 'id="count-new">0 nuevos' in again.text and 'id="count-unchanged">3 sin cambios' in again.text
    c.post(f"{URL}{last_import(db_session).id}/confirmar/")
    assert n_clients(db_session) == before + 2
    assert c.post(f"{URL}{record.id}/confirmar/").status_code == 422  # already applied


def test_bad_rows_are_reported_and_skipped(login, db_session, make_client, import_dir):
    a = make_client(phone="+56911110000", document_id="12345678-5")
    b = make_client(phone="+56911110001")
    db_session.commit()
    c = login("gerente")
    resp = upload(
        c,
        xlsx(
            [
                (None, None, "", "+56 9 5555 0000", None, None, None, None, None),  # 2: no name
                (None, None, "Sin Teléfono", None, None, None, None, None, None),  # 3
                (None, None, "Mal Teléfono", "12345", None, None, None, None, None),  # 4
                (None, None, "Bueno", "+56 9 5555 0001", "no-es-correo", None, None, "32/13/1990", None),  # 5: warnings
                (None, None, "Repetido", "955550001", None, None, None, None, None),  # 6: phone repeated (row 5)
                (None, "12.345.678-5", "Conflicto", "+56911110001", None, None, None, None, None),  # 7: a vs b
                (None, "11.111.111-2", "RUT malo", "+56 9 5555 0002", None, None, None, None, None),  # 8: warning
                (None, None, None, None, None, None, None, None, None),  # empty: skipped
                (999999, None, "ID inexistente", "+56 9 5555 0003", None, None, None, None, None),  # 10
            ]
        ),
    )
    assert resp.status_code == 200
    text = resp.text
    assert 'id="count-errors">6 con errores' in text and 'id="count-new">2 nuevos' in text
    assert "Nombre obligatorio" in text and "El teléfono es obligatorio." in text
    assert "Teléfono inválido: «12345»" in text and "Teléfono repetido en la fila 5" in text
    assert f"Conflicto: el documento coincide con el cliente #{a.id} y el teléfono con el cliente #{b.id}" in text
    assert "E-mail inválido" in text and "Fecha de nacimiento inválida" in text and "RUT inválido" in text
    assert "El cliente #999999 no existe" in text
    record = last_import(db_session)
    errors = c.get(f"{URL}{record.id}/errores/")
    assert re.fullmatch(
        r'attachment; filename="Errores_Importacion_\d{8}_\d{6}\.xlsx"', errors.headers["Content-Disposition"]
    )
    ws = load_workbook(io.BytesIO(errors.data)).active
    assert [c.value for c in ws[1]][-2:] == ["Fila", "Error"]
    assert [r[-2] for r in ws.iter_rows(min_row=2, values_only=True)] == [2, 3, 4, 5, 6, 7, 8, 10]
    c.post(f"{URL}{record.id}/confirmar/")
    db_session.expire_all()
    bueno = db_session.scalar(sa.select(Client).where(Client.phone == "+56955550001"))
    assert bueno.email is None and bueno.birth_date is None
    assert db_session.scalar(sa.select(Client.document_id).where(Client.phone == "+56955550002")) is None


@pytest.mark.parametrize(
    ("payload", "name", "message"),
    [
        (b"esto no es un excel", "clientes.xlsx", "El archivo no es un Excel .xlsx válido."),
        (b"PK\x03\x04roto", "clientes.xlsx", "El archivo no es un Excel .xlsx válido."),
        (b"", "clientes.xlsx", "El archivo está vacío."),
        (None, "vacio.xlsx", "El archivo está vacío."),
        ("only-header", "cabecera.xlsx", "El archivo está vacío."),
    ],
)
def test_malformed_files_get_a_clear_message(login, db_session, import_dir, payload, name, message):
    if payload is None:
        payload = xlsx([], headers=None)
    elif payload == "only-header":
        payload = xlsx([])
    c = login("gerente")
    resp = upload(c, payload, name=name)
    assert resp.status_code == 422 and message in resp.text
    assert db_session.scalar(sa.select(sa.func.count(ClientImport.id))) == 0
    hx = c.post(
        URL,
        data={"archivo": (io.BytesIO(payload), name)},
        content_type="multipart/form-data",
        headers={"HX-Request": "true"},
    )
    assert hx.status_code == 422 and hx.text.lstrip().startswith('<div id="import-form">')
    assert upload(c, b"", name="").status_code == 422  # no file chosen


def test_limits(login, import_dir, monkeypatch):
    from app.clients import import_services as importer

    c = login("gerente")
    monkeypatch.setattr(importer, "MAX_ROWS", 3)
    resp = upload(c, xlsx([(None, None, f"N {i}", f"+5698000000{i}") for i in range(4)]))
    assert resp.status_code == 422 and "El archivo supera 50.000 filas." in resp.text
    monkeypatch.setattr(importer, "MAX_BYTES", 100)
    resp = upload(c, xlsx([(None, None, "A", "+56980000000")]))
    assert resp.status_code == 422 and "El archivo supera 20 MB." in resp.text


def test_export_reimports_unchanged_and_discard(login, db_session, make_client, import_dir):
    for i in range(3):
        make_client(name=f"Exportado {i}", city="Frutillar")
    db_session.commit()
    c = login("gerente")
    exported = c.get("/ventas/exportar-clientes/")
    assert re.fullmatch(r'attachment; filename="Clientes_\d{8}_\d{6}\.xlsx"', exported.headers["Content-Disposition"])
    ws = load_workbook(io.BytesIO(exported.data))["Clientes"]
    assert [c.value for c in ws[1]] == [
        "ID",
        "Nombre",
        "Teléfono",
        "Email",
        "Documento Identidad",
        "Ciudad",
        "País",
        "Fecha Nacimiento",
        "Visitas",
        "Gasto Total",
        "Última Visita",
        "Fecha Creación",
    ]
    assert ws.max_row == n_clients(db_session) + 1 and ws["J2"].number_format == "#,##0"
    resp = upload(c, exported.data)
    assert 'id="count-unchanged">' + str(n_clients(db_session)) + " sin cambios" in resp.text
    record = last_import(db_session)
    gone = c.post(f"{URL}{record.id}/descartar/")
    assert gone.status_code == 303 and last_import(db_session).status == "descartado"
    assert not os.path.exists(import_dir / record.stored_name)


def test_template_and_page(login, import_dir):
    c = login("admin")
    page = c.get(URL)
    assert page.status_code == 200 and "Consentimiento de marketing para clientes nuevos" in page.text
    tpl = c.get(f"{URL}plantilla/")
    assert tpl.headers["Content-Disposition"] == 'attachment; filename="Plantilla_Clientes.xlsx"'
    assert [c.value for c in load_workbook(io.BytesIO(tpl.data)).active[1]] == HEADERS


MASS_ROWS = 500  # one flush chunk (500), more rows than the preview shows (200)


def mass_rows(n: int) -> list[tuple]:
    """`n` new clients, all from Ancud (bench/run_client_import.py generates the same rows, 10,000 of them)."""
    return [
        (None, None, f"Cliente Masivo {i}", f"+5697{i:07d}", f"masivo{i}@example.com", "Ancud", None, None, None)
        for i in range(n)
    ]


def test_a_large_file_is_previewed_then_imported_row_by_row(login, db_session, import_dir):
    """Every row of a large file imported, counts right, and its re-import unchanged. The 10,000-row
    timing lives in bench/run_client_import.py (docs/PERFORMANCE.md)."""
    rows = mass_rows(MASS_ROWS)
    c = login("gerente")
    resp = upload(c, xlsx(rows))
    assert resp.status_code == 200 and f'id="count-new">{MASS_ROWS} nuevos' in resp.text
    assert resp.text.count('<tr id="import-row-') == 200  # first 200 shown
    done = c.post(f"{URL}{last_import(db_session).id}/confirmar/")
    assert done.status_code == 303
    assert db_session.scalar(sa.select(sa.func.count()).where(Client.city == "Ancud")) == MASS_ROWS
    again = upload(c, xlsx(rows[:500]))
    assert 'id="count-unchanged">500 sin cambios' in again.text


def test_purge_stale_imports(db_session, import_dir, app, freeze_clock):
    from datetime import datetime, timedelta

    from app.clients.jobs import purge_stale_imports
    from app.core.clock import LOCAL_TZ

    now = datetime(2026, 3, 2, 10, 0, tzinfo=LOCAL_TZ)
    os.makedirs(import_dir, exist_ok=True)
    (import_dir / "old.xlsx").write_bytes(b"x")
    db_session.add_all(
        [
            ClientImport(
                filename="a.xlsx", stored_name="old.xlsx", sha256="0" * 64, created_at=now - timedelta(hours=25)
            ),
            ClientImport(filename="b.xlsx", stored_name="new.xlsx", sha256="0" * 64, created_at=now),
        ]
    )
    db_session.flush()
    freeze_clock(now)
    assert purge_stale_imports() == "1 importaciones vencidas descartadas"
    assert not (import_dir / "old.xlsx").exists()


def test_no_file_and_a_refused_discard_answer_in_place(login, db_session, import_dir):
    c = login("gerente")
    none = c.post(URL, data={"consentimiento_marketing": "si"}, content_type="multipart/form-data")
    assert none.status_code == 422 and 'id="import-error">Seleccione un archivo .xlsx.<' in none.text
    assert '<option value="si" selected>' in none.text  # the choice made is kept
    resp = upload(c, xlsx([(None, None, "Ana Import", "9 5555 0101", None, None, None, None, None)]))
    record = last_import(db_session)
    assert resp.status_code == 200 and 'id="import-preview"' in resp.text
    assert c.post(f"{URL}{record.id}/descartar/").status_code == 303
    again = c.post(f"{URL}{record.id}/descartar/", headers={"HX-Request": "true"})
    assert again.status_code == 422 and again.text.lstrip().startswith('<div id="import-form">')
    assert "Esta importación ya fue aplicada o descartada." in again.text
