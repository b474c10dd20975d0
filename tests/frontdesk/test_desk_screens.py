"""Desk screens (UX review D19, D22, D10 server side): the staff order page's one payment state and one print
button, search results that lead to the client and today's booking, real keyboard shortcuts, board badges."""

import re

from tests.frontdesk.test_board import HX, place


def test_order_page_paid_in_full_has_no_charge_button_and_one_print_button(booking_setup, login, db_session):
    order = place(booking_setup)
    db_session.commit()
    c = login("recepcion")
    url = f"/ventas/venta_reservas/{order.id}/"
    page = c.get(url).text
    assert 'id="order-charge"' in page and "Cobrar $50.000" in page
    assert page.count(f"/ventas/venta_reservas/{order.id}/imprimir/") == 1
    assert ">Cobrado<" not in page and re.search(r'id="order-fiscal">No emitido<', page)
    # the action bar refreshes itself after a payment made on this page
    assert re.search(
        r'id="order-actions"[^>]*hx-trigger="order-changed from:body, payment-recorded from:body"',
        page.replace("\n", " "),
    )
    c.post(f"/ventas/venta_reservas/{order.id}/pagos/", data={"monto": "50000", "metodo_pago": "efectivo"}, headers=HX)
    paid = c.get(url).text
    assert 'id="order-charge"' not in paid and ">Cobrar" not in paid
    assert re.search(r'id="order-payment-status">Pagada<', paid)
    actions = c.get(f"{url}?bloque=order_actions", headers=HX).text
    assert 'id="order-actions"' in actions and "order-charge" not in actions
    c.post(f"/ventas/venta_reservas/{order.id}/editar/", data={"cobrado": "1", "documento_fiscal": "B-123"}, headers=HX)
    assert re.search(r'id="order-fiscal">N° B-123<', c.get(url).text)


def test_search_results_link_to_the_client_and_todays_booking(booking_setup, login, db_session, freeze_clock):
    order = place(booking_setup, name="Rosa Riquelme", phone="+56955550001")
    db_session.commit()
    c = login("recepcion")
    r = c.get("/ventas/clientes/buscar/?q=riquelme", headers=HX)
    client_id = order.client_id
    assert f'href="/ventas/clientes/{client_id}/"' in r.text
    assert f'href="/ventas/venta_reservas/{order.id}/"' in r.text and "Hoy 14:00 · Tina Calipso" in r.text
    assert "Nueva reserva" in r.text and "— nueva reserva" not in r.text
    # another day: no booking link, still the client and a new booking
    from datetime import datetime

    from app.core.clock import LOCAL_TZ

    freeze_clock(datetime(2026, 3, 3, 10, 0, tzinfo=LOCAL_TZ))
    later = c.get("/ventas/clientes/buscar/?q=riquelme", headers=HX).text
    assert f"/ventas/venta_reservas/{order.id}/" not in later and f"/ventas/clientes/{client_id}/" in later


def test_board_shortcuts_are_real_keys_listed_in_a_help_line(booking_setup, login, db_session):
    c = login("recepcion")
    page = c.get("/ventas/recepcion/?fecha=2026-03-02").text
    assert "accesskey" not in page and "Alt+" not in page
    assert re.search(r'id="client-q"[^>]*data-shortcut="/"', page.replace("\n", " "))
    assert re.search(r'id="board-new-booking"[^>]*data-shortcut="n"', page)
    assert "<kbd>/</kbd> buscar cliente" in page and "<kbd>N</kbd> nueva reserva" in page


def test_board_badges_and_the_therapist_column(booking_setup, login, db_session):
    tub = place(booking_setup)
    db_session.commit()
    c = login("recepcion")
    board = c.get("/ventas/recepcion/?fecha=2026-03-02", headers=HX).text
    row = re.search(rf'<tr id="line-{tub.service_lines[0].id}".*?</tr>', board, re.S).group(0)
    badges = re.findall(r'<span class="badge ([^"]+)">([^<]+)</span>', row)
    assert ("text-bg-secondary", "Pendiente") in badges and ("text-bg-danger", "Por cobrar") in badges
    assert [label for _, label in badges].count("Pendiente") == 1
    assert "desk-no-provider" in board  # no row has a therapist: the column is hidden
    assert '<span class="text-nowrap">+56 9 8765 4321</span>' in row  # phone formatted, kept on one line
    place(booking_setup, service="relajacion", hhmm="13:00", people=1, phone="+56911111111")
    db_session.commit()
    assert "desk-no-provider" not in c.get("/ventas/recepcion/?fecha=2026-03-02", headers=HX).text
