"""Buying a gift card on the public site (spec booking.md §8.2): the page lists the published gift-card products;
the card is issued only when the order is paid (fake Flow confirmation, or staff recording the transfer), once,
and e-mailed through the outbox with its printable link; a double submit places one order."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.comms.models import CommunicationLog
from app.comms.render import render
from app.sales.models import FakeFlowPayment, FlowTransaction, GiftCard, Order
from app.sales.payment_services import record_payment

BUY = "/ventas/giftcard/comprar/"


@pytest.fixture
def shop(booking_setup, make_product):
    return {
        "fifty": make_product(name="Gift Card $50.000", base_price=50000, is_gift_card=True, is_published=True),
        "free": make_product(name="Gift Card monto libre", base_price=0, is_gift_card=True, is_published=True),
        "hidden": make_product(name="Gift Card interna", base_price=20000, is_gift_card=True, is_published=False),
        "drink": make_product(name="Jugo natural", base_price=3000, is_published=True),
    }


def form(product, **kw):
    data = {
        "producto_id": str(product.id),
        "destinatario_nombre": "Pedro Soto",
        "destinatario_email": "pedro@example.com",
        "mensaje": "¡Feliz aniversario!",
        "telefono": "+56 9 8765 4321",
        "nombre": "Ana Compradora",
        "email": "ana@example.com",
        "metodo_pago": "transferencia",
        "acepta_terminos": "y",
    }
    data.update(kw)
    return data


def count(db_session, model, *where) -> int:
    db_session.expire_all()
    return db_session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def gift_mails(db_session):
    return db_session.scalars(sa.select(CommunicationLog).where(CommunicationLog.message_type == "GIFT_CARD")).all()


def test_page_lists_published_gift_cards_and_is_linked_from_home(shop, client):
    page = client.get(BUY)
    assert page.status_code == 200
    html = page.text
    assert "Gift Card $50.000" in html and "Gift Card monto libre" in html and "Tú eliges el monto" in html
    assert "Gift Card interna" not in html and "Jugo natural" not in html
    assert 'hx-disabled-elt="find [type=submit]"' in html and 'name="submission_key"' in html
    assert "Transferencia bancaria" in html and "Flow" in html
    home = client.get("/").text
    assert BUY in home and "/ventas/giftcard/saldo/" in home
    assert BUY in client.get("/ventas/terminos/").text  # footer on every public page


def test_transfer_purchase_issues_the_card_only_when_staff_records_the_payment(shop, client, db_session, make_user):
    r = client.post(BUY, data=form(shop["fifty"]))
    assert r.status_code == 303 and "/ventas/reserva/" in r.headers["Location"]
    [order] = db_session.scalars(sa.select(Order)).all()
    assert (order.origin, order.total, order.payment_status, order.checkout_method) == (
        "web",
        50000,
        "pendiente",
        "transferencia",
    )
    [line] = order.product_lines
    assert (line.recipient_name, line.recipient_email, line.message) == (
        "Pedro Soto",
        "pedro@example.com",
        "¡Feliz aniversario!",
    )
    assert count(db_session, GiftCard) == 0 and gift_mails(db_session) == []
    page = client.get(r.headers["Location"]).text
    assert "Se emite y se envía a pedro@example.com cuando se confirme el pago." in page
    record_payment(db_session.get(Order, order.id), amount=50000, method="transferencia", by=make_user("recepcion"))
    [card] = db_session.scalars(sa.select(GiftCard)).all()
    assert (card.origin, card.initial_amount, card.recipient_name) == ("venta", 50000, "Pedro Soto")
    [mail] = gift_mails(db_session)
    assert mail.destination == "pedro@example.com"
    rendered = render(mail)
    assert card.code in rendered.text and "/ventas/giftcard/" in rendered.text


def test_flow_purchase_is_issued_once_on_confirmation_and_not_before(shop, client, db_session):
    r = client.post(BUY, data=form(shop["free"], monto="35.000", metodo_pago="flow", destinatario_email=""))
    assert r.status_code == 303 and r.headers["Location"].startswith("/ventas/fake-flow/pay?token=")
    [order] = db_session.scalars(sa.select(Order)).all()
    assert order.total == 35000 and order.product_lines[0].recipient_email == "ana@example.com"  # to the buyer
    tx = db_session.scalars(sa.select(FlowTransaction).where(FlowTransaction.order_id == order.id)).one()
    assert client.post("/ventas/payment/confirmation/", data={"token": tx.token}).status_code == 200
    assert count(db_session, GiftCard) == 0  # Flow still says pending: no card
    fake = db_session.scalars(sa.select(FakeFlowPayment).where(FakeFlowPayment.token == tx.token)).one()
    fake.status = 2
    db_session.flush()
    for _ in range(3):  # Flow retries its confirmation
        assert client.post("/ventas/payment/confirmation/", data={"token": tx.token}).status_code == 200
    [card] = db_session.scalars(sa.select(GiftCard)).all()
    assert (card.initial_amount, card.origin, card.recipient_email) == (35000, "venta", "ana@example.com")
    assert [m.destination for m in gift_mails(db_session)] == ["ana@example.com"]


def test_invalid_purchases_are_422_in_place_and_place_nothing(shop, client, db_session):
    cases = [
        (form(shop["free"], monto="2.000.000"), "entre $5.000 y $1.000.000"),
        (form(shop["free"], monto="9223372036854775808"), "entre $5.000 y $1.000.000"),
        (form(shop["free"], monto=""), "Ingresa el monto de la gift card."),
        (form(shop["hidden"]), "Elige una gift card."),
        (form(shop["drink"]), "Elige una gift card."),
        (form(shop["fifty"], destinatario_email="no-es-correo"), "Ingresa un e-mail válido para quien recibe"),
        (form(shop["fifty"], destinatario_nombre="x" * 101), "no puede superar los 100 caracteres"),
        (form(shop["fifty"], mensaje="m" * 1001), "El mensaje no puede superar los 1000 caracteres."),
        (form(shop["fifty"], nombre="n" * 101), "El nombre no puede superar los 100 caracteres."),
        (form(shop["fifty"], email="a" * 300 + "@example.com"), "Ingrese un e-mail válido."),
        (form(shop["fifty"], email=""), "Ingrese un e-mail válido."),
        (form(shop["fifty"], acepta_terminos=""), "Debe aceptar los términos y condiciones."),
    ]
    for data, message in cases:
        r = client.post(BUY, data=data, headers={"HX-Request": "true"})
        assert r.status_code == 422, message
        assert message in r.text and "<html" not in r.text and 'id="giftcard-buy-form"' in r.text
    assert count(db_session, Order) == 0 and count(db_session, GiftCard) == 0


def test_gift_card_refusals_with_values_read_in_english(shop, client, db_session):
    """The recipient checks (sales.giftcard_services.clean_recipient, Msg with values) on an English page."""
    en = {"HX-Request": "true", "Accept-Language": "en"}
    cases = [
        (form(shop["fifty"], destinatario_nombre="x" * 101), "The recipient&#39;s name cannot be longer than 100"),
        (form(shop["fifty"], mensaje="m" * 1001), "The message cannot be longer than 1000 characters."),
    ]
    for data, message in cases:
        r = client.post(BUY, data=data, headers=en)
        assert r.status_code == 422 and message in r.text and "no puede superar" not in r.text, r.text
    assert count(db_session, Order) == 0


def test_double_submit_places_one_order(shop, client, db_session):
    key = re.search(r'name="submission_key"[^>]*value="([^"]+)"', client.get(BUY).text).group(1)
    first = client.post(BUY, data=form(shop["fifty"], submission_key=key))
    second = client.post(BUY, data=form(shop["fifty"], submission_key=key), headers={"HX-Request": "true"})
    assert first.status_code == 303 and second.status_code == 409 and "ya fue enviado" in second.text
    assert count(db_session, Order) == 1
