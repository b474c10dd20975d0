"""Staff screens (§10), client fragments, templates editor (§8), CLI: full page and HTMX fragment, access by role."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from app.clients.models import ConsentEvent, Suppression
from app.comms.models import CommunicationLog, FakeMessage, InboundSms, SmsTemplate
from app.comms.outbox_services import enqueue
from app.core.clock import LOCAL_TZ
from tests.conftest import ROLES

NOON = datetime(2026, 3, 4, 12, 0, tzinfo=LOCAL_TZ)
HX = {"HX-Request": "true"}


@pytest.fixture
def data(db_session, make_client, freeze_clock):
    freeze_clock(NOON)
    c = make_client(marketing_consent=True)
    for key, mt, ch in (
        ("staff:a", "OTHER", "SMS"),
        ("client:x:BIRTHDAY:2026", "BIRTHDAY", "SMS"),
        ("staff:b", "OTHER", "EMAIL"),
    ):
        enqueue(
            message_type=mt,
            channel=ch,
            idempotency_key=key,
            client_id=c.id,
            triggered_by="test",
            payload={"text": "Hola"},
        )
    rows = {r.idempotency_key: r for r in db_session.scalars(sa.select(CommunicationLog))}
    rows["staff:a"].status, rows["staff:a"].cost, rows["staff:a"].sent_at = "SENT", 12, NOON
    rows["client:x:BIRTHDAY:2026"].reason = "quiet_hours"
    tpl = SmsTemplate(name="Recordatorio", message_type="BOOKING_REMINDER", content="{nombre} mañana", is_active=True)
    sup = Suppression(channel="sms", destination="+56911112222", reason="stop")
    reply = InboundSms(phone="+56911112222", text="hola", dedupe_key="k", received_at=NOON)
    fake = FakeMessage(
        channel="EMAIL", destination="a@example.com", subject="S", text="t", html="<p>hola</p>", provider_id="p"
    )
    db_session.add_all([tpl, sup, reply, fake])
    db_session.flush()
    return {"client": c, "rows": rows, "template": tpl, "suppression": sup, "fake": fake}


def arg_routes(data):
    row = data["rows"]["staff:a"]
    cid = data["client"].id
    return [
        (f"/ventas/comunicaciones/{row.id}/", {"marketing", "gerente", "admin"}),
        (f"/ventas/comunicaciones/plantillas-sms/{data['template'].id}/", {"marketing", "admin"}),
        (f"/ventas/comunicaciones/bandeja-fake/{data['fake'].id}/html/", set(ROLES)),
        (f"/ventas/clientes/{cid}/preferencias/", set(ROLES)),
        (f"/ventas/clientes/{cid}/mensajes/", set(ROLES)),
    ]


@pytest.mark.parametrize("role", (None, *ROLES))
def test_routes_with_arguments_by_role(client, login, data, role):
    c = login(role) if role else client
    for path, allowed in arg_routes(data):
        resp = c.get(path)
        if role is None:
            assert resp.status_code == 302 and "/accounts/login/" in resp.headers["Location"], path
        else:
            assert resp.status_code == (200 if role in allowed else 403), (path, role, resp.status_code)


@pytest.mark.parametrize(
    ("role", "status"), [(None, 302), ("recepcion", 403), ("gerente", 403), ("marketing", 303), ("admin", 303)]
)
def test_post_roles_templates(client, login, data, role, status):
    c = login(role) if role else client
    resp = c.post(
        "/ventas/comunicaciones/plantillas-sms/nueva/",
        data={"name": "Nueva", "message_type": "BIRTHDAY", "content": "Hola {nombre}"},
    )
    assert resp.status_code == status


def test_log_full_page_and_fragment_with_filters(login, data):
    c = login("marketing")
    page = c.get("/ventas/comunicaciones/")
    assert page.status_code == 200 and 'id="comms-stats"' in page.text and 'id="log-list"' in page.text
    assert "Costo SMS este mes: <strong>$12</strong>" in page.text and "HX-Request" in page.headers["Vary"]
    frag = c.get("/ventas/comunicaciones/?canal=SMS&motivo=quiet_hours", headers=HX)
    assert frag.status_code == 200 and frag.text.lstrip().startswith('<div id="log-list">')
    assert 'id="log-count">1 mensaje\n' in frag.text and "fuera de horario" in frag.text
    assert "comms-stats" not in frag.text
    assert "3 mensajes" in c.get("/ventas/comunicaciones/?canal=nada&page=x&cliente=abc").text


def test_log_detail_resend_and_send_now(login, db_session, data):
    row = data["rows"]["staff:a"]
    admin = login("admin")
    detail = admin.get(f"/ventas/comunicaciones/{row.id}/")
    assert detail.status_code == 200 and "staff:a" in detail.text and "Reenviar" in detail.text
    assert admin.get(f"/ventas/comunicaciones/{row.id}/", headers=HX).text.lstrip().startswith('<div id="log-detail"')
    resp = admin.post(f"/ventas/comunicaciones/{row.id}/reenviar/")
    assert resp.status_code == 303
    assert admin.post(f"/ventas/comunicaciones/{row.id}/reenviar/", headers=HX).status_code == 204
    keys = set(db_session.scalars(sa.select(CommunicationLog.idempotency_key)))
    assert {"staff:a:resend:1", "staff:a:resend:2"} <= keys
    deferred = data["rows"]["client:x:BIRTHDAY:2026"]
    assert admin.post(f"/ventas/comunicaciones/{deferred.id}/enviar-ahora/").status_code == 303
    db_session.refresh(deferred)
    assert deferred.force_send is True and deferred.not_before == NOON
    assert admin.post(f"/ventas/comunicaciones/{row.id}/enviar-ahora/").status_code == 409
    assert admin.post("/ventas/comunicaciones/999999/reenviar/").status_code == 404


def test_reception_resends_transactional_only(login, data):
    desk = login("recepcion")
    assert desk.post(f"/ventas/comunicaciones/{data['rows']['staff:a'].id}/reenviar/").status_code == 303
    bday = data["rows"]["client:x:BIRTHDAY:2026"]
    assert desk.post(f"/ventas/comunicaciones/{bday.id}/reenviar/").status_code == 403
    assert desk.post(f"/ventas/comunicaciones/{bday.id}/enviar-ahora/").status_code == 403


def test_template_editor_validation_and_single_active(login, db_session, data):
    c = login("marketing")
    form = c.get("/ventas/comunicaciones/plantillas-sms/nueva/")
    assert form.status_code == 200 and 'id="template-form"' in form.text
    bad = c.post(
        "/ventas/comunicaciones/plantillas-sms/nueva/",
        data={"name": "X", "message_type": "BOOKING_REMINDER", "content": "Hola {nombre} {precio}"},
        headers=HX,
    )
    assert bad.status_code == 422 and bad.text.lstrip().startswith('<div id="template-form"')
    assert "Variable desconocida: {precio}. Variables permitidas: {nombre}" in bad.text
    braces = c.post(
        "/ventas/comunicaciones/plantillas-sms/nueva/",
        data={"name": "X", "message_type": "BOOKING_REMINDER", "content": "Hola {nombre"},
    )
    assert braces.status_code == 422 and "Llaves sin cerrar." in braces.text
    ok = c.post(
        "/ventas/comunicaciones/plantillas-sms/nueva/",
        data={
            "name": "Otro",
            "message_type": "BOOKING_REMINDER",
            "content": "{nombre}: mañana {hora}",
            "is_active": "1",
        },
    )
    assert ok.status_code == 303
    active = db_session.scalars(
        sa.select(SmsTemplate.name).where(SmsTemplate.message_type == "BOOKING_REMINDER", SmsTemplate.is_active)
    ).all()
    assert active == ["Otro"]
    dup = c.post(
        "/ventas/comunicaciones/plantillas-sms/nueva/",
        data={"name": "Otro", "message_type": "BOOKING_REMINDER", "content": "x"},
    )
    assert dup.status_code == 409
    assert c.post(f"/ventas/comunicaciones/plantillas-sms/{data['template'].id}/activar/").status_code == 303
    db_session.refresh(data["template"])
    assert data["template"].is_active
    listing = c.get("/ventas/comunicaciones/plantillas-sms/", headers=HX)
    assert listing.text.lstrip().startswith('<div id="template-list"')


def test_template_preview_fragment(login, data):
    c = login("admin")
    resp = c.post(
        "/ventas/comunicaciones/plantillas-sms/vista-previa/", data={"content": "Hola {nombre} ñandú €"}, headers=HX
    )
    assert resp.status_code == 200 and resp.text.lstrip().startswith('<div id="template-preview"')
    assert "UCS-2" not in resp.text and "GSM-7" in resp.text  # ú stripped, ñ and € are GSM-7
    resp = c.post("/ventas/comunicaciones/plantillas-sms/vista-previa/", data={"content": "Hola 😀 {x}"}, headers=HX)
    assert "UCS-2" in resp.text and "😀" in resp.text and "Variable desconocida: {x}" in resp.text


def test_suppressions_page(login, db_session, data):
    c = login("marketing")
    page = c.get("/ventas/comunicaciones/supresiones/")
    assert page.status_code == 200 and "+56911112222" in page.text
    frag = c.get("/ventas/comunicaciones/supresiones/?q=1111", headers=HX)
    assert frag.text.lstrip().startswith('<div id="suppression-list"')
    bad = c.post("/ventas/comunicaciones/supresiones/", data={"channel": "sms", "destination": "abc"})
    assert bad.status_code == 422 and "Teléfono inválido" in bad.text
    dup = c.post("/ventas/comunicaciones/supresiones/", data={"channel": "sms", "destination": "911112222"})
    assert dup.status_code == 409
    client = data["client"]
    ok = c.post("/ventas/comunicaciones/supresiones/", data={"channel": "email", "destination": client.email.upper()})
    assert ok.status_code == 303
    sup = db_session.scalar(sa.select(Suppression).where(Suppression.destination == client.email))
    assert (sup.reason, sup.client_id, sup.created_by_id) == ("manual", client.id, c.user.id)
    ev = db_session.scalar(
        sa.select(ConsentEvent).where(ConsentEvent.client_id == client.id, ConsentEvent.field == "accepts_email")
    )
    assert (ev.new_value, ev.source, ev.user_id) == (False, "staff", c.user.id)
    sup_id = sup.id
    assert c.post(f"/ventas/comunicaciones/supresiones/{sup_id}/eliminar/").status_code == 303
    db_session.expire_all()
    assert db_session.get(Suppression, sup_id) is None


def test_replies_and_fake_outbox(login, data):
    c = login("admin")
    assert "hola" in c.get("/ventas/comunicaciones/respuestas/").text
    assert c.get("/ventas/comunicaciones/respuestas/", headers=HX).text.lstrip().startswith('<div id="reply-list"')
    box = c.get("/ventas/comunicaciones/bandeja-fake/")
    assert box.status_code == 200 and "a@example.com" in box.text and "<iframe" in box.text
    html = c.get(f"/ventas/comunicaciones/bandeja-fake/{data['fake'].id}/html/")
    assert html.text == "<p>hola</p>" and "default-src 'none'" in html.headers["Content-Security-Policy"]


def test_fake_outbox_hidden_with_real_backends(app, login, data):
    c = login("admin")
    app.config.update(SMS_BACKEND="redvoiss", EMAIL_BACKEND="smtp")
    try:
        assert c.get("/ventas/comunicaciones/bandeja-fake/").status_code == 404
    finally:
        app.config.update(SMS_BACKEND="fake", EMAIL_BACKEND="fake")


def test_client_consents_fragment_records_user(login, db_session, data):
    client = data["client"]
    url = f"/ventas/clientes/{client.id}/preferencias/"
    desk = login("recepcion")
    page = desk.get(url)
    assert page.status_code == 200 and 'id="client-consents"' in page.text
    frag = desk.get(url, headers=HX)
    assert frag.text.lstrip().startswith('<section id="client-consents"')
    form = {
        f: "on"
        for f in (
            "accepts_sms",
            "accepts_booking_confirmations",
            "accepts_booking_reminders",
            "accepts_surveys",
            "accepts_birthday_messages",
            "accepts_promotional",
            "accepts_newsletters",
            "accepts_reactivation",
        )
    }
    resp = desk.post(url, data=form, headers=HX)
    assert resp.status_code == 200 and "1 preferencia actualizada." in resp.text
    assert "consent-changed" in resp.headers["HX-Trigger"]
    ev = db_session.scalar(
        sa.select(ConsentEvent).where(ConsentEvent.client_id == client.id, ConsentEvent.field == "accepts_email")
    )
    assert (ev.new_value, ev.source, ev.user_id) == (False, "recepcion", desk.user.id)
    assert desk.post(url, data=form).status_code == 303
    marketing = login("marketing")
    assert marketing.get(url).status_code == 200 and "disabled" in marketing.get(url).text
    assert marketing.post(url, data=form).status_code == 403


def test_client_consents_note_is_kept_and_shown_in_the_history(login, db_session, data):
    """crm.md §3: the staff consent page takes an optional note; it is stored with the change (each ConsentEvent,
    and the `consent_changed` client event) and listed in the page's history."""
    from app.clients.models import ClientEvent

    client = data["client"]
    url = f"/ventas/clientes/{client.id}/preferencias/"
    desk = login("recepcion")
    page = desk.get(url)
    assert 'name="nota"' in page.text and 'id="consent-history"' in page.text
    before = db_session.scalar(sa.select(sa.func.max(ConsentEvent.id))) or 0
    too_long = desk.post(url, data={"accepts_sms": "on", "nota": "x" * 201}, headers=HX)
    assert too_long.status_code == 422 and "La nota admite hasta 200 caracteres." in too_long.text
    assert (db_session.scalar(sa.select(sa.func.max(ConsentEvent.id))) or 0) == before
    resp = desk.post(url, data={"accepts_sms": "on", "nota": "  Pidió por teléfono  no recibir e-mails "}, headers=HX)
    assert resp.status_code == 200
    events = db_session.scalars(sa.select(ConsentEvent).where(ConsentEvent.id > before)).all()
    assert events and {e.note for e in events} == {"Pidió por teléfono no recibir e-mails"}
    audit = db_session.scalar(
        sa.select(ClientEvent)
        .where(ClientEvent.client_id == client.id, ClientEvent.event_type == "consent_changed")
        .order_by(ClientEvent.id.desc())
        .limit(1)
    )
    assert audit.description.endswith("(recepcion). Nota: Pidió por teléfono no recibir e-mails")
    assert "Nota: Pidió por teléfono no recibir e-mails" in resp.text and 'class="consent-event"' in resp.text
    assert 'value="Pidió' not in resp.text  # a fresh form after saving


def test_client_messages_fragment(login, data):
    desk = login("recepcion")
    url = f"/ventas/clientes/{data['client'].id}/mensajes/"
    page = desk.get(url)
    assert page.status_code == 200 and page.text.count('id="client-message-') == 3
    frag = desk.get(url, headers=HX)
    assert frag.text.lstrip().startswith('<section id="client-messages"')
    assert frag.text.count("Reenviar") == 2  # the birthday row is marketing: reception cannot resend it
    assert desk.get("/ventas/clientes/999999/mensajes/").status_code == 404


def test_order_messages_fragment(login, db_session, data):
    from app.sales.models import Order

    order = Order(client_id=data["client"].id, origin="recepcion")
    db_session.add(order)
    db_session.flush()
    data["rows"]["staff:a"].order_id = order.id
    db_session.flush()
    url = f"/ventas/venta_reservas/{order.id}/mensajes/"
    desk = login("recepcion")
    page = desk.get(url)
    assert page.status_code == 200 and f"Venta #{order.id}" in page.text
    assert page.text.count('id="client-message-') == 1
    assert desk.get(url, headers=HX).text.lstrip().startswith('<section id="client-messages"')
    assert login("marketing").get(url).status_code == 403


def test_create_default_sms_templates_cli(app, db_session):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["create-default-sms-templates"])
    assert first.exit_code == 0 and "10 creadas, 0 actualizadas, 0 sin cambios." in first.output
    assert "{fecha_limite}" in first.output
    rows = db_session.scalars(sa.select(SmsTemplate)).all()
    assert len(rows) == 10 and [r.name for r in rows if not r.is_active] == ["Cumpleaños VIP"]
    vip = next(r for r in rows if r.name == "Cumpleaños VIP")
    db_session.query(SmsTemplate).filter(SmsTemplate.name == "Cumpleaños Especial").update({"is_active": False})
    vip.content, vip.is_active = "cambiado", True
    db_session.flush()
    again = runner.invoke(args=["create-default-sms-templates"])
    assert "Actualizada: Cumpleaños VIP" in again.output and "0 creadas, 1 actualizadas, 9 sin cambios." in again.output
    db_session.refresh(vip)
    assert vip.is_active and vip.content.startswith("{nombre}, en tu día")
