"""Data generator for the benchmarks: N clients and M orders (one service line each) on PostgreSQL.

Usage: python bench/generate.py [--clients 20000] [--orders 100000] [--url postgresql://…/aremko_bench]
The database is dropped and recreated, migrated, and loaded with the demo catalogue first.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

# production mode refuses published keys, fake backends and insecure cookies unless overridden (config.validate)
BENCH_PRODUCTION_ENV = {
    "SECRET_KEY": os.environ.setdefault("BENCH_SECRET_KEY", secrets.token_urlsafe(48)),
    "ALLOW_FAKE_BACKENDS_IN_PRODUCTION": "1",
    "SESSION_COOKIE_SECURE": "false",
    "ALLOW_INSECURE_COOKIES_IN_PRODUCTION": "1",
}

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/aremko_bench"


def recreate(url: str) -> None:
    u = sa.make_url(url)
    admin = sa.create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{u.database}"'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20000)
    parser.add_argument("--orders", type=int, default=100000)
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    started = time.monotonic()
    recreate(args.url)
    os.environ.update({"APP_ENV": "production", **BENCH_PRODUCTION_ENV, "DATABASE_URL": args.url})
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.seed import seed_demo

    app = create_app("production")
    rng = random.Random(args.seed)
    with app.app_context():
        upgrade()
        seed_demo(password="bench-password-123", client_count=0, order_count=0)
        db.session.commit()
        services = db.session.execute(
            sa.text("SELECT id, base_price, service_type, slot_grid FROM services WHERE is_published")
        ).all()
        now = datetime.now(UTC)
        with db.engine.begin() as conn:
            # set-based in chunks (like the orders): client i gets "Cliente Bench i", b{i}@example.com and the
            # i-th phone of one rng.sample, so the data are those of the former row-by-row insert
            phones = rng.sample(range(10_000_000, 99_999_999), args.clients)
            chunk = 100_000
            for start in range(0, args.clients, chunk):
                conn.execute(
                    sa.text(
                        "INSERT INTO clients (name, phone, email, origin, created_at, updated_at) "
                        "SELECT 'Cliente Bench ' || (:start + x.n - 1), '+569' || x.p, "
                        "'b' || (:start + x.n - 1) || '@example.com', 'seed', :now, :now "
                        "FROM unnest(CAST(:phones AS bigint[])) WITH ORDINALITY AS x(p, n) ORDER BY x.n"
                    ),
                    {"start": start, "now": now, "phones": phones[start : start + chunk]},
                )
            conn.execute(
                sa.text(
                    "INSERT INTO client_preferences (client_id, accepts_sms, accepts_email, accepts_whatsapp, "
                    "accepts_booking_confirmations, accepts_booking_reminders, accepts_surveys, "
                    "accepts_birthday_messages, accepts_promotional, accepts_newsletters, accepts_reactivation, "
                    "preferred_contact_hour_start, preferred_contact_hour_end, updated_at) "
                    "SELECT id, true, true, true, true, true, true, false, false, false, false, '09:00', '20:00', "
                    "now() "
                    "FROM clients"
                )
            )
            client_ids = [r[0] for r in conn.execute(sa.text("SELECT id FROM clients ORDER BY id"))]
        print(f"{args.clients} clientes en {time.monotonic() - started:.1f} s", flush=True)
        today = date.today()
        chunk = 5000
        for start in range(0, args.orders, chunk):
            n = min(chunk, args.orders - start)
            with db.engine.begin() as conn:
                rows = []
                lines = []
                for _ in range(n):
                    sid, price, kind, grid = rng.choice(services)
                    day = today + timedelta(days=rng.randrange(-700, 30))
                    times = grid[
                        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")[day.weekday()]
                    ] or ["14:00"]
                    people = 2 if kind != "masaje" else 1
                    subtotal = price if kind == "cabana" else price * people
                    rows.append(
                        {
                            "client_id": rng.choice(client_ids),
                            "total": subtotal,
                            "paid": subtotal,
                            "sold": datetime.combine(day, datetime.min.time(), UTC),
                        }
                    )
                    lines.append(
                        (
                            sid,
                            day,
                            rng.choice(times),
                            people,
                            price,
                            "por_reserva" if kind == "cabana" else "por_persona",
                            subtotal,
                        )
                    )
                ids = (
                    conn.execute(
                        sa.text(
                            "INSERT INTO orders (client_id, created_at, sold_at, origin, services_total, "
                            "products_total, discount_total, total, paid, balance_due, credit, payment_status, "
                            "booking_status, requires_refund, charged) SELECT * FROM unnest(CAST(:c AS int[]), "
                            "CAST(:d AS timestamptz[]), CAST(:d AS timestamptz[]), CAST(:o AS text[]), "
                            "CAST(:t AS bigint[]), CAST(:z AS bigint[]), "
                            "CAST(:z AS bigint[]), CAST(:t AS bigint[]), CAST(:p AS bigint[]), CAST(:z AS bigint[]), "
                            "CAST(:z AS bigint[]), CAST(:ps AS text[]), CAST(:bs AS text[]), CAST(:f AS bool[]), "
                            "CAST(:f AS bool[])) RETURNING id"
                        ),
                        {
                            "c": [r["client_id"] for r in rows],
                            "d": [r["sold"] for r in rows],
                            "o": ["web"] * n,
                            "t": [r["total"] for r in rows],
                            "z": [0] * n,
                            "p": [r["paid"] for r in rows],
                            "ps": ["pagado"] * n,
                            "bs": ["pendiente"] * n,
                            "f": [False] * n,
                        },
                    )
                    .scalars()
                    .all()
                )
                conn.execute(
                    sa.text(
                        "INSERT INTO order_service_lines (order_id, service_id, service_date, start_time, people, "
                        "unit_price, pricing_rule, subtotal, status, created_at) SELECT o, s, d, t, p, u, r, st, "
                        "'pendiente', now() FROM unnest(CAST(:o AS int[]), CAST(:s AS int[]), CAST(:d AS date[]), "
                        "CAST(:t AS text[]), CAST(:p AS int[]), CAST(:u AS int[]), CAST(:r AS text[]), "
                        "CAST(:st AS bigint[])) AS x(o, s, d, t, p, u, r, st)"
                    ),
                    {
                        "o": ids,
                        "s": [ln[0] for ln in lines],
                        "d": [ln[1] for ln in lines],
                        "t": [ln[2] for ln in lines],
                        "p": [ln[3] for ln in lines],
                        "u": [ln[4] for ln in lines],
                        "r": [ln[5] for ln in lines],
                        "st": [ln[6] for ln in lines],
                    },
                )
        # the client_stats table (issue 20 item 4) for the rows loaded past the ORM: one set-based statement
        from app.sales.client_stats_services import write_all

        stats_started = time.monotonic()
        written = write_all()
        db.session.commit()
        print(f"client_stats: {written} filas en {time.monotonic() - stats_started:.1f} s", flush=True)
        # VACUUM as autovacuum would have done on a live database: index-only scans (counts) need the visibility map
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    print(f"{args.orders} ventas en {time.monotonic() - started:.1f} s en total", flush=True)


if __name__ == "__main__":
    main()
