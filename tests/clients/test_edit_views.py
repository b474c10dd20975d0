"""Client create/edit and the review of pending contact updates (spec crm.md §3, §4): full pages, HTMX fragments,
422/409 re-renders in Spanish with nothing written, audit events, roles of the routes with arguments."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.clients.models import Client, ClientEvent, ClientUpdateRequest, ConsentEvent
from tests.conftest import ROLES

HX = {"HX-Request": "true"}
NEW = "/ventas/clientes/nuevo/"
UPDATES = "/ventas/clientes/actualizaciones/"


def count(db_session, model) -> int:
    return db_session.scalar(sa.select(sa.func.count()).select_from(model))


def test_create_client_full_page_and_fragment(login, db_session):
    c = login("recepcion")
    page = c.get(NEW)
    assert page.status_code == 200 and 'id="client-form"' in page.text and "<html" in page.text
    frag = c.get(NEW, headers=HX)
    assert frag.status_code == 200 and frag.text.lstrip().startswith('<div id="client-form"')
    resp = c.post(
        NEW,
        data={
            "nombre": "  Ana   Pérez ",
            "telefono": "9 8765 4321",
            "email": "ANA@Example.com",
            "acepta_marketing": "y",
        },
    )
    assert resp.status_code == 303
    ana = db_session.scalar(sa.select(Client).where(Client.phone == "+56987654321"))
    assert ana.name == "Ana Pérez" and ana.email == "ana@example.com" and ana.origin == "recepcion"
    assert resp.headers["Location"].endswith(f"/ventas/clientes/{ana.id}/")
    assert ana.preferences.accepts_promotional is True
    events = db_session.scalars(sa.select(ClientEvent.event_type).where(ClientEvent.client_id == ana.id)).all()
    assert "client_created" in events
    consent = db_session.scalars(sa.select(ConsentEvent).where(ConsentEvent.client_id == ana.id)).all()
    assert consent and {e.source for e in consent} == {"recepcion"} and consent[0].user_id == c.user.id


def test_create_client_htmx_success_redirects(login, db_session):
    resp = login("gerente").post(NEW, data={"nombre": "Luis", "telefono": "+56 9 1111 2222"}, headers=HX)
    assert resp.status_code == 204 and resp.headers["HX-Redirect"].startswith("/ventas/clientes/")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "El nombre es obligatorio."),
        ({"nombre": "Ana"}, "El teléfono es obligatorio."),
        ({"nombre": "Ana", "telefono": "12345"}, "Teléfono inválido"),
        ({"nombre": "Ana", "telefono": "987654321", "documento_identidad": "12.345.678-9"}, "RUT inválido."),
        ({"nombre": "Ana", "telefono": "987654321", "email": "no-es-mail"}, "Ingrese un e-mail válido."),
        ({"nombre": "Ana", "telefono": "987654321", "fecha_nacimiento": "31/02/1990"}, "Fecha inválida"),
    ],
)
def test_create_client_bad_input_422_nothing_written(login, db_session, data, message):
    before = count(db_session, Client)
    resp = login("recepcion").post(NEW, data=data, headers=HX)
    assert resp.status_code == 422, resp.text
    assert message in resp.text and resp.text.lstrip().startswith('<div id="client-form"')
    assert count(db_session, Client) == before


def test_duplicate_phone_links_to_existing_client(login, db_session, make_client):
    existing = make_client(name="Marta Ruiz", phone="+56987650000")
    before = count(db_session, Client)
    resp = login("recepcion").post(NEW, data={"nombre": "Otra", "telefono": "9 8765 0000"})
    assert resp.status_code == 409
    assert "Ya existe un cliente con este teléfono" in resp.text
    assert f'href="/ventas/clientes/{existing.id}/"' in resp.text and "Marta Ruiz" in resp.text
    assert count(db_session, Client) == before


def test_edit_client_prefills_saves_and_audits(login, db_session, make_client):
    ana = make_client(name="Ana Soto", phone="+56987651111", email="ana@example.com")
    other = make_client(name="Pedro", phone="+56987652222")
    url = f"/ventas/clientes/{ana.id}/editar/"
    c = login("recepcion")
    page = c.get(url)
    assert page.status_code == 200 and 'value="Ana Soto"' in page.text and "acepta_marketing" not in page.text
    frag = c.get(url, headers=HX)
    assert frag.text.lstrip().startswith('<div id="client-form"')
    dup = c.post(url, data={"nombre": "Ana Soto", "telefono": "987652222"}, headers=HX)
    assert dup.status_code == 409 and f'href="/ventas/clientes/{other.id}/"' in dup.text
    db_session.refresh(ana)
    assert ana.phone == "+56987651111"
    empty = c.post(url, data={"nombre": " ", "telefono": "987651111"})
    assert empty.status_code == 422 and "El nombre es obligatorio." in empty.text
    ok = c.post(url, data={"nombre": "Ana Soto Díaz", "telefono": "+56 9 8765 1111", "ciudad": "Puerto Varas"})
    assert ok.status_code == 303
    db_session.refresh(ana)
    assert ana.name == "Ana Soto Díaz" and ana.city == "Puerto Varas" and ana.email == "ana@example.com"
    event = db_session.scalars(
        sa.select(ClientEvent).where(ClientEvent.client_id == ana.id, ClientEvent.event_type == "client_updated")
    ).one()
    assert event.user_id == c.user.id and "nombre: Ana Soto → Ana Soto Díaz" in event.description


def _request(db_session, client, **proposed):
    req = ClientUpdateRequest(
        client_id=client.id,
        source="checkout",
        proposed={
            k: {"actual": getattr(client, {"nombre": "name"}.get(k, k), None), "propuesto": v}
            for k, v in proposed.items()
        },
    )
    db_session.add(req)
    db_session.flush()
    return req


def test_updates_list_newest_first_full_page_and_fragment(login, db_session, make_client):
    a = make_client(name="Primero")
    b = make_client(name="Segundo")
    old = _request(db_session, a, email="nuevo@a.cl")
    new = _request(db_session, b, nombre="Segundo Apellido")
    c = login("recepcion")
    page = c.get(UPDATES)
    assert page.status_code == 200 and "<html" in page.text
    assert page.text.index(f'id="update-{new.id}"') < page.text.index(f'id="update-{old.id}"')
    assert "nuevo@a.cl" in page.text and "Aprobar seleccionados" in page.text
    frag = c.get(UPDATES, headers=HX)
    assert frag.text.lstrip().startswith('<div id="client-updates"') and "<html" not in frag.text


def test_approve_selected_fields_only(login, db_session, make_client):
    ana = make_client(name="Ana", email="ana@old.cl")
    req = _request(db_session, ana, nombre="Ana María", email="ana@new.cl")
    c = login("recepcion")
    resp = c.post(f"{UPDATES}{req.id}/", data={"accion": "aprobar", "campos": ["email"]}, headers=HX)
    assert resp.status_code == 200 and "aprobada" in resp.text and f'id="update-{req.id}"' not in resp.text
    db_session.refresh(ana)
    db_session.refresh(req)
    assert ana.email == "ana@new.cl" and ana.name == "Ana"
    assert req.status == "aprobada" and req.reviewed_by_id == c.user.id and req.reviewed_at is not None
    # the field not approved is recorded as rejected, next to the approved one's `client_updated`
    rejected = db_session.scalar(
        sa.select(ClientEvent).where(
            ClientEvent.client_id == ana.id, ClientEvent.event_type == "client_update_rejected"
        )
    )
    assert rejected.description == "Rechazado: nombre: Ana → Ana María" and rejected.user_id == c.user.id
    again = c.post(f"{UPDATES}{req.id}/", data={"accion": "rechazar"}, headers=HX)
    assert again.status_code == 409 and "ya fue revisada" in again.text


def test_reject_and_bad_submissions(login, db_session, make_client):
    ana = make_client(name="Ana", email="ana@old.cl")
    req = _request(db_session, ana, email="ana@new.cl")
    c = login("gerente")
    for data, message in (
        ({"accion": "aprobar"}, "Marque al menos un campo"),
        ({}, "Elija Aprobar seleccionados o Rechazar."),
        ({"accion": "aprobar", "campos": ["notas"]}, "Elija campos de la actualización propuesta."),
    ):
        bad = c.post(f"{UPDATES}{req.id}/", data=data, headers=HX)
        assert bad.status_code == 422 and message in bad.text, (data, bad.text)
        db_session.refresh(req)
        assert req.status == "pendiente"
    resp = c.post(f"{UPDATES}{req.id}/", data={"accion": "rechazar", "campos": ["email"]})
    assert resp.status_code == 303
    db_session.refresh(req)
    db_session.refresh(ana)
    assert req.status == "rechazada" and ana.email == "ana@old.cl"
    events = db_session.scalars(
        sa.select(ClientEvent).where(ClientEvent.client_id == ana.id).order_by(ClientEvent.id)
    ).all()
    assert [e.event_type for e in events][-1] == "client_update_rejected"
    assert events[-1].description == "Rechazado: email: ana@old.cl → ana@new.cl" and events[-1].user_id == c.user.id
    assert events[-1].data == {"email": {"actual": "ana@old.cl", "propuesto": "ana@new.cl"}}
    assert "client_updated" not in [e.event_type for e in events]
    assert c.post(f"{UPDATES}999999/", data={"accion": "rechazar"}).status_code == 404


@pytest.mark.parametrize("role", (None, *ROLES))
def test_routes_with_arguments_by_role(client, login, make_client, db_session, role):
    ana = make_client()
    req = _request(db_session, ana, email="x@y.cl")
    allowed = role in ("recepcion", "gerente", "admin")
    c = login(role) if role else client
    for path in (f"/ventas/clientes/{ana.id}/editar/", f"/ventas/clientes/{ana.id}/preferencias/"):
        resp = c.get(path)
        if role is None:
            assert resp.status_code == 302 and "/accounts/login/" in resp.headers["Location"]
        elif allowed or path.endswith("/preferencias/"):
            assert resp.status_code == 200, (path, role)
        else:
            assert resp.status_code == 403, (path, role)
    post = c.post(f"{UPDATES}{req.id}/", data={"accion": "rechazar"})
    expected = 302 if role is None else 303 if allowed else 403
    assert post.status_code == expected


def test_old_consent_url_redirects(login, make_client):
    ana = make_client()
    c = login("recepcion")
    resp = c.get(f"/ventas/clientes/{ana.id}/consentimientos/")
    assert resp.status_code == 308 and resp.headers["Location"].endswith(f"/ventas/clientes/{ana.id}/preferencias/")
    post = c.post(f"/ventas/clientes/{ana.id}/consentimientos/", data={})
    assert post.status_code == 308


def test_pending_count_on_the_list_and_the_board_link(login, db_session, make_client, booking_setup):
    ana = make_client()
    _request(db_session, ana, email="nuevo@ana.cl")
    c = login("recepcion")
    page = c.get("/ventas/clientes/")
    assert 'id="client-updates-link"' in page.text and "Actualizaciones pendientes (1)" in page.text
    assert 'href="/ventas/clientes/nuevo/"' in page.text
    board = c.get("/ventas/recepcion/")
    assert 'id="board-updates-link" href="/ventas/clientes/actualizaciones/"' in board.text
    marketing = login("marketing").get("/ventas/clientes/")
    assert "client-updates-link" not in marketing.text and "/ventas/clientes/nuevo/" not in marketing.text


@pytest.mark.parametrize(
    ("role", "present", "absent"),
    [
        (
            "recepcion",
            ["Bloqueos", "Nuevo cliente", "Actualizaciones pendientes"],
            ["Nueva compra", "Configuración del sistema"],
        ),
        ("gerente", ["Bloqueos", "Nueva compra"], ["Configuración del sistema"]),
        ("admin", ["Bloqueos", "Nueva compra", "Configuración del sistema"], []),
        ("marketing", [], ["Bloqueos", "Nueva compra", "Nuevo cliente", "Configuración del sistema"]),
    ],
)
def test_navbar_entries_by_role(login, role, present, absent):
    page = login(role).get("/ventas/admin-dashboard/")
    nav = page.text[page.text.index("<nav") : page.text.index("</nav>")]
    for label in present:
        assert f">{label}<" in nav, (role, label)
    for label in absent:
        assert f">{label}<" not in nav, (role, label)
