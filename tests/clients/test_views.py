"""Client list (live search, 25 per page, stats columns) and client page (spec crm.md §3): full page and HTMX
fragments, access by role for routes with arguments, constant statement counts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.sales.models import Order, ServiceLine
from app.sales.payment_services import record_payment
from app.sales.services import recalculate_order
from tests.conftest import ROLES

HX = {"HX-Request": "true"}
LIST = "/ventas/clientes/"


def visit(db_session, client, service, day: date, *, pay: int = 0):
    order = Order(client_id=client.id, origin="recepcion")
    db_session.add(order)
    db_session.flush()
    db_session.add(
        ServiceLine(
            order_id=order.id,
            service_id=service.id,
            service_date=day,
            start_time="14:00",
            people=1,
            unit_price=25000,
            pricing_rule="por_persona",
            subtotal=25000,
        )
    )
    db_session.flush()
    recalculate_order(order)
    if pay:
        record_payment(order, amount=pay, method="efectivo")
    return order


def test_list_search_and_stats(booking_setup, login, db_session, make_client):
    maria = make_client(name="María José Pérez", phone="+56987654321", email="mjp@example.com", city="Osorno")
    make_client(name="Juan Soto", phone="+56912345678", email="juan@soto.cl")
    visit(db_session, maria, booking_setup["calipso"], date(2026, 2, 23), pay=25000)
    visit(db_session, maria, booking_setup["calipso"], date(2026, 2, 16), pay=20000)
    db_session.commit()
    c = login("recepcion")
    page = c.get(LIST)
    assert page.status_code == 200 and 'id="client-results"' in page.text and 'hx-trigger="input changed' in page.text
    row = page.text[page.text.index(f'id="client-{maria.id}"') :]
    row = row[: row.index("</tr>")]
    assert "+56 9 8765 4321" in row and "Osorno" in row and "$45.000" in row and "23/02/2026" in row
    assert ">2<" in row
    for q, expected in (("maria jose", maria), ("PÉREZ", maria), ("8765", maria), ("soto.cl", None)):
        frag = c.get(LIST, query_string={"q": q}, headers=HX)
        assert frag.status_code == 200 and frag.text.lstrip().startswith('<div id="client-results">')
        assert "<html" not in frag.text
        if expected is not None:
            assert f'id="client-{expected.id}"' in frag.text and frag.text.count('<tr id="client-') == 1
        else:
            assert frag.text.count('<tr id="client-') == 1 and "Juan Soto" in frag.text
    none = c.get(LIST, query_string={"q": "zzzz%_"})
    assert "No hay clientes para «zzzz%_»" in none.text
    # recepcion sees no export/import links; gerente does
    assert 'id="client-export"' not in page.text
    assert 'id="client-export"' in login("gerente").get(LIST).text


def test_list_pages_by_25(login, db_session, make_client):
    for i in range(30):
        make_client(name=f"Paginado {i:02d}")
    db_session.commit()
    c = login("gerente")
    first = c.get(LIST, query_string={"q": "Paginado"})
    assert first.text.count('<tr id="client-') == 25 and "Página 1 de 2" in first.text
    second = c.get(LIST, query_string={"q": "Paginado", "page": 2}, headers=HX)
    assert second.text.count('<tr id="client-') == 5


def test_detail_sections(booking_setup, login, db_session, make_client, make_user):
    from app.sales.models import GiftCard

    gerente = make_user("gerente", username="jefa")
    ana = make_client(name="Ana Díaz", marketing_consent=True)
    orders = [
        visit(db_session, ana, booking_setup["calipso"], date(2026, 2, 2) + timedelta(days=i), pay=25000)
        for i in range(12)
    ]
    from app.clients.services import record_event

    record_event(ana, "client_updated", "nota de prueba", by=gerente)
    db_session.add(
        GiftCard(
            code="GCANA0001",
            initial_amount=30000,
            issued_on=date(2026, 1, 1),
            expires_on=date(2027, 1, 1),
            recipient_client_id=ana.id,
        )
    )
    db_session.commit()
    c = login("recepcion")
    url = f"/ventas/clientes/{ana.id}/"
    page = c.get(url)
    assert page.status_code == 200
    for section in (
        "client-data",
        "client-stats",
        "client-consent",
        "client-orders",
        "client-payments",
        "client-gift-cards",
        "client-messages",
        "client-events",
    ):
        assert f'id="{section}"' in page.text, section
    assert 'id="stat-visits">12<' in page.text and 'id="stat-spend">$300.000<' in page.text
    assert page.text.count('<tr id="client-order-') == 10 and "Página 1 de 2" in page.text
    assert page.text.count('<tr id="client-payment-') == 12
    assert "GCANA0001" in page.text and "recibida" in page.text
    assert "Promociones: sí" in page.text and "nota de prueba" in page.text and "jefa" in page.text
    orders_frag = c.get(url, query_string={"bloque": "client_orders", "pedidos": 2}, headers=HX)
    assert orders_frag.text.lstrip().startswith('<section class="mb-4" id="client-orders"')
    assert orders_frag.text.count('<tr id="client-order-') == 2 and f"#{orders[0].id}<" in orders_frag.text
    events_frag = c.get(url, query_string={"bloque": "client_events"}, headers=HX)
    assert 'id="client-events"' in events_frag.text and "<html" not in events_frag.text
    assert c.get("/ventas/clientes/999999/").status_code == 404
    assert c.get("/ventas/clientes/99999999999/").status_code == 404


@pytest.mark.parametrize("role", (None, *ROLES))
def test_routes_with_arguments_by_role(role, app, client, login, db_session, make_client):
    from app.clients.models import ClientImport

    someone = make_client()
    record = ClientImport(filename="a.xlsx", stored_name="missing.xlsx", sha256="0" * 64)
    db_session.add(record)
    db_session.commit()
    c = login(role) if role else client
    cases = [
        ("get", f"/ventas/clientes/{someone.id}/", set(ROLES)),
        ("get", f"/ventas/importar-clientes/{record.id}/errores/", {"gerente", "admin"}),
        ("post", f"/ventas/importar-clientes/{record.id}/confirmar/", {"gerente", "admin"}),
        ("post", f"/ventas/importar-clientes/{record.id}/descartar/", {"gerente", "admin"}),
        ("post", "/ventas/clientes/fusionar/", {"gerente", "admin"}),
        ("post", "/ventas/importar-clientes/", {"gerente", "admin"}),
    ]
    for method, url, allowed in cases:
        resp = getattr(c, method)(url)
        if role is None:
            assert resp.status_code == 302 and "/accounts/login/" in resp.headers["Location"], url
        elif role in allowed:
            assert resp.status_code not in (302, 401, 403, 500), (url, role, resp.status_code)
        else:
            assert resp.status_code == 403, (url, role, resp.status_code)


def test_statement_counts_constant(booking_setup, login, db_session, make_client, count_statements):
    owner = make_client(name="Dueño Estadísticas")
    for i in range(3):
        make_client(name=f"Conteo {i}")
        visit(db_session, owner, booking_setup["calipso"], date(2026, 2, 2) + timedelta(days=i), pay=1000)
    db_session.commit()
    c = login("gerente")
    detail = f"/ventas/clientes/{owner.id}/"
    c.get(LIST)
    few = [
        count_statements(lambda: c.get(LIST)),
        count_statements(lambda: c.get(LIST, headers=HX)),
        count_statements(lambda: c.get(detail)),
    ]
    for i in range(40):
        make_client(name=f"Conteo más {i}")
        visit(db_session, owner, booking_setup["calipso"], date(2026, 1, 1) + timedelta(days=i), pay=1000)
    db_session.commit()
    assert [
        count_statements(lambda: c.get(LIST)),
        count_statements(lambda: c.get(LIST, headers=HX)),
        count_statements(lambda: c.get(detail)),
    ] == few


def test_export_respects_search_and_roles(login, db_session, make_client):
    from io import BytesIO

    from openpyxl import load_workbook

    make_client(name="Exportable Uno")
    make_client(name="Otro Nombre")
    db_session.commit()
    resp = login("marketing").get("/ventas/exportar-clientes/", query_string={"q": "exportable"})
    ws = load_workbook(BytesIO(resp.data))["Clientes"]
    assert [r[1] for r in ws.iter_rows(min_row=2, values_only=True)] == ["Exportable Uno"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:L2"
    assert login("recepcion").get("/ventas/exportar-clientes/").status_code == 403


def test_client_page_shows_the_origin_in_words(login, make_client):
    client = login("gerente")
    person = make_client(origin="web")
    page = client.get(f"/ventas/clientes/{person.id}/")
    assert page.status_code == 200
    assert "Sitio web" in page.text
