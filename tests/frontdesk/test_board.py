"""Front desk views (spec booking.md §9–10): board full page and fragments, line actions, dialogs, walk-in."""

from datetime import date, datetime

import sqlalchemy as sa

from app.clients.models import Client, ClientEvent
from app.core.clock import LOCAL_TZ
from app.sales import checkout_services
from app.sales import giftcard_services as giftcards
from app.sales import services as sales_services
from app.sales.models import Order, Payment, ServiceLine

MONDAY = date(2026, 3, 2)
HX = {"HX-Request": "true"}


def place(booking_setup, service="calipso", hhmm="14:00", people=2, phone="+56987654321", name="María Pérez"):
    svc = booking_setup[service]
    return checkout_services.place_order(
        lines=[sales_services.LineRequest(service_id=svc.id, day=MONDAY, hhmm=hhmm, people=people)],
        data=checkout_services.CheckoutData(telefono=phone, nombre=name, email="maria@example.com"),
        origin="recepcion",
        staff=True,
    )


def test_board_full_page_and_fragment(booking_setup, login, db_session):
    order = place(booking_setup)
    place(booking_setup, service="relajacion", hhmm="13:00", people=1, phone="+56911111111", name="Pedro Soto")
    db_session.commit()
    c = login("recepcion")
    page = c.get("/ventas/recepcion/?fecha=2026-03-02")
    assert page.status_code == 200 and "Recepción" in page.text and 'id="board"' in page.text
    assert page.text.index("Pedro Soto") < page.text.index("María Pérez")  # 13:00 before 14:00
    assert "Por cobrar: <strong>$95.000</strong>" in page.text and "Check-in" in page.text
    frag = c.get("/ventas/recepcion/?fecha=2026-03-02", headers=HX)
    assert frag.text.lstrip().startswith('<div id="board"') and "<html" not in frag.text
    assert "order-changed from:body, payment-recorded from:body" in frag.text
    assert "HX-Request" in frag.headers["Vary"]
    assert f'id="line-{order.service_lines[0].id}"' in frag.text
    bad = c.get("/ventas/recepcion/?fecha=ayer")
    assert bad.status_code == 200 and "Fecha inválida, se usó hoy" in bad.text


def test_checkin_checkout_undo_swap_the_row(booking_setup, login, db_session):
    order = place(booking_setup)
    line_id = order.service_lines[0].id
    db_session.commit()
    c = login("recepcion")
    r = c.post(f"/ventas/recepcion/lineas/{line_id}/checkin/", headers=HX)
    assert r.status_code == 200 and r.text.lstrip().startswith(f'<tr id="line-{line_id}"')
    assert "En el spa" in r.text and "order-changed" in r.headers["HX-Trigger"]
    r = c.post(f"/ventas/recepcion/lineas/{line_id}/checkout/", headers=HX)
    assert r.status_code == 422 and "Saldo pendiente $50.000. ¿Finalizar igual?" in r.text
    assert "HX-Trigger" not in r.headers
    r = c.post(f"/ventas/recepcion/lineas/{line_id}/checkout/", data={"confirmar": "1"}, headers=HX)
    assert r.status_code == 200 and "Finalizada" in r.text
    r = c.post(f"/ventas/recepcion/lineas/{line_id}/deshacer/", headers=HX)
    assert "En el spa" in r.text
    db_session.expire_all()
    assert db_session.get(ServiceLine, line_id).status == "checkin"
    events = [e.event_type for e in db_session.scalars(sa.select(ClientEvent).where(ClientEvent.order_id == order.id))]
    assert {"checked_in", "checked_out", "line_reverted"} <= set(events)
    # without JavaScript: a plain post redirects back to the board
    r = c.post(f"/ventas/recepcion/lineas/{line_id}/deshacer/")
    assert r.status_code == 303 and "/ventas/recepcion/?fecha=2026-03-02" in r.headers["Location"]


def test_no_show_only_after_the_slot_and_checkin_only_today(booking_setup, login, db_session, freeze_clock):
    order = place(booking_setup)
    line_id = order.service_lines[0].id
    db_session.commit()
    c = login("recepcion")
    r = c.post(f"/ventas/recepcion/lineas/{line_id}/no-show/", headers=HX)
    assert r.status_code == 422 and "La hora de la reserva aún no ha pasado." in r.text
    freeze_clock(datetime(2026, 3, 2, 15, 0, tzinfo=LOCAL_TZ))
    r = c.post(f"/ventas/recepcion/lineas/{line_id}/no-show/", headers=HX)
    assert r.status_code == 200 and "No show" in r.text
    freeze_clock(datetime(2026, 3, 1, 15, 0, tzinfo=LOCAL_TZ))
    other = place(booking_setup, hhmm="17:00", phone="+56922222222")
    db_session.commit()
    r = c.post(f"/ventas/recepcion/lineas/{other.service_lines[0].id}/checkin/", headers=HX)
    assert r.status_code == 422 and "El check-in solo se puede hacer el día del servicio." in r.text


def test_cancel_line_frees_capacity_and_move_rechecks(booking_setup, login, db_session):
    first = place(booking_setup)
    second = place(booking_setup, hhmm="17:00", phone="+56922222222")
    db_session.commit()
    c = login("recepcion")
    line2 = second.service_lines[0].id
    r = c.post(f"/ventas/recepcion/lineas/{line2}/mover/", data={"fecha": "2026-03-02", "hora": "14:00"}, headers=HX)
    assert r.status_code == 409 and "Tina Calipso 02/03/2026 14:00" in r.text
    r = c.post(f"/ventas/recepcion/lineas/{first.service_lines[0].id}/cancelar/", data={"motivo": ""}, headers=HX)
    assert r.status_code == 422 and "Indique el motivo" in r.text
    r = c.post(
        f"/ventas/recepcion/lineas/{first.service_lines[0].id}/cancelar/", data={"motivo": "cliente avisó"}, headers=HX
    )
    assert r.status_code == 200 and "Cancelada" in r.text
    r = c.post(f"/ventas/recepcion/lineas/{line2}/mover/", data={"fecha": "2026-03-02", "hora": "14:00"}, headers=HX)
    assert r.status_code == 200 and "Reserva movida al 02/03/2026 14:00." in r.text
    db_session.expire_all()
    assert db_session.get(Order, first.id).is_cancelled  # its only line: "Sin líneas activas"
    moved = db_session.get(ServiceLine, line2)
    assert (moved.start_time, moved.subtotal) == ("14:00", 50000)
    assert (
        db_session.scalar(sa.select(ClientEvent.description).where(ClientEvent.event_type == "line_moved"))
        == "Tina Calipso: 02/03/2026 17:00 → 02/03/2026 14:00"
    )


def test_people_and_provider_changes(booking_setup, login, db_session):
    tub = place(booking_setup)
    massage = place(booking_setup, service="relajacion", hhmm="13:00", people=1, phone="+56911111111")
    db_session.commit()
    c = login("recepcion")
    r = c.post(f"/ventas/recepcion/lineas/{tub.service_lines[0].id}/personas/", data={"personas": "3"}, headers=HX)
    assert r.status_code == 200 and "$75.000" in r.text
    r = c.post(f"/ventas/recepcion/lineas/{tub.service_lines[0].id}/personas/", data={"personas": "9"}, headers=HX)
    assert r.status_code == 422 and "Personas: entre 1 y 4." in r.text
    line = massage.service_lines[0]
    other = booking_setup["berta"] if line.provider_id == booking_setup["ana"].id else booking_setup["ana"]
    r = c.post(f"/ventas/recepcion/lineas/{line.id}/proveedor/", data={"proveedor": str(other.id)}, headers=HX)
    assert r.status_code == 200
    db_session.expire_all()
    assert db_session.get(ServiceLine, line.id).provider_id == other.id


def test_payment_dialog_records_and_triggers_refresh(booking_setup, login, db_session):
    order = place(booking_setup)
    db_session.commit()
    c = login("recepcion")
    dialog = c.get(f"/ventas/venta_reservas/{order.id}/pagos/nuevo/", headers=HX)
    assert dialog.status_code == 200 and dialog.text.lstrip().startswith('<div id="dialog"')
    assert 'value="50000"' in dialog.text  # defaults to the balance
    bad = c.post(
        f"/ventas/venta_reservas/{order.id}/pagos/", data={"monto": "60000", "metodo_pago": "efectivo"}, headers=HX
    )
    assert bad.status_code == 422 and "El monto supera el saldo pendiente ($50.000)." in bad.text
    bad = c.post(
        f"/ventas/venta_reservas/{order.id}/pagos/", data={"monto": "diez", "metodo_pago": "efectivo"}, headers=HX
    )
    assert bad.status_code == 422 and "Monto: ingrese un número entero." in bad.text
    ok = c.post(
        f"/ventas/venta_reservas/{order.id}/pagos/", data={"monto": "10.000", "metodo_pago": "efectivo"}, headers=HX
    )
    assert ok.status_code == 200 and "Pago registrado: $10.000 (efectivo)." in ok.text
    assert "payment-recorded" in ok.headers["HX-Trigger"]
    db_session.expire_all()
    assert db_session.get(Order, order.id).payment_status == "parcial"
    # full page without JavaScript
    page = c.get(f"/ventas/venta_reservas/{order.id}/pagos/nuevo/")
    assert page.status_code == 200 and "<html" in page.text


def test_gift_card_payment_void_and_discount_dialogs(booking_setup, login, make_user, db_session):
    order = place(booking_setup)
    card = giftcards.issue_gift_card(amount=20000)
    db_session.commit()
    c = login("recepcion")
    lookup = c.get(f"/ventas/giftcards/consultar/?codigo={card.code}", headers=HX)
    assert "Saldo $20.000" in lookup.text
    r = c.post(
        f"/ventas/venta_reservas/{order.id}/pagos/",
        data={"monto": "15000", "metodo_pago": "giftcard", "codigo": card.code.lower()},
        headers=HX,
    )
    assert r.status_code == 200
    payment = db_session.scalar(sa.select(Payment).where(Payment.order_id == order.id))
    r = c.post(f"/ventas/pagos/{payment.id}/anular/", data={"motivo": "tarjeta equivocada"}, headers=HX)
    assert r.status_code == 200 and "Pago anulado." in r.text
    db_session.expire_all()
    assert giftcards.find_card(card.code).balance == 20000
    r = c.post(f"/ventas/venta_reservas/{order.id}/descuentos/", data={"monto": "20000", "motivo": "amigo"}, headers=HX)
    assert r.status_code == 422 and "Descuentos mayores al 20 % requieren un gerente." in r.text
    r = c.post(f"/ventas/venta_reservas/{order.id}/descuentos/", data={"codigo": "AREMKO15"}, headers=HX)
    assert r.status_code == 200 and "Descuento aplicado." in r.text
    db_session.expire_all()
    assert db_session.get(Order, order.id).total == 42500


def test_cancel_order_rules_and_refund_for_managers(booking_setup, login, db_session):
    order = place(booking_setup)
    db_session.commit()
    c = login("recepcion")
    c.post(f"/ventas/venta_reservas/{order.id}/pagos/", data={"monto": "20000", "metodo_pago": "efectivo"}, headers=HX)
    r = c.post(f"/ventas/venta_reservas/{order.id}/cancelar/", data={"motivo": "lluvia"}, headers=HX)
    assert r.status_code == 422 and "solo un gerente puede cancelarla" in r.text
    assert c.get(f"/ventas/venta_reservas/{order.id}/reembolsos/").status_code == 403
    g = login("gerente")
    r = g.post(f"/ventas/venta_reservas/{order.id}/cancelar/", data={"motivo": "lluvia"}, headers=HX)
    assert r.status_code == 200
    r = g.post(
        f"/ventas/venta_reservas/{order.id}/reembolsos/",
        data={"monto": "20000", "metodo_pago": "efectivo", "motivo": "devolución"},
        headers=HX,
    )
    assert r.status_code == 200 and "Reembolso registrado: $20.000." in r.text
    db_session.expire_all()
    assert db_session.get(Order, order.id).payment_status == "reembolsado"


def test_client_search_by_phone_and_accentless_name(booking_setup, login, make_client, db_session):
    make_client(name="José Ñúñez", phone="+56955554444")
    make_client(name="Otra Persona", phone="+56933332222")
    db_session.commit()
    c = login("recepcion")
    assert "José Ñúñez" in c.get("/ventas/clientes/buscar/?q=jose nun", headers=HX).text
    r = c.get("/ventas/clientes/buscar/?q=5555", headers=HX)
    assert "José Ñúñez" in r.text and "Otra Persona" not in r.text
    assert r.text.lstrip().startswith('<div id="client-results"')
    assert "José" not in c.get("/ventas/clientes/buscar/?q=jo", headers=HX).text  # fewer than 3 characters


def test_walk_in_booking_creates_client_order_and_payment(booking_setup, login, db_session):
    c = login("recepcion")
    form = {
        "telefono": "9 8765 4321",
        "nombre": "Walk In",
        "servicio": str(booking_setup["calipso"].id),
        "fecha": "2026-03-02",
        "hora": "14:00",
        "personas": "2",
        "canal": "telefono",
        "pago_monto": "50000",
        "pago_metodo": "efectivo",
    }
    r = c.post("/ventas/recepcion/nueva-reserva/", data=form)
    assert r.status_code == 303 and "fecha=2026-03-02" in r.headers["Location"]
    order = db_session.scalar(sa.select(Order).order_by(Order.id.desc()))
    assert (order.origin, order.payment_status, order.created_by_id is not None) == ("telefono", "pagado", True)
    assert db_session.scalar(sa.select(Client.phone).where(Client.id == order.client_id)) == "+56987654321"
    again = c.post("/ventas/recepcion/nueva-reserva/", data=form, headers=HX)
    assert again.status_code == 409 and "Tina Calipso 02/03/2026 14:00: Horario agotado." in again.text
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1  # nothing half-written
    bad = c.post("/ventas/recepcion/nueva-reserva/", data=dict(form, telefono="123"), headers=HX)
    assert bad.status_code == 422 and "Teléfono inválido" in bad.text


def test_gift_card_pages(booking_setup, login, db_session, client):
    c = login("recepcion")
    r = c.post(
        "/ventas/giftcards/nueva/",
        data={
            "monto": "35000",
            "fecha_vencimiento": "2026-12-31",
            "destinatario_nombre": "Carla",
            "metodo_pago": "efectivo",
            "comprador_telefono": "+56987654321",
            "comprador_nombre": "Ana",
        },
    )
    assert r.status_code == 303
    card = db_session.scalar(sa.select(giftcards.GiftCard))
    detail = c.get(r.headers["Location"])
    assert card.code in detail.text and "$35.000" in detail.text
    assert "Carla" in c.get(f"/ventas/giftcards/{card.id}/imprimir/").text
    listing = c.get("/ventas/giftcards/?estado=por_cobrar", headers=HX)
    assert card.code in listing.text and listing.text.lstrip().startswith('<div id="giftcard-list"')
    assert c.post(f"/ventas/giftcards/{card.id}/anular/", data={"motivo": "x"}).status_code == 403
    bad = c.post("/ventas/giftcards/nueva/", data={"monto": "-5"})
    assert bad.status_code == 422 and "mayor que cero" in bad.text
    public = client.get(f"/ventas/giftcard/saldo/?codigo={card.code}")
    assert "Saldo disponible: $35.000 — vence el 31/12/2026" in public.text and "Carla" not in public.text
    assert "Código no encontrado." in client.get("/ventas/giftcard/saldo/?codigo=ZZZZZZZZZZZZ").text
    token = giftcards.public_token(card)
    assert card.code in client.get(f"/ventas/giftcard/{token}/").text
    assert client.get("/ventas/giftcard/falso/").status_code == 404


def test_board_rows_cache_follows_the_data_and_never_leaks_the_token_slot(booking_setup, login, db_session):
    from app.frontdesk.views import RowsCache, rows_cache

    order = place(booking_setup)
    line_id = order.service_lines[0].id
    db_session.commit()
    c = login("recepcion")
    rows_cache.entries.clear()
    first = c.get("/ventas/recepcion/?fecha=2026-03-02", headers=HX)
    again = c.get("/ventas/recepcion/?fecha=2026-03-02", headers=HX)
    assert len(rows_cache.entries) == 1  # the second request reused the rendered rows
    assert first.text.count('name="csrf_token"') == again.text.count('name="csrf_token"') > 0
    assert RowsCache.CSRF_SLOT not in first.text and RowsCache.CSRF_SLOT not in again.text
    assert c.post(f"/ventas/recepcion/lineas/{line_id}/checkin/", headers=HX).status_code == 200
    after = c.get("/ventas/recepcion/?fecha=2026-03-02", headers=HX)
    badge = '<span class="badge text-bg-primary">En el spa</span>'
    assert len(rows_cache.entries) == 2 and badge in after.text and badge not in first.text
