"""Servicios vendidos / productos vendidos / auditoría benchmark on the generated PostgreSQL data.

1. Pages under gunicorn with wrk (8 connections): servicios vendidos for the busiest month (full page and HTMX
   fragment, a later page), productos vendidos and auditoría for the same month. Target p95 ≤ 150 ms at 100.000
   orders.
2. Excel export of 1.000.000 service lines, in-process through the view's own code path (filters -> totals ->
   sheets -> xlsx_download -> streamed body), measuring peak RSS growth and rows/s. Target ≤ 150 MB and ≥ 40.000
   rows/s. The generator writes one line per order; this script first copies lines (same orders, dates and prices)
   until there are 1.000.000 (idempotent: only tops up).
Usage: python bench/generate.py && python bench/run_sold_reports.py [--url …] [--seconds 20] [--lines 1000000]
       [--sequential] [--skip-pages] [--skip-excel]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_booking import BASE, DEFAULT_URL, OUT, one_row, start_server, wrk  # noqa: E402
from run_frontdesk import ensure_user, login  # noqa: E402

# production mode refuses published keys, fake backends and insecure cookies unless overridden (config.validate)
BENCH_PRODUCTION_ENV = {
    "SECRET_KEY": os.environ.setdefault("BENCH_SECRET_KEY", secrets.token_urlsafe(48)),
    "ALLOW_FAKE_BACKENDS_IN_PRODUCTION": "1",
    "SESSION_COOKIE_SECURE": "false",
    "ALLOW_INSECURE_COOKIES_IN_PRODUCTION": "1",
}


def top_up_lines(url: str, target: int) -> int:
    """Copy existing service lines until `target` rows exist (same orders/dates/prices)."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM order_service_lines")).scalar()
        while count < target:
            conn.execute(
                sa.text(
                    "INSERT INTO order_service_lines (order_id, service_id, service_date, start_time, people, "
                    "provider_id, unit_price, pricing_rule, subtotal, status, created_at) "
                    "SELECT order_id, service_id, service_date, start_time, people, provider_id, unit_price, "
                    "pricing_rule, subtotal, status, created_at FROM order_service_lines ORDER BY id LIMIT :n"
                ),
                {"n": target - count},
            )
            count = conn.execute(sa.text("SELECT count(*) FROM order_service_lines")).scalar()
        conn.execute(sa.text("ANALYZE order_service_lines"))
    engine.dispose()
    return count


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def export_all_lines(url: str) -> dict:
    """The servicios vendidos Excel over every line, through the view's functions, in this process."""
    os.environ.update({"APP_ENV": "production", **BENCH_PRODUCTION_ENV, "DATABASE_URL": url})
    from app import create_app
    from app.core.xlsx import export_filename, xlsx_download
    from app.extensions import db
    from app.reports import sold_exports, sold_queries
    from app.reports.sold_views import parse_service_filters

    app = create_app()
    first, last = one_row(url, "SELECT min(service_date), max(service_date) FROM order_service_lines")
    args = {"fecha_inicio": first.isoformat(), "fecha_fin": last.isoformat(), "incluir_canceladas": "1"}
    with app.test_request_context("/ventas/servicios-vendidos/", query_string=args):
        f = parse_service_filters(args_from(args))
        totals = sold_queries.services_sold_summary(db.session, f).totals
        before = rss_kb()
        t0, c0 = time.perf_counter(), time.process_time()
        sheets = sold_exports.service_sheets(db.session, f, filter_labels=[("Desde", f.dates.start)], totals=totals)
        response = xlsx_download(export_filename("Servicios_Vendidos"), sheets)
        size = sum(len(chunk) for chunk in response.response)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        db.session.remove()
    result = {
        "name": "servicios vendidos Excel",
        "rows": totals.n,
        "seconds": round(elapsed, 1),
        "rows_per_s": int(totals.n / elapsed),
        "cpu_s": round(cpu, 1),
        "rows_per_cpu_s": int(totals.n / cpu),
        "load_avg": os.getloadavg()[0],
        "file_mb": round(size / 1e6, 1),
        "rss_before_mb": round(before / 1024, 1),
        "rss_peak_mb": round(peak / 1024, 1),
        "rss_growth_mb": round((peak - before) / 1024, 1),
    }
    print(json.dumps(result), flush=True)
    return result


def args_from(mapping: dict):
    from werkzeug.datastructures import MultiDict

    return MultiDict(mapping)


def busiest_month(url: str) -> date:
    row = one_row(
        url,
        "SELECT date_trunc('month', service_date)::date, count(*) FROM order_service_lines "
        "GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
    )
    return row[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument("--sequential", action="store_true", help="also measure with one connection")
    parser.add_argument("--skip-excel", action="store_true", help="pages only (no top-up, no 1.000.000-line Excel)")
    args = parser.parse_args()
    ensure_user(args.url)
    orders = one_row(args.url, "SELECT count(*) FROM orders")[0]
    results = []
    if not args.skip_pages:  # pages first, at the generated size (one line per order)
        first = busiest_month(args.url)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        month = f"fecha_inicio={first}&fecha_fin={last}"
        proc = start_server(args.url)
        try:
            session = login()
            cookie = [f"Cookie: {'; '.join(f'{k}={v}' for k, v in session.cookies.items())}"]
            hx = [*cookie, "HX-Request: true"]
            for path in (
                "/ventas/servicios-vendidos/",
                "/ventas/productos-vendidos/",
                "/ventas/auditoria-movimientos/",
            ):
                assert session.get(f"{BASE}{path}?{month}").status_code == 200, path
            pages = [
                (f"servicios vendidos month ({orders} orders)", f"/ventas/servicios-vendidos/?{month}", cookie),
                ("servicios vendidos fragment", f"/ventas/servicios-vendidos/?{month}", hx),
                ("servicios vendidos page 20", f"/ventas/servicios-vendidos/?{month}&page=20", hx),
                ("productos vendidos month", f"/ventas/productos-vendidos/?{month}", cookie),
                ("auditoria month", f"/ventas/auditoria-movimientos/?{month}", cookie),
            ]
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
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    lines = one_row(args.url, "SELECT count(*) FROM order_service_lines")[0]
    if not args.skip_excel:
        lines = top_up_lines(args.url, args.lines)
        print(f"{lines} líneas de servicio", flush=True)
        results.append(export_all_lines(args.url))
    OUT.mkdir(exist_ok=True)
    (OUT / "sold_reports.json").write_text(
        json.dumps({"orders": orders, "lines": lines, "results": results}, indent=2, default=str)
    )


if __name__ == "__main__":
    main()
