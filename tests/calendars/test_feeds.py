"""Calendar feeds (spec integrations.md §4) and the order's .ics: valid iCalendar parsed back, the right events,
secret rotatable URLs (bad/rotated token → 404), no contact data, constant statements, the staff page."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from icalendar import Calendar

from app.calendars import feeds, services
from app.core.clock import LOCAL_TZ
from app.sales import checkout_services
from app.sales import services as sales_services
from app.sales.line_services import cancel_line
from app.sales.models import Order, ServiceLine
from tests.conftest import ROLES

MONDAY = date(2026, 3, 2)


def place(service, hhmm, phone, name="María Pérez", people=2, provider_id=None):
    return checkout_services.place_order(
        lines=[
            sales_services.LineRequest(
                service_id=service.id, day=MONDAY, hhmm=hhmm, people=people, provider_id=provider_id
            )
        ],
        data=checkout_services.CheckoutData(telefono=phone, nombre=name, email="maria@example.com"),
        origin="recepcion",
        staff=True,
    )


def add_line(db_session, service, client, day, hhmm="14:00", status="pendiente"):
    order = Order(client_id=client.id, origin="recepcion")
    db_session.add(order)
    db_session.flush()
    line = ServiceLine(
        order_id=order.id,
        service_id=service.id,
        service_date=day,
        start_time=hhmm,
        people=2,
        unit_price=25000,
        pricing_rule="por_persona",
        subtotal=50000,
        status=status,
    )
    db_session.add(line)
    db_session.flush()
    return line


def url(kind, owner, version=0):
    return f"/ventas/calendario/{kind}/{owner.id}/{feeds.feed_token(kind, owner.id, version)}.ics"


def events(body: bytes):
    cal = Calendar.from_ical(body)
    return cal, {str(e["UID"]): e for e in cal.walk("VEVENT")}


def test_service_feed_is_valid_icalendar_with_the_right_events(client, booking_setup, db_session, make_client):
    s = booking_setup
    first = place(s["calipso"], "14:00", "+56987654321")
    second = place(s["calipso"], "17:00", "+56911111111", name="Juan Soto", people=1)
    cancel_line(second.service_lines[0], reason="No viene", by=None)
    place(s["grande"], "19:00", "+56922222222")  # another service
    other = make_client()
    add_line(db_session, s["calipso"], other, MONDAY - timedelta(days=31))  # outside the window
    add_line(db_session, s["calipso"], other, MONDAY + timedelta(days=181))
    kept = add_line(db_session, s["calipso"], other, MONDAY + timedelta(days=180), "17:00")

    resp = client.get(url("servicio", s["calipso"]))
    assert resp.status_code == 200 and resp.mimetype == "text/calendar"
    cal, evs = events(resp.data)
    line = first.service_lines[0]
    assert set(evs) == {f"linea-{line.id}@aremko.cl", f"linea-{kept.id}@aremko.cl"}
    ev = evs[f"linea-{line.id}@aremko.cl"]
    assert str(ev["SUMMARY"]) == "Tina Calipso - 2 personas - María"
    assert ev["DTSTART"].dt == datetime(2026, 3, 2, 14, 0, tzinfo=LOCAL_TZ)
    assert ev["DTSTART"].params["TZID"] == "America/Santiago"
    assert ev["DTEND"].dt - ev["DTSTART"].dt == timedelta(minutes=120)
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["America/Santiago"]
    assert str(cal["X-WR-CALNAME"]) == "Aremko - Tina Calipso" and cal["REFRESH-INTERVAL"].dt == timedelta(hours=1)
    assert b"+56987654321" not in resp.data and b"maria@example.com" not in resp.data
    again = events(client.get(url("servicio", s["calipso"])).data)[1]
    assert set(again) == set(evs)  # stable UIDs: calendar apps update events in place


def test_provider_feed_holds_only_that_therapists_lines(client, booking_setup):
    s = booking_setup
    ana_order = place(s["relajacion"], "13:00", "+56987654321", people=1, provider_id=s["ana"].id)
    place(s["relajacion"], "13:00", "+56911111111", people=1, provider_id=s["berta"].id)
    _, evs = events(client.get(url("proveedor", s["ana"])).data)
    assert list(evs) == [f"linea-{ana_order.service_lines[0].id}@aremko.cl"]
    assert "Masaje Relajación - 1 persona - María" in str(next(iter(evs.values()))["SUMMARY"])


def test_bad_foreign_and_rotated_tokens_are_404(client, booking_setup, make_user):
    s = booking_setup
    calipso = s["calipso"]
    assert client.get(f"/ventas/calendario/servicio/{calipso.id}/{'0' * 40}.ics").status_code == 404
    foreign = feeds.feed_token("servicio", s["grande"].id, 0)
    assert client.get(f"/ventas/calendario/servicio/{calipso.id}/{foreign}.ics").status_code == 404
    as_provider = feeds.feed_token("servicio", calipso.id, 0)
    assert client.get(f"/ventas/calendario/proveedor/{calipso.id}/{as_provider}.ics").status_code == 404
    assert client.get(url("servicio", type("X", (), {"id": 999999}))).status_code == 404
    old = url("servicio", calipso)
    assert client.get(old).status_code == 200
    assert services.rotate_feed("servicio", calipso.id, by=make_user("admin")) == 1
    assert client.get(old).status_code == 404
    assert client.get(url("servicio", calipso, version=1)).status_code == 200
    assert client.get(url("servicio", s["grande"])).status_code == 200  # other feeds keep their URL


def test_feed_statement_count_does_not_grow_with_rows(client, booking_setup, db_session, make_client, count_statements):
    calipso = booking_setup["calipso"]
    clients = [make_client() for _ in range(6)]
    add_line(db_session, calipso, clients[0], MONDAY)
    one = count_statements(lambda: client.get(url("servicio", calipso)))
    for i, c in enumerate(clients[1:], start=1):
        add_line(db_session, calipso, c, MONDAY + timedelta(days=i))
    resp = None

    def fetch():
        nonlocal resp
        resp = client.get(url("servicio", calipso))

    assert count_statements(fetch) == one
    assert len(events(resp.data)[1]) == 6


def test_order_ics_one_event_per_active_line(booking_setup, app):
    s = booking_setup
    order = checkout_services.place_order(
        lines=[
            sales_services.LineRequest(service_id=s["calipso"].id, day=MONDAY, hhmm="14:00", people=2),
            sales_services.LineRequest(service_id=s["arrayan"].id, day=MONDAY, hhmm="16:00", people=2),
            sales_services.LineRequest(service_id=s["calipso"].id, day=MONDAY, hhmm="17:00", people=1),
        ],
        data=checkout_services.CheckoutData(telefono="+56987654321", nombre="María Pérez", email="maria@example.com"),
        origin="recepcion",
        staff=True,
    )
    cancel_line(order.service_lines[2], reason="Cambio de planes", by=None)
    body = feeds.order_ics(order)
    cal, evs = events(body)
    assert str(cal["METHOD"]) == "PUBLISH" and str(cal["VERSION"]) == "2.0"
    assert set(evs) == {f"linea-{ln.id}@aremko.cl" for ln in order.service_lines[:2]}
    cabin = evs[f"linea-{order.service_lines[1].id}@aremko.cl"]
    assert str(cabin["SUMMARY"]) == "Cabaña Arrayán - 2 personas"
    assert cabin["DTSTART"].dt == datetime(2026, 3, 2, 16, 0, tzinfo=LOCAL_TZ)
    assert "Río Pescado" in str(cabin["LOCATION"]) and f"Reserva #{order.id}" in str(cabin["DESCRIPTION"])
    assert cal.walk("VTIMEZONE") and feeds.order_ics_attachment(order) == (
        f"reserva-{order.id}.ics",
        "text/calendar",
        feeds.order_ics(order),
    )


def test_staff_page_shows_feed_urls_and_admin_rotates(login, booking_setup, db_session):
    s = booking_setup
    gerente = login("gerente")
    page = gerente.get("/ventas/calendario/")
    assert page.status_code == 200 and "Desde URL" in page.text
    assert "http://127.0.0.1:5000" + url("servicio", s["calipso"]) in page.text
    assert "http://127.0.0.1:5000" + url("proveedor", s["ana"]) in page.text
    assert "Regenerar enlace" not in page.text
    assert gerente.post(f"/ventas/calendario/servicio/{s['calipso'].id}/regenerar/").status_code == 403
    admin = login("admin")
    resp = admin.post(f"/ventas/calendario/servicio/{s['calipso'].id}/regenerar/", follow_redirects=True)
    assert resp.status_code == 200 and "Enlace regenerado" in resp.text
    assert url("servicio", s["calipso"], version=1) in resp.text
    assert admin.post("/ventas/calendario/servicio/999999/regenerar/", follow_redirects=True).status_code == 200
    assert admin.post("/ventas/calendario/otro/1/regenerar/").status_code == 404


@pytest.mark.parametrize("role", (None, *ROLES))
def test_rotate_access_matrix(client, login, booking_setup, role):
    c = login(role) if role else client
    status = c.post(f"/ventas/calendario/proveedor/{booking_setup['ana'].id}/regenerar/").status_code
    assert status == {None: 302, "admin": 303}.get(role, 403)


def test_unchanged_feed_is_served_from_cache_and_conditional_get(client, booking_setup, db_session, make_client):
    calipso = booking_setup["calipso"]
    add_line(db_session, calipso, make_client(), MONDAY)
    first = client.get(url("servicio", calipso))
    etag = first.headers["ETag"]
    assert client.get(url("servicio", calipso)).data == first.data  # same build (same DTSTAMP)
    assert client.get(url("servicio", calipso), headers={"If-None-Match": etag}).status_code == 304
    add_line(db_session, calipso, make_client(), MONDAY + timedelta(days=1))
    changed = client.get(url("servicio", calipso), headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag and len(events(changed.data)[1]) == 2


def test_rotate_button_carries_the_token(app, login, booking_setup, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    admin = login("admin")
    page = admin.get("/ventas/calendario/")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    path = f"/ventas/calendario/servicio/{booking_setup['calipso'].id}/regenerar/"
    assert admin.post(path).status_code == 400
    resp = admin.post(path, data={"csrf_token": token}, follow_redirects=True)
    assert resp.status_code == 200 and "Enlace regenerado" in resp.text
    missing = admin.post("/ventas/calendario/servicio/999999/regenerar/", data={"csrf_token": token})
    assert missing.status_code == 303 and missing.headers["Location"].endswith("/ventas/calendario/")
    assert "Calendario no encontrado." in admin.get("/ventas/calendario/").text
