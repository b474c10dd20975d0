"""Bulk-read benchmark (issue 20 item 5): `GET /ventas/api/clientes/export.ndjson` over the generated clients.

Targets: all 20,000 clients in ≤ 0.3 s; 1,000,000 in ≤ 15 s with RSS growth ≤ 50 MB.
Usage: python bench/generate.py --clients 20000 --orders 1000 [--url …] && python bench/run_api_export.py [--url …]
[--runs 3] [--kind clientes|ventasreservas|pagos]

In-process (the app and a WSGI test client, no network, no gunicorn): the time is the app's own (token check, the
keyset statements, serializing and writing every line), read to the end chunk by chunk like a streaming HTTP client.
RSS is sampled from /proc/self/status after every chunk; the growth is the peak minus the RSS after a warm-up run
(which loads the code paths, the connection and the token).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_api import issue_token  # noqa: E402
from run_booking import DEFAULT_URL  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def export_once(client, path: str, headers: dict) -> tuple[float, int, int, float]:
    """(seconds, lines, bytes, peak RSS MB) for one full read of the export."""
    started = time.perf_counter()
    lines = size = 0
    peak = rss_mb()
    resp = client.get(path, headers=headers, buffered=False)
    assert resp.status_code == 200, resp.status_code
    for chunk in resp.response:
        lines += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
        size += len(chunk)
        peak = max(peak, rss_mb())
    resp.close()
    return time.perf_counter() - started, lines, size, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--kind", default="clientes", choices=("clientes", "ventasreservas", "pagos"))
    args = parser.parse_args()
    token = issue_token(args.url)  # sets APP_ENV=production and DATABASE_URL for the app below
    from app import create_app

    app = create_app()
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/ventas/api/{args.kind}/export.ndjson"
    with app.test_client() as client:
        export_once(client, path, headers)  # warm-up
        base = rss_mb()
        results = [export_once(client, path, headers) for _ in range(args.runs)]
    best = min(r[0] for r in results)
    peak = max(r[3] for r in results)
    out = {
        "kind": args.kind,
        "rows": results[0][1],
        "bytes": results[0][2],
        "seconds": [round(r[0], 3) for r in results],
        "best_s": round(best, 3),
        "rows_per_s": round(results[0][1] / best),
        "rss_after_warmup_mb": round(base, 1),
        "rss_growth_mb": round(peak - base, 1),
        "load_avg": os.getloadavg(),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
