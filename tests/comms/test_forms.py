"""The communications screens' Flask-WTF forms: CSRF from the forms (the preferences page, the consents fragment,
one-click buttons), the RFC 8058 one-click unsubscribe without a token, per-field errors with aria attributes, and
refusals answered in place (409)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.clients.models import Suppression
from app.comms.models import CommunicationLog
from app.comms.render import unsubscribe_token
from tests.comms.test_consent import sent_row  # noqa: F401 (fixture)
from tests.comms.test_views import HX, data  # noqa: F401 (fixture)

TOKEN = re.compile(r'name="csrf_token"[^>]* value="([^"]+)"|value="([^"]+)"[^>]* name="csrf_token"')


def csrf_of(html: str) -> str:
    found = TOKEN.search(html)
    assert found, "no CSRF token in the form"
    return found.group(1) or found.group(2)


@pytest.fixture
def csrf_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def test_preferences_page_token_comes_from_the_form(client, csrf_on, sent_row):  # noqa: F811
    row = sent_row()
    url = f"/ventas/preferencias/{unsubscribe_token(row.id)}/"
    page = client.get(url)
    assert page.status_code == 200
    assert client.post(url, data={"accepts_sms": "on"}).status_code == 400  # no token: refused
    saved = client.post(url, data={"accepts_sms": "on", "csrf_token": csrf_of(page.text)})
    assert saved.status_code == 200 and "Tus preferencias quedaron guardadas." in saved.text
    assert 'name="csrf_token"' in saved.text  # the page can be sent again


def test_one_click_unsubscribe_needs_no_token(client, csrf_on, db_session, sent_row):  # noqa: F811
    row = sent_row()
    resp = client.post(f"/ventas/baja/{unsubscribe_token(row.id)}/?todo=1", data={"List-Unsubscribe": "One-Click"})
    assert resp.status_code == 200 and "Ya no recibirás mensajes de Aremko" in resp.text
    db_session.refresh(row.client.preferences)
    assert row.client.preferences.opt_out_date is not None


def test_staff_forms_carry_their_token(login, csrf_on, db_session, data):  # noqa: F811
    client_id = data["client"].id
    desk = login("recepcion")
    url = f"/ventas/clientes/{client_id}/preferencias/"
    fragment = desk.get(url, headers=HX)
    saved = desk.post(url, data={"accepts_sms": "on", "csrf_token": csrf_of(fragment.text)}, headers=HX)
    assert saved.status_code == 200 and "actualizada" in saved.text
    messages = desk.get(f"/ventas/clientes/{client_id}/mensajes/", headers=HX)
    resend = desk.post(
        f"/ventas/comunicaciones/{data['rows']['staff:a'].id}/reenviar/",
        data={"csrf_token": csrf_of(messages.text), "next": f"/ventas/clientes/{client_id}/mensajes/"},
    )
    assert resend.status_code == 303 and resend.headers["Location"].endswith(f"/ventas/clientes/{client_id}/mensajes/")
    marketing = login("marketing")
    page = marketing.get("/ventas/comunicaciones/supresiones/")
    token = csrf_of(page.text)
    assert marketing.post("/ventas/comunicaciones/supresiones/", data={"channel": "sms"}).status_code == 400
    added = marketing.post(
        "/ventas/comunicaciones/supresiones/", data={"channel": "sms", "destination": "987654321", "csrf_token": token}
    )
    assert added.status_code == 303


def test_suppression_errors_are_on_their_fields(login, db_session, data):  # noqa: F811
    c = login("marketing")
    bad = c.post("/ventas/comunicaciones/supresiones/", data={"channel": "sms", "destination": "abc"}, headers=HX)
    assert bad.status_code == 422 and bad.text.lstrip().startswith('<div id="suppression-list"')
    assert re.search(r'<input aria-describedby="destination-error" aria-invalid="true"[^>]*is-invalid', bad.text)
    assert re.search(r'id="destination-error">Teléfono inválido', bad.text)
    email = c.post("/ventas/comunicaciones/supresiones/", data={"channel": "email", "destination": "sin-arroba"})
    assert email.status_code == 422 and 'id="destination-error">Correo inválido.<' in email.text
    missing = c.post("/ventas/comunicaciones/supresiones/", data={"channel": "fax", "destination": ""})
    assert missing.status_code == 422 and 'id="channel-error">Indique canal y destino.<' in missing.text
    dup = c.post("/ventas/comunicaciones/supresiones/", data={"channel": "sms", "destination": "+56 9 1111 2222"})
    assert dup.status_code == 409 and 'id="destination-error">Ese destino ya está suprimido.<' in dup.text
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Suppression)) == 1


def test_template_errors_are_on_their_fields(login, data):  # noqa: F811
    c = login("marketing")
    url = "/ventas/comunicaciones/plantillas-sms/nueva/"
    no_name = c.post(url, data={"name": " ", "message_type": "BIRTHDAY", "content": "Hola"}, headers=HX)
    assert no_name.status_code == 422 and 'id="name-error">El nombre es obligatorio.<' in no_name.text
    assert 'aria-invalid="true"' in no_name.text and 'value="BIRTHDAY"' in no_name.text
    bad_type = c.post(url, data={"name": "X", "message_type": "zz", "content": "Hola"}, headers=HX)
    assert bad_type.status_code == 422 and 'id="message_type-error">Tipo de mensaje inválido.<' in bad_type.text
    bad_text = c.post(url, data={"name": "X", "message_type": "BIRTHDAY", "content": "Hola {nombre"}, headers=HX)
    assert 'aria-describedby="content-help content-error"' in bad_text.text
    taken = c.post(url, data={"name": "Recordatorio", "message_type": "BOOKING_REMINDER", "content": "Hola"})
    assert taken.status_code == 409 and 'role="alert"' in taken.text
    assert "Ya existe una plantilla con ese nombre para este tipo." in taken.text


def test_refused_resend_and_send_now_answer_in_place(login, db_session, data):  # noqa: F811
    row = data["rows"]["staff:a"]
    row.communication_type = "WHATSAPP"  # logged by n8n: the system does not send it
    db_session.flush()
    admin = login("admin")
    resend = admin.post(f"/ventas/comunicaciones/{row.id}/reenviar/")
    assert resend.status_code == 409 and resend.text == "Este mensaje no se envía desde el sistema."
    send_now = admin.post(f"/ventas/comunicaciones/{row.id}/enviar-ahora/")
    assert send_now.status_code == 409 and send_now.text == "Solo se puede enviar ahora un mensaje pendiente."
    keys = db_session.scalars(sa.select(CommunicationLog.idempotency_key)).all()
    assert not any(":resend:" in key for key in keys)
