"""Gift cards at the desk, over HTTP (review D3, M4): selling takes the money (full page and HTMX fragment),
courtesy cards are gerente/admin only, bounds answer 422 in Spanish, a double submit issues one card."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa

from app.sales.models import GiftCard, Payment
from tests.frontdesk.test_board import HX

NEW = "/ventas/giftcards/nueva/"
COURTESY = "/ventas/giftcards/cortesia/"
HUGE = "9223372036854775808"


def sale_form(**kw):
    data = {
        "monto": "50.000",
        "metodo_pago": "efectivo",
        "comprador_telefono": "+56 9 8765 4321",
        "comprador_nombre": "Ana Compradora",
        "destinatario_nombre": "Luis",
        "fecha_vencimiento": "2026-12-31",
    }
    data.update(kw)
    return data


def cards(db_session) -> list[GiftCard]:
    db_session.expire_all()
    return db_session.scalars(sa.select(GiftCard).order_by(GiftCard.id)).all()


def key_of(html: str) -> str:
    return re.search(r'name="submission_key" value="([^"]+)"', html).group(1)


def test_sale_form_asks_how_it_is_paid_and_guards_double_clicks(booking_setup, login):
    page = login("recepcion").get(NEW)
    assert page.status_code == 200
    html = page.text
    assert "<html" in html and "Vender gift card" in html and 'name="metodo_pago"' in html
    assert 'value="efectivo"' in html and 'value="tarjeta"' in html
    assert 'value="giftcard"' not in html and 'value="flow"' not in html
    assert 'hx-disabled-elt="find [type=submit]"' in html and key_of(html)
    assert COURTESY not in html  # recepcion has no courtesy action
    assert COURTESY in login("gerente").get(NEW).text


def test_full_page_sale_redirects_to_the_card_with_its_payment(booking_setup, login, db_session):
    c = login("recepcion")
    r = c.post(NEW, data=sale_form())
    [card] = cards(db_session)
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/ventas/giftcards/{card.id}/")
    [payment] = db_session.scalars(sa.select(Payment)).all()
    assert (payment.method, payment.amount, payment.recorded_by_id) == ("efectivo", 50000, c.user.id)
    detail = c.get(r.headers["Location"]).text
    assert "Saldo disponible $50.000" in detail and "Por cobrar" not in detail
    assert f"Venta #{payment.order_id}" in detail and "pagada: Efectivo $50.000" in detail
    assert "Gift card" in detail and "vendida: pago de $50.000 registrado" in detail


def test_sale_appears_in_caja_diaria_and_the_close(booking_setup, login, db_session):
    login("recepcion").post(NEW, data=sale_form(monto="35000", metodo_pago="tarjeta"))
    c = login("gerente")
    caja = c.get("/ventas/caja-diaria/").text
    block = caja[caja.index('id="giftcard-sales"') : caja.index('id="giftcards"')]
    assert "Venta de gift cards" in block and "Tarjeta débito/crédito" in block and "$35.000" in block
    cierre = c.get("/ventas/caja-diaria/cierre/").text  # the count step is blind: it asks for the card's method
    assert re.findall(r'name="contado_(\w+)"', cierre) == ["efectivo", "tarjeta"] and "$35.000" not in cierre
    day = re.search(r'type="hidden" name="fecha" value="([^"]+)"', cierre).group(1)
    review = c.post(
        "/ventas/caja-diaria/cierre/",
        data={"fecha": day, "paso": "revisar", "contado_efectivo": "0", "contado_tarjeta": "35.000"},
    ).text
    assert re.search(r'id="total-expected">\$35\.000<', review)  # the close expects the card's money
    assert re.search(r'id="diff-tarjeta"[^>]*>.*Cuadra', review, re.S)
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(c.get("/ventas/caja-diaria/?export=xlsx").data))
    rows = list(book["Resumen"].iter_rows(values_only=True))
    assert ("Venta de gift cards", "Tarjeta débito/crédito", 1, None, None, 35000) in rows


def test_fragment_errors_are_422_in_place_and_write_nothing(booking_setup, login, db_session):
    c = login("recepcion")
    for data, message in [
        (sale_form(monto=HUGE), "El monto máximo de una gift card es $1.000.000."),
        (sale_form(monto="1.000.001"), "El monto máximo de una gift card es $1.000.000."),
        (sale_form(monto="-5"), "El monto debe ser un número entero mayor que cero."),
        (sale_form(monto="abc"), "Monto: ingrese un número entero."),
        (sale_form(metodo_pago=""), "Elija cómo se paga la gift card."),
        (sale_form(metodo_pago="giftcard"), "Elija cómo se paga la gift card."),
        (sale_form(comprador_telefono=""), "Ingrese el teléfono del comprador."),
        (
            sale_form(comprador_telefono="+56 9 1111 2222", comprador_nombre=""),
            "Cliente nuevo: ingrese el nombre del comprador.",
        ),
        (sale_form(fecha_vencimiento="2026-01-01"), "La fecha de vencimiento no puede ser anterior a hoy."),
        (sale_form(destinatario_nombre="x" * 101), "El nombre del destinatario no puede superar los 100 caracteres."),
        (sale_form(destinatario_email="no-es-correo"), "Ingrese un e-mail válido para el destinatario."),
        (sale_form(destinatario_telefono="123"), "Ingrese un teléfono válido para el destinatario."),
        (sale_form(mensaje="m" * 1001), "El mensaje no puede superar los 1000 caracteres."),
        (
            sale_form(comprador_telefono="+56 9 1212 3434", comprador_nombre="x" * 101),
            "El nombre no puede superar los 100 caracteres.",
        ),
        (sale_form(comprador_email="a" * 300 + "@x.cl"), "Ingrese un e-mail válido para el comprador."),
        (sale_form(fecha_vencimiento="99999-01-01"), "Fecha de vencimiento inválida."),
    ]:
        r = c.post(NEW, data=data, headers=HX)
        assert r.status_code == 422, data
        assert message in r.text and "<html" not in r.text and 'id="giftcard-form"' in r.text
        assert 'value="' in r.text and key_of(r.text)  # a fresh key: the corrected form can be sent
    assert cards(db_session) == [] and db_session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0
    full = c.post(NEW, data=sale_form(monto=HUGE))
    assert full.status_code == 422 and "<html" in full.text and "$1.000.000" in full.text


def test_htmx_success_redirects_with_hx_redirect(booking_setup, login, db_session):
    r = login("recepcion").post(NEW, data=sale_form(), headers=HX)
    [card] = cards(db_session)
    assert r.status_code == 204 and r.headers["HX-Redirect"] == f"/ventas/giftcards/{card.id}/"


def test_double_submit_issues_one_card_and_one_payment(booking_setup, login, db_session):
    c = login("recepcion")
    key = key_of(c.get(NEW).text)
    first = c.post(NEW, data=sale_form(submission_key=key))
    second = c.post(NEW, data=sale_form(submission_key=key), headers=HX)
    assert first.status_code == 303 and second.status_code == 409
    assert "ya fue enviado" in second.text
    assert len(cards(db_session)) == 1
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 1
    # a refused attempt does not consume its key: corrected and sent again, it works once
    key2 = key_of(c.get(NEW).text)
    assert c.post(NEW, data=sale_form(submission_key=key2, metodo_pago="")).status_code == 422
    assert c.post(NEW, data=sale_form(submission_key=key2)).status_code == 303
    assert len(cards(db_session)) == 2


def test_courtesy_is_forbidden_to_recepcion(booking_setup, login, make_client, db_session):
    client = make_client()
    c = login("recepcion")
    assert c.get(COURTESY).status_code == 403
    r = c.post(COURTESY, data={"cliente_telefono": client.phone, "monto": "20000", "motivo": "compensación"})
    assert r.status_code == 403 and cards(db_session) == []
    assert login("marketing").get(COURTESY).status_code == 403


def test_courtesy_by_gerente_needs_a_reason_and_is_once(booking_setup, login, make_client, db_session):
    client = make_client()
    c = login("gerente")
    page = c.get(COURTESY).text
    assert "Motivo (obligatorio)" in page and 'hx-disabled-elt="find [type=submit]"' in page
    form = {"cliente_telefono": client.phone, "monto": "20.000", "motivo": "", "submission_key": key_of(page)}
    r = c.post(COURTESY, data=form, headers=HX)
    assert r.status_code == 422 and "Indique el motivo de la cortesía." in r.text and "<html" not in r.text
    r = c.post(COURTESY, data=dict(form, monto=HUGE, motivo="compensación"), headers=HX)
    assert r.status_code == 422 and "El monto máximo de una gift card es $1.000.000." in r.text
    r = c.post(COURTESY, data=dict(form, cliente_telefono="+56 9 0000 0001", motivo="compensación"), headers=HX)
    assert r.status_code == 422 and "No hay un cliente con ese teléfono." in r.text
    ok = c.post(COURTESY, data=dict(form, motivo="compensación"))
    again = c.post(COURTESY, data=dict(form, motivo="compensación"))
    assert ok.status_code == 303 and again.status_code == 409
    [card] = cards(db_session)
    assert (card.origin, card.initial_amount, card.recipient_client_id) == ("manual", 20000, client.id)
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0
    detail = c.get(ok.headers["Location"]).text
    assert "Cortesía / manual" in detail and "compensación" in detail and 'id="giftcard-courtesy"' in detail


def test_adjust_out_of_bounds_is_422_on_the_detail_page(booking_setup, login, db_session):
    c = login("gerente")
    c.post(NEW, data=sale_form())
    [card] = cards(db_session)
    for amount in (HUGE, "-" + HUGE, "2.000.000"):
        r = c.post(f"/ventas/giftcards/{card.id}/ajustar/", data={"monto": amount, "motivo": "error"})
        assert r.status_code == 422 and "El monto máximo de una gift card es $1.000.000." in r.text
    r = c.post(f"/ventas/giftcards/{card.id}/ajustar/", data={"monto": "960.000", "motivo": "error"})
    assert r.status_code == 422 and "no puede superar $1.000.000" in r.text
    assert cards(db_session)[0].balance == 50000


def test_bad_fields_are_marked_on_their_inputs(booking_setup, login, db_session):
    c = login("recepcion")
    r = c.post(NEW, data=sale_form(monto="1,5", comprador_telefono="123", fecha_vencimiento="31-31-2026"), headers=HX)
    assert r.status_code == 422 and cards(db_session) == []
    for input_id, field, message in [
        ("gcn-monto", "monto", "Monto: ingrese un número entero."),
        ("gcn-comprador", "comprador_telefono", "Ingrese un teléfono válido."),
        ("gcn-vence", "fecha_vencimiento", "Fecha de vencimiento inválida."),
    ]:
        tag = re.search(rf'<input[^>]*id="{input_id}"[^>]*>', r.text).group(0)
        assert 'aria-invalid="true"' in tag and f'aria-describedby="{field}-error"' in tag, tag
        assert re.search(rf'id="{field}-error">{re.escape(message)}<', r.text)
    assert 'value="1,5"' in r.text  # what was typed stays in the input
    assert 'aria-invalid="true"' not in re.search(r'<input[^>]*id="gcn-dn"[^>]*>', r.text).group(0)


def test_a_duplicate_is_shown_with_a_fresh_key(booking_setup, login, db_session):
    c = login("recepcion")
    key = key_of(c.get(NEW).text)
    assert c.post(NEW, data=sale_form(submission_key=key)).status_code == 303
    again = c.post(NEW, data=sale_form(submission_key=key), headers=HX)
    assert again.status_code == 409 and 'id="dialog-error"' in again.text and key_of(again.text) != key


def test_refused_adjustment_marks_its_own_form(booking_setup, login, db_session):
    c = login("gerente")
    c.post(NEW, data=sale_form())
    [card] = cards(db_session)
    r = c.post(f"/ventas/giftcards/{card.id}/ajustar/", data={"monto": "abc", "motivo": "error"})
    assert r.status_code == 422 and "Ajuste: ingrese un número entero." in r.text
    assert 'aria-invalid="true"' in re.search(r'<input[^>]*id="adj-monto"[^>]*>', r.text).group(0)
    assert 'aria-invalid="true"' not in re.search(r'<input[^>]*id="void-motivo"[^>]*>', r.text).group(0)
    r = c.post(f"/ventas/giftcards/{card.id}/anular/", data={"motivo": " "})
    assert r.status_code == 422 and "Indique el motivo." in r.text
    assert 'aria-invalid="true"' in re.search(r'<input[^>]*id="void-motivo"[^>]*>', r.text).group(0)
    assert cards(db_session)[0].status != "anulada"
