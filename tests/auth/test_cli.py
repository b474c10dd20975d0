import sqlalchemy as sa

from app.auth.models import ApiToken, User
from app.auth.services import authenticate, user_for_token


def test_create_user_with_password(app, db_session):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-user",
            "ana",
            "--role",
            "recepcion",
            "--password",
            "una-clave-larga",
            "--email",
            "ana@example.com",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Usuario «ana» creado con rol recepcion." in result.output
    user = db_session.scalar(sa.select(User).where(User.username == "ana"))
    assert user.role == "recepcion" and user.email == "ana@example.com"
    assert authenticate("ana", "una-clave-larga") == user


def test_create_user_prompts_for_missing_password(app, db_session, monkeypatch):
    answers = iter(["otra-clave-larga", "otra-clave-larga"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    result = app.test_cli_runner().invoke(args=["create-user", "--username", "berta", "--role", "gerente"])
    assert result.exit_code == 0, result.output
    assert authenticate("berta", "otra-clave-larga") is not None


def test_create_user_errors_are_spanish(app, db_session):
    runner = app.test_cli_runner()
    short = runner.invoke(args=["create-user", "carla", "--role", "marketing", "--password", "corta"])
    assert short.exit_code != 0 and "al menos 10 caracteres" in short.output
    bad_role = runner.invoke(args=["create-user", "carla", "--role", "jefe", "--password", "una-clave-larga"])
    assert bad_role.exit_code != 0
    assert db_session.scalar(sa.select(User).where(User.username == "carla")) is None


def test_create_api_token_prints_once_and_stores_hash(app, db_session, make_user):
    user = make_user("gerente", username="tokenuser")
    result = app.test_cli_runner().invoke(args=["create-api-token", "tokenuser", "--name", "n8n"])
    assert result.exit_code == 0, result.output
    raw = result.output.strip().splitlines()[-1]
    stored = db_session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))
    assert stored.name == "n8n" and raw not in stored.token_hash
    assert user_for_token(raw) == user
    expiring = app.test_cli_runner().invoke(args=["create-api-token", "tokenuser", "--days", "30"])
    assert "vence el" in expiring.output and expiring.output.strip().splitlines()[-1].startswith("ark_")
    missing = app.test_cli_runner().invoke(args=["create-api-token", "nadie"])
    assert missing.exit_code != 0 and "no encontrado" in missing.output


def test_ensure_admin_from_environment(app, db_session, monkeypatch):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["ensure-admin"])
    assert "no se crea administrador" in result.output
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "jefa")
    monkeypatch.setenv("ADMIN_EMAIL", "jefa@example.com")
    monkeypatch.setenv("ADMIN_PASSWORD", "clave-admin-larga")
    assert runner.invoke(args=["ensure-admin"]).exit_code == 0
    user = db_session.scalar(sa.select(User).where(User.username == "jefa"))
    assert user.role == "admin" and authenticate("jefa", "clave-admin-larga") == user
    again = runner.invoke(args=["ensure-admin"])
    assert "ya existe" in again.output
    assert db_session.scalar(sa.select(User).where(User.username == "sistema")).is_system


def test_wait_db_succeeds_when_database_answers(app, db_session):
    result = app.test_cli_runner().invoke(args=["wait-db", "--timeout", "1"])
    assert result.exit_code == 0 and "Base de datos disponible." in result.output


def test_wait_db_gives_up_with_message():
    from app import create_app
    from tests.conftest import make_test_config

    broken = create_app(make_test_config(SQLALCHEMY_DATABASE_URI="sqlite:////dev/null/x.db"))
    result = broken.test_cli_runner().invoke(args=["wait-db", "--timeout", "0"])
    assert result.exit_code != 0 and "La base de datos no respondió a tiempo." in result.output
