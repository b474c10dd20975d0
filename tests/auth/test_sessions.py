"""Review L2: logout and a password change end the user's other sessions; the CSRF token rotates at login."""

from __future__ import annotations

import re

from app.auth.services import set_password
from tests.conftest import PASSWORD, make_test_config

HOME = "/ventas/admin-dashboard/"


def _logged_in(app, username):
    c = app.test_client()
    resp = c.post("/accounts/login/", data={"username": username, "password": PASSWORD})
    assert resp.status_code == 302
    return c


def _cookie(c) -> str:
    return c.get_cookie("session").value


def test_a_copied_cookie_stops_working_after_logout(app, client, make_user):
    make_user("gerente", username="replay1")
    c = _logged_in(app, "replay1")
    stolen = _cookie(c)
    assert c.get(HOME).status_code == 200
    assert c.post("/accounts/logout/").status_code == 303
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    resp = replay.get(HOME)
    assert resp.status_code == 302 and "/accounts/login/" in resp.headers["Location"]


def test_logout_ends_the_users_other_sessions_too(app, client, make_user):
    make_user("gerente", username="twotabs")
    laptop, tablet = _logged_in(app, "twotabs"), _logged_in(app, "twotabs")
    assert tablet.get(HOME).status_code == 200
    laptop.post("/accounts/logout/")
    assert tablet.get(HOME).status_code == 302
    again = _logged_in(app, "twotabs")  # logging in again works
    assert again.get(HOME).status_code == 200


def test_a_password_change_ends_existing_sessions(app, db_session, make_user):
    user = make_user("gerente", username="pwchange")
    c = _logged_in(app, "pwchange")
    assert c.get(HOME).status_code == 200
    set_password(user, "otra-clave-segura-456")
    db_session.commit()
    assert c.get(HOME).status_code == 302


def test_other_users_sessions_survive_a_logout(app, client, make_user):
    make_user("gerente", username="alice1")
    make_user("gerente", username="bob1")
    alice, bob = _logged_in(app, "alice1"), _logged_in(app, "bob1")
    alice.post("/accounts/logout/")
    assert bob.get(HOME).status_code == 200


def test_malformed_session_ids_are_anonymous(app, client, make_user):
    user = make_user("gerente")
    for bad in (f"{user.id}:x", f"{user.id}:1", "²", f"{user.id}:-1", ""):
        with client.session_transaction() as sess:
            sess["_user_id"] = bad
        assert client.get(HOME).status_code == 302, bad


def test_the_csrf_token_rotates_at_login(db_session, make_user):
    from app import create_app

    strict = create_app(make_test_config(WTF_CSRF_ENABLED=True))
    make_user("recepcion", username="csrfrot")
    pattern = r'name="csrf_token" type="hidden" value="([^"]+)"'
    with strict.test_client() as c:
        c.get("/accounts/login/")
        before = c.get_cookie("session").value
        with c.session_transaction() as sess:
            raw_before = sess["csrf_token"]
        token = re.search(pattern, c.get("/accounts/login/").text).group(1)
        ok = c.post("/accounts/login/", data={"username": "csrfrot", "password": PASSWORD, "csrf_token": token})
        assert ok.status_code == 302
        c.get("/ventas/recepcion/")
        with c.session_transaction() as sess:
            raw_after = sess.get("csrf_token")
        assert raw_after and raw_after != raw_before
        assert c.get_cookie("session").value != before
