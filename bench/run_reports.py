"""Reports benchmark: caja diaria for one month under gunicorn on the generated PostgreSQL data (8 clients, wrk).

The generator writes orders without payment rows; this script first adds them once (one payment per order at its
sale time, ~5 % voided, ~3 % refunds, ~10 % gift cards, several users; marked reference 'bench'), then measures the
full page, the HTMX fragment, a later page of the detail and the Excel download of the busiest month.
Target: caja diaria one month p95 ≤ 150 ms.
Usage: python bench/generate.py && python bench/run_reports.py [--url …] [--seconds 20] [--excel 10] [--sequential]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_booking import BASE, DEFAULT_URL, OUT, one_row, start_server, summary, wrk  # noqa: E402
from run_frontdesk import ensure_user, login  # noqa: E402

METHODS = ["efectivo", "tarjeta", "transferencia", "webpay", "flow", "giftcard", "efectivo", "tarjeta"]


def add_payments(url: str) -> int:
    """One payment per generated order (idempotent: skipped when the 'bench' payments exist)."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        existing = conn.execute(sa.text("SELECT count(*) FROM payments WHERE reference = 'bench'")).scalar()
        if existing:
            engine.dispose()
            return existing
        users = [
            r[0]
            for r in conn.execute(
                sa.text(
                    "SELECT id FROM users WHERE role IN ('recepcion', 'gerente', 'admin') AND NOT is_system ORDER BY id"
                )
            )
        ]
        params = {"methods": METHODS, "users": users or [None]}
        conn.execute(
            sa.text(
                "INSERT INTO payments (order_id, paid_at, amount, method, recorded_by_id, is_refund, status, "
                "after_close, reference, created_at) "
                "SELECT o.id, o.sold_at + (10 + random() * 12) * interval '1 hour', o.total, "
                "(CAST(:methods AS text[]))[1 + floor(random() * cardinality(CAST(:methods AS text[])))::int], "
                "(CAST(:users AS int[]))[1 + floor(random() * cardinality(CAST(:users AS int[])))::int], false, "
                "CASE WHEN random() < 0.05 THEN 'anulado' ELSE 'valido' END, false, 'bench', o.sold_at "
                "FROM orders o WHERE o.total > 0"
            ),
            params,
        )
        conn.execute(
            sa.text(
                "INSERT INTO payments (order_id, paid_at, amount, method, recorded_by_id, is_refund, status, "
                "after_close, reference, created_at) "
                "SELECT p.order_id, p.paid_at + interval '1 hour', -least(p.amount, 10000), p.method, "
                "p.recorded_by_id, "
                "true, 'valido', false, 'bench', p.created_at FROM payments p "
                "WHERE p.reference = 'bench' AND p.method <> 'giftcard' AND random() < 0.03"
            )
        )
        count = conn.execute(sa.text("SELECT count(*) FROM payments WHERE reference = 'bench'")).scalar()
    # VACUUM as autovacuum would have done on a live database: index-only scans need the visibility map
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE payments"))
    engine.dispose()
    return count


def busiest_month(url: str) -> tuple[date, int]:
    row = one_row(
        url,
        "SELECT date_trunc('month', paid_at AT TIME ZONE 'America/Santiago')::date, count(*) "
        "FROM payments GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
    )
    return row[0], row[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--sequential", action="store_true", help="also measure with one connection")
    parser.add_argument("--excel", type=int, default=10, help="sequential Excel downloads to time")
    args = parser.parse_args()
    ensure_user(args.url)
    payments = add_payments(args.url)
    first, rows = busiest_month(args.url)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    print(f"{payments} pagos de prueba; mes {first:%m/%Y} con {rows} pagos", flush=True)
    proc = start_server(args.url)
    try:
        session = login()
        cookie = [f"Cookie: {'; '.join(f'{k}={v}' for k, v in session.cookies.items())}"]
        month = f"/ventas/caja-diaria/?fecha_inicio={first}&fecha_fin={last}"
        assert session.get(BASE + month).status_code == 200
        hx = [*cookie, "HX-Request: true"]
        pages = [
            (f"caja diaria month ({rows} payments)", month, cookie),
            ("caja diaria month fragment", month, hx),
            ("caja diaria month page 40", month + "&page=40", hx),
        ]
        results = []
        for name, path, headers in pages:  # a freshly started server: warm every thread and connection
            wrk(f"warm-up {name}", path, 2, headers=headers)
        for connections in (8, 1) if args.sequential else (8,):
            results += [
                wrk(
                    name + ("" if connections > 1 else " (sequential)"),
                    path,
                    args.seconds,
                    headers=headers,
                    connections=connections,
                )
                for name, path, headers in pages
            ]
        timings = []
        for _ in range(args.excel):
            t0 = time.perf_counter()
            r = session.get(BASE + month + "&export=xlsx&incluir_anulados=1", timeout=120)
            timings.append(time.perf_counter() - t0)
            assert r.status_code == 200 and r.content[:2] == b"PK", r.status_code
        results.append(
            {
                **summary(f"caja diaria month Excel ({len(r.content) // 1024} KB)", timings),
                "tool": "requests (sequential)",
            }
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    OUT.mkdir(exist_ok=True)
    (OUT / "reports.json").write_text(
        json.dumps({"month": first.isoformat(), "payments_in_month": rows, "results": results}, indent=2, default=str)
    )


if __name__ == "__main__":
    main()
