"""In-process cost of the JSON API (issue 8): one request at a time through the Flask test client, no HTTP.

For each list page (100 rows) and for order creation: statements per request, median/p95 wall and CPU
(time.process_time) over `--runs` requests after a warm-up; `--profile NAME` prints the cProfile top 25 of that
request and `--sql NAME` its statements. Read-only for the lists; order creation books slots after the last
generated booking (like bench/run_api.py).
Usage: python bench/profile_api.py [--url …] [--runs 30] [--profile ventasreservas] [--sql ventasreservas]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_api import LISTS, issue_token  # noqa: E402
from run_booking import DEFAULT_URL, percentile  # noqa: E402

CREATE = "POST ventasreservas"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--profile", default=None, help="list name or 'create'")
    parser.add_argument("--sql", default=None, help="list name or 'create': print its statements")
    args = parser.parse_args()
    token = issue_token(args.url)  # sets the environment create_app reads
    from app import create_app
    from app.extensions import db

    app = create_app()
    headers = {"Authorization": f"Bearer {token}"}
    with app.app_context():
        engine = db.engine
        with engine.connect() as conn:
            client_id = conn.execute(sa.text("SELECT min(id) FROM clients")).scalar()
            tubs = conn.execute(
                sa.text(
                    "SELECT id, min_people, slot_grid FROM services WHERE service_type = 'tina' "
                    "AND is_active ORDER BY id"
                )
            ).all()
            last_day = conn.execute(sa.text("SELECT max(service_date) FROM order_service_lines")).scalar()
    weekdays = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    first = max(last_day or date.today(), date.today()) + timedelta(days=1)
    slots = iter(
        [
            (s.id, d, t, s.min_people)
            for d in (first + timedelta(days=n) for n in range(360))
            for s in tubs
            for t in s.slot_grid[weekdays[d.weekday()]]
        ]
    )
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    http = app.test_client()

    def request(name):
        if name == "create":
            sid, d, t, people = next(slots)
            body = {
                "cliente": client_id,
                "servicios": [
                    {
                        "servicio": sid,
                        "fecha_agendamiento": d.isoformat(),
                        "hora_inicio": t,
                        "cantidad_personas": people,
                    }
                ],
            }
            r = http.post(
                "/ventas/api/ventasreservas/",
                json=body,
                headers={**headers, "Idempotency-Key": f"profile-{time.time_ns()}"},
            )
            assert r.status_code == 201, r.text[:300]
        else:
            r = http.get(f"/ventas/api/{name}/?page_size=100", headers=headers)
            assert r.status_code == 200, (name, r.status_code)
        return r

    for name in [*LISTS, "create"]:
        request(name)  # warm-up
        walls, cpus = [], []
        for _ in range(args.runs):
            statements.clear()
            w0, c0 = time.perf_counter(), time.process_time()
            r = request(name)
            walls.append((time.perf_counter() - w0) * 1000)
            cpus.append((time.process_time() - c0) * 1000)
        label = CREATE if name == "create" else f"GET {name}"
        print(
            f"{label:28s} stmts={len(statements):3d}  bytes={len(r.data):7d}  "
            f"wall p50={statistics.median(walls):6.1f} p95={percentile(walls, 95):6.1f} ms  "
            f"cpu p50={statistics.median(cpus):6.1f} ms",
            flush=True,
        )
        if args.sql == name:
            for s in statements:
                print("   ", " ".join(s.split())[: int(os.environ.get("SQL_WIDTH", "220"))])
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(10):
            request(args.profile)
        prof.disable()
        pstats.Stats(prof).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(30)


if __name__ == "__main__":
    main()
