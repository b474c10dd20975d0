"""Dispatcher throughput (issue 6): messages per second through the fake SMS and e-mail adapters on PostgreSQL.

Target: ≥ 50 messages/s. Queues one SMS and one e-mail per generated client with one set-based
`enqueue_from_select` each, then runs the dispatcher (200 rows per run, as the job does) until the outbox is empty.
Usage: python bench/run_comms.py [--clients 3000] [--url postgresql://…/aremko_bench_comms] [--no-generate]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
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
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/aremko_bench_comms"
OUT = ROOT / "bench" / "output"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=3000)
    parser.add_argument("--url", default=os.environ.get("BENCH_COMMS_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--no-generate", action="store_true", help="reuse the database as it is")
    args = parser.parse_args()
    if not args.no_generate:
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "generate.py"),
                "--clients",
                str(args.clients),
                "--orders",
                "0",
                "--url",
                args.url,
            ],
            check=True,
        )
    os.environ.update(
        {
            "APP_ENV": "production",
            **BENCH_PRODUCTION_ENV,
            "DATABASE_URL": args.url,
            "SMS_BACKEND": "fake",
            "EMAIL_BACKEND": "fake",
        }
    )
    from app import create_app
    from app.clients.models import Client
    from app.comms.dispatch_services import dispatch_outbox
    from app.comms.models import CommunicationLog
    from app.comms.outbox_services import enqueue_from_select
    from app.extensions import db

    app = create_app("production")
    with app.app_context():
        db.session.execute(sa.delete(CommunicationLog))
        db.session.commit()
        run = int(time.time())
        started = time.perf_counter()
        queued = 0
        for channel in ("SMS", "EMAIL"):
            select = sa.select(
                (sa.literal(f"bench:{run}:{channel}:") + sa.cast(Client.id, sa.String)).label("idempotency_key"),
                Client.id.label("client_id"),
            ).where(Client.id.in_(sa.select(Client.id).order_by(Client.id).limit(args.clients)))
            queued += enqueue_from_select(
                select, message_type="SATISFACTION_SURVEY", channel=channel, triggered_by="bench"
            )
        db.session.commit()
        enqueue_seconds = time.perf_counter() - started

        from app.comms.render import Rendered, register_renderer

        @register_renderer("SATISFACTION_SURVEY")
        def _survey(log):  # a short template render, as the automations' renderers do
            from app.comms.render import render_email, render_sms_template

            if log.communication_type == "SMS":
                return Rendered(text=render_sms_template(log, {"servicio": "Tina Calipso", "link": "https://x"}))
            return render_email(
                log, "message", subject="¿Cómo estuvo tu experiencia en Aremko?", body="Gracias por visitarnos."
            )

        started = time.perf_counter()
        runs = sent = 0
        while True:
            result = dispatch_outbox(200)
            runs += 1
            sent += result.sent
            if result.taken == 0:
                break
        seconds = time.perf_counter() - started
        remaining = db.session.scalar(sa.select(sa.func.count()).where(CommunicationLog.status != "SENT"))
    figures = {
        "queued": queued,
        "enqueue_seconds": round(enqueue_seconds, 3),
        "sent": sent,
        "dispatch_runs": runs,
        "dispatch_seconds": round(seconds, 2),
        "messages_per_second": round(sent / seconds, 1) if seconds else None,
        "not_sent": remaining,
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "comms.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))
    if figures["messages_per_second"] is None or figures["messages_per_second"] < 50:
        sys.exit("below the target of 50 messages/s")


if __name__ == "__main__":
    main()
