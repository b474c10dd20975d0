"""`/ventas/configuracion/` (spec README §4): admin only; an override is a Setting row (key, JSON value, updated_by,
updated_at) and wins over the environment in the code that reads it; saving the environment's value removes it;
bad input → 422 in Spanish with nothing written."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.comms.eligibility_queries import current_limits
from app.core.settings import EDITABLE, Setting, save_settings, setting
from app.sales.services import cfg
from tests.conftest import ROLES

HX = {"HX-Request": "true"}
URL = "/ventas/configuracion/"


def form_values(app, **changes) -> dict:
    """What the page posts: every key with the value in force (booleans as the hidden 0 + checkbox 1)."""
    data = {}
    for spec in EDITABLE:
        value = changes.get(spec.key, app.config.get(spec.key))
        if spec.kind == "bool":
            data[spec.key] = ["0", "1"] if value else ["0"]
        else:
            data[spec.key] = "" if value is None else str(value)
    return data


def rows(db_session):
    return {r.key: r for r in db_session.scalars(sa.select(Setting))}


def test_page_and_fragment(login):
    c = login("admin")
    page = c.get(URL)
    assert page.status_code == 200 and "<html" in page.text and 'id="settings-form"' in page.text
    for text in ("Topes anti-spam", "SMS de marketing por cliente al día", "Horario de marketing", "Enviar SMS"):
        assert text in page.text
    assert "/ventas/configuracion/politicas/" in page.text
    frag = c.get(URL, headers=HX)
    assert frag.text.lstrip().startswith('<div id="settings-form"') and "<html" not in frag.text


@pytest.mark.parametrize("role", ROLES)
def test_admin_only(login, role):
    c = login(role)
    assert c.get(URL).status_code == (200 if role == "admin" else 403)
    empty = c.post(URL, data={})
    assert empty.status_code == (422 if role == "admin" else 403)
    if role == "admin":
        assert "No se recibió ningún ajuste" in empty.text


def test_save_overrides_and_db_value_wins(app, login, db_session):
    c = login("admin")
    assert current_limits().sms_daily == app.config["SMS_DAILY_LIMIT_PER_CLIENT"]
    data = form_values(
        app,
        SMS_DAILY_LIMIT_PER_CLIENT=1,
        QUIET_HOURS_START="10:00",
        COMMUNICATION_EMAIL_ENABLED=False,
        CART_HOLD_MINUTES=25,
    )
    resp = c.post(URL, data=data, headers=HX)
    assert resp.status_code == 200 and "4 ajustes guardados." in resp.text
    saved = rows(db_session)
    assert set(saved) == {
        "SMS_DAILY_LIMIT_PER_CLIENT",
        "QUIET_HOURS_START",
        "COMMUNICATION_EMAIL_ENABLED",
        "CART_HOLD_MINUTES",
    }
    assert saved["SMS_DAILY_LIMIT_PER_CLIENT"].value == 1 and saved["COMMUNICATION_EMAIL_ENABLED"].value is False
    assert saved["CART_HOLD_MINUTES"].updated_by_id == c.user.id and saved["CART_HOLD_MINUTES"].updated_at is not None
    assert 'id="set-CART_HOLD_MINUTES-override"' in resp.text
    with app.test_request_context():  # a later request reads the overrides
        limits = current_limits()
        assert (limits.sms_daily, limits.quiet_start, limits.email_enabled) == (1, "10:00", False)
        assert limits.sms_monthly == app.config["SMS_MONTHLY_LIMIT_PER_CLIENT"]  # not overridden: the environment's
        assert cfg("CART_HOLD_MINUTES") == 25 and setting("CART_HOLD_MINUTES") == 25
    back = c.post(
        URL,
        data=form_values(
            app,
            SMS_DAILY_LIMIT_PER_CLIENT=app.config["SMS_DAILY_LIMIT_PER_CLIENT"],
            QUIET_HOURS_START="10:00",
            COMMUNICATION_EMAIL_ENABLED=False,
            CART_HOLD_MINUTES=25,
        ),
    )
    assert back.status_code == 303
    assert "SMS_DAILY_LIMIT_PER_CLIENT" not in rows(db_session)  # the environment's value again
    same = c.post(
        URL,
        data=form_values(app, QUIET_HOURS_START="10:00", COMMUNICATION_EMAIL_ENABLED=False, CART_HOLD_MINUTES=25),
        headers=HX,
    )
    assert "Sin cambios." in same.text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"SMS_DAILY_LIMIT_PER_CLIENT": ""}, "Ingrese un número entero."),
        ({"SMS_DAILY_LIMIT_PER_CLIENT": "dos"}, "Ingrese un número entero."),
        ({"SMS_DAILY_LIMIT_PER_CLIENT": "101"}, "Debe estar entre 0 y 100."),
        ({"CART_HOLD_MINUTES": "0"}, "Debe estar entre 1 y 1440."),
        ({"QUIET_HOURS_START": "9"}, "Indique la hora (HH:MM)."),
        ({"QUIET_HOURS_START": "21:00"}, "El horario de marketing debe terminar después de empezar."),
    ],
)
def test_bad_input_422_nothing_written(app, login, db_session, changes, message):
    data = form_values(app, SMS_MONTHLY_LIMIT_PER_CLIENT=3)  # a valid change alongside: not saved either
    data.update(changes)
    resp = login("admin").post(URL, data=data, headers=HX)
    assert resp.status_code == 422 and message in resp.text, resp.text
    assert rows(db_session) == {}


def test_service_refuses_unknown_kind_values(app, db_session):
    from app.core.errors import ValidationError

    with app.test_request_context(), pytest.raises(ValidationError, match="Ingrese un número entero."):
        save_settings({"SMS_DAILY_LIMIT_PER_CLIENT": True})


def test_jobs_read_overrides_outside_a_request(app, db_session):
    """A job runs in an application context without a request: it reads the overrides too."""
    save_settings({"REACTIVATION_DAYS": 120})
    assert setting("REACTIVATION_DAYS") == 120 and setting("SMS_DAILY_LIMIT_PER_CLIENT") == 2
    save_settings({"REACTIVATION_DAYS": 60})
    assert setting("REACTIVATION_DAYS") == 60  # the save dropped the cached overrides
