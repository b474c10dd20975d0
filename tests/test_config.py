import pytest

from config import Config, load_config, normalise_database_url


def test_production_requires_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY es obligatorio en producción"):
        load_config("production")


def test_production_defaults_and_explicit_fake_warning(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("SMS_BACKEND", "console")
    cfg = load_config("production")
    assert (cfg.FLOW_MODE, cfg.EMAIL_BACKEND, cfg.SCHEDULER_ENABLED, cfg.DEBUG) == ("off", "smtp", False, False)
    assert any("SMS_BACKEND=console" in w for w in cfg.STARTUP_WARNINGS)


def test_development_defaults(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    cfg = load_config("development")
    assert cfg.SECRET_KEY and cfg.INSECURE_KEY_WARNING
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
