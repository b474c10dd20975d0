"""Booking benchmark: gunicorn (2 workers, gthread) on the generated PostgreSQL data, 8 concurrent clients.

Measures get-available-hours, the cart fragment and complete-checkout latencies (p50/p95/max).
Usage: python bench/run_booking.py [--url …] [--requests 200] [--checkouts 25]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import requests
import sqlalchemy as sa

# production mode refuses published keys, fake backends and insecure cookies unless overridden (config.validate)
BENCH_PRODUCTION_ENV = {
    "SECRET_KEY": os.environ.setdefault("BENCH_SECRET_KEY", secrets.token_urlsafe(48)),
    "ALLOW_FAKE_BACKENDS_IN_PRODUCTION": "1",
    "SESSION_COOKIE_SECURE": "false",
    "ALLOW_INSECURE_COOKIES_IN_PRODUCTION": "1",
}

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "output"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/aremko_bench"
PORT = int(os.environ.get("BENCH_PORT", "8765"))  # another port when several benchmarks share a machine
BASE = f"http://127.0.0.1:{PORT}"
CLIENTS = 8


def percentile(values, pct):
    ordered = sorted(values)
    k = max(int(round(pct / 100 * len(ordered))) - 1, 0)
    return ordered[k]


def summary(name, values):
    ms = [v * 1000 for v in values]
    result = {
        "name": name,
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "max_ms": round(max(ms), 1),
    }
    print(
        f"{name:28s} n={result['n']:5d}  p50={result['p50_ms']:7.1f} ms  p95={result['p95_ms']:7.1f} ms  "
        f"max={result['max_ms']:7.1f} ms",
        flush=True,
    )
    return result


def start_server(url):
    env = {
        **os.environ,
        "APP_ENV": "production",
        **BENCH_PRODUCTION_ENV,
        "DATABASE_URL": url,
        "FLOW_MODE": "fake",
        "SMS_BACKEND": "fake",
        "EMAIL_BACKEND": "fake",
        "RATELIMIT_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "PORT": str(PORT),
        "WEB_CONCURRENCY": "2",
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    }
    proc = subprocess.Popen(
        ["sh", "docker-entrypoint.sh", "web"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(100):
        try:
            if requests.get(BASE + "/healthz", timeout=1).status_code == 200:
                return proc
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def one_row(url: str, sql: str):
    """One row of a read-only query against the benchmark database."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        row = conn.execute(sa.text(sql)).one()
    engine.dispose()
    return row


def csrf_token(session, path):
    html = session.get(BASE + path, timeout=10).text
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def run_parallel(target, per_client, clients=CLIENTS):
    results, lock = [], threading.Lock()

    def worker(i):
        out = target(i, per_client)
        with lock:
            results.extend(out)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def wrk(name, path, seconds, headers=(), paths=None, connections=CLIENTS, base=None):
    """wrk (C load generator, 8 connections, 2 threads; `connections=1`: sequential requests, one thread): server
    latency without a Python client's CPU cost."""
    import shutil
    import tempfile

    if shutil.which("wrk") is None:
        print("wrk not installed (apt-get install wrk): skipped", flush=True)
        return {"name": name, "skipped": "wrk not installed"}
    env = dict(os.environ)
    if paths:
        fh = tempfile.NamedTemporaryFile("w", delete=False, suffix=".txt")
        fh.write("\n".join(paths))
        fh.close()
        env["WRK_PATHS"] = fh.name
    cmd = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "-s",
        str(ROOT / "bench" / "wrk_report.lua"),
    ]
    for h in headers:
        cmd += ["-H", h]
    out = subprocess.run(
        [*cmd, (BASE if base is None else base) + path], capture_output=True, text=True, env=env, timeout=seconds + 30
    )
    result = {
        "name": name,
        "tool": "wrk",
        "connections": connections,
        **json.loads(out.stdout.strip().splitlines()[-1]),
    }
    print(
        f"{name:28s} n={result['requests']:5d}  {result.get('rps', 0):7.1f} req/s  "
        f"p50={result['p50_ms']:7.1f} ms  p95={result['p95_ms']:7.1f} ms  "
        f"p99={result['p99_ms']:7.1f} ms  errors={result['errors']}",
        flush=True,
    )
    return result


def wrk_hours(services, seconds):
    paths = [
        f"/ventas/get-available-hours/?servicio_id={s.id}&fecha={date.today() + timedelta(days=d)}"
        for d in range(60)
        for s in services
    ]
    return wrk("get-available-hours", paths[0], seconds, paths=paths)


def add_to_cart(session, token: str, slot, **kwargs):
    """POST add-to-cart for a (service id, day, hhmm, people) slot (kwargs: headers, timeout…)."""
    sid, day, hhmm, people = slot
    data = {
        "csrf_token": token,
        "servicio_id": sid,
        "fecha": day.isoformat(),
        "hora": hhmm,
        "cantidad_personas": people,
    }
    return session.post(BASE + "/ventas/add-to-cart/", data=data, **kwargs)


def wrk_cart(slots, seconds):
    session = requests.Session()
    token = csrf_token(session, f"/ventas/servicio/{slots[-100][0]}/")
    add_to_cart(session, token, slots[-100], timeout=10)
    cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
    return wrk("cart fragment (HTMX)", "/ventas/cart/", seconds, headers=[f"Cookie: {cookie}", "HX-Request: true"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--checkouts", type=int, default=25)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    engine = sa.create_engine(args.url)
    with engine.connect() as conn:
        services = conn.execute(
            sa.text("SELECT id, service_type, min_people, slot_grid FROM services WHERE is_published ORDER BY id")
        ).all()
        orders = conn.execute(sa.text("SELECT count(*) FROM orders")).scalar()
        taken = {
            tuple(r)
            for r in conn.execute(
                sa.text(  # slots booked by earlier runs are skipped
                    "SELECT service_id, service_date, start_time FROM order_service_lines WHERE status <> 'cancelada' "
                    "AND service_date > CURRENT_DATE + 30"
                )
            )
        }
    engine.dispose()
    tubs = [s for s in services if s.service_type == "tina"]
    days = [d for d in (date.today() + timedelta(days=n) for n in range(31, 360)) if d.weekday() != 1]
    slots = [
        (s.id, d, t, s.min_people)
        for d in days
        for s in tubs
        for t in s.slot_grid[
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")[d.weekday()]
        ]
        if (s.id, d, t) not in taken
    ]
    proc = start_server(args.url)
    try:

        def hours(i, n):
            session, out = requests.Session(), []
            for k in range(n):
                s = services[(i + k) % len(services)]
                d = date.today() + timedelta(days=(i * 7 + k) % 60)
                t0 = time.perf_counter()
                r = session.get(f"{BASE}/ventas/get-available-hours/?servicio_id={s.id}&fecha={d}", timeout=10)
                out.append(time.perf_counter() - t0)
                assert r.status_code == 200, r.status_code
            return out

        def cart(i, n):
            session = requests.Session()
            token = csrf_token(session, f"/ventas/servicio/{slots[-1 - i][0]}/")
            add_to_cart(session, token, slots[-1 - i], timeout=10)
            out = []
            for _ in range(n):
                t0 = time.perf_counter()
                r = session.get(BASE + "/ventas/cart/", headers={"HX-Request": "true"}, timeout=10)
                out.append(time.perf_counter() - t0)
                assert r.status_code == 200 and 'id="cart-lines"' in r.text
            return out

        def checkout(i, n):
            session, out = requests.Session(), []
            for k in range(n):
                token = csrf_token(session, f"/ventas/servicio/{slots[i * n + k][0]}/")
                add_to_cart(session, token, slots[i * n + k], timeout=10)
                form = {
                    "csrf_token": token,
                    "telefono": f"+5697{i:03d}{k:04d}",
                    "nombre": f"Bench {i} {k}",
                    "email": f"bench{i}.{k}@example.com",
                    "metodo_pago": "transferencia",
                    "acepta_terminos": "y",
                }
                t0 = time.perf_counter()
                r = session.post(BASE + "/ventas/complete-checkout/", data=form, allow_redirects=False, timeout=10)
                out.append(time.perf_counter() - t0)
                assert r.status_code == 303, (r.status_code, r.text[:300])
            return out

        hours(0, 20)  # warm-up
        results = {
            "orders_in_database": orders,
            "concurrency": CLIENTS,
            "workers": 2,
            "results": [
                wrk_hours(services, args.seconds),
                wrk_cart(slots, args.seconds),
                summary("get-available-hours (python client)", run_parallel(hours, args.requests)),
                summary("cart fragment (python client)", run_parallel(cart, args.requests)),
                summary("complete-checkout", run_parallel(checkout, args.checkouts)),
            ],
        }
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    OUT.mkdir(exist_ok=True)
    (OUT / "booking.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
