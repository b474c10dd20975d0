"""Flask CLI commands (spec deployment.md §6)."""

from __future__ import annotations

import getpass
import os
import time

import click
import sqlalchemy as sa
from flask import Flask

from app.core.errors import DomainError
from app.extensions import db


def register_cli(app: Flask) -> None:
    from app.sales.cli import register_client_cli
    from app.scheduler import register_scheduler_cli

    register_scheduler_cli(app)
    from app.comms.cli import register_comms_cli

    register_comms_cli(app)
    register_client_cli(app)

    @app.cli.command("create-user")
    @click.argument("username", required=False)
    @click.option("--username", "username_opt", help="Alternativa al argumento USERNAME.")
    @click.option("--role", required=True, type=click.Choice(["admin", "gerente", "recepcion", "marketing"]))
    @click.option("--password", default=None, help="Si se omite, se pide por teclado.")
    @click.option("--email", default=None)
    def create_user_cmd(username, username_opt, role, password, email):
        """Create a staff user."""
        from app.auth.services import create_user

        username = username or username_opt
        if not username:
            raise click.UsageError("Indique USERNAME.")
        if password is None:
            password = getpass.getpass("Contraseña: ")
            if password != getpass.getpass("Repita la contraseña: "):
                raise click.ClickException("Las contraseñas no coinciden.")
        try:
            create_user(username=username, role=role, password=password, email=email)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from None
        click.echo(f"Usuario «{username}» creado con rol {role}.")

    @app.cli.command("create-api-token")
    @click.argument("username")
    @click.option("--name", default="token", help="Nombre descriptivo del token.")
    @click.option("--days", type=int, default=None, help="Días de validez (sin límite si se omite).")
    def create_api_token_cmd(username, name, days):
        """Issue a personal API token (shown once; only its hash is stored)."""
        from app.auth.models import User
        from app.auth.services import create_api_token

        user = db.session.scalar(sa.select(User).where(User.username == username))
        if user is None or user.is_system or not user.is_active:
            raise click.ClickException(f"Usuario «{username}» no encontrado o inactivo.")
        try:
            token, raw = create_api_token(user, name, days)
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from None
        db.session.commit()
        if token.expires_at:
            click.echo(f"Token «{token.name}» para {username}, vence el {token.expires_at:%d/%m/%Y}:")
        click.echo(raw)

    @app.cli.command("seed-demo")
    def seed_demo_cmd():
        """Load idempotent demo data; prints created users' passwords once."""
        from app.seed import seed_demo

        summary = seed_demo(password=app.config.get("DEMO_PASSWORD"))
        db.session.commit()
        created = {k: n for k, n in summary["created"].items() if n}
        for key, count in created.items():
            click.echo(f"{key}: {count} creados")
        if not created:
            click.echo("Datos de demostración ya cargados: nada nuevo que crear.")
        for username, role, password in summary["users"]:
            if password:
                click.echo(f"Usuario {username} ({role}) contraseña: {password}")
            else:
                click.echo(f"Usuario {username} ({role}) ya existía; contraseña sin cambios.")

    @app.cli.command("wait-db")
    @click.option("--timeout", default=60, show_default=True, help="Segundos máximos de espera.")
    def wait_db_cmd(timeout):
        """Wait until the database answers `SELECT 1`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                db.session.execute(sa.text("SELECT 1"))
                db.session.rollback()
                click.echo("Base de datos disponible.")
                return
            except sa.exc.OperationalError:
                db.session.rollback()
                if time.monotonic() > deadline:
                    raise click.ClickException("La base de datos no respondió a tiempo.") from None
                time.sleep(1)

    @app.cli.command("ensure-admin")
    def ensure_admin_cmd():
        """Create ADMIN_USERNAME (admin role) when ADMIN_USERNAME/EMAIL/PASSWORD are all set and it is missing."""
        from app.auth.models import User
        from app.auth.services import create_user, ensure_system_user

        ensure_system_user()
        username = os.environ.get("ADMIN_USERNAME") or os.environ.get("DJANGO_SUPERUSER_USERNAME")
        email = os.environ.get("ADMIN_EMAIL") or os.environ.get("DJANGO_SUPERUSER_EMAIL")
        password = os.environ.get("ADMIN_PASSWORD") or os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        if not (username and email and password):
            db.session.commit()
            click.echo("ADMIN_USERNAME/ADMIN_EMAIL/ADMIN_PASSWORD no definidos: no se crea administrador.")
            return
        if db.session.scalar(sa.select(User.id).where(User.username == username)):
            db.session.commit()
            click.echo(f"El administrador «{username}» ya existe.")
            return
        try:
            create_user(username=username, role="admin", password=password, email=email)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from None
        click.echo(f"Administrador «{username}» creado.")
