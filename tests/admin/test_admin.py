"""Back office /admin/: role gates per the permission matrix, service-backed writes, history-safe deletes."""

import pytest
import sqlalchemy as sa

from app.catalog.models import Product, Service
from app.catalog.services import change_stock
from app.clients.models import Client, ClientEvent
from app.clients.services import record_event

# view endpoint -> roles that may read, roles that may write (spec README §6)
MATRIX = {
    "servicecategory": ({"recepcion", "marketing", "gerente", "admin"}, {"gerente", "admin"}),
    "service": ({"recepcion", "marketing", "gerente", "admin"}, {"gerente", "admin"}),
    "provider": ({"recepcion", "marketing", "gerente", "admin"}, {"gerente", "admin"}),
    "productcategory": ({"recepcion", "marketing", "gerente", "admin"}, {"gerente", "admin"}),
    "product": ({"recepcion", "marketing", "gerente", "admin"}, {"gerente", "admin"}),
    "purchase": ({"gerente", "admin"}, set()),
    "stockmovement": ({"gerente", "admin"}, set()),
    "serviceblock": ({"recepcion", "gerente", "admin"}, {"recepcion", "gerente", "admin"}),
    "slotblock": ({"recepcion", "gerente", "admin"}, {"recepcion", "gerente", "admin"}),
    "providerabsence": ({"recepcion", "gerente", "admin"}, {"recepcion", "gerente", "admin"}),
    "client": ({"recepcion", "marketing", "gerente", "admin"}, {"recepcion", "gerente", "admin"}),
    "clientevent": ({"recepcion", "gerente", "admin"}, set()),
    "consentevent": ({"recepcion", "gerente", "admin"}, set()),
    "order": ({"recepcion", "gerente", "admin"}, set()),
    "payment": ({"recepcion", "gerente", "admin"}, set()),
    "paymentmethod": ({"recepcion", "marketing", "gerente", "admin"}, {"gerente", "admin"}),
    "discountcode": ({"recepcion", "marketing", "gerente", "admin"}, {"gerente", "admin"}),
    "user": ({"admin"}, {"admin"}),
    "apitoken": ({"admin"}, set()),
    **{
        crm: ({"marketing", "gerente", "admin"}, {"marketing", "admin"})  # crm.md §10
        for crm in ("lead", "company", "contact", "deal", "activity", "campaigninteraction")
    },
}
ROLES = ("admin", "gerente", "recepcion", "marketing")


def test_matrix_covers_every_admin_view(app):
    endpoints = {v.endpoint for admin in app.extensions["admin"] for v in admin._views} - {"admin"}
    assert endpoints == set(MATRIX)


def test_anonymous_is_sent_to_login(client):
    for endpoint in ["admin", *MATRIX]:
        path = "/admin/" if endpoint == "admin" else f"/admin/{endpoint}/"
        resp = client.get(path)
        assert resp.status_code == 302 and "/accounts/login/?next=" in resp.headers["Location"], path


@pytest.mark.parametrize("role", ROLES)
def test_index_and_lists_by_role(login, role):
    c = login(role)
    assert c.get("/admin/").status_code == 200
    for endpoint, (readers, writers) in MATRIX.items():
        resp = c.get(f"/admin/{endpoint}/")
        assert resp.status_code == (200 if role in readers else 403), (endpoint, role, resp.status_code)
        if role in readers:
            new = c.get(f"/admin/{endpoint}/new/")
            assert new.status_code == (200 if role in writers else 403), (endpoint, role, new.status_code)


def test_admin_pages_use_a_nonce_not_unsafe_inline(login):
    resp = login("admin").get("/admin/service/")
    csp = resp.headers["Content-Security-Policy"]
    assert "'nonce-" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp


def grid_form(**extra):
    data = {
        "name": "Tina Nueva",
        "service_type": "tina",
        "base_price": "30000",
        "duration_minutes": "120",
        "min_people": "1",
        "max_people": "4",
        "max_concurrent_bookings": "1",
        "is_active": "y",
        "is_published": "y",
        "grid_monday": "17:00, 14:00, 14:00",
        "grid_tuesday": "",
        "sort_order": "0",
    }
    data.update(extra)
    return data


def test_recepcion_cannot_create_a_service(login, db_session):
    resp = login("recepcion").post("/admin/service/new/", data=grid_form())
    assert resp.status_code == 403
    assert db_session.scalar(sa.select(Service).where(Service.name == "Tina Nueva")) is None


def test_gerente_creates_service_with_canonical_grid(login, db_session):
    resp = login("gerente").post("/admin/service/new/", data=grid_form())
    assert resp.status_code == 302
    service = db_session.scalar(sa.select(Service).where(Service.name == "Tina Nueva"))
    assert service.slot_grid["monday"] == ["14:00", "17:00"] and service.slot_grid["sunday"] == []
    copied = login("gerente").post("/admin/service/new/", data=grid_form(name="Tina Copia", copy_monday="y"))
    assert copied.status_code == 302
    grid = db_session.scalar(sa.select(Service).where(Service.name == "Tina Copia")).slot_grid
    assert all(times == ["14:00", "17:00"] for times in grid.values())


def test_invalid_grid_is_shown_in_the_form(login, db_session):
    resp = login("gerente").post("/admin/service/new/", data=grid_form(grid_friday="14:00, 25:00"))
    assert resp.status_code == 200
    assert "Hora inválida «25:00» en friday" in resp.text
    assert 'value="Tina Nueva"' in resp.text  # nothing lost
    assert db_session.scalar(sa.select(Service).where(Service.name == "Tina Nueva")) is None


def test_edit_form_prefills_the_weekday_inputs(login, make_service):
    service = make_service()
    resp = login("admin").get(f"/admin/service/edit/?id={service.id}")
    assert resp.status_code == 200 and 'value="14:00, 17:00"' in resp.text


def test_product_with_history_is_not_deleted(login, db_session, make_product):
    used = make_product(name="Cerveza", stock=5)
    change_stock(used, -1, reason="venta")
    fresh = make_product(name="Sin uso")
    db_session.commit()
    c = login("gerente")
    resp = c.post("/admin/product/delete/", data={"id": used.id}, follow_redirects=True)
    assert "No se puede eliminar: tiene historial asociado. Desactívelo en su lugar." in resp.text
    assert db_session.get(Product, used.id) is not None
    fresh_id = fresh.id
    c.post("/admin/product/delete/", data={"id": fresh_id})
    assert db_session.scalar(sa.select(Product.id).where(Product.id == fresh_id)) is None


def test_client_created_through_the_service(login, db_session):
    c = login("recepcion")
    resp = c.post(
        "/admin/client/new/",
        data={"name": "Ana Soto", "phone": "9 1234 5678", "email": "ANA@example.com", "marketing_consent": "y"},
    )
    assert resp.status_code == 302
    client = db_session.scalar(sa.select(Client).where(Client.phone == "+56912345678"))
    assert client.email == "ana@example.com" and client.preferences.accepts_promotional
    assert (
        db_session.scalar(
            sa.select(ClientEvent.event_type).where(ClientEvent.client_id == client.id).order_by(ClientEvent.id)
        )
        == "client_created"
    )
    bad = c.post("/admin/client/new/", data={"name": "Otro", "phone": "123"})
    assert bad.status_code == 200 and "Teléfono inválido: «123»" in bad.text


def test_client_with_history_refused(login, db_session, make_client):
    used = make_client()
    record_event(used, "payment_recorded", "Pago registrado - efectivo - $10.000")
    db_session.commit()
    resp = login("admin").post("/admin/client/delete/", data={"id": used.id}, follow_redirects=True)
    assert "No se puede eliminar: tiene historial asociado" in resp.text
    assert db_session.get(Client, used.id) is not None


def test_marketing_reads_clients_but_cannot_edit(login, make_client):
    client = make_client()
    c = login("marketing")
    assert c.get("/admin/client/").status_code == 200
    assert c.post(f"/admin/client/edit/?id={client.id}", data={"name": "X"}).status_code == 403


def test_admin_creates_user_with_hashed_password(login, db_session):
    from app.auth.models import User
    from app.auth.services import authenticate

    c = login("admin")
    short = c.post(
        "/admin/user/new/", data={"username": "nuevo", "role": "recepcion", "is_active": "y", "new_password": "corta"}
    )
    assert short.status_code == 200 and "al menos 10 caracteres" in short.text
    ok = c.post(
        "/admin/user/new/",
        data={"username": "nuevo", "role": "recepcion", "is_active": "y", "new_password": "una-clave-larga"},
    )
    assert ok.status_code == 302
    assert authenticate("nuevo", "una-clave-larga") is not None
    listing = c.get("/admin/user/")
    assert "nuevo" in listing.text and "password_hash" not in listing.text and "sistema" not in listing.text
    assert db_session.scalar(sa.select(User.role).where(User.username == "nuevo")) == "recepcion"


def test_read_only_models_offer_no_writes(login):
    c = login("admin")
    assert c.get("/admin/order/new/").status_code == 403
    assert c.post("/admin/payment/delete/", data={"id": 1}).status_code == 403
