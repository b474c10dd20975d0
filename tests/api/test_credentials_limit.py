"""Wrong credentials are rate limited per IP (security review L5): bearer tokens, X-API-KEY and the inbound SMS
token share a budget in the limiter store (429 after N wrong ones within a minute, right ones included, so a guess
cannot be confirmed); other IPs are unaffected; short shared secrets are refused in production."""

from __future__ import annotations

import secrets

import pytest

from config import load_config

KEY = "k" * 32
SMS = "s" * 32


@pytest.fixture
def limited(limited_app):
    limited_app.config.update(CREDENTIAL_FAILURE_LIMIT="3 per minute", AUTOMATION_API_KEY=KEY, SMS_INBOUND_TOKEN=SMS)
    return limited_app


def _ip(n: int) -> dict:
    return {"REMOTE_ADDR": f"203.0.113.{n}"}


def test_wrong_bearer_tokens_get_429_after_the_budget(limited, token_for):
    good = token_for("admin")
    c = limited.test_client()
    wrong = {"Authorization": "Bearer " + "x" * 40}
    statuses = [c.get("/ventas/api/clientes/", headers=wrong, environ_base=_ip(1)).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    blocked = c.get("/ventas/api/clientes/", headers=good, environ_base=_ip(1))
    assert blocked.status_code == 429 and blocked.json["code"] == "rate_limited"
    assert "credenciales inválidas" in blocked.json["error"]
    assert c.get("/ventas/api/clientes/", headers=good, environ_base=_ip(2)).status_code == 200  # other IP


def test_wrong_api_keys_and_sms_tokens_share_the_budget(limited):
    c = limited.test_client()
    path = "/ventas/api/campaigns/1/details/"
    assert [c.get(path, headers={"X-API-KEY": "nope"}, environ_base=_ip(3)).status_code for _ in range(2)] == [401, 401]
    assert (
        c.post("/ventas/api/sms/inbound/", headers={"X-SMS-Token": "nope"}, json={}, environ_base=_ip(3)).status_code
        == 401
    )
    resp = c.get(path, headers={"X-API-KEY": KEY}, environ_base=_ip(3))
    assert resp.status_code == 429 and "credenciales inválidas" in resp.json["error"]
    assert c.get(path, headers={"X-API-KEY": KEY}, environ_base=_ip(4)).status_code == 404  # right key, no campaign


def test_sms_inbound_token_is_limited(limited):
    c = limited.test_client()
    rule = "/ventas/api/sms/inbound/"
    statuses = [
        c.post(rule, headers={"X-SMS-Token": "nope"}, json={}, environ_base=_ip(5)).status_code for _ in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    assert c.post(rule, headers={"X-SMS-Token": SMS}, json={}, environ_base=_ip(5)).status_code == 429


@pytest.mark.parametrize("name", ["AUTOMATION_API_KEY", "SMS_INBOUND_TOKEN"])
def test_short_shared_secrets_refused_in_production(monkeypatch, name):
    monkeypatch.setenv("SECRET_KEY", secrets.token_urlsafe(48))
    monkeypatch.setenv(name, "corta-23-caracteres-xxx")
    with pytest.raises(RuntimeError, match=f"{name} debe tener al menos 24 caracteres"):
        load_config("production")
    monkeypatch.setenv(name, secrets.token_urlsafe(24))
    assert getattr(load_config("production"), name)
