"""Calendar feed benchmark: building the iCalendar feed of the busiest service and provider on the generated data.

Read-only on the benchmark database (no HTTP server: the cost is the query plus iCalendar serialisation). The clock
is pinned so the feed window (30 days back, 180 ahead) lies inside the generated data.
Usage: python bench/generate.py && python bench/run_calendars.py [--url …] [--today 2026-06-01] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import time
from datetime import date, datetime
from pathlib import Path

# production mode refuses published keys, fake backends and insecure cookies unless overridden (config.validate)
BENCH_PRODUCTION_ENV = {
    "SECRET_KEY": os.environ.setdefault("BENCH_SECRET_KEY", secrets.token_urlsafe(48)),
    "ALLOW_FAKE_BACKENDS_IN_PRODUCTION": "1",
    "SESSION_COOKIE_SECURE": "false",
    "ALLOW_INSECURE_COOKIES_IN_PRODUCTION": "1",
}

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/aremko_bench"
OUT = Path(__file__).resolve().parent / "output"


def timed(fn, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(runs), 1), "max_ms": round(max(runs), 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--today", default="2026-06-01")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.update({"APP_ENV": "production", **BENCH_PRODUCTION_ENV, "DATABASE_URL": args.url})
    import sqlalchemy as sa

    from app import create_app
    from app.calendars import feeds
    from app.catalog.models import Provider, Service
    from app.core import clock
    from app.extensions import db
    from app.sales.models import ServiceLine

    clock.freeze(datetime.combine(date.fromisoformat(args.today), datetime.min.time(), clock.LOCAL_TZ))
    app = create_app()
    results = {"today": args.today}
    with app.app_context():
        for kind, model, column in (
            ("servicio", Service, ServiceLine.service_id),
            ("proveedor", Provider, ServiceLine.provider_id),
        ):
            owner_id = db.session.scalar(
                sa.select(column).where(column.is_not(None)).group_by(column).order_by(sa.func.count().desc()).limit(1)
            )
            if owner_id is None:
                continue
            owner = db.session.get(model, owner_id)
            body, _ = feeds.feed_ics(kind, owner)
            n_events = body.count(b"BEGIN:VEVENT")

            def cold(kind=kind, owner=owner):
                feeds._FEED_CACHE.clear()
                feeds.feed_ics(kind, owner)

            def warm(kind=kind, owner=owner):
                feeds.feed_ics(kind, owner)

            results[kind] = {
                "name": owner.name,
                "events": n_events,
                "bytes": len(body),
                "rebuild": timed(cold, args.repeat),
                "unchanged": timed(warm, args.repeat),
            }
            print(
                f"{kind} {owner.name}: {n_events} events, {len(body) // 1024} KiB; rebuild "
                f"{results[kind]['rebuild']['median_ms']} ms, unchanged {results[kind]['unchanged']['median_ms']} ms"
            )
    OUT.mkdir(exist_ok=True)
    (OUT / "calendars.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
