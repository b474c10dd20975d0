"""`flask send-communication-triggers` (communications.md §11): run the selections, then dispatch once.

`--dry-run` runs the selections and the gatekeeper (pre-send hooks and rendering included) inside a transaction
that is rolled back: nothing is written and nothing is sent; it prints who would get what, or why not.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import datetime, timedelta

import click
import sqlalchemy as sa
from flask import Flask, current_app

from app.extensions import db

ORDER = ("reminders", "surveys", "birthdays", "reactivation", "vip")
TYPES = (*ORDER, "test", "all")


def _rows_since(message_type: str, triggered_by: str, since: datetime):
    from app.comms.models import CommunicationLog

    return db.session.scalars(
        sa.select(CommunicationLog)
        .where(
            CommunicationLog.message_type == message_type,
            CommunicationLog.triggered_by == triggered_by,
            CommunicationLog.created_at >= since,
        )
        .order_by(CommunicationLog.id)
    ).all()


def _outcomes(rows) -> Counter:
    from app.comms.policy import DEFER_REASONS

    counts = Counter()
    for row in rows:
        if row.status == "BLOCKED":
            counts["blocked"] += 1
        elif row.status == "PENDING" and row.reason in DEFER_REASONS:
            counts["deferred"] += 1
    return counts


def _describe(row) -> str:
    from app.comms.policy import reason_label
    from app.core.clock import to_local

    who = row.client.name if row.client else (row.destination or "—")
    if row.status == "BLOCKED":
        return f"  {who}: {row.communication_type} no se envía ({reason_label(row.reason)})"
    if row.status == "PENDING" and row.reason:
        when = to_local(row.not_before)
        return f"  {who}: {row.communication_type} diferido ({reason_label(row.reason)}) hasta {when:%d/%m/%Y %H:%M}"
    preview = (row.subject or (row.content or "")[:120]).replace("\n", " ")
    return f"  {who}: {row.communication_type} a {row.destination} — {preview}"


def _dry_run(names, now, verbose) -> int:
    """Selections + gatekeeper + rendering in one transaction that is rolled back."""
    from app.automations import selection_queries as selections
    from app.automations.jobs import run_automation
    from app.comms.dispatch_services import DispatchResult, _prepare

    failures = 0
    try:
        for name in names:
            auto = selections.BY_NAME[name]
            try:
                result = run_automation(name, now=now, count_existing=True)
                db.session.flush()
                rows = _rows_since(auto.message_type, auto.job_id, now)
                _prepare(rows, DispatchResult())
                outcome = _outcomes(rows)
                click.echo(
                    f"{name}: {result.queued} en cola, {result.existing} existentes, "
                    f"{outcome['blocked']} bloqueados, {outcome['deferred']} diferidos (simulación)"
                )
                if result.skipped:
                    click.echo(f"  {result.skipped}")
                for row in rows:
                    click.echo(_describe(row))
            except Exception as exc:  # continue with the next type, like a real run
                failures += 1
                logging.getLogger(__name__).debug("dry run of %s failed", name, exc_info=verbose)
                click.echo(f"{name}: error: {type(exc).__name__}: {exc}", err=True)
    finally:
        db.session.rollback()
    return failures


def _real_run(names, now) -> int:
    from app.automations import selection_queries as selections
    from app.automations.jobs import run_automation
    from app.comms.dispatch_services import dispatch_outbox

    results, failures = {}, 0
    for name in names:
        try:
            results[name] = run_automation(name, now=now, count_existing=True)
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            failures += 1
            click.echo(f"{name}: error: {type(exc).__name__}: {exc}", err=True)
    dispatched = dispatch_outbox()
    for name, result in results.items():
        auto = selections.BY_NAME[name]
        outcome = _outcomes(_rows_since(auto.message_type, auto.job_id, now))
        click.echo(
            f"{name}: {result.queued} en cola, {result.existing} existentes, {outcome['blocked']} bloqueados, "
            f"{outcome['deferred']} diferidos"
        )
        if result.skipped:
            click.echo(f"  {result.skipped}")
    click.echo(f"Despacho: {dispatched}")
    db.session.commit()
    return failures


def _smtp_check() -> str:
    import smtplib

    cfg = current_app.config
    with smtplib.SMTP(cfg["EMAIL_HOST"], int(cfg["EMAIL_PORT"]), timeout=10) as smtp:
        if cfg.get("EMAIL_USE_TLS"):
            smtp.starttls()
        if cfg.get("EMAIL_HOST_USER"):
            smtp.login(cfg["EMAIL_HOST_USER"], cfg.get("EMAIL_HOST_PASSWORD") or "")
        smtp.noop()
    return f"SMTP {cfg['EMAIL_HOST']}:{cfg['EMAIL_PORT']} responde"


def _test(now) -> bool:
    """Provider checks, 7-day stats and row counts; returns False when a provider check failed."""
    from app.comms.models import CommunicationLog
    from app.comms.providers import sms_provider

    cfg = current_app.config
    ok = True
    try:
        click.echo(f"SMS ({cfg.get('SMS_BACKEND')}): {sms_provider().greet()}")
    except Exception as exc:
        ok = False
        click.echo(f"SMS ({cfg.get('SMS_BACKEND')}): ERROR {exc}", err=True)
    backend = cfg.get("EMAIL_BACKEND")
    try:
        click.echo(f"E-mail ({backend}): {_smtp_check() if backend == 'smtp' else 'backend de prueba'}")
    except Exception as exc:
        ok = False
        click.echo(f"E-mail ({backend}): ERROR {exc}", err=True)
    since = now - timedelta(days=7)
    stats = db.session.execute(
        sa.select(
            CommunicationLog.message_type, CommunicationLog.communication_type, CommunicationLog.status, sa.func.count()
        )
        .where(CommunicationLog.created_at >= since)
        .group_by(CommunicationLog.message_type, CommunicationLog.communication_type, CommunicationLog.status)
        .order_by(CommunicationLog.message_type, CommunicationLog.communication_type, CommunicationLog.status)
    ).all()
    click.echo("Últimos 7 días:" if stats else "Últimos 7 días: sin mensajes")
    for message_type, channel, status, n in stats:
        click.echo(f"  {message_type} {channel} {status}: {n}")
    total = db.session.scalar(sa.select(sa.func.count()).select_from(CommunicationLog))
    pending = db.session.scalar(
        sa.select(sa.func.count()).select_from(CommunicationLog).where(CommunicationLog.status == "PENDING")
    )
    click.echo(f"Registros: {total} en total, {pending} pendientes")
    return ok


def register_cli(app: Flask) -> None:
    @app.cli.command("send-communication-triggers")
    @click.option(
        "--type",
        "kind",
        required=True,
        type=click.Choice(TYPES),
        help="reminders, surveys, birthdays, reactivation, vip, test o all.",
    )
    @click.option("--dry-run", is_flag=True, help="Simula: no escribe ni envía nada.")
    @click.option("--verbose", is_flag=True, help="Registro de depuración.")
    def send_communication_triggers(kind, dry_run, verbose):
        """Run the automatic-message selections, then dispatch once (communications.md §11)."""
        from app.core import clock

        if verbose:
            logging.getLogger("app").setLevel(logging.DEBUG)
        started, now = time.monotonic(), clock.now()
        click.echo(f"Inicio: {clock.to_local(now):%d/%m/%Y %H:%M:%S}" + (" (simulación)" if dry_run else ""))
        if kind == "test":
            ok = _test(now)
            click.echo(f"Duración: {time.monotonic() - started:.1f} s")
            if not ok:
                raise SystemExit(1)
            return
        names = ORDER if kind == "all" else (kind,)
        failures = _dry_run(names, now, verbose) if dry_run else _real_run(names, now)
        click.echo(f"Duración: {time.monotonic() - started:.1f} s")
        if failures:
            raise SystemExit(1)
