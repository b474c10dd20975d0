"""`flask send-communication-triggers` (communications.md §11)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from app.comms.models import CommunicationLog, FakeMessage
from app.sales.models import GiftCard
from tests.automations.conftest import local


def count(db_session, model):
    return db_session.scalar(sa.select(sa.func.count()).select_from(model))


def lapsed(make_client, make_order, **kw):
    client = make_client(marketing_consent=True, name="Camila Rojas", **kw)
    make_order(
        client=client,
        lines=[(date(2025, 11, 2), "14:00")],
        line_status="checkout",
        paid=25000,
        created_at=local(2025, 11, 1),
    )
    return client


def test_dry_run_writes_and_sends_nothing_but_shows_who_and_why(app, db_session, freeze_clock, make_client, make_order):
    freeze_clock(local(2026, 3, 2, 9, 0))
    lapsed(make_client, make_order)
    no_channel = lapsed(make_client, make_order, email=None)
    no_channel.preferences.accepts_sms = False
    birthday = make_client(marketing_consent=True, name="Pedro Soto", birth_date=date(1990, 3, 2))
    birthday.preferences.preferred_contact_hour_start = "10:00"
    db_session.commit()
    result = app.test_cli_runner().invoke(args=["send-communication-triggers", "--type", "all", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Inicio: 02/03/2026 09:00:00 (simulación)" in result.output
    assert "reactivation: 1 en cola, 0 existentes, 0 bloqueados, 0 diferidos (simulación)" in result.output
    assert "Camila Rojas: EMAIL a" in result.output and "Regalo para tu próxima visita" in result.output
    assert "birthdays: 1 en cola, 0 existentes, 0 bloqueados, 1 diferidos (simulación)" in result.output
    assert "Pedro Soto: SMS diferido (fuera de horario) hasta 02/03/2026 10:00" in result.output
    assert "surveys: 0 en cola" in result.output and "SURVEY_PUBLIC_BASE_URL" in result.output
    assert "Duración:" in result.output
    db_session.expire_all()
    assert count(db_session, CommunicationLog) == 0
    assert count(db_session, GiftCard) == 0 and count(db_session, FakeMessage) == 0


def test_real_run_queues_dispatches_and_counts(app, db_session, freeze_clock, make_client, make_order):
    freeze_clock(local(2026, 3, 2, 9, 0))
    lapsed(make_client, make_order)
    withdrawn = lapsed(make_client, make_order)
    withdrawn.preferences.accepts_reactivation = False  # the selection's static checks leave it out
    db_session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["send-communication-triggers", "--type", "reactivation"])
    assert result.exit_code == 0, result.output
    assert "reactivation: 1 en cola, 0 existentes, 0 bloqueados, 0 diferidos" in result.output
    assert "Despacho: 1 tomados: 1 enviados" in result.output
    db_session.expire_all()
    assert count(db_session, FakeMessage) == 1 and count(db_session, GiftCard) == 1
    again = runner.invoke(args=["send-communication-triggers", "--type", "reactivation"])
    assert "reactivation: 0 en cola" in again.output and count(db_session, GiftCard) == 1


def test_reminders_rerun_counts_existing(app, db_session, freeze_clock, make_order):
    freeze_clock(local(2026, 3, 2, 10, 0))
    make_order(lines=[(date(2026, 3, 2), "17:00")], created_at=local(2026, 2, 1))
    db_session.commit()
    runner = app.test_cli_runner()
    assert (
        "reminders: 2 en cola, 0 existentes"
        in runner.invoke(args=["send-communication-triggers", "--type", "reminders"]).output
    )
    assert (
        "reminders: 0 en cola, 2 existentes"
        in runner.invoke(args=["send-communication-triggers", "--type", "reminders", "--verbose"]).output
    )


def test_test_type_checks_providers_and_prints_stats(app, db_session, freeze_clock):
    freeze_clock(local(2026, 3, 2, 9, 0))
    result = app.test_cli_runner().invoke(args=["send-communication-triggers", "--type", "test"])
    assert result.exit_code == 0, result.output
    assert "SMS (fake): fake: ok" in result.output and "E-mail (fake): backend de prueba" in result.output
    assert "Últimos 7 días" in result.output and "Registros: 0 en total" in result.output


def test_test_type_exits_1_when_a_provider_fails(app, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "EMAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "EMAIL_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "EMAIL_PORT", 9)  # discard port: nothing listens
    result = app.test_cli_runner().invoke(args=["send-communication-triggers", "--type", "test"])
    assert result.exit_code == 1 and "E-mail (smtp): ERROR" in result.output


def test_unknown_type_is_a_usage_error(app):
    result = app.test_cli_runner().invoke(args=["send-communication-triggers", "--type", "todo"])
    assert result.exit_code == 2 and "Traceback" not in result.output and "Invalid value" in result.output
