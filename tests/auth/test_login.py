import re

import pytest
import sqlalchemy as sa

from app.auth.models import ApiToken
from app.auth.services import authenticate, create_api_token, create_user, ensure_system_user, user_for_token
from app.auth.views import safe_next
from app.core.errors import ValidationError
from tests.conftest import PASSWORD, make_test_config


def test_password_is_hashed_and_checked(db_session):
    user = create_user(username="maria", role="recepcion", password="una-clave-larga")
    assert user.password_hash != "una-clave-larga"
    assert authenticate("maria", "una-clave-larga") == user
    assert user.last_login_at is not None
    assert authenticate("maria", "otra-clave-larga") is None
    assert authenticate("nadie", "una-clave-larga") is None


def test_short_password_and_bad_role_refused(db_session):
    with pytest.raises(ValidationError, match="al menos 10 caracteres"):
        create_user(username="x", role="recepcion", password="corta")
    with pytest.raises(ValidationError, match="Rol desconocido"):
        create_user(username="x", role="jefe", password="una-clave-larga")
    create_user(username="dup", role="admin", password="una-clave-larga")
    with pytest.raises(ValidationError, match="ya existe"):
        create_user(username="dup", role="admin", password="una-clave-larga")


def test_system_user_cannot_log_in(db_session):
    sistema = ensure_system_user()
    assert sistema.is_system and not sistema.can_log_in
    assert ensure_system_user().id == sistema.id


def test_api_token_stored_hashed(db_session, make_user):
    user = make_user("gerente")
    token, raw = create_api_token(user, "n8n")
    assert raw.startswith("ark_") and len(raw) == 44 and raw not in token.token_hash
    assert token.token_prefix == raw[:8]
    assert db_session.scalar(sa.select(ApiToken.token_hash)) == token.token_hash
    assert user_for_token(raw) == user
    assert user_for_token(raw + "x") is None
    user.is_active = False
    assert user_for_token(raw) is None


def test_expired_or_revoked_token_refused(db_session, make_user):
    from datetime import timedelta

    from app.core import clock

    user = make_user("admin")
    token, raw = create_api_token(user, "corto", days=1)
    assert user_for_token(raw) == user
    token.expires_at = clock.now() - timedelta(seconds=1)
    assert user_for_token(raw) is None
    other, raw2 = create_api_token(user, "revocado")
    other.revoked_at = clock.now()
    assert user_for_token(raw2) is None
    with pytest.raises(ValidationError):
        create_api_token(user, "x", days=0)


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/ventas/admin-dashboard/", "/ventas/admin-dashboard/"),
        ("/admin/?x=1", "/admin/?x=1"),
        ("https://evil.example.com/", None),
        ("//evil.example.com/", None),
        ("/\\evil.example.com", None),
        ("javascript:alert(1)", None),
        ("", None),
        ("ventas", None),
    ],
)
def test_next_only_local_paths(target, expected):
    assert safe_next(target) == expected


def test_login_page_and_success_redirects_to_role_home(client, make_user):
    make_user("gerente", username="gerente1")
    make_user("recepcion", username="recepcion1")
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert 'name="username"' in page.text and 'lang="es-CL"' in page.text
    resp = client.post("/accounts/login/", data={"username": "gerente1", "password": PASSWORD})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/ventas/caja-diaria/")  # spec README: gerente's home
    assert client.get("/ventas/admin-dashboard/").status_code == 200
    client.post("/accounts/logout/")
    resp = client.post("/accounts/login/", data={"username": "recepcion1", "password": PASSWORD})
    assert resp.headers["Location"].endswith("/ventas/recepcion/")


def test_login_honours_safe_next_only(client, make_user):
    make_user("admin", username="admin1")
    resp = client.post("/accounts/login/", data={"username": "admin1", "password": PASSWORD, "next": "/admin/"})
    assert resp.headers["Location"].endswith("/admin/")
    client.post("/accounts/logout/")
    resp = client.post(
        "/accounts/login/", data={"username": "admin1", "password": PASSWORD, "next": "https://evil.example.com/"}
    )
    assert "evil" not in resp.headers["Location"]


def test_failed_login_is_422_with_spanish_message(client, make_user):
    make_user("recepcion", username="rec1")
    resp = client.post("/accounts/login/", data={"username": "rec1", "password": "mala-clave-123"})
    assert resp.status_code == 422
    assert "Usuario o contraseña incorrectos." in resp.text
    resp = client.post("/accounts/login/", data={"username": "", "password": ""})
    assert resp.status_code == 422


def test_inactive_user_cannot_log_in(client, make_user):
    make_user("recepcion", username="inactivo", is_active=False)
    resp = client.post("/accounts/login/", data={"username": "inactivo", "password": PASSWORD})
    assert resp.status_code == 422


def test_logout_get_confirms_post_logs_out(login):
    c = login("marketing")
    page = c.get("/accounts/logout/")
    assert page.status_code == 200 and "Cerrar sesión" in page.text
    assert c.get("/ventas/admin-dashboard/").status_code == 200
    resp = c.post("/accounts/logout/")
    assert resp.status_code == 303
    assert c.get("/ventas/admin-dashboard/").status_code == 302


def test_session_expired_htmx_gets_401_with_hx_redirect(client):
    resp = client.get("/ventas/admin-dashboard/", headers={"HX-Request": "true"})
    assert resp.status_code == 401
    assert resp.headers["HX-Redirect"].startswith("/accounts/login/?next=")


def test_failed_logins_rate_limited(limited_app, make_user):
    limited = limited_app
    make_user("recepcion", username="victima")
    with limited.test_client() as c:
        statuses = [
            c.post("/accounts/login/", data={"username": "victima", "password": "mala-clave-123"}).status_code
            for _ in range(6)
        ]
        assert statuses[:5] == [422] * 5
        assert statuses[5] == 429
        blocked = c.post("/accounts/login/", data={"username": "victima", "password": PASSWORD})
        assert blocked.status_code == 429
        assert "Demasiados intentos. Intente nuevamente en unos minutos." in blocked.text
        # another username from the same IP is not blocked
        other = c.post("/accounts/login/", data={"username": "otro", "password": "mala-clave-123"})
        assert other.status_code == 422


def test_csrf_enforced_on_forms(db_session, make_user):
    from app import create_app

    strict = create_app(make_test_config(WTF_CSRF_ENABLED=True))
    make_user("recepcion", username="csrfuser")
    with strict.test_client() as c:
        resp = c.post("/accounts/login/", data={"username": "csrfuser", "password": PASSWORD})
        assert resp.status_code == 400
        assert "Recargue la página" in resp.text
        page = c.get("/accounts/login/")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
        ok = c.post("/accounts/login/", data={"username": "csrfuser", "password": PASSWORD, "csrf_token": token})
        assert ok.status_code == 302
        # logout also needs the token
        assert c.post("/accounts/logout/").status_code == 400
