"""A list request runs the same number of SQL statements for a page of 2 or of 40 rows."""

from __future__ import annotations

import pytest

from app.sales import checkout_services, discount_services
from app.sales import services as sales_services
from app.sales.payment_services import record_payment
from tests.api.conftest import MONDAY


def add_orders(setup, client, n, by):
    for _ in range(n):
        order = checkout_services.place_order(
            lines=[sales_services.LineRequest(service_id=setup["relajacion"].id, day=MONDAY, hhmm="13:00", people=1)],
            data=checkout_services.CheckoutData(telefono=client.phone, nombre=client.name),
            origin="recepcion",
            staff=True,
        )
        record_payment(order, amount=1000, method="efectivo", by=by)
        discount_services.apply_discount(order, amount=500, reason="prueba", by=by)
        sales_services.cancel_order(order, reason="liberar cupo", by=by)  # keeps the slot free for the next one


# Per request, including the test session's SAVEPOINT and its release (2): token with its user (1), the page with
# the count in a last column (1; unfiltered lists of plain rows) and, for orders, one UNION ALL statement for
# service lines (with their service), product lines, payments (with user and gift card) and active discounts (1).
# `servicios` (ORM objects): the count and the page apart, plus its eager loads. The warm-up request records the
# token's use.
MAX_STATEMENTS = {
    "/ventas/api/ventasreservas/": 5,
    "/ventas/api/pagos/": 4,
    "/ventas/api/reservaservicios/": 4,
    "/ventas/api/clientes/": 4,
    "/ventas/api/servicios/": 6,
}


@pytest.mark.parametrize("path", list(MAX_STATEMENTS))
def test_list_statements_constant(
    path, booking_setup, make_client, make_user, token_for, client, count_statements, db_session
):
    gerente = make_user("gerente")
    headers = token_for(user=gerente)
    owner = make_client()
    add_orders(booking_setup, owner, 2, gerente)
    db_session.commit()
    url = f"{path}?page_size=100"
    client.get(url, headers=headers)
    few = count_statements(lambda: client.get(url, headers=headers))
    add_orders(booking_setup, owner, 38, gerente)
    for _ in range(20):
        make_client()
    db_session.commit()
    resp = client.get(url, headers=headers)
    assert resp.status_code == 200 and resp.json["count"] >= 2
    assert count_statements(lambda: client.get(url, headers=headers)) == few, path
    assert few <= MAX_STATEMENTS[path]
