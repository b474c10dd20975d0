"""`/ventas/bloqueos/` (spec catalog.md §3): both kinds of block, the warning that lists the bookings a block covers
(saved only when confirmed, bookings untouched), removal that frees capacity and sends `block_removed`, full page
and fragments, 422 in Spanish with nothing written, roles."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from app.catalog.models import ServiceBlock, SlotBlock
from app.sales import availability, signals
from app.sales.models import Order, ServiceLine
from app.sales.queries import load_slot_context
from tests.conftest import ROLES

HX = {"HX-Request": "true"}
URL = "/ventas/bloqueos/"
MONDAY = date(2026, 3, 9)  # a week after booking_setup's "now" (Monday 02/03/2026)


def motivo(service, day, hhmm="14:00"):
    return availability.check_slot(load_slot_context(service, day, staff=False), hhmm, 1).motivo


def book(db_session, client, service, day, hhmm="14:00"):
    order = Order(client_id=client.id, origin="recepcion")
    db_session.add(order)
    db_session.flush()
    line = ServiceLine(
        order_id=order.id,
        service_id=service.id,
        service_date=day,
        start_time=hhmm,
        people=1,
        unit_price=25000,
        pricing_rule="por_persona",
        subtotal=25000,
    )
    db_session.add(line)
    db_session.flush()
    return line


def count(db_session, model):
    return db_session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def removed():
    seen = []

    def receiver(sender, **kw):
        seen.append((type(sender).__name__, sender.id, kw["slots"]))

    signals.block_removed.connect(receiver)
    yield seen
    signals.block_removed.disconnect(receiver)


def test_page_and_fragment(booking_setup, login):
    c = login("recepcion")
    page = c.get(URL)
    assert page.status_code == 200 and "<html" in page.text and 'id="blocks-panel"' in page.text
    assert "Todo el spa" in page.text and "Tina Calipso" in page.text and "No hay bloqueos próximos." in page.text
    frag = c.get(URL, headers=HX)
    assert frag.text.lstrip().startswith('<div id="blocks-panel"') and "<html" not in frag.text


def test_service_block_then_remove_frees_capacity(booking_setup, login, db_session, removed):
    calipso = booking_setup["calipso"]
    c = login("recepcion")
    resp = c.post(
        URL,
        data={"servicio_id": calipso.id, "desde": "2026-03-09", "hasta": "09/03/2026", "motivo": "Mantención"},
        headers=HX,
    )
    assert resp.status_code == 200 and "Bloqueo creado." in resp.text and "Mantención" in resp.text
    block = db_session.scalars(sa.select(ServiceBlock)).one()
    assert block.created_by_id == c.user.id and block.is_active
    assert motivo(calipso, MONDAY) == "bloqueado"
    gone = c.post(f"{URL}servicio/{block.id}/quitar/", headers=HX)
    assert (
        gone.status_code == 200 and "Bloqueo quitado" in gone.text and f'id="service-block-{block.id}"' not in gone.text
    )
    db_session.refresh(block)
    assert block.is_active is False and motivo(calipso, MONDAY) is None
    assert removed == [("ServiceBlock", block.id, [(calipso.id, MONDAY, MONDAY)])]
    again = c.post(f"{URL}servicio/{block.id}/quitar/", headers=HX)
    assert again.status_code == 409 and "ya fue quitado" in again.text


def test_whole_spa_block_over_bookings_warns_then_confirms(booking_setup, login, db_session, make_client):
    calipso, grande = booking_setup["calipso"], booking_setup["grande"]
    line = book(db_session, make_client(), calipso, MONDAY)
    book(db_session, make_client(), grande, MONDAY, "19:00")
    c = login("gerente")
    data = {"servicio_id": "", "desde": "2026-03-09", "hasta": "2026-03-10", "motivo": "Corte de agua"}
    warn = c.post(URL, data=data, headers=HX)
    assert warn.status_code == 409
    assert (
        "Hay 2 reservas en ese período:" in warn.text and f"#{line.order_id} 09/03/2026 14:00 Tina Calipso" in warn.text
    )
    assert "Confirmo el bloqueo" in warn.text and count(db_session, ServiceBlock) == 0
    ok = c.post(URL, data={**data, "confirmar": "1"}, headers=HX)
    assert ok.status_code == 200 and "Bloqueo creado." in ok.text
    block = db_session.scalars(sa.select(ServiceBlock)).one()
    assert block.service_id is None and "Todo el spa" in ok.text
    db_session.refresh(line)
    assert line.status == "pendiente"  # the bookings stay valid
    assert motivo(grande, MONDAY, "19:00") == "bloqueado"


def test_slot_block_warns_confirms_refuses_duplicate_and_removes(
    booking_setup, login, db_session, make_client, removed
):
    calipso = booking_setup["calipso"]
    book(db_session, make_client(), calipso, MONDAY, "17:00")
    c = login("admin")
    data = {"servicio_id": calipso.id, "fecha": "2026-03-09", "hora": "17:00", "motivo": "Evento privado"}
    warn = c.post(f"{URL}horario/", data=data, headers=HX)
    assert warn.status_code == 409 and "Hay 1 reserva en ese período" in warn.text
    assert count(db_session, SlotBlock) == 0
    ok = c.post(f"{URL}horario/", data={**data, "confirmar": "1"}, headers=HX)
    assert ok.status_code == 200 and "Horario bloqueado." in ok.text
    assert motivo(calipso, MONDAY, "17:00") == "bloqueado" and motivo(calipso, MONDAY, "14:00") is None
    dup = c.post(f"{URL}horario/", data={**data, "confirmar": "1"}, headers=HX)
    assert dup.status_code == 409 and "Ese horario ya está bloqueado." in dup.text
    block = db_session.scalars(sa.select(SlotBlock)).one()
    resp = c.post(f"{URL}horario/{block.id}/quitar/")
    assert resp.status_code == 303
    assert count(db_session, SlotBlock) == 0 and motivo(calipso, MONDAY, "17:00") == "sin_cupo"  # booked, not blocked
    assert removed[-1] == ("SlotBlock", block.id, [(calipso.id, MONDAY, MONDAY)])
    assert c.post(f"{URL}horario/{block.id}/quitar/").status_code == 404


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        ("", {}, "Indique la fecha de inicio."),
        ("", {"desde": "2026-03-09", "hasta": "2026-03-09"}, "Indique el motivo del bloqueo."),
        (
            "",
            {"desde": "2026-03-10", "hasta": "2026-03-09", "motivo": "x"},
            "La fecha de término debe ser igual o posterior",
        ),
        ("", {"desde": "2026-02-01", "hasta": "2026-02-02", "motivo": "x"}, "Ese período ya pasó."),
        ("", {"desde": "32/13/2026", "hasta": "2026-03-09", "motivo": "x"}, "Fecha inválida"),
        (
            "",
            {"servicio_id": "abc", "desde": "2026-03-09", "hasta": "2026-03-09", "motivo": "x"},
            "Elija una opción válida.",
        ),
        ("horario/", {"fecha": "2026-03-09", "hora": "17:00", "motivo": "x"}, "Elija un servicio."),
        (
            "horario/",
            {"servicio_id": "999999", "fecha": "2026-03-09", "hora": "17:00", "motivo": "x"},
            "Elija un servicio de la lista.",
        ),
        (
            "horario/",
            {"servicio_id": "1", "fecha": "2026-03-09", "hora": "25:00", "motivo": "x"},
            "Indique la hora (HH:MM).",
        ),
    ],
)
def test_bad_submissions_422_nothing_written(booking_setup, login, db_session, path, data, message):
    resp = login("recepcion").post(f"{URL}{path}", data=data, headers=HX)
    assert resp.status_code == 422 and message in resp.text, resp.text
    assert count(db_session, ServiceBlock) == 0 and count(db_session, SlotBlock) == 0


@pytest.mark.parametrize("role", (None, *ROLES))
def test_posts_by_role(booking_setup, client, login, db_session, role):
    block = ServiceBlock(service_id=None, start_date=MONDAY, end_date=MONDAY, reason="x")
    db_session.add(block)
    db_session.flush()
    c = login(role) if role else client
    resp = c.post(f"{URL}servicio/{block.id}/quitar/")
    expected = 302 if role is None else 303 if role in ("recepcion", "gerente", "admin") else 403
    assert resp.status_code == expected
