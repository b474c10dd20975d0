"""Throughput of the hot paths against a bare Flask hello world (issue 20 §3), wrk with 8 connections, one run.

Both are served by docker-entrypoint.sh's gunicorn command line (2 workers × 2 threads, gthread, same timeouts and
logger; the hello world's is the same line with `hello:app`), one server loaded at a time. Figures: requests per
second and p50/p95 (wrk), and checkouts per second for the public flow (8 Python clients, each: add-to-cart, then
complete-checkout; the CSRF token fetched once per client). Load average is recorded with every figure.
Usage: python bench/run_hot.py [--url …] [--seconds 15] [--checkouts 40]    (or: make bench-hot)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import requests
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_api import issue_token  # noqa: E402
from run_booking import (  # noqa: E402
    BASE,
    CLIENTS,
    DEFAULT_URL,
    OUT,
    PORT,
    ROOT,
    add_to_cart,
    csrf_token,
    start_server,
    wrk,
)
from run_frontdesk import busiest_day, ensure_user, login  # noqa: E402

HELLO_PORT = PORT + 1
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def start_hello():
    env = {**os.environ, "PORT": str(HELLO_PORT), "WEB_CONCURRENCY": "2", "ENTRYPOINT_DRY_RUN": "1"}
    line = subprocess.run(
        ["sh", "docker-entrypoint.sh", "web"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    cmd = [str(Path(sys.executable).parent / "gunicorn"), "--pythonpath", "bench"]
    cmd += ["hello:app" if arg == "wsgi:app" else arg for arg in line[1:]]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            if requests.get(f"http://127.0.0.1:{HELLO_PORT}/", timeout=1).status_code == 200:
                return proc
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("hello gunicorn did not start")


def free_slots(url: str) -> list:
    """Bookable tub slots 31–360 days ahead (inside the booking horizon) that no earlier run booked or holds."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        tubs = conn.execute(
            sa.text(
                "SELECT id, min_people, slot_grid FROM services WHERE service_type = 'tina' AND is_active "
                "AND is_published ORDER BY id"
            )
        ).all()
        taken = {
            tuple(r)
            for r in conn.execute(
                sa.text(
                    "SELECT service_id, service_date, start_time FROM order_service_lines WHERE status <> 'cancelada' "
                    "AND service_date > CURRENT_DATE + 30 "
                    "UNION SELECT service_id, date, time FROM cart_holds"  # held by an interrupted earlier run
                )
            )
        }
    engine.dispose()
    days = [date.today() + timedelta(days=n) for n in range(31, 360)]
    return [
        (s.id, d, t, s.min_people)
        for d in days
        for s in tubs
        for t in s.slot_grid[WEEKDAYS[d.weekday()]]
        if (s.id, d, t) not in taken
    ]


def checkout_flow(slots, per_client: int) -> dict:
    """8 clients at once, each `per_client` times: add-to-cart (HTMX) then complete-checkout (303)."""
    sessions = []
    for _ in range(CLIENTS):
        session = requests.Session()
        sessions.append((session, csrf_token(session, f"/ventas/servicio/{slots[0][0]}/")))
    errors, lock = [], threading.Lock()

    def worker(i):
        session, token = sessions[i]
        for k in range(per_client):
            add_to_cart(session, token, slots[i * per_client + k], headers={"HX-Request": "true"}, timeout=30)
            r = session.post(
                BASE + "/ventas/complete-checkout/",
                data={
                    "csrf_token": token,
                    "telefono": f"+569{i % 10}{int(time.time()) % 10000:04d}{k % 1000:03d}",
                    "nombre": f"Hot {i} {k}",
                    "email": f"hot{i}.{k}@example.com",
                    "metodo_pago": "transferencia",
                    "acepta_terminos": "y",
                },
                allow_redirects=False,
                timeout=30,
            )
            if r.status_code != 303:
                with lock:
                    errors.append((r.status_code, r.text[:200]))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CLIENTS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    done = CLIENTS * per_client - len(errors)
    if errors:
        print("first error:", errors[0], flush=True)
    result = {
        "name": "checkout flow",
        "checkouts": done,
        "errors": len(errors),
        "seconds": round(elapsed, 2),
        "checkouts_per_s": round(done / elapsed, 1),
        "load": load(),
    }
    print(
        f"{'checkout flow (8 clients)':28s} {result['checkouts_per_s']:7.1f} checkouts/s  ({done} in "
        f"{elapsed:.1f} s, errors={len(errors)})  load {result['load']}",
        flush=True,
    )
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--checkouts", type=int, default=40, help="checkouts per client")
    args = parser.parse_args()
    token = issue_token(args.url)
    ensure_user(args.url)
    day, _ = busiest_day(args.url)
    slots = free_slots(args.url)
    engine = sa.create_engine(args.url)
    with engine.connect() as conn:
        services = conn.execute(sa.text("SELECT id FROM services WHERE is_published ORDER BY id")).scalars().all()
    engine.dispose()
    results = []

    def record(result):
        result["load"] = load()
        print(f"{'':28s} {result.get('rps', 0):7.1f} req/s  load {result['load']}", flush=True)
        results.append(result)
        return result

    hello = start_hello()
    try:
        wrk("warm-up", f"http://127.0.0.1:{HELLO_PORT}/", 2, base="")
        hello_r = record(wrk("hello world (bare Flask)", f"http://127.0.0.1:{HELLO_PORT}/", args.seconds, base=""))
    finally:
        hello.terminate()
        hello.wait(timeout=10)
    proc = start_server(args.url)
    try:
        hours = [
            f"/ventas/get-available-hours/?servicio_id={s}&fecha={date.today() + timedelta(days=d)}"
            for d in range(60)
            for s in services
        ]
        wrk("warm-up", "/", 2)
        wrk("warm-up", hours[0], 2, paths=hours)
        hours_r = record(wrk("get-available-hours", hours[0], args.seconds, paths=hours))
        home_r = record(wrk("home", "/", args.seconds))
        session = login()
        cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
        board = f"/ventas/recepcion/?fecha={day.isoformat()}"
        record(wrk("today board fragment", board, args.seconds, headers=[f"Cookie: {cookie}", "HX-Request: true"]))
        record(wrk("today board page", board, args.seconds, headers=[f"Cookie: {cookie}"]))
        api = [f"Authorization: Bearer {token}"]
        for name in ("ventasreservas", "pagos", "clientes"):
            record(wrk(f"API {name} (100/page)", f"/ventas/api/{name}/?page_size=100", args.seconds, headers=api))
        flow = checkout_flow(slots, args.checkouts)
        results.append(flow)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    ratios = {
        "hours_vs_hello": round(hours_r["rps"] / hello_r["rps"], 3),
        "home_vs_hello": round(home_r["rps"] / hello_r["rps"], 3),
    }
    print(
        f"get-available-hours / hello = {ratios['hours_vs_hello']:.1%} (≥ 50 %), "
        f"home / hello = {ratios['home_vs_hello']:.1%} (≥ 60 %), checkouts/s = {flow['checkouts_per_s']} (≥ 100)",
        flush=True,
    )
    OUT.mkdir(exist_ok=True)
    (OUT / "hot.json").write_text(json.dumps({"results": results, "ratios": ratios}, indent=2))


if __name__ == "__main__":
    main()
