"""Front desk benchmark (issue 5): the today board under gunicorn on the generated PostgreSQL data.

Target: board p95 ≤ 60 ms (100,000 orders); measured with 1 and with 8 connections. Caja diaria: bench/run_reports.py.
Usage: python bench/generate.py && python bench/run_frontdesk.py [--url …] [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from datetime import date
from pathlib import Path

import requests
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_booking import BASE, DEFAULT_URL, OUT, csrf_token, one_row, start_server, wrk  # noqa: E402

# production mode refuses published keys, fake backends and insecure cookies unless overridden (config.validate)
BENCH_PRODUCTION_ENV = {
    "SECRET_KEY": os.environ.setdefault("BENCH_SECRET_KEY", secrets.token_urlsafe(48)),
    "ALLOW_FAKE_BACKENDS_IN_PRODUCTION": "1",
    "SESSION_COOKIE_SECURE": "false",
    "ALLOW_INSECURE_COOKIES_IN_PRODUCTION": "1",
}

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
BENCH_USER, BENCH_PASSWORD = "bench_gerente", "bench-clave-123"


def ensure_user(url: str) -> None:
    """A gerente for the benchmark (created through the app's own service)."""
    os.environ.update({"APP_ENV": "production", **BENCH_PRODUCTION_ENV, "DATABASE_URL": url})
    from app import create_app
    from app.auth.models import User
    from app.auth.services import create_user
    from app.extensions import db

    app = create_app()
    with app.app_context():
        if db.session.scalar(sa.select(User).where(User.username == BENCH_USER)) is None:
            create_user(username=BENCH_USER, password=BENCH_PASSWORD, role="gerente")
            db.session.commit()


def login() -> requests.Session:
    session = requests.Session()
    token = csrf_token(session, "/accounts/login/")
    r = session.post(
        BASE + "/accounts/login/",
        data={"csrf_token": token, "username": BENCH_USER, "password": BENCH_PASSWORD},
        allow_redirects=False,
    )
    assert r.status_code == 302, r.status_code
    return session


def busiest_day(url: str) -> tuple[date, int]:
    row = one_row(
        url,
        "SELECT service_date, count(*) FROM order_service_lines GROUP BY service_date ORDER BY count(*) DESC LIMIT 1",
    )
    return row[0], row[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 8])
    args = parser.parse_args()
    ensure_user(args.url)
    day, lines = busiest_day(args.url)
    proc = start_server(args.url)
    try:
        session = login()
        cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
        board = f"/ventas/recepcion/?fecha={day.isoformat()}"
        assert session.get(BASE + board).status_code == 200
        page, fragment = [f"Cookie: {cookie}"], [f"Cookie: {cookie}", "HX-Request: true"]
        wrk("warm-up", board, 2, headers=page)
        results = []
        for n in args.connections:  # the issue names no concurrency: one receptionist at a time, then 8 at once
            results += [
                wrk(f"today board ({lines} lines), {n} conn.", board, args.seconds, headers=page, connections=n),
                wrk(f"today board fragment, {n} conn.", board, args.seconds, headers=fragment, connections=n),
            ]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    OUT.mkdir(exist_ok=True)
    (OUT / "frontdesk.json").write_text(
        json.dumps({"board_day": day.isoformat(), "results": results}, indent=2, default=str)
    )


if __name__ == "__main__":
    main()
