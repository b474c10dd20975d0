"""JSON API benchmark (issue 8): router list pages and order creation under gunicorn on the generated data.

Targets (100,000 orders): list endpoints p95 ≤ 50 ms per page of 100 (issue 20: ≤ 60 ms with 8 connections);
order creation via API p95 ≤ 100 ms. The first keyset (`cursor`) pages are measured too: no COUNT.
Usage: python bench/generate.py && python bench/run_api.py [--url …] [--seconds 15] [--orders 25] [--connections 8]
`--connections 1` measures one request at a time (sequential); the default is 8 concurrent clients.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import requests
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_booking import BASE, DEFAULT_URL, OUT, run_parallel, start_server, summary, wrk  # noqa: E402

# production mode refuses published keys, fake backends and insecure cookies unless overridden (config.validate)
BENCH_PRODUCTION_ENV = {
    "SECRET_KEY": os.environ.setdefault("BENCH_SECRET_KEY", secrets.token_urlsafe(48)),
    "ALLOW_FAKE_BACKENDS_IN_PRODUCTION": "1",
    "SESSION_COOKIE_SECURE": "false",
    "ALLOW_INSECURE_COOKIES_IN_PRODUCTION": "1",
}

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
BENCH_USER = "bench_api_admin"
LISTS = ["ventasreservas", "pagos", "reservaservicios", "clientes", "productos", "servicios", "reservaproductos"]


def issue_token(url: str) -> str:
    """An admin and a fresh personal token for the benchmark (through the app's own services)."""
    os.environ.update({"APP_ENV": "production", **BENCH_PRODUCTION_ENV, "DATABASE_URL": url})
    from app import create_app
    from app.auth.models import User
    from app.auth.services import create_api_token, create_user
    from app.extensions import db

    app = create_app()
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == BENCH_USER))
        if user is None:
            user = create_user(username=BENCH_USER, password=None, role="admin")
        _, raw = create_api_token(user, name="bench", days=1)
        db.session.commit()
    return raw


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--orders", type=int, default=25, help="order creations per client")
    parser.add_argument("--connections", type=int, default=8, help="concurrent clients (wrk connections)")
    args = parser.parse_args()
    conns = args.connections
    engine = sa.create_engine(args.url)
    with engine.connect() as conn:
        orders = conn.execute(sa.text("SELECT count(*) FROM orders")).scalar()
        client_id = conn.execute(sa.text("SELECT min(id) FROM clients")).scalar()
        tubs = conn.execute(
            sa.text(
                "SELECT id, min_people, slot_grid FROM services WHERE service_type = 'tina' AND is_active ORDER BY id"
            )
        ).all()
        last_day = conn.execute(sa.text("SELECT max(service_date) FROM order_service_lines")).scalar()
    engine.dispose()
    weekdays = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    first = max(last_day or date.today(), date.today()) + timedelta(days=1)  # beyond every booking (reruns too)
    days = [first + timedelta(days=n) for n in range(360)]
    slots = [(s.id, d, t, s.min_people) for d in days for s in tubs for t in s.slot_grid[weekdays[d.weekday()]]]
    token = issue_token(args.url)
    auth = f"Authorization: Bearer {token}"
    proc = start_server(args.url)
    try:
        results = []
        for name in LISTS:
            path = f"/ventas/api/{name}/?page_size=100"
            r = requests.get(BASE + path, headers={"Authorization": f"Bearer {token}"}, timeout=30)
            assert r.status_code == 200, (name, r.status_code)
            results.append(wrk(f"GET {name} (100/page)", path, args.seconds, headers=[auth], connections=conns))
        deep = "/ventas/api/ventasreservas/?page=500&page_size=100"
        results.append(wrk("GET ventasreservas page 500", deep, args.seconds, headers=[auth], connections=conns))
        for name in ("ventasreservas", "clientes"):  # keyset pages (issue 20 §5): no COUNT, no OFFSET
            path = f"/ventas/api/{name}/?cursor=&page_size=100"
            results.append(wrk(f"GET {name} cursor (100/page)", path, args.seconds, headers=[auth], connections=conns))

        def create(i, n):
            session, out = requests.Session(), []
            session.headers["Authorization"] = f"Bearer {token}"
            for k in range(n):
                sid, d, t, people = slots[i * n + k]
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
                t0 = time.perf_counter()
                r = session.post(
                    BASE + "/ventas/api/ventasreservas/",
                    json=body,
                    timeout=10,
                    headers={"Idempotency-Key": f"bench-{time.time_ns()}-{i}-{k}"},
                )
                out.append(time.perf_counter() - t0)
                assert r.status_code == 201, (r.status_code, r.text[:300])
            return out

        results.append(summary("POST ventasreservas", run_parallel(create, args.orders, clients=conns)))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    OUT.mkdir(exist_ok=True)
    (OUT / f"api-c{conns}.json").write_text(
        json.dumps(
            {"orders_in_database": orders, "connections": conns, "load_average": os.getloadavg(), "results": results},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
