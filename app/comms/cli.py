"""flask dispatch-outbox, create-default-sms-templates, test-redvoiss (communications.md §11)."""

from __future__ import annotations

import time

import click
import sqlalchemy as sa
from flask import Flask, current_app

from app.extensions import db


def register_comms_cli(app: Flask) -> None:
    @app.cli.command("dispatch-outbox")
    @click.option(
        "--limit", type=click.IntRange(1, 200), default=200, show_default=True, help="Máximo de mensajes a tomar."
    )
    def dispatch_outbox_cmd(limit):
        """One dispatcher run."""
        from app.comms.dispatch_services import dispatch_outbox

        click.echo(str(dispatch_outbox(limit)))

    @app.cli.command("create-default-sms-templates")
    def create_default_sms_templates_cmd():
        """Get-or-create the ten default SMS templates (idempotent)."""
        from app.comms.sms_template_services import VARIABLES, create_default_templates

        result = create_default_templates()
        db.session.commit()
        for label, key in (("Creada", "created"), ("Actualizada", "updated"), ("Sin cambios", "unchanged")):
            for name in result[key]:
                click.echo(f"{label}: {name}")
        click.echo(
            f"{len(result['created'])} creadas, {len(result['updated'])} actualizadas, "
            f"{len(result['unchanged'])} sin cambios."
        )
        click.echo("Variables: " + ", ".join("{" + v + "}" for v in VARIABLES))

    @app.cli.command("test-redvoiss")
    @click.option("--send-test-sms", is_flag=True, help="Envía un SMS de prueba.")
    @click.option("--phone", default=None, help="Celular de destino (si no, el primer cliente con celular).")
    @click.option("--wait", default=10, show_default=True, help="Segundos de espera antes de consultar el estado.")
    def test_redvoiss_cmd(send_test_sms, phone, wait):
        """Show the Redvoiss configuration, greet, optionally send one SMS and print its batch status."""
        from app.clients.models import Client
        from app.comms.providers import ProviderError, sms_provider
        from app.core.phone import InvalidPhone, is_mobile, mask_phone, normalize_phone

        cfg = current_app.config
        password = cfg.get("REDVOISS_PASSWORD") or ""
        click.echo(f"Backend SMS: {cfg.get('SMS_BACKEND')}")
        click.echo(f"URL: {cfg.get('REDVOISS_API_URL')}")
        click.echo(f"Usuario: {cfg.get('REDVOISS_USERNAME') or '(vacío)'}")
        click.echo(f"Contraseña: {'*' * 8 if password else '(vacía)'}")
        click.echo(
            f"Topes SMS marketing: {cfg.get('SMS_DAILY_LIMIT_PER_CLIENT')}/día, "
            f"{cfg.get('SMS_MONTHLY_LIMIT_PER_CLIENT')}/mes; costo {cfg.get('SMS_COST_CLP')} CLP/segmento"
        )
        provider = sms_provider()
        try:
            click.echo(f"Greet: {provider.greet()}")
        except ProviderError as exc:
            raise click.ClickException(f"Redvoiss no responde: {exc.message}") from None
        if not send_test_sms:
            return
        if phone:
            try:
                target = normalize_phone(phone)
            except InvalidPhone as exc:
                raise click.ClickException(exc.message) from None
        else:
            target = db.session.scalar(sa.select(Client.phone).where(Client.phone.like("+569%")).limit(1))
        if not target or not is_mobile(target):
            raise click.ClickException("No hay un celular chileno para la prueba (use --phone).")
        try:
            answer = provider.send_sms(
                target, "Prueba de Aremko: SMS de prueba.", label="test-redvoiss", commercial=False
            )
        except ProviderError as exc:
            raise click.ClickException(f"Envío rechazado: {exc.message}") from None
        db.session.commit()
        click.echo(f"Enviado a {mask_phone(target)}, batch {answer['provider_id']}")
        time.sleep(max(wait, 0))
        try:
            for entry in provider.batch_status(answer["provider_id"]):
                click.echo(f"Estado: {entry.get('message')} ({mask_phone(entry.get('destination'))})")
        except ProviderError as exc:
            raise click.ClickException(f"No se pudo consultar el estado: {exc.message}") from None
