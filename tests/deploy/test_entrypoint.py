"""The container entry point and image files, exercised without Docker (no engine runs here)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "docker-entrypoint.sh"


def run(*args, env=None, **kw):
    base = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        "HOME": "/tmp",
        "FLASK_APP": "wsgi.py",
    }
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        cwd=ROOT,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        **kw,
    )


def test_web_builds_gunicorn_command_from_variables():
    out = run(
        "web",
        env={
            "ENTRYPOINT_DRY_RUN": "1",
            "PORT": "9000",
            "WEB_CONCURRENCY": "3",
            "GUNICORN_THREADS": "8",
            "GUNICORN_TIMEOUT": "90",
            "SECRET_KEY": "s3cr3t-value",
        },
    )
    assert out.returncode == 0
    assert out.stdout.strip() == (
        "gunicorn wsgi:app -k gthread --bind 0.0.0.0:9000 --workers 3 --threads 8 "
        "--timeout 90 --keep-alive 5 --graceful-timeout 30 "
        "--logger-class app.core.logs.GunicornLogger --access-logfile -"
    )
    assert "s3cr3t-value" not in out.stdout + out.stderr


def test_web_defaults():
    out = run(env={"ENTRYPOINT_DRY_RUN": "1"})
    assert out.stdout.strip() == (
        "gunicorn wsgi:app -k gthread --bind 0.0.0.0:8000 --workers 2 --threads 2 "
        "--timeout 60 --keep-alive 5 --graceful-timeout 30 "
        "--logger-class app.core.logs.GunicornLogger --access-logfile -"
    )


def test_other_arguments_are_executed():
    assert run("echo", "hola").stdout.strip() == "hola"


def test_migrate_and_seed_demo_against_a_throwaway_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'entrypoint.db'}"
    env = {
        "APP_ENV": "production",
        "SECRET_KEY": "entrypoint-test-key-123-0a9f8e7d6c5b4a39",
        "DATABASE_URL": url,
        "ADMIN_USERNAME": "jefa",
        "ADMIN_EMAIL": "jefa@example.com",
        "ADMIN_PASSWORD": "clave-admin-larga",
        "DEMO_PASSWORD": "clave-demo-larga",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    migrate = run("migrate", env=env)
    assert migrate.returncode == 0, migrate.stderr
    assert "Administrador «jefa» creado." in migrate.stdout
    seed = run("seed-demo", env=env)
    assert seed.returncode == 0, seed.stderr
    assert "clientes: 200 creados" in seed.stdout
    for secret in ("entrypoint-test-key-123-0a9f8e7d6c5b4a39", "clave-admin-larga"):
        assert secret not in migrate.stdout + migrate.stderr + seed.stderr
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM clients")).scalar() == 200
        assert conn.execute(sa.text("SELECT role FROM users WHERE username = 'jefa'")).scalar() == "admin"
    engine.dispose()


def test_dockerfile_shape():
    text = (ROOT / "Dockerfile").read_text()
    assert "ARG BASE_IMAGE=python:3.11-slim" in text  # the official base by default (image-check.sh may pass another)
    assert len(re.findall(r"^FROM \$\{BASE_IMAGE\} AS (builder|runtime)$", text, re.M)) == 2
    assert "USER 10001" in text and "--uid 10001" in text and "--gid 10001" in text
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert 'ENTRYPOINT ["/app/docker-entrypoint.sh"]' in text and 'CMD ["web"]' in text
    assert "db upgrade" not in text
    assert "libpq5" in text and "build-essential" not in text.split("FROM ${BASE_IMAGE} AS runtime")[1]


def test_compose_has_one_scheduler_and_the_dependency_order():
    import yaml

    text = (ROOT / "docker-compose.yml").read_text()
    services = yaml.safe_load(text)["services"]
    assert list(services) == ["db", "migrate", "web", "scheduler", "proxy"]
    assert services["db"]["image"] == "postgres:16-alpine" and "pg_isready" in str(services["db"]["healthcheck"])
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no" and services["migrate"]["command"] == ["migrate"]
    for name in ("web", "scheduler"):
        service = services[name]
        assert service["command"] == [name]
        assert service["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
        assert service["read_only"] is True and service["tmpfs"] == ["/tmp"] and service["image"] == "aremko:local"
        assert service["environment"]["SCHEDULER_ENABLED"] == "false"
        assert "healthcheck" in service
        assert "deploy" not in service and "scale" not in service  # exactly one of each
    assert "ports" not in services["web"] and services["web"]["volumes"] == ["media:/data/media"]
    proxy = services["proxy"]  # the buffering proxy is the only published port (review H2)
    assert proxy["ports"] == ["127.0.0.1:8080:8080"]
    assert "./deploy/nginx.conf:/etc/nginx/aremko.conf:ro" in proxy["volumes"]
    assert [name for name, service in services.items() if "ports" in service] == ["proxy"]
    assert "/healthz" in str(services["web"]["healthcheck"]["test"])
    assert "/tmp/scheduler-heartbeat" in str(services["scheduler"]["healthcheck"]["test"])
    assert "replicas" not in text


SPEC_VARIABLES = """APP_ENV SECRET_KEY DATABASE_URL DB_POOL_SIZE DB_MAX_OVERFLOW PUBLIC_BASE_URL TRUSTED_HOSTS
PROXY_FIX_X_FOR PROXY_FIX_X_PROTO SESSION_COOKIE_SECURE SESSION_LIFETIME_HOURS LOG_LEVEL LOG_FORMAT MEDIA_ROOT
IMPORT_DIR
RATELIMIT_ENABLED RATELIMIT_STORAGE_URI CORS_ALLOWED_ORIGINS SCHEDULER_ENABLED PORT WEB_CONCURRENCY GUNICORN_THREADS
GUNICORN_TIMEOUT ADMIN_USERNAME ADMIN_EMAIL ADMIN_PASSWORD DEMO_PASSWORD BUSINESS_NAME BUSINESS_EMAIL
BUSINESS_WHATSAPP BUSINESS_ADDRESS BUSINESS_WEBSITE BANK_TRANSFER_INSTRUCTIONS NEWSLETTER_VIP_BODY TERMS_TEXT
PRIVACY_TEXT SURVEY_PUBLIC_BASE_URL TRIPADVISOR_URL REPORT_EMAIL_RECIPIENTS COMMUNICATION_SMS_ENABLED
COMMUNICATION_EMAIL_ENABLED SMS_BACKEND EMAIL_BACKEND REDVOISS_API_URL REDVOISS_USERNAME REDVOISS_PASSWORD
SMS_INBOUND_TOKEN EMAIL_HOST EMAIL_PORT EMAIL_USE_TLS EMAIL_HOST_USER EMAIL_HOST_PASSWORD DEFAULT_FROM_EMAIL
VENTAS_FROM_EMAIL FLOW_MODE FLOW_API_KEY FLOW_SECRET_KEY FLOW_CREATE_API_URL FLOW_STATUS_API_URL
FLOW_CONFIRMATION_URL FLOW_RETURN_URL AUTOMATION_API_KEY AI_FEATURES_ENABLED AI_LLM_BACKEND DEEPSEEK_API_KEY AI_MODEL
AI_DATABASE_URL AI_SQL_ROW_LIMIT AI_MAX_TOKENS AI_QUERY_TIMEOUT_SECONDS AI_DAILY_COST_LIMIT_CLP
AI_USER_DAILY_COST_LIMIT_CLP AI_PRICE_INPUT_CLP_PER_1K_TOKENS AI_PRICE_OUTPUT_CLP_PER_1K_TOKENS AI_ALLOWED_ROLES
AI_LOG_RETENTION_DAYS""".split()  # deployment.md §2, every row


def test_env_example_lists_every_variable_without_secrets():
    env = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert set(SPEC_VARIABLES) <= set(env), set(SPEC_VARIABLES) - set(env)
    assert env["APP_ENV"] == "production" and env["FLOW_MODE"] == "fake"
    assert env["SMS_BACKEND"] == "console" and env["EMAIL_BACKEND"] == "console" and env["SCHEDULER_ENABLED"] == "false"
    for key in (
        "REDVOISS_PASSWORD",
        "EMAIL_HOST_PASSWORD",
        "FLOW_SECRET_KEY",
        "AUTOMATION_API_KEY",
        "DEEPSEEK_API_KEY",
        "ADMIN_PASSWORD",
    ):
        assert env[key] == ""


def test_following_env_example_starts_production_and_its_placeholder_key_is_refused(monkeypatch):
    import secrets

    from config import ConfigError, load_config

    env = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match="SECRET_KEY tiene un valor publicado"):
        load_config()
    monkeypatch.setenv("SECRET_KEY", secrets.token_urlsafe(48))  # what the file's comment says to run
    cfg = load_config()
    assert cfg.APP_ENV == "production" and cfg.FLOW_MODE == "fake"
    assert cfg.UNSAFE_OVERRIDES == ["ALLOW_FAKE_BACKENDS_IN_PRODUCTION", "ALLOW_INSECURE_COOKIES_IN_PRODUCTION"]


@pytest.mark.parametrize("command", ["web", "migrate"])
def test_web_and_migrate_refuse_to_start_with_an_unsafe_production_setting(tmp_path, command):
    env = {
        "APP_ENV": "production",
        "SECRET_KEY": "k7Qw2-rT9zLp4XvB8nHs3JdF6gYc1MeA0uWoZiKl",
        "FLOW_MODE": "fake",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        "BIND_HOST": "127.0.0.1",
        "PORT": "5126",
        "WEB_CONCURRENCY": "1",
    }
    out = run(command, env=env)
    assert out.returncode == 3
    assert "Configuración rechazada: FLOW_MODE=fake no se permite en producción" in out.stderr
    assert "ALLOW_FAKE_BACKENDS_IN_PRODUCTION=1" in out.stderr and "k7Qw2" not in out.stdout + out.stderr
