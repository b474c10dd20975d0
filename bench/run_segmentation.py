"""Segmentation board benchmark (crm.md §6.3): the board and a segment list over many clients, under gunicorn.

Targets (issue 20 item 4, read from the client_stats table): board p95 ≤ 50 ms at 20,000 clients and ≤ 300 ms at
1,000,000 clients on PostgreSQL. Sequential requests (the board is a manager's screen, not a hot path); each
measured `--runs` times after one warm-up; the load average is recorded with the figures. Use a separate database:
  python bench/generate.py --clients 1000000 --orders 1000000 --url postgresql://postgres@127.0.0.1:5432/aremko_bench_crm
  python bench/run_segmentation.py --url postgresql://postgres@127.0.0.1:5432/aremko_bench_crm
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_booking import BASE, DEFAULT_URL, OUT, one_row, start_server  # noqa: E402
from run_frontdesk import BENCH_PRODUCTION_ENV, ensure_user, login  # noqa: E402

REQUESTS = [
    ("board (counts of every segment, chart)", "/ventas/reportes/segmentacion-clientes/", {}),
    ("segment list full page (board + page 1)", "/ventas/reportes/segmentacion-clientes/new_low_spend/", {}),
    (
        "segment list HTMX fragment, page 3",
        "/ventas/reportes/segmentacion-clientes/new_low_spend/?page=3",
        {"HX-Request": "true"},
    ),
    (
        "segment list HTMX fragment, search",
        "/ventas/reportes/segmentacion-clientes/regular_medium_spend/?q=Bench 12",
        {"HX-Request": "true"},
    ),
]


def board_statement_times(url: str, runs: int) -> dict:
    """The board's one statement (segment_figures) in-process, no HTTP: what the table costs, apart from the
    server and the machine's load on gunicorn."""
    os.environ.update({"APP_ENV": "production", **BENCH_PRODUCTION_ENV, "DATABASE_URL": url})
    from app import create_app
    from app.extensions import db
    from app.sales.client_queries import segment_figures

    app = create_app()
    times = []
    with app.app_context():
        segment_figures()  # warm-up
        for _ in range(runs):
            started = time.perf_counter()
            segment_figures()
            times.append(time.perf_counter() - started)
            db.session.rollback()
    p95 = statistics.quantiles(times, n=20, method="inclusive")[-1]
    print(f"board statement in-process: median {statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")
    return {"median_s": round(statistics.median(times), 4), "p95_s": round(p95, 4)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}", flush=True)
    clients = one_row(args.url, "SELECT count(*) FROM clients")[0]
    orders = one_row(args.url, "SELECT count(*) FROM orders")[0]
    ensure_user(args.url)
    statement = board_statement_times(args.url, args.runs)
    proc = start_server(args.url)
    results = []
    try:
        session = login()
        for label, path, headers in REQUESTS:
            assert session.get(BASE + path, headers=headers).status_code == 200, path  # warm-up
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                r = session.get(BASE + path, headers=headers)
                times.append(time.perf_counter() - started)
                assert r.status_code == 200
            p95 = statistics.quantiles(times, n=20, method="inclusive")[-1] if len(times) > 1 else times[0]
            results.append(
                {
                    "request": label,
                    "path": path,
                    "median_s": round(statistics.median(times), 4),
                    "p95_s": round(p95, 4),
                    "max_s": round(max(times), 4),
                }
            )
            print(
                f"{label}: median {statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
                f"max {max(times) * 1000:.0f} ms",
                flush=True,
            )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(f"load average after: {os.getloadavg()}", flush=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "segmentation.json").write_text(
        json.dumps(
            {
                "clients": clients,
                "orders": orders,
                "loadavg": os.getloadavg(),
                "board_statement": statement,
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
