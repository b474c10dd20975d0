"""Selection + enqueue time of the scheduled automations (communications.md §4) on the generated data.

Usage: python bench/run_automations.py [--url postgresql://…/aremko_bench_commsauto] [--runs 3]
after `python bench/generate.py --clients 200000 --orders 1000000 --url …`.

Once per database it vacuums the order tables (as autovacuum would; index-only scans need the visibility map) and
gives every client a birth date (spread over the year), marketing consent to half of them
and an e-mail suppression to 1 %, so every selection has real work to do. Each run of each automation is one
`run_automation()` (the job's SELECT + INSERT … SELECT … ON CONFLICT DO NOTHING per channel) inside a transaction
that is rolled back, so runs are repeatable; the reported figure is the median wall time, with the rows queued.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime
from datetime import time as wall
from pathlib import Path

# production mode refuses published keys, fake backends and insecure cookies unless overridden (config.validate)
BENCH_PRODUCTION_ENV = {
    "SECRET_KEY": os.environ.setdefault("BENCH_SECRET_KEY", secrets.token_urlsafe(48)),
    "ALLOW_FAKE_BACKENDS_IN_PRODUCTION": "1",
    "SESSION_COOKIE_SECURE": "false",
    "ALLOW_INSECURE_COOKIES_IN_PRODUCTION": "1",
}

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/aremko_bench_commsauto"
NAMES = ("reminders", "surveys", "birthdays", "reactivation", "vip")


def prepare(db) -> None:
    import sqlalchemy as sa

    done = db.session.scalar(sa.text("SELECT count(*) FROM clients WHERE birth_date IS NOT NULL"))
    if done:
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE orders, order_service_lines"))  # what autovacuum does in production
    db.session.execute(sa.text("UPDATE clients SET birth_date = DATE '1970-01-01' + (id * 7919 % 18262)"))
    db.session.execute(
        sa.text(
            "UPDATE client_preferences SET accepts_birthday_messages = true, accepts_newsletters = true, "
            "accepts_reactivation = true, accepts_promotional = true WHERE client_id % 2 = 0"
        )
    )
    db.session.execute(
        sa.text(
            "INSERT INTO suppressions (channel, destination, reason, client_id, created_at) "
            "SELECT 'email', email, 'bounce', id, now() FROM clients WHERE id % 100 = 0 AND email IS NOT NULL "
            "ON CONFLICT DO NOTHING"
        )
    )
    db.session.commit()
    db.session.execute(sa.text("ANALYZE"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ.update(
        {
            "APP_ENV": "production",
            **BENCH_PRODUCTION_ENV,
            "DATABASE_URL": args.url,
            "SURVEY_PUBLIC_BASE_URL": "https://encuesta.example.com/aremko",
        }
    )
    import sqlalchemy as sa

    from app import create_app
    from app.automations.jobs import run_automation
    from app.core import clock
    from app.extensions import db

    app = create_app("production")
    results = {}
    with app.app_context():
        prepare(db)
        counts = {
            t: db.session.scalar(sa.text(f"SELECT count(*) FROM {t}"))
            for t in ("clients", "orders", "order_service_lines")
        }
        print(f"datos: {counts}", flush=True)
        today = clock.today()
        moments = {  # each job at its own local hour (day 1 for the newsletter)
            "reminders": datetime.now(UTC).replace(minute=0, second=0, microsecond=0),
            "surveys": clock.local_instant(today, wall(11)),
            "birthdays": clock.local_instant(today, wall(10)),
            "reactivation": clock.local_instant(today, wall(9)),
            "vip": clock.local_instant(today.replace(day=1), wall(9)),
        }
        for name in NAMES:
            clock.freeze(moments[name])
            times, queued = [], 0
            try:
                for _ in range(args.runs):
                    started = time.perf_counter()
                    result = run_automation(name)
                    times.append(time.perf_counter() - started)
                    queued = result.queued
                    db.session.rollback()
            finally:
                clock.freeze(None)
            results[name] = {
                "median_s": round(statistics.median(times), 3),
                "max_s": round(max(times), 3),
                "queued": queued,
                "runs": args.runs,
            }
            print(
                f"{name}: mediana {results[name]['median_s']} s, máx {results[name]['max_s']} s, "
                f"{queued} filas en cola",
                flush=True,
            )
    out = ROOT / "bench" / "output"
    out.mkdir(exist_ok=True)
    (out / "automations.json").write_text(json.dumps({"data": counts, "results": results}, indent=2))


if __name__ == "__main__":
    main()
