"""`/ventas/webhooks/` (admin only): CRUD with 422 re-render (full page and HTMX fragment), confirm before delete,
secret rotation, "Enviar prueba", the filtered, paginated delivery log and replay; access matrix with arguments."""

from __future__ import annotations

import re

import pytest

from app.webhooks.event_services import emit_event
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.conftest import ROLES

HX = {"HX-Request": "true"}
FORM = {
    "url": "https://n8n.example.com/webhook/x",
    "descripcion": "n8n",
    "eventos": ["order.paid", "booking.created"],
    "activo": "1",
}


def test_create_shows_secret_and_invalid_input_is_422(login, db_session):
    c = login("admin")
    page = c.get("/ventas/webhooks/nuevo/")
    assert page.status_code == 200 and 'id="endpoint-form"' in page.text and "<html" in page.text
    resp = c.post("/ventas/webhooks/nuevo/", data=FORM)
    assert resp.status_code == 303
    endpoint = db_session.query(WebhookEndpoint).one()
    assert re.fullmatch(r"[0-9a-f]{64}", endpoint.secret)
    assert endpoint.events == ["booking.created", "order.paid"] and endpoint.created_by_id == c.user.id
    detail = c.get(resp.headers["Location"])
    assert endpoint.secret in detail.text and "Enviar prueba" in detail.text

    bad = c.post("/ventas/webhooks/nuevo/", data={**FORM, "url": "http://n8n.example.com/x"})
    assert bad.status_code == 422 and "https://" in bad.text and "<html" in bad.text
    frag = c.post("/ventas/webhooks/nuevo/", data={**FORM, "eventos": []}, headers=HX)
    assert frag.status_code == 422 and "<html" not in frag.text and 'id="endpoint-form"' in frag.text
    assert "Elija al menos un evento." in frag.text
    assert db_session.query(WebhookEndpoint).count() == 1


def test_http_allowed_only_in_development(app, login, db_session, monkeypatch):
    c = login("admin")
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_HTTP", True)
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_HOSTS", "localhost,127.0.0.0/8,::1")  # development's default
    assert c.post("/ventas/webhooks/nuevo/", data={**FORM, "url": "http://localhost:5678/w"}).status_code == 303
    assert c.post("/ventas/webhooks/nuevo/", data={**FORM, "url": "ftp://x.example.com/"}).status_code == 422


def test_edit_rotate_ping_and_delete_with_confirmation(login, db_session, make_endpoint, fake_sender):
    c = login("admin")
    endpoint = make_endpoint(events=["order.paid"])
    base = f"/ventas/webhooks/{endpoint.id}"
    resp = c.post(f"{base}/editar/", data={**FORM, "eventos": ["client.created"]})
    assert resp.status_code == 303
    db_session.refresh(endpoint)
    assert endpoint.events == ["client.created"] and endpoint.url == FORM["url"]

    old = endpoint.secret
    assert c.post(f"{base}/secreto/").status_code == 303
    db_session.refresh(endpoint)
    assert endpoint.secret != old and endpoint.secret_rotated_at is not None

    resp = c.post(f"{base}/prueba/", follow_redirects=True)
    assert "Entregada (HTTP 200)" in resp.text
    [ping] = fake_sender.requests
    assert ping.headers["X-Aremko-Event"] == "ping" and ping.url == FORM["url"]

    confirm = c.get(f"{base}/eliminar/")
    assert confirm.status_code == 200 and "¿Eliminar el webhook?" in confirm.text and "1 entrega" in confirm.text
    assert db_session.get(WebhookEndpoint, endpoint.id) is not None  # GET only asks
    assert c.post(f"{base}/eliminar/").status_code == 303
    endpoint_id = endpoint.id
    db_session.expunge_all()
    assert db_session.get(WebhookEndpoint, endpoint_id) is None and db_session.query(WebhookDelivery).count() == 0


def test_delivery_log_filters_pagination_fragment_and_replay(login, db_session, make_endpoint, fake_sender):
    c = login("admin")
    a = make_endpoint(events=["message.failed"])
    b = make_endpoint(events=["client.created"], url="https://otro.example.com/h")
    for i in range(55):
        emit_event("message.failed", {"comunicacion": {"id": i}})
    emit_event("client.created", {"cliente": {"id": 1}})
    full = c.get("/ventas/webhooks/entregas/")
    assert full.status_code == 200 and "<html" in full.text and "56 entregas" in full.text
    assert "Página 1 de 2" in full.text and "HX-Request" in full.headers["Vary"]
    frag = c.get("/ventas/webhooks/entregas/?page=2", headers=HX)
    assert frag.status_code == 200 and "<html" not in frag.text and 'id="delivery-list"' in frag.text
    assert "Página 2 de 2" in frag.text
    only_b = c.get(f"/ventas/webhooks/entregas/?webhook={b.id}", headers=HX)
    assert "1 entrega<" in only_b.text
    assert "0 entregas" in c.get("/ventas/webhooks/entregas/?estado=FAILED", headers=HX).text
    assert "55 entregas" in c.get("/ventas/webhooks/entregas/?evento=message.failed", headers=HX).text
    assert "56 entregas" in c.get("/ventas/webhooks/entregas/?estado=nada&desde=x&webhook=abc").text
    assert "0 entregas" in c.get("/ventas/webhooks/entregas/?desde=2999-01-01").text

    delivery = db_session.query(WebhookDelivery).filter_by(endpoint_id=a.id).first()
    detail = c.get(f"/ventas/webhooks/entregas/{delivery.id}/")
    assert detail.status_code == 200 and delivery.event_id in detail.text
    resp = c.post(f"/ventas/webhooks/entregas/{delivery.id}/reenviar/", follow_redirects=True)
    assert "Entregada (HTTP 200)" in resp.text and delivery.event_id in resp.text
    db_session.refresh(delivery)
    assert delivery.status == "DELIVERED"
    [sent] = fake_sender.requests
    assert sent.headers["X-Aremko-Delivery"] == delivery.event_id


@pytest.mark.parametrize("role", (None, *ROLES))
def test_access_matrix_of_routes_with_arguments(client, login, make_endpoint, role, fake_sender):
    endpoint = make_endpoint(events=["message.failed"])
    [delivery] = emit_event("message.failed", {"comunicacion": {"id": 1}})
    c = login(role) if role else client
    gets = [
        f"/ventas/webhooks/{endpoint.id}/",
        f"/ventas/webhooks/{endpoint.id}/editar/",
        f"/ventas/webhooks/{endpoint.id}/eliminar/",
        f"/ventas/webhooks/entregas/{delivery.id}/",
    ]
    posts = [
        f"/ventas/webhooks/{endpoint.id}/prueba/",
        f"/ventas/webhooks/{endpoint.id}/secreto/",
        f"/ventas/webhooks/entregas/{delivery.id}/reenviar/",
        f"/ventas/webhooks/{endpoint.id}/editar/",
        f"/ventas/webhooks/{endpoint.id}/eliminar/",
    ]
    for path in gets:
        status = c.get(path).status_code
        assert status == {None: 302, "admin": 200}.get(role, 403), (path, role, status)
    for path in posts:
        status = c.post(path, data={}).status_code
        expected = {None: 302, "admin": None}.get(role, 403)
        if expected:
            assert status == expected, (path, role, status)
        else:
            assert status in (303, 422), (path, role, status)
    if role == "admin":
        assert c.get("/ventas/webhooks/999999/").status_code == 404
        assert c.post("/ventas/webhooks/entregas/999999/reenviar/").status_code == 404


def test_form_errors_are_on_their_fields_and_edit_keeps_the_input(login, db_session, make_endpoint):
    c = login("admin")
    bad_url = c.post("/ventas/webhooks/nuevo/", data={**FORM, "url": "ftp://x.example.com/"}, headers=HX)
    assert bad_url.status_code == 422
    assert re.search(r'<input aria-describedby="wh-url-error" aria-invalid="true"[^>]*is-invalid', bad_url.text)
    assert 'id="wh-url-error">La URL debe comenzar con https:// y tener un dominio.<' in bad_url.text
    assert 'value="ftp://x.example.com/"' in bad_url.text and 'value="n8n"' in bad_url.text
    unknown = c.post("/ventas/webhooks/nuevo/", data={**FORM, "eventos": ["order.paid", "zz"]}, headers=HX)
    assert unknown.status_code == 422 and 'id="wh-eventos-error">Evento desconocido: zz.<' in unknown.text
    assert re.search(r'value="order.paid"\s+checked', unknown.text)
    endpoint = make_endpoint(events=["order.paid"], description="antes")
    page = c.get(f"/ventas/webhooks/{endpoint.id}/editar/")
    assert 'value="antes"' in page.text and re.search(r'value="order.paid"\s+checked', page.text)
    assert re.search(r"<input checked[^>]*id=\"wh-activo\"", page.text)
    inactive = c.post(f"/ventas/webhooks/{endpoint.id}/editar/", data={**FORM, "activo": ""})
    assert inactive.status_code == 303
    db_session.refresh(endpoint)
    assert endpoint.is_active is False and endpoint.description == "n8n"


def test_replay_refused_while_sending_is_a_flash(login, db_session, make_endpoint, fake_sender):
    c = login("admin")
    make_endpoint(events=["message.failed"])
    [delivery] = emit_event("message.failed", {"comunicacion": {"id": 1}})
    delivery.status = "SENDING"
    db_session.flush()
    resp = c.post(f"/ventas/webhooks/entregas/{delivery.id}/reenviar/", follow_redirects=True)
    assert resp.status_code == 200 and "La entrega se está enviando en este momento" in resp.text
    assert fake_sender.requests == []


def test_one_click_forms_carry_the_token(app, login, monkeypatch, make_endpoint, fake_sender):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    c = login("admin")
    endpoint = make_endpoint(events=["order.paid"])
    page = c.get(f"/ventas/webhooks/{endpoint.id}/")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    assert c.post(f"/ventas/webhooks/{endpoint.id}/secreto/").status_code == 400
    assert c.post(f"/ventas/webhooks/{endpoint.id}/secreto/", data={"csrf_token": token}).status_code == 303
    form = c.get(f"/ventas/webhooks/{endpoint.id}/editar/")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text).group(1)
    edited = c.post(f"/ventas/webhooks/{endpoint.id}/editar/", data={**FORM, "csrf_token": token})
    assert edited.status_code == 303
