"""Order detail `/ventas/venta_reservas/<id>/` and printable summary (spec reports.md §5, booking.md §9)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from app.clients.models import ClientEvent
from app.clients.services import record_event
from app.core import clock
from app.core.signing import order_token
from app.sales.models import Discount, GiftCard, ProductLine, ServiceLine
from app.sales.payment_services import record_payment
from app.sales.services import recalculate_order
from tests.reports.test_sales_orders import HX, MONDAY, NOW, make_order

BLOCKS = {
    "order_states": "order-states",
    "order_giftcards": "order-giftcards",
    "order_totals": "order-totals",
    "order_lines": "order-lines",
    "order_payments": "order-payments",
    "order_discounts": "order-discounts",
    "order_events": "order-events",
}


def url(order_id: int, suffix: str = "") -> str:
    return f"/ventas/venta_reservas/{order_id}/{suffix}"


def element(text: str, element_id: str) -> str:
    """The element with that id, from its opening tag to the first closing tag of the same name (tr, li, section)."""
    start = text.rindex("<", 0, text.index(f'id="{element_id}"'))
    tag = re.match(r"<(\w+)", text[start:]).group(1)
    return text[start : text.index(f"</{tag}>", start)]


@pytest.fixture
def order(booking_setup, db_session, make_client, make_product, make_user):
    s = booking_setup
    cashier = make_user("recepcion", username="caja1")
    boss = make_user("gerente", username="jefa")
    maria = make_client(name="María Pérez", phone="+56987654321")
    giftcard = make_product(name="Gift Card $50.000", base_price=50000, is_gift_card=True)
    o = make_order(
        db_session,
        maria,
        lines=[(s["calipso"], MONDAY, 2), (s["relajacion"], MONDAY, 1, "cancelada")],
        products=[(giftcard, 1)],
        comments="Llega tarde",
    )
    o.service_lines[0].provider_id = None
    o.service_lines[1].provider_id = s["ana"].id
    db_session.add(Discount(order_id=o.id, amount=5000, reason="cliente frecuente", created_by_id=boss.id))
    db_session.add(
        Discount(
            order_id=o.id,
            amount=3000,
            reason="por error",
            status="anulado",
            created_by_id=cashier.id,
            voided_by_id=boss.id,
            voided_at=NOW,
        )
    )
    recalculate_order(o)
    p1 = record_payment(o, amount=20000, method="efectivo", by=cashier, reference="boleta 123")
    p2 = record_payment(o, amount=7000, method="tarjeta", by=cashier)
    p2.status, p2.voided_at, p2.voided_by_id, p2.void_reason = "anulado", NOW, boss.id, "pago duplicado"
    recalculate_order(o)
    line = o.product_lines[0]
    db_session.add(
        GiftCard(
            code="550OKRQGKHJR",
            initial_amount=50000,
            issued_on=MONDAY,
            expires_on=MONDAY + timedelta(days=365),
            origin="venta",
            order_line_id=line.id,
            buyer_client_id=maria.id,
            recipient_name="Ana Díaz",
        )
    )
    clock.freeze(NOW + timedelta(minutes=5))
    record_event(maria, "order_updated", "Comentario agregado", by=boss, order_id=o.id)
    clock.freeze(NOW)
    db_session.commit()
    return {"order": o, "p1": p1, "p2": p2, "cashier": cashier, "boss": boss, **s}


def test_detail_shows_client_contact_states_and_totals(login, order):
    o = order["order"]
    resp = login("recepcion").get(url(o.id))
    assert resp.status_code == 200
    t = resp.text
    assert f"Venta/Reserva #{o.id}" in t and "María Pérez" in t and "+56 9 8765 4321" in t
    assert 'id="order-contact"' in t and "Llega tarde" in t
    assert 'id="order-actions"' in t and "Cobrar" in t and "Cancelar venta" in t and "Imprimir" in t
    # 50.000 tub + 50.000 gift card − 5.000 = 95.000; paid 20.000 (the voided 7.000 does not count)
    assert (o.total, o.paid, o.balance_due) == (95000, 20000, 75000)
    assert re.search(r'id="order-total">\$95\.000<', t) and re.search(r'id="order-paid">\$20\.000<', t)
    assert re.search(r'id="order-balance">\$75\.000<', t) and "Saldo a favor" in t
    assert re.search(r'id="order-payment-status">Pago parcial<', t)
    assert re.search(r'id="order-booking-status">Pendiente<', t)
    public = f"/ventas/reserva/{order_token(o.id)}/"
    assert f'href="{public}"' in t


def test_detail_lines_payments_discounts_giftcards_and_events(login, order):
    o = order["order"]
    t = login("gerente").get(url(o.id)).text
    tub, massage = o.service_lines
    tub_row = element(t, f"service-line-{tub.id}")
    assert "Tina Calipso" in tub_row and "02/03/2026" in tub_row and "14:00" in tub_row
    assert "Sin terapeuta" in tub_row and "N/A" not in tub_row
    assert "$25.000" in tub_row and "$50.000" in tub_row and "Pendiente" in tub_row
    massage_row = element(t, f"service-line-{massage.id}")
    assert "text-decoration-line-through" in massage_row and "Ana Soto" in massage_row and "Cancelada" in massage_row
    assert "Gift Card $50.000" in element(t, f"product-line-{o.product_lines[0].id}")
    valid = element(t, f"payment-{order['p1'].id}")
    assert "text-decoration-line-through" not in valid
    assert "Efectivo" in valid and "caja1" in valid and "boleta 123" in valid and "$20.000" in valid
    voided = element(t, f"payment-{order['p2'].id}")
    assert "text-decoration-line-through" in voided and "Anulado" in voided and "pago duplicado" in voided
    assert "Tarjeta débito/crédito" in voided
    active, cancelled = o.discounts
    assert "text-decoration-line-through" not in element(t, f"discount-{active.id}")
    assert "jefa" in element(t, f"discount-{active.id}")
    assert "text-decoration-line-through" in element(t, f"discount-{cancelled.id}")
    gc = element(t, "order-giftcards")
    assert "550OKRQGKHJR" in gc and "Ana Díaz" in gc and "$50.000" in gc and "Saldo disponible $50.000" in gc
    events = re.findall(r'id="event-(\d+)"', t)
    assert len(events) == 3 and "Comentario agregado" in t and "Pago registrado" in t
    newest = element(t, f"event-{events[0]}")  # order_updated at 10:05, after the payments of 10:00
    assert "Venta/Reserva modificada" in newest and "jefa" in newest


def test_blocks_render_alone_for_htmx_and_refresh_on_order_changed(login, order):
    o = order["order"]
    c = login("recepcion")
    full = c.get(url(o.id)).text
    for block, element_id in BLOCKS.items():
        assert f'id="{element_id}"' in full
        frag = c.get(url(o.id), query_string={"bloque": block}, headers=HX)
        assert frag.status_code == 200 and "HX-Request" in frag.headers["Vary"]
        body = frag.text.lstrip()
        assert body.startswith("<") and f'id="{element_id}"' in body[:200] and "<html" not in body
    totals = c.get(url(o.id), query_string={"bloque": "order_totals"}, headers=HX).text
    assert 'hx-trigger="order-changed from:body"' in totals and "bloque=order_totals" in totals
    assert "order-changed from:body" in c.get(url(o.id), query_string={"bloque": "order_payments"}, headers=HX).text
    states = c.get(url(o.id), query_string={"bloque": "order_states"}, headers=HX).text
    assert "Pago parcial" in states and 'hx-trigger="order-changed from:body"' in states
    # an unknown block name is ignored: the whole page
    assert "<html" in c.get(url(o.id), query_string={"bloque": "nope"}, headers=HX).text


def test_unknown_order_is_404(login, order):
    c = login("recepcion")
    assert c.get(url(999999)).status_code == 404
    assert c.get(url(99999999999)).status_code == 404
    assert c.get(url(999999, "imprimir/")).status_code == 404


def test_print_page(login, order):
    o = order["order"]
    resp = login("recepcion").get(url(o.id, "imprimir/"))
    assert resp.status_code == 200
    t = resp.text
    assert f"Resumen de Reserva #{o.id}" in t and "María Pérez" in t and "+56 9 8765 4321" in t
    assert 'id="print-services"' in t and 'id="print-products"' in t and "Tina Calipso" in t
    assert "Gift Card $50.000" in t and "$95.000" in t and "Pago parcial" in t
    assert "data-print" in t and "/static/js/print." in t
    assert "<script>" not in t and "onclick" not in t  # CSP: no inline scripts
    assert "extends" not in t and 'id="page"' not in t  # standalone, no site chrome


def test_access_per_role(client, login, order):
    o = order["order"]
    assert client.get(url(o.id)).status_code == 302
    assert login("marketing").get(url(o.id)).status_code == 403
    assert login("marketing").get(url(o.id, "imprimir/")).status_code == 403
    for role in ("recepcion", "gerente", "admin"):
        assert login(role).get(url(o.id, "imprimir/")).status_code == 200


def _grow(db_session, order, n):
    """More of everything the detail page lists."""
    s, o = order, order["order"]
    for i in range(n):
        db_session.add_all(
            [
                Discount(order_id=o.id, amount=1, reason=f"extra {i}", created_by_id=s["boss"].id),
                ClientEvent(
                    client_id=o.client_id,
                    event_type="order_updated",
                    description=f"cambio {i}",
                    user_id=s["cashier"].id,
                    order_id=o.id,
                ),
                ServiceLine(
                    order_id=o.id,
                    service_id=s["calipso"].id,
                    service_date=date(2026, 3, 9),
                    start_time="17:00",
                    people=1,
                    unit_price=25000,
                    pricing_rule="por_persona",
                    subtotal=25000,
                    provider_id=s["berta"].id,
                ),
                ProductLine(
                    order_id=o.id, product_id=o.product_lines[0].product_id, quantity=1, unit_price=1000, subtotal=1000
                ),
            ]
        )
    db_session.flush()
    recalculate_order(o)
    for i in range(n):
        record_payment(o, amount=1000 + i, method="efectivo", by=s["cashier"])
    db_session.commit()


def test_statements_constant_in_the_number_of_lines_payments_and_events(login, order, db_session, count_statements):
    page, printable = url(order["order"].id), url(order["order"].id, "imprimir/")  # read before counting
    c = login("recepcion")
    block = {"query_string": {"bloque": "order_payments"}, "headers": HX}
    few = count_statements(lambda: c.get(page))
    few_print = count_statements(lambda: c.get(printable))
    few_block = count_statements(lambda: c.get(page, **block))
    _grow(db_session, order, 25)
    assert count_statements(lambda: c.get(page)) == few
    assert count_statements(lambda: c.get(printable)) == few_print
    assert count_statements(lambda: c.get(page, **block)) == few_block
    # savepoint/rollback of the harness, user, order, 4 collections, gift cards, events, usernames, navbar
    assert few <= 13
