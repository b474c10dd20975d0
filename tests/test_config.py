import pytest

from config import Config, load_config, normalise_database_url


def test_production_requires_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY es obligatorio en producción"):
        load_config("production")


GOOD_KEY = "k7Qw2-rT9zLp4XvB8nHs3JdF6gYc1MeA0uWoZiKl"


@pytest.fixture
def prod_env(monkeypatch):
    for name in (
        "SECRET_KEY",
        "FLOW_MODE",
        "SMS_BACKEND",
        "EMAIL_BACKEND",
        "WEBHOOK_BACKEND",
        "SESSION_COOKIE_SECURE",
        "ALLOW_FAKE_BACKENDS_IN_PRODUCTION",
        "ALLOW_INSECURE_COOKIES_IN_PRODUCTION",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", GOOD_KEY)
    return monkeypatch


def test_production_defaults_are_safe(prod_env):
    cfg = load_config("production")
    assert (cfg.FLOW_MODE, cfg.EMAIL_BACKEND, cfg.SCHEDULER_ENABLED, cfg.DEBUG) == ("off", "smtp", False, False)
    assert cfg.SESSION_COOKIE_SECURE is True and cfg.REMEMBER_COOKIE_SECURE is True
    assert cfg.STARTUP_WARNINGS == [] and cfg.UNSAFE_OVERRIDES == []


@pytest.mark.parametrize(
    "key",
    [
        "replace-with-a-long-random-string",  # the .env.example placeholder
        "dev-insecure-key-change-me",  # config.DEV_SECRET_KEY
        "test-secret-key",
        "bench-secret-key",
        "x",
        "corta-de-31-bytes-0123456789ab",
        "x" * 40,
    ],
)
def test_production_refuses_weak_or_published_secret_keys(prod_env, key):
    prod_env.setenv("SECRET_KEY", key)
    with pytest.raises(RuntimeError, match=r"SECRET_KEY .*secrets.token_urlsafe"):
        load_config("production")


@pytest.mark.parametrize(
    "name,value",
    [
        ("FLOW_MODE", "fake"),
        ("SMS_BACKEND", "fake"),
        ("SMS_BACKEND", "console"),
        ("EMAIL_BACKEND", "console"),
        ("WEBHOOK_BACKEND", "fake"),
    ],
)
def test_production_refuses_fake_backends_unless_explicitly_allowed(prod_env, name, value):
    prod_env.setenv(name, value)
    with pytest.raises(
        RuntimeError, match=f"{name}={value} no se permite en producción.*ALLOW_FAKE_BACKENDS_IN_PRODUCTION=1"
    ):
        load_config("production")
    prod_env.setenv("ALLOW_FAKE_BACKENDS_IN_PRODUCTION", "1")
    cfg = load_config("production")
    assert any(f"{name}={value}" in w for w in cfg.STARTUP_WARNINGS)
    assert cfg.UNSAFE_OVERRIDES == ["ALLOW_FAKE_BACKENDS_IN_PRODUCTION"]


def test_production_refuses_insecure_cookies_unless_explicitly_allowed(prod_env):
    prod_env.setenv("SESSION_COOKIE_SECURE", "false")
    with pytest.raises(RuntimeError, match="SESSION_COOKIE_SECURE=false no se permite en producción"):
        load_config("production")
    prod_env.setenv("ALLOW_INSECURE_COOKIES_IN_PRODUCTION", "1")
    cfg = load_config("production")
    assert cfg.SESSION_COOKIE_SECURE is False
    assert cfg.UNSAFE_OVERRIDES == ["ALLOW_INSECURE_COOKIES_IN_PRODUCTION"]


def test_the_production_process_exits_naming_the_setting(tmp_path):
    """What an operator sees: `flask` (like gunicorn, through wsgi.py) stops with the message, not a stack trace."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "APP_ENV": "production",
        "FLASK_APP": "wsgi.py",
        "SECRET_KEY": "replace-with-a-long-random-string",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
    }
    out = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=root, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode != 0
    assert "SECRET_KEY tiene un valor publicado" in out.stderr and "Traceback" not in out.stderr


def test_development_defaults(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    cfg = load_config("development")
    assert cfg.SECRET_KEY and cfg.INSECURE_KEY_WARNING and cfg.SESSION_COOKIE_SECURE is False
    assert cfg.SQLALCHEMY_DATABASE_URI.endswith("/instance/aremko.db")
    assert (cfg.FLOW_MODE, cfg.SMS_BACKEND, cfg.EMAIL_BACKEND) == ("fake", "fake", "fake")


def test_environment_values_are_parsed(monkeypatch):
    monkeypatch.setenv("CART_HOLD_MINUTES", "20")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "true")
    cfg = load_config("development")
    assert cfg.CART_HOLD_MINUTES == 20 and cfg.SESSION_COOKIE_SECURE is True
    monkeypatch.setenv("CART_HOLD_MINUTES", "veinte")
    with pytest.raises(RuntimeError, match="CART_HOLD_MINUTES"):
        load_config("development")
    with pytest.raises(RuntimeError, match="APP_ENV desconocido"):
        load_config("staging")


def test_database_url_normalisation():
    assert normalise_database_url("postgres://u@h/db") == "postgresql://u@h/db"
    assert normalise_database_url("sqlite:///instance/x.db").endswith("/instance/x.db")
    assert normalise_database_url("sqlite:////abs/x.db") == "sqlite:////abs/x.db"
    assert Config.CART_HOLD_MINUTES == 15
