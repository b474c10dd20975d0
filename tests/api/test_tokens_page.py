"""/ventas/mi-cuenta/tokens/: own tokens, created once-shown, revoked; the purge job; 600/min per token."""

from __future__ import annotations

from datetime import timedelta

from app.api.models import IdempotencyRecord
from app.auth.models import ApiToken
from app.core import clock


def test_create_use_and_revoke_own_token(login, make_user, db_session):
    c = login("marketing")
    page = c.get("/ventas/mi-cuenta/tokens/")
    assert page.status_code == 200 and 'id="token-form"' in page.text and "Sin tokens." in page.text
    invalid = c.post("/ventas/mi-cuenta/tokens/", data={"name": "", "days": "0"})
    assert invalid.status_code == 422 and "Indique un nombre." in invalid.text
    created = c.post("/ventas/mi-cuenta/tokens/", data={"name": "n8n", "days": "30"})
    assert created.status_code == 201 and 'id="new-token"' in created.text
    raw = created.text.split('<code class="user-select-all">')[1].split("</code>")[0]
    assert raw.startswith("ark_") and len(raw) == 44
    token = db_session.query(ApiToken).filter_by(user_id=c.user.id).one()
    assert token.token_hash != raw and token.expires_at is not None
    assert raw not in c.get("/ventas/mi-cuenta/tokens/").text  # shown once
    api = c.application.test_client()
    assert api.get("/ventas/api/clientes/", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    someone_else = make_user("admin")
    from app.auth.services import create_api_token

    foreign, _ = create_api_token(someone_else)
    db_session.flush()
    assert c.post(f"/ventas/mi-cuenta/tokens/{foreign.id}/revocar/").status_code == 404
    revoked = c.post(f"/ventas/mi-cuenta/tokens/{token.id}/revocar/")
    assert revoked.status_code == 303
    assert api.get("/ventas/api/clientes/", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    assert "Revocado" in c.get("/ventas/mi-cuenta/tokens/").text


def test_purge_job_drops_day_old_records(db_session):
    from app.api.idempotency import purge_idempotency_records

    old = IdempotencyRecord(
        scope="user:1",
        key="a",
        method="POST",
        path="/x",
        request_hash="0" * 64,
        created_at=clock.now() - timedelta(hours=25),
    )
    new = IdempotencyRecord(scope="user:1", key="b", method="POST", path="/x", request_hash="0" * 64)
    db_session.add_all([old, new])
    db_session.flush()
    assert purge_idempotency_records() == "1 registros de idempotencia eliminados"
    assert [r.key for r in db_session.query(IdempotencyRecord)] == ["b"]


def test_requests_per_minute_per_token(limited_app, token_for):
    from app.api.setup import TOKEN_LIMIT

    assert TOKEN_LIMIT == "600 per minute"
    limited_app.config["API_TOKEN_RATE_LIMIT"] = "5 per minute"  # same mechanism, fewer requests
    headers = token_for("recepcion")
    c = limited_app.test_client()
    codes = [c.get("/ventas/api/categorias/?page_size=1", headers=headers).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    limited = c.get("/ventas/api/categorias/", headers=headers)
    assert limited.json["code"] == "rate_limited"
    other = token_for("recepcion")  # per token, not per IP
    assert c.get("/ventas/api/categorias/", headers=other).status_code == 200
    assert c.get("/ventas/api/servicios/").status_code == 200  # anonymous public reads are not token-limited


def test_last_use_is_kept_after_reads(client, make_user, db_session, freeze_clock):
    from datetime import datetime

    from app.auth.services import create_api_token

    freeze_clock(datetime(2026, 3, 2, 13, 0, tzinfo=clock.UTC))
    token, raw = create_api_token(make_user("gerente"))
    db_session.commit()
    assert client.get("/ventas/api/categorias/", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    db_session.expire_all()
    assert db_session.get(ApiToken, token.id).last_used_at == datetime(2026, 3, 2, 13, 0, tzinfo=clock.UTC)


def test_cors_only_for_listed_origins_and_api_paths(app, client, monkeypatch):
    assert (
        "Access-Control-Allow-Origin"
        not in client.get("/ventas/api/servicios/", headers={"Origin": "https://n8n.example.com"}).headers
    )
    monkeypatch.setitem(app.config, "CORS_ALLOWED_ORIGINS", ["https://n8n.example.com"])
    ok = client.get("/ventas/api/servicios/", headers={"Origin": "https://n8n.example.com"})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://n8n.example.com" and "Origin" in ok.headers["Vary"]
    preflight = client.options(
        "/ventas/api/pagos/", headers={"Origin": "https://n8n.example.com", "Access-Control-Request-Method": "POST"}
    )
    assert "Idempotency-Key" in preflight.headers["Access-Control-Allow-Headers"]
    other = client.get("/ventas/api/servicios/", headers={"Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in other.headers
    page = client.get("/healthz", headers={"Origin": "https://n8n.example.com"})
    assert "Access-Control-Allow-Origin" not in page.headers
