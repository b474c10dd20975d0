"""A client import confirmed twice at once (double click, two tabs) is applied once (spec crm.md §7).

`apply_import` takes the import's row lock and re-reads its status. Both confirms wait at a rendezvous after the
status check; the negative control switches the lock off: both apply, and the second one crashes on the clients
the first created (a 500 in production) instead of the Spanish refusal."""

from __future__ import annotations

import io

import sqlalchemy as sa
from openpyxl import Workbook

from app.auth.models import User
from app.clients import import_services as importer
from app.clients.models import Client, ClientImport
from app.core.errors import ValidationError
from app.extensions import db
from tests.concurrency.conftest import rendezvous_in, run_concurrently

N = 2
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
ROWS = [(None, None, f"Cliente {i}", f"9 8000 00{i:02d}", None, None, None, None, None) for i in range(5)]


def prepare(app, tmp_path) -> tuple[int, int]:
    app.config["IMPORT_DIR"] = str(tmp_path / "imports")
    wb = Workbook()
    wb.active.append(HEADERS)
    for row in ROWS:
        wb.active.append(list(row))
    data = io.BytesIO()
    wb.save(data)
    data.seek(0)
    with app.app_context():
        manager = User(username="gerente-import", role="gerente")
        db.session.add(manager)
        db.session.flush()
        record, preview = importer.create_import(data, "clientes.xlsx", marketing=False, by=manager)
        assert preview.counts["nuevo"] == len(ROWS)
        db.session.commit()
        return manager.id, record.id


def race(app, tmp_path, monkeypatch) -> list[str]:
    manager_id, import_id = prepare(app, tmp_path)
    # after the status check, before the writes
    rendezvous_in(monkeypatch, importer, "file_matches", N, all_arrive=not importer.LOCKING_ENABLED)

    def confirm(_, start):
        by = db.session.get(User, manager_id)
        record = db.session.get(ClientImport, import_id)
        start()
        importer.apply_import(record, by=by)

    return run_concurrently(
        app,
        range(N),
        confirm,
        lambda exc: "ya_aplicada" if isinstance(exc, ValidationError) and "ya fue aplicada" in exc.message else None,
    )


def test_a_double_confirm_applies_the_import_once(pg_app, tmp_path, monkeypatch):
    outcomes = race(pg_app, tmp_path, monkeypatch)
    assert sorted(outcomes) == ["ok", "ya_aplicada"], outcomes
    with pg_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == len(ROWS)
        assert db.session.scalar(sa.select(ClientImport.status)) == "aplicado"


def test_negative_control_without_the_row_lock_both_confirms_apply(pg_app, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "LOCKING_ENABLED", False)
    outcomes = race(pg_app, tmp_path, monkeypatch)
    assert "ya_aplicada" not in outcomes, "without the row lock both confirms should pass the status check"
    assert any(o.startswith("error: IntegrityError") for o in outcomes), outcomes
