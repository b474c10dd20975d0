"""Client import of a large file (spec crm.md §7): preview, confirm and re-import of N generated rows, timed.

Formerly the test `test_ten_thousand_rows` (10,000 rows in under 300 s); the behaviour at a smaller size stays in
tests/clients/test_import.py, the timing lives here. The generator writes N new clients (the rows of that test:
"Cliente Masivo i", +5697…, Ancud) to an .xlsx; the import runs in-process through the Flask test client as a
gerente, on a fresh migrated database (dropped and recreated: PostgreSQL by default, or a SQLite file).

Usage: python bench/run_client_import.py [--rows 10000] [--url postgresql://…/aremko_bench_import | sqlite:///…]
                                         [--target-seconds 300]
Writes bench/output/client_import.json; exits non-zero when a count is wrong or preview + confirm exceed the target.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/aremko_bench_import"
OUT = ROOT / "bench" / "output"
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


def generate_rows(n: int) -> list[tuple]:
    """N new clients, all from Ancud (the same rows as tests/clients/test_import.py's mass_rows)."""
    return [
        (None, None, f"Cliente Masivo {i}", f"+5697{i:07d}", f"masivo{i}@example.com", "Ancud", None, None, None)
        for i in range(n)
    ]


def workbook(rows: list[tuple]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(HEADERS)
    for row in rows:
        ws.append(list(row))
    data = io.BytesIO()
    wb.save(data)
    return data.getvalue()


def recreate(url: str) -> None:
    u = sa.make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and os.path.exists(u.database):
            os.unlink(u.database)
        return
    admin = sa.create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{u.database}"'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--reimport-rows", type=int, default=500)
    parser.add_argument("--url", default=os.environ.get("BENCH_IMPORT_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--target-seconds", type=float, default=300.0, help="preview + confirm of --rows")
    args = parser.parse_args()

    started = time.perf_counter()
    rows = generate_rows(args.rows)
    data = workbook(rows)
    again = workbook(rows[: args.reimport_rows])
    generate_seconds = time.perf_counter() - started

    recreate(args.url)
    os.environ.update({"APP_ENV": "test", "TEST_DATABASE_URL": args.url})
    from flask_migrate import upgrade

    from app import create_app
    from app.auth.services import create_user
    from app.clients.models import Client, ClientImport
    from app.extensions import db
    from config import TestConfig

    cfg = TestConfig()
    cfg.SECRET_KEY = "bench-client-import"
    cfg.WTF_CSRF_ENABLED = False
    cfg.IMPORT_DIR = tempfile.mkdtemp(prefix="aremko-bench-import-")
    app = create_app(cfg)
    with app.app_context():
        upgrade()
        manager = create_user(username="gerente-bench", role="gerente", password="bench-password-123")
        db.session.commit()
        manager_id = manager.id
        db.session.remove()

    http = app.test_client()
    with http.session_transaction() as session:
        session["_user_id"] = str(manager_id)
        session["_fresh"] = True

    def upload(payload: bytes):
        return http.post(
            URL, data={"archivo": (io.BytesIO(payload), "clientes.xlsx")}, content_type="multipart/form-data"
        )

    failures = []
    t0 = time.perf_counter()
    preview = upload(data)
    t1 = time.perf_counter()
    if preview.status_code != 200 or f'id="count-new">{args.rows} nuevos' not in preview.text:
        failures.append(f"preview: {preview.status_code}, not {args.rows} new rows")
    with app.app_context():
        import_id = db.session.scalar(sa.select(ClientImport.id).order_by(ClientImport.id.desc()))
    confirm = http.post(f"{URL}{import_id}/confirmar/")
    t2 = time.perf_counter()
    if confirm.status_code != 303:
        failures.append(f"confirm: {confirm.status_code}")
    with app.app_context():
        imported = db.session.scalar(sa.select(sa.func.count()).where(Client.city == "Ancud"))
        db.engine.dispose()
    if imported != args.rows:
        failures.append(f"{imported} clients imported of {args.rows}")
    t3 = time.perf_counter()
    reimport = upload(again)
    t4 = time.perf_counter()
    if f'id="count-unchanged">{args.reimport_rows} sin cambios' not in reimport.text:
        failures.append(f"re-import: not {args.reimport_rows} unchanged rows")

    figures = {
        "database": sa.make_url(args.url).get_backend_name(),
        "rows": args.rows,
        "generate_seconds": round(generate_seconds, 2),
        "preview_seconds": round(t1 - t0, 2),
        "confirm_seconds": round(t2 - t1, 2),
        "preview_and_confirm_seconds": round(t2 - t0, 2),
        "rows_per_second_confirm": round(args.rows / (t2 - t1), 1) if t2 > t1 else None,
        "reimport_rows": args.reimport_rows,
        "reimport_preview_seconds": round(t4 - t3, 2),
        "target_seconds": args.target_seconds,
        "failures": failures,
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "client_import.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))
    if failures:
        sys.exit("wrong result: " + "; ".join(failures))
    if t2 - t0 > args.target_seconds:
        sys.exit(f"preview + confirm took {t2 - t0:.1f} s, over the target of {args.target_seconds:.0f} s")


if __name__ == "__main__":
    main()
