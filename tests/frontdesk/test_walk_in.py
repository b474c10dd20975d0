"""Walk-in and phone bookings (UX review D7, D2): the hour grid from the public availability code, prices and total,
internal services hidden, an hour never offered, a closed cash day, and one order per form render."""

import re
from datetime import date

import sqlalchemy as sa

from app.sales.models import CashClose, Order, Payment

MONDAY = "2026-03-02"
HX = {"HX-Request": "true"}
URL = "/ventas/recepcion/nueva-reserva/"


def walk_in_form(service, **overrides):
    form = {
        "telefono": "9 8765 4321",
        "nombre": "Walk In",
        "servicio": str(service.id),
        "fecha": MONDAY,
        "hora": "14:00",
        "personas": "2",
        "canal": "recepcion",
    }
    form.update(overrides)
    return form


def key_of(html: str) -> str:
    return re.search(r'name="submission_key"[^>]*value="([^"]+)"', html).group(1)  # any attribute order


def order_count(db_session) -> int:
    return db_session.scalar(sa.select(sa.func.count()).select_from(Order))


def test_hour_grid_shows_free_hours_with_prices_and_total(booking_setup, login, db_session, make_service):
    make_service(name="Tina Mantención", base_price=0, is_published=False)
    calipso = booking_setup["calipso"]
    c = login("recepcion")
    page = c.get(f"{URL}?servicio={calipso.id}&fecha={MONDAY}&personas=2")
    assert page.status_code == 200 and 'id="slot-grid"' in page.text
    assert "Tina Mantención" not in page.text  # internal services are never offered
    for hhmm in ("14:00", "17:00"):
        radio = re.search(
            rf'<input class="btn-check" type="radio" name="hora" id="nr-hora-{hhmm.replace(":", "")}"'
            rf"[^>]*>",
            page.text,
        ).group(0)
        assert "disabled" not in radio and "02/03/2026 " + hhmm in radio and "$50.000" in radio
    assert 'type="time"' not in page.text  # no blind hour field any more
    assert "Total: $50.000" in page.text and "(2 × $25.000)" in page.text

    # the HTMX fragment for another party size: only the grid, recomputed
    frag = c.get(f"{URL}?bloque=horas&servicio={calipso.id}&fecha={MONDAY}&personas=3", headers=HX)
    assert frag.status_code == 200 and frag.text.lstrip().startswith('<fieldset id="slot-grid"')
    assert "<html" not in frag.text and "Total: $75.000" in frag.text

    # a booked hour is no longer clickable; the same availability as the public panel
    c.post(URL, data=walk_in_form(calipso))
    after = c.get(f"{URL}?bloque=horas&servicio={calipso.id}&fecha={MONDAY}&personas=2", headers=HX)
    taken = re.search(r'<input[^>]*id="nr-hora-1400"[^>]*>', after.text).group(0)
    assert "disabled" in taken and "Horario agotado." in taken and "Agotado" in after.text
    public = c.get(f"/ventas/get-available-hours/?servicio_id={calipso.id}&fecha={MONDAY}").get_json()
    assert public["horas_disponibles"] == ["17:00"]

    # a closed day says so once
    closed = c.get(f"{URL}?bloque=horas&servicio={calipso.id}&fecha=2026-03-03", headers=HX)
    assert "No hay horarios para este día." in closed.text and 'name="hora"' not in closed.text


def test_walk_in_without_javascript_picks_the_hour_from_the_page(booking_setup, login, db_session):
    calipso = booking_setup["calipso"]
    c = login("recepcion")
    page = c.get(f"{URL}?servicio={calipso.id}&fecha={MONDAY}&personas=2&telefono=%2B56911112222&nombre=Ana")
    assert "<noscript>" in page.text and 'formmethod="get"' in page.text  # «Ver horas» reloads the grid
    assert 'value="+56911112222"' in page.text and 'value="Ana"' in page.text  # the typed client survives
    r = c.post(URL, data=walk_in_form(calipso, hora="17:00", submission_key=key_of(page.text)))
    assert r.status_code == 303
    order = db_session.scalar(sa.select(Order))
    assert order.service_lines[0].start_time == "17:00" and order.total == 50000


def test_an_hour_never_offered_is_named_as_such(booking_setup, login, db_session):
    c = login("recepcion")
    r = c.post(URL, data=walk_in_form(booking_setup["calipso"], hora="10:00"), headers=HX)
    assert r.status_code == 422 and "Ese horario no existe para este servicio." in r.text
    assert "ya no" not in r.text and order_count(db_session) == 0
    missing = c.post(URL, data=walk_in_form(booking_setup["calipso"], hora=""), headers=HX)
    assert missing.status_code == 422 and "Elija una hora libre en la grilla." in missing.text
    assert missing.text.lstrip().startswith('<div id="booking-form"')


def test_an_hour_taken_meanwhile_says_why(booking_setup, login, db_session):
    c = login("recepcion")
    form = walk_in_form(booking_setup["calipso"])
    assert c.post(URL, data=form).status_code == 303
    again = c.post(URL, data=form, headers=HX)
    assert again.status_code == 409 and "Tina Calipso 02/03/2026 14:00: Horario agotado." in again.text
    assert order_count(db_session) == 1


def test_internal_service_cannot_be_posted(booking_setup, login, db_session, make_service):
    internal = make_service(name="Tina Mantención", base_price=0, is_published=False)
    c = login("recepcion")
    r = c.post(URL, data=walk_in_form(internal), headers=HX)
    assert r.status_code == 422 and "no se puede reservar desde recepción" in r.text
    assert order_count(db_session) == 0


def test_closed_cash_day_saves_the_booking_without_payment(booking_setup, login, db_session, make_user):
    gerente = make_user("gerente", username="gerente-cierre")
    db_session.add(CashClose(business_date=date(2026, 3, 2), closed_by_id=gerente.id))
    db_session.commit()
    c = login("recepcion")
    page = c.get(URL)
    assert "Crear reserva sin pago" in page.text and 'name="pago_monto"' not in page.text
    assert "La caja de hoy (02/03/2026) está cerrada" in page.text

    # a form rendered before the close still carries an amount: a clear message, nothing saved
    refused = c.post(
        URL, data=walk_in_form(booking_setup["calipso"], pago_monto="50000", pago_metodo="efectivo"), headers=HX
    )
    assert refused.status_code == 422 and "la reserva no se guardó" in refused.text
    assert "Crear reserva sin pago" in refused.text and order_count(db_session) == 0

    r = c.post(URL, data=walk_in_form(booking_setup["calipso"]))
    assert r.status_code == 303
    assert "Quedó sin pago: la caja de hoy está cerrada." in c.get(r.headers["Location"]).text
    order = db_session.scalar(sa.select(Order))
    assert order.payment_status == "pendiente" and order.balance_due == 50000


def test_closed_cash_day_manager_still_takes_the_payment(booking_setup, login, db_session, make_user):
    gerente = make_user("gerente", username="gerente-2")
    db_session.add(CashClose(business_date=date(2026, 3, 2), closed_by_id=gerente.id))
    db_session.commit()
    c = login("gerente")
    page = c.get(URL)
    assert 'name="pago_monto"' in page.text and "posterior al cierre" in page.text
    r = c.post(URL, data=walk_in_form(booking_setup["calipso"], pago_monto="50000", pago_metodo="efectivo"))
    assert r.status_code == 303
    assert db_session.scalar(sa.select(Payment.after_close)) is True


def test_same_form_posted_twice_makes_one_order_and_one_payment(booking_setup, login, db_session):
    grande = booking_setup["grande"]  # capacity 2: a second order would fit, so only the key stops it
    c = login("recepcion")
    page = c.get(f"{URL}?servicio={grande.id}&fecha={MONDAY}&personas=2")
    form = walk_in_form(
        grande, hora="19:00", pago_monto="44000", pago_metodo="efectivo", submission_key=key_of(page.text)
    )
    assert c.post(URL, data=form, headers=HX).status_code == 204
    second = c.post(URL, data=form, headers=HX)
    assert second.status_code == 409 and "ya fue enviado" in second.text
    assert order_count(db_session) == 1
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 1
    # a new render of the form carries a new key: the receptionist can book the second tub on purpose
    fresh = c.get(f"{URL}?servicio={grande.id}&fecha={MONDAY}&personas=2")
    assert key_of(fresh.text) != form["submission_key"]
    assert c.post(URL, data=dict(form, submission_key=key_of(fresh.text))).status_code == 303
    assert order_count(db_session) == 2


def test_a_refused_attempt_does_not_use_up_the_key(booking_setup, login, db_session):
    c = login("recepcion")
    page = c.get(URL)
    form = walk_in_form(booking_setup["calipso"], telefono="123", submission_key=key_of(page.text))
    assert c.post(URL, data=form, headers=HX).status_code == 422
    assert c.post(URL, data=dict(form, telefono="9 8765 4321"), headers=HX).status_code == 204
    assert order_count(db_session) == 1


def test_move_dialog_offers_the_same_hour_grid(booking_setup, login, db_session):
    from tests.frontdesk.test_board import place

    first = place(booking_setup)  # Tina Calipso 14:00
    other = place(booking_setup, hhmm="17:00", phone="+56922222222")
    db_session.commit()
    c = login("recepcion")
    line_id = first.service_lines[0].id
    dialog = c.get(f"/ventas/recepcion/lineas/{line_id}/mover/", headers=HX)
    assert dialog.status_code == 200 and dialog.text.lstrip().startswith('<div id="dialog"')
    own = re.search(r'<input[^>]*id="nr-hora-1400"[^>]*>', dialog.text).group(0)
    assert "checked" in own and "disabled" not in own  # its own slot is free for itself
    taken = re.search(r'<input[^>]*id="nr-hora-1700"[^>]*>', dialog.text).group(0)
    assert "disabled" in taken and 'type="time"' not in dialog.text
    assert other.service_lines[0].start_time == "17:00"
    wednesday = c.get(f"/ventas/recepcion/lineas/{line_id}/mover/?bloque=horas&fecha=2026-03-04", headers=HX)
    assert wednesday.text.lstrip().startswith('<fieldset id="slot-grid"') and "04/03/2026" in wednesday.text
    free = re.search(r'<input[^>]*id="nr-hora-1400"[^>]*>', wednesday.text).group(0)
    assert "disabled" not in free and "checked" not in free
    page = c.get(f"/ventas/recepcion/lineas/{line_id}/mover/?fecha=2026-03-04")  # without JavaScript
    assert "<html" in page.text and "Ver horas" in page.text and 'value="2026-03-04"' in page.text
    moved = c.post(
        f"/ventas/recepcion/lineas/{line_id}/mover/",
        data={"fecha": "2026-03-04", "hora": "14:00", "submission_key": key_of(page.text)},
    )
    assert moved.status_code == 303 and "fecha=2026-03-04" in moved.headers["Location"]


def test_add_service_dialog_offers_the_hour_grid(booking_setup, login, db_session):
    from tests.frontdesk.test_board import place

    order = place(booking_setup)  # Tina Calipso 14:00 (capacity 1)
    db_session.commit()
    c = login("recepcion")
    calipso = booking_setup["calipso"]
    url = f"/ventas/venta_reservas/{order.id}/servicios/"
    dialog = c.get(f"{url}?servicio={calipso.id}&fecha={MONDAY}&personas=1", headers=HX)
    assert dialog.text.lstrip().startswith('<div id="dialog"') and 'type="time"' not in dialog.text
    assert "disabled" in re.search(r'<input[^>]*id="nr-hora-1400"[^>]*>', dialog.text).group(0)
    frag = c.get(f"{url}?bloque=horas&servicio={calipso.id}&fecha={MONDAY}&personas=3", headers=HX)
    assert frag.text.lstrip().startswith('<fieldset id="slot-grid"') and "Total: $75.000" in frag.text
    added = c.post(
        url,
        data={
            "servicio": str(calipso.id),
            "fecha": MONDAY,
            "hora": "17:00",
            "personas": "3",
            "submission_key": key_of(dialog.text),
        },
        headers=HX,
    )
    assert added.status_code == 200 and "Servicio agregado: Tina Calipso 02/03/2026 17:00." in added.text


def test_people_out_of_range_is_said_once(booking_setup, login, db_session):
    c = login("recepcion")
    frag = c.get(f"{URL}?bloque=horas&servicio={booking_setup['calipso'].id}&fecha={MONDAY}&personas=9", headers=HX)
    assert frag.status_code == 200
    visible = re.sub(r'(aria-label|title)="[^"]*"', "", frag.text)  # attributes repeat it per hour
    assert visible.count("La cantidad de personas debe estar entre 1 y 4.") == 1 and "Total:" not in visible
    assert all("disabled" in radio for radio in re.findall(r'<input class="btn-check"[^>]*>', frag.text))
