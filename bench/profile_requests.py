"""CPU and statements per request on the hot paths (issue 20 §1–2), in-process: warm app, Flask test client, PostgreSQL.

For each path: median (and p95) of `--runs` requests of process CPU time (`time.process_time`: less disturbed by
other processes on a shared machine than wall time) and wall time, and the statements it sends (a SQLAlchemy
`before_cursor_execute` counter). The public flow (service page → add to cart → cart → complete checkout) is also
counted as a whole. `--profile NAME` prints the cProfile top of that path (`PROFILE_SORT`, default tottime),
`--sql NAME` its statements. Bookings go to free tub slots 31–360 days ahead (bench/run_hot.py's free_slots).

Usage: python bench/profile_requests.py [--url …] [--runs 200] [--only home cart] [--profile home] [--sql checkout]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import re
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_api import BENCH_USER, issue_token  # noqa: E402
from run_booking import DEFAULT_URL, OUT, percentile  # noqa: E402
from run_frontdesk import BENCH_PASSWORD, busiest_day  # noqa: E402
from run_hot import free_slots  # noqa: E402

TARGET_CPU_MS = {
    "home": 2.0,
    "category": 2.5,
    "service": 2.5,
    "get-available-hours": 1.0,
    "add-to-cart": 3.0,
    "cart": 2.0,
    "complete-checkout": 6.0,
    "board-fragment": 3.0,
    "api-list-100": 4.0,
}
CSRF = re.compile(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
ONE_TIME = re.compile(rb'name="(form_key|submission_key|one_time_key)" (?:type="hidden" )?value="([^"]+)"')


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main():  # noqa: C901  (one linear script)
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--profile", default=None)
    parser.add_argument("--sql", default=None)
    args = parser.parse_args()
    token = issue_token(args.url)  # sets the environment create_app reads; an admin with a token, logged in below too
    os.environ.setdefault("RATELIMIT_ENABLED", "false")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    from app import create_app
    from app.auth.models import User
    from app.auth.services import set_password
    from app.extensions import db

    app = create_app()
    app.config["RATELIMIT_ENABLED"] = False
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == BENCH_USER))
        set_password(user, BENCH_PASSWORD)
        db.session.commit()
        engine = db.engine
        with engine.connect() as conn:
            tubs = conn.execute(
                sa.text(
                    "SELECT id, min_people, slot_grid, category_id FROM services WHERE service_type = 'tina' "
                    "AND is_active AND is_published ORDER BY id"
                )
            ).all()
    board_day, board_lines = busiest_day(args.url)
    slots = iter(free_slots(args.url))
    tub = tubs[0]
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    public = app.test_client()
    staff = app.test_client()
    r = staff.get("/accounts/login/")
    staff.post(
        "/accounts/login/",
        data={
            "csrf_token": CSRF.search(r.data).group(1).decode(),
            "username": BENCH_USER,
            "password": BENCH_PASSWORD,
        },
    )
    api_headers = {"Authorization": f"Bearer {token}"}
    state = {"csrf": None, "n": 0}

    def ok(r, *codes):
        assert r.status_code in (codes or (200,)), (r.status_code, r.data[:400])
        return r

    def csrf():
        if state["csrf"] is None:
            state["csrf"] = CSRF.search(public.get(f"/ventas/servicio/{tub.id}/").data).group(1).decode()
        return state["csrf"]

    def add_one():
        sid, d, t, people = next(slots)
        return ok(
            public.post(
                "/ventas/add-to-cart/",
                data={
                    "csrf_token": csrf(),
                    "servicio_id": sid,
                    "fecha": d.isoformat(),
                    "hora": t,
                    "cantidad_personas": people,
                },
                headers={"HX-Request": "true"},
            )
        )

    def checkout():
        state["n"] += 1
        n = state["n"]
        return ok(
            public.post(
                "/ventas/complete-checkout/",
                data={
                    "csrf_token": csrf(),
                    "telefono": f"+56971{n % 1000000:06d}",
                    "nombre": f"Perfil {n}",
                    "email": f"perfil{n}@example.com",
                    "metodo_pago": "transferencia",
                    "acepta_terminos": "y",
                },
            ),
            303,
        )

    hours_days = [date.today() + timedelta(days=d) for d in range(60)]
    paths = {
        "home": lambda i: ok(public.get("/")),
        "category": lambda i: ok(public.get(f"/ventas/categoria/{tub.category_id}/")),
        "service": lambda i: ok(public.get(f"/ventas/servicio/{tub.id}/")),
        "get-available-hours": lambda i: ok(
            public.get(f"/ventas/get-available-hours/?servicio_id={tub.id}&fecha={hours_days[i % 60]}")
        ),
        "add-to-cart": None,  # measured inside the flow below
        "cart": lambda i: ok(public.get("/ventas/cart/", headers={"HX-Request": "true"})),
        "complete-checkout": None,
        "board-fragment": lambda i: ok(
            staff.get(f"/ventas/recepcion/?fecha={board_day.isoformat()}", headers={"HX-Request": "true"})
        ),
        "api-list-100": lambda i: ok(public.get("/ventas/api/ventasreservas/?page_size=100", headers=api_headers)),
    }
    wanted = args.only or list(TARGET_CPU_MS)
    results = {}

    def measure(name, fn, runs):
        walls, cpus, counts = [], [], []
        for i in range(runs):
            statements.clear()
            w0, c0 = time.perf_counter(), time.process_time()
            fn(i)
            cpus.append((time.process_time() - c0) * 1000)
            walls.append((time.perf_counter() - w0) * 1000)
            counts.append(len(statements))
        res = {
            "cpu_p50_ms": round(statistics.median(cpus), 2),
            "cpu_p95_ms": round(percentile(cpus, 95), 2),
            "wall_p50_ms": round(statistics.median(walls), 2),
            "wall_p95_ms": round(percentile(walls, 95), 2),
            "statements_min": min(counts),
            "statements_max": max(counts),
            "target_cpu_ms": TARGET_CPU_MS.get(name),
        }
        results[name] = res
        target = TARGET_CPU_MS.get(name)
        verdict = "" if target is None else ("met" if res["cpu_p50_ms"] <= target else "NOT met")
        stm = f"{min(counts)}" if min(counts) == max(counts) else f"{min(counts)}–{max(counts)}"
        print(
            f"{name:22s} cpu p50={res['cpu_p50_ms']:6.2f} ms (≤ {target}) {verdict:7s} "
            f"wall p50={res['wall_p50_ms']:6.2f} p95={res['wall_p95_ms']:6.2f} ms  stmts={stm}",
            flush=True,
        )
        if args.sql == name:
            for s in statements:
                print("   ", " ".join(s.split())[: int(os.environ.get("SQL_WIDTH", "220"))])

    for name in wanted:
        fn = paths.get(name)
        if fn is None:
            continue
        if name == "cart":
            add_one()  # the cart of a visitor with one booking line (checked out by the flow below)
        for i in range(5):  # warm-up: templates compiled, caches filled
            fn(i)
        measure(name, fn, args.runs)

    if "add-to-cart" in wanted or "complete-checkout" in wanted:
        # the flow: one line added, then complete-checkout; measured separately, alternating
        for _ in range(3):
            add_one()
            checkout()
        walls = {"add-to-cart": [], "complete-checkout": []}
        cpus = {"add-to-cart": [], "complete-checkout": []}
        counts = {"add-to-cart": [], "complete-checkout": []}
        flow_counts = []
        for _ in range(args.runs):
            flow = 0
            for name, fn in (
                ("service", lambda: public.get(f"/ventas/servicio/{tub.id}/")),
                ("add-to-cart", add_one),
                ("cart", lambda: public.get("/ventas/cart/")),
                ("complete-checkout", checkout),
            ):
                statements.clear()
                w0, c0 = time.perf_counter(), time.process_time()
                fn()
                c = (time.process_time() - c0) * 1000
                w = (time.perf_counter() - w0) * 1000
                flow += len(statements)
                if name in cpus:
                    cpus[name].append(c)
                    walls[name].append(w)
                    counts[name].append(len(statements))
                if args.sql == name:
                    print(f"-- {name}")
                    for s in statements:
                        print("   ", " ".join(s.split())[: int(os.environ.get("SQL_WIDTH", "220"))])
            flow_counts.append(flow)
            if args.sql:
                args.sql = None
        for name in ("add-to-cart", "complete-checkout"):
            target = TARGET_CPU_MS[name]
            res = {
                "cpu_p50_ms": round(statistics.median(cpus[name]), 2),
                "cpu_p95_ms": round(percentile(cpus[name], 95), 2),
                "wall_p50_ms": round(statistics.median(walls[name]), 2),
                "wall_p95_ms": round(percentile(walls[name], 95), 2),
                "statements_min": min(counts[name]),
                "statements_max": max(counts[name]),
                "target_cpu_ms": target,
            }
            results[name] = res
            verdict = "met" if res["cpu_p50_ms"] <= target else "NOT met"
            stm = f"{res['statements_min']}–{res['statements_max']}"
            print(
                f"{name:22s} cpu p50={res['cpu_p50_ms']:6.2f} ms (≤ {target}) {verdict:7s} "
                f"wall p50={res['wall_p50_ms']:6.2f} p95={res['wall_p95_ms']:6.2f} ms  stmts={stm}",
                flush=True,
            )
        results["public-flow"] = {"statements_min": min(flow_counts), "statements_max": max(flow_counts)}
        print(
            f"{'public flow':22s} statements (service page + add + cart page + checkout) "
            f"{min(flow_counts)}–{max(flow_counts)} (≤ 15)",
            flush=True,
        )

    print(f"load average: {load_average()}  board day {board_day} ({board_lines} lines)", flush=True)
    if args.profile:
        fn = paths.get(args.profile)
        if fn is None:  # flow steps: a full add + checkout per iteration

            def fn(i):
                add_one()
                checkout()

        prof = cProfile.Profile()
        prof.enable()
        for i in range(50):
            fn(i)
        prof.disable()
        pstats.Stats(prof).sort_stats(os.environ.get("PROFILE_SORT", "tottime")).print_stats(
            int(os.environ.get("PROFILE_TOP", "30"))
        )
    OUT.mkdir(exist_ok=True)
    (OUT / "profile_requests.json").write_text(
        json.dumps({"load_average": load_average(), "runs": args.runs, "results": results}, indent=2)
    )


if __name__ == "__main__":
    main()
