"""Servicios vendidos, productos vendidos and auditoría (spec reports.md §3, §4, §8): figures equal independent
Python sums over data built through the services; Excel re-opened with openpyxl; HTMX fragments; statements."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.catalog.models import ServiceCategory
from app.clients.models import ClientEvent
from app.core.clock import LOCAL_TZ
from app.core.money import format_clp
from app.sales.cart_services import add_product_to_cart, create_cart
from app.sales.checkout_services import CheckoutData, place_order
from app.sales.line_services import cancel_line
from app.sales.models import ProductLine, ServiceLine
from app.sales.services import LineRequest, cancel_order

MONDAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=LOCAL_TZ)
HX = {"HX-Request": "true"}
SERVICES_URL = "/ventas/servicios-vendidos/"
PRODUCTS_URL = "/ventas/productos-vendidos/"
AUDIT_URL = "/ventas/auditoria-movimientos/"


def book(lines, *, name="Cliente", phone="+56987654321", products=(), by=None):
    """An order placed through the booking service (staff booking)."""
    cart = None
    if products:
        cart = create_cart()
        for product, qty in products:
            add_product_to_cart(cart, product_id=product.id, quantity=qty)
    return place_order(
        lines=[LineRequest(service_id=s.id, day=d, hhmm=h, people=p) for s, d, h, p in lines],
        data=CheckoutData(telefono=phone, nombre=name),
        origin="recepcion",
        cart=cart,
        by=by,
        staff=True,
    )


@pytest.fixture
def sold(booking_setup, db_session, make_product, make_user, freeze_clock):
    """Bookings over three Mondays, two categories plus an uncategorised massage, products, cancellations."""
    s = booking_setup
    masajes = ServiceCategory(name="Masajes", sort_order=2)
    db_session.add(masajes)
    db_session.flush()
    s["relajacion"].category_id = masajes.id
    espumante = make_product(name="Espumante", base_price=12000, stock=100, is_published=True, provider_id=s["ana"].id)
    jugo = make_product(name="Jugo", base_price=3000, stock=100, is_published=True)
    gerente = make_user("gerente", username="gerente_rep")
    orders = []
    for week in range(3):
        day = MONDAY + timedelta(days=7 * week)
        orders.append(
            book(
                [(s["calipso"], day, "14:00", 2), (s["relajacion"], day, "13:00", 1)],
                name="María Pérez",
                phone="+56987654321",
                products=[(espumante, 2)],
                by=gerente,
            )
        )
        orders.append(
            book(
                [(s["calipso"], day, "17:00", 3), (s["arrayan"], day, "16:00", 2)],
                name="Juan Soto",
                phone="+56912345678",
                products=[(jugo, 1), (espumante, 1)],
            )
        )
        orders.append(book([(s["grande"], day, "19:00", 4)], name="Ana Díaz", phone="+56911111111"))
    cancel_line(orders[1].service_lines[1], reason="Cliente avisó", by=gerente)  # arrayán of week 1
    cancel_order(orders[2], reason="Prueba", by=gerente)  # grande of week 1
    freeze_clock(NOW + timedelta(days=1))
    orders.append(
        book(
            [(s["grande"], MONDAY + timedelta(days=7), "19:00", 2)],
            name="Ana Díaz",
            phone="+56911111111",
            products=[(espumante, 5)],
        )
    )  # sold the next day
    db_session.commit()
    freeze_clock(NOW)
    return {**s, "orders": orders, "espumante": espumante, "jugo": jugo, "gerente": gerente, "masajes": masajes}


def _service_lines(db_session, start: date, end: date, *, cancelled=False):
    lines = db_session.scalars(sa.select(ServiceLine)).all()
    return [ln for ln in lines if start <= ln.service_date <= end and (cancelled or ln.status != "cancelada")]


def test_services_sold_figures_equal_python_sums(sold, login, db_session):
    c = login("gerente")
    start, end = MONDAY, MONDAY + timedelta(days=14)
    resp = c.get(f"{SERVICES_URL}?fecha_inicio={start}&fecha_fin={end}")
    assert resp.status_code == 200
    expected = _service_lines(db_session, start, end)
    assert len(expected) == 14  # 3 weeks × 5 lines − 2 cancelled + 1 late sale
    ids = [int(x) for x in re.findall(r'<tr id="service-line-(\d+)"', resp.text)]
    assert sorted(ids) == sorted(ln.id for ln in expected)
    assert f'id="sum-people">{sum(ln.people for ln in expected)}<' in resp.text
    assert f'id="sum-amount">{format_clp(sum(ln.subtotal for ln in expected))}<' in resp.text
    # order: service date desc, time asc
    keys = [(ln.service_date, ln.start_time) for ln in sorted(expected, key=lambda ln: ids.index(ln.id))]
    assert keys == sorted(keys, key=lambda k: (-k[0].toordinal(), k[1]))

    with_cancelled = c.get(f"{SERVICES_URL}?fecha_inicio={start}&fecha_fin={end}&incluir_canceladas=1")
    assert with_cancelled.text.count('<tr id="service-line-') == 16
    only = c.get(f"{SERVICES_URL}?fecha_inicio={start}&fecha_fin={end}&estado=cancelada")
    assert only.text.count('<tr id="service-line-') == 2 and "<s>Cancelada</s>" in only.text

    cat = sold["masajes"].id
    by_cat = c.get(f"{SERVICES_URL}?fecha_inicio={start}&fecha_fin={end}&categoria={cat}")
    massages = [ln for ln in expected if ln.service_id == sold["relajacion"].id]
    assert f'id="sum-amount">{format_clp(sum(ln.subtotal for ln in massages))}<' in by_cat.text
    order = sold["orders"][0]
    by_order = c.get(f"{SERVICES_URL}?fecha_inicio={start}&fecha_fin={end}&venta_reserva_id={order.id}")
    assert by_order.text.count('<tr id="service-line-') == 2
    prov = c.get(f"{SERVICES_URL}?fecha_inicio={start}&fecha_fin={end}&proveedor={sold['ana'].id}")
    with_ana = [ln for ln in expected if ln.provider_id == sold["ana"].id]
    assert prov.text.count('<tr id="service-line-') == len(with_ana)


def test_services_sold_chart_is_stacked_by_category(sold, login):
    c = login("gerente")
    resp = c.get(f"{SERVICES_URL}?fecha_inicio={MONDAY}&fecha_fin={MONDAY + timedelta(days=14)}")
    assert 'id="services-sold-chart" data-chart=' in resp.text
    assert "Tinas Calientes" in resp.text and "Masajes" in resp.text and "chart-4.5.1.umd.min." in resp.text


def test_chart_groups_by_month_beyond_92_days():
    from app.reports.filters import DateRange
    from app.reports.sold_queries import chart_config

    rows = [(date(2026, 1, 5), "A", 100), (date(2026, 1, 20), "A", 50), (date(2026, 3, 2), "B", 10)]
    monthly = chart_config(rows, DateRange(date(2026, 1, 1), date(2026, 6, 30)))
    assert monthly["data"]["labels"] == ["01/2026", "03/2026"]
    assert monthly["data"]["datasets"][0] == {"label": "A", "data": [150, 0], "stack": "monto"}
    daily = chart_config(rows, DateRange(date(2026, 1, 1), date(2026, 3, 31)))
    assert daily["data"]["labels"] == ["05/01", "20/01", "02/03"]


def test_services_sold_fragment_and_bad_input(sold, login):
    c = login("gerente")
    frag = c.get(f"{SERVICES_URL}?fecha_inicio={MONDAY}&fecha_fin={MONDAY}", headers=HX)
    assert frag.status_code == 200 and frag.text.lstrip().startswith('<div id="services-sold">')
    assert "<html" not in frag.text and "HX-Request" in frag.headers["Vary"]
    bad = c.get(f"{SERVICES_URL}?fecha_inicio=ayer&categoria=abc&estado=zzz&venta_reserva_id=99999999999&page=x")
    assert bad.status_code == 200 and "Fecha inválida, se usó hoy" in bad.text


def test_services_sold_excel(sold, login, db_session):
    c = login("gerente")
    start, end = MONDAY, MONDAY + timedelta(days=14)
    resp = c.get(f"{SERVICES_URL}?fecha_inicio={start}&fecha_fin={end}&export=excel")
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert re.fullmatch(
        r'attachment; filename="Servicios_Vendidos_\d{8}_\d{6}\.xlsx"', resp.headers["Content-Disposition"]
    )
    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames == ["Servicios Vendidos", "Resumen"]
    ws = wb["Servicios Vendidos"]
    header = [c.value for c in ws[1]]
    assert header == [
        "ID Venta/Reserva",
        "Cliente",
        "Categoría del Servicio",
        "Servicio",
        "Fecha de Agendamiento",
        "Hora de Agendamiento",
        "Cantidad de Personas",
        "Monto Total",
        "Proveedor Asignado",
        "Estado",
    ]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:J15"
    assert ws["A1"].font.b and ws["A1"].fill.start_color.rgb.endswith("D9D9D9")
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    expected = _service_lines(db_session, start, end)
    assert len(rows) == len(expected)
    assert sum(r[7] for r in rows) == sum(ln.subtotal for ln in expected)
    assert sum(r[6] for r in rows) == sum(ln.people for ln in expected)
    first = ws[2]
    assert isinstance(first[0].value, int) and isinstance(first[4].value, datetime)
    assert first[4].number_format == "DD/MM/YYYY" and first[7].number_format == "#,##0"
    assert isinstance(first[5].value, str) and re.fullmatch(r"\d\d:\d\d", first[5].value)
    assert "Sin terapeuta" in {r[8] for r in rows} and "N/A" not in {r[8] for r in rows}  # tinas: no provider
    summary = {r[0]: r[1] for r in wb["Resumen"].iter_rows(values_only=True)}
    assert summary["Σ Monto"] == sum(ln.subtotal for ln in expected) and summary["Líneas"] == len(expected)


def _product_lines(db_session, *, day_from: date, day_to: date):
    from app.core.clock import to_local
    from app.sales.models import Order

    out = []
    for line, order in db_session.execute(sa.select(ProductLine, Order).join(Order)):
        if (
            day_from <= to_local(order.sold_at).date() <= day_to
            and line.status == "activa"
            and order.cancelled_at is None
        ):
            out.append(line)
    return out


def test_products_sold_figures_and_excel(sold, login, db_session):
    c = login("gerente")
    resp = c.get(f"{PRODUCTS_URL}?fecha_inicio={MONDAY}&fecha_fin={MONDAY}")
    assert resp.status_code == 200
    expected = _product_lines(db_session, day_from=MONDAY, day_to=MONDAY)
    assert len(expected) == 9  # the next day's sale is outside
    assert resp.text.count('<tr id="product-line-') == len(expected)
    assert f'id="sum-units">{sum(pl.quantity for pl in expected)}<' in resp.text
    assert f'id="sum-amount">{format_clp(sum(pl.subtotal for pl in expected))}<' in resp.text
    assert 'id="by-product"' in resp.text and "Espumante" in resp.text

    two_days = c.get(
        f"{PRODUCTS_URL}?fecha_inicio={MONDAY}&fecha_fin={MONDAY + timedelta(days=1)}&producto={sold['espumante'].id}"
    )
    esp = [
        pl
        for pl in _product_lines(db_session, day_from=MONDAY, day_to=MONDAY + timedelta(days=1))
        if pl.product_id == sold["espumante"].id
    ]
    assert f'id="sum-units">{sum(pl.quantity for pl in esp)}<' in two_days.text
    by_provider = c.get(f"{PRODUCTS_URL}?fecha_inicio={MONDAY}&fecha_fin={MONDAY}&proveedor={sold['ana'].id}")
    assert by_provider.text.count('<tr id="product-line-') == len(
        [pl for pl in expected if pl.product_id == sold["espumante"].id]
    )
    voided = c.get(f"{PRODUCTS_URL}?fecha_inicio={MONDAY}&fecha_fin={MONDAY}&incluir_anuladas=1")
    assert voided.text.count('<tr id="product-line-') == 9  # the one cancelled order had no products
    frag = c.get(f"{PRODUCTS_URL}?fecha_inicio={MONDAY}&fecha_fin={MONDAY}", headers=HX)
    assert frag.text.lstrip().startswith('<div id="products-sold">') and "<html" not in frag.text

    x = c.get(f"{PRODUCTS_URL}?fecha_inicio={MONDAY}&fecha_fin={MONDAY}&export=xlsx")
    assert re.fullmatch(
        r'attachment; filename="Productos_Vendidos_\d{8}_\d{6}\.xlsx"', x.headers["Content-Disposition"]
    )
    wb = load_workbook(io.BytesIO(x.data))
    assert wb.sheetnames == ["Productos Vendidos", "Por Producto", "Resumen"]
    ws = wb["Productos Vendidos"]
    assert [c.value for c in ws[1]] == [
        "ID Venta/Reserva",
        "Cliente",
        "Fecha Venta",
        "Proveedor",
        "Producto",
        "Cantidad",
        "Precio Unitario",
        "Monto Total",
    ]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(expected) and sum(r[7] for r in rows) == sum(pl.subtotal for pl in expected)
    assert isinstance(rows[0][2], datetime) and ws["C2"].number_format == "DD/MM/YYYY HH:MM"
    assert ws["H2"].number_format == "#,##0" and isinstance(rows[0][5], int)
    by_product = {r[0]: r for r in wb["Por Producto"].iter_rows(min_row=2, values_only=True)}
    assert by_product["Espumante"][2] == sum(pl.quantity for pl in expected if pl.product_id == sold["espumante"].id)
    assert by_product["Espumante"][1] == "Ana Soto"


def test_products_sold_counts_voided_only_when_asked(sold, login, db_session):
    order = sold["orders"][1]  # Juan, first Monday: jugo + espumante
    cancel_order(order, reason="Anulada", by=sold["gerente"])
    db_session.commit()
    c = login("gerente")
    base = c.get(f"{PRODUCTS_URL}?fecha_inicio={MONDAY}&fecha_fin={MONDAY}")
    assert base.text.count('<tr id="product-line-') == 9 - 2
    both = c.get(f"{PRODUCTS_URL}?fecha_inicio={MONDAY}&fecha_fin={MONDAY}&incluir_anuladas=1")
    assert both.text.count('<tr id="product-line-') == 9


def test_audit_log_filters_and_excel(sold, login, db_session):
    c = login("gerente")
    resp = c.get(f"{AUDIT_URL}?fecha_inicio={MONDAY}&fecha_fin={MONDAY}")
    assert resp.status_code == 200
    events = [
        e for e in db_session.scalars(sa.select(ClientEvent)) if e.created_at.astimezone(LOCAL_TZ).date() == MONDAY
    ]
    assert resp.text.count('<tr id="event-') == min(len(events), 100)
    assert f"{len(events)} movimientos" in resp.text

    by_type = c.get(f"{AUDIT_URL}?fecha_inicio={MONDAY}&fecha_fin={MONDAY}&tipo_movimiento=CANCELADA")
    n_cancel = len([e for e in events if e.event_type == "order_cancelled"])
    assert n_cancel >= 1 and by_type.text.count('<tr id="event-') == n_cancel
    by_user = c.get(f"{AUDIT_URL}?fecha_inicio={MONDAY}&fecha_fin={MONDAY}&usuario=gerente_rep")
    assert by_user.text.count('<tr id="event-') == len([e for e in events if e.user_id == sold["gerente"].id])
    system = c.get(f"{AUDIT_URL}?fecha_inicio={MONDAY}&fecha_fin={MONDAY}&usuario=sistema")
    assert system.text.count('<tr id="event-') == len([e for e in events if e.user_id is None])
    juan = sold["orders"][1].client_id
    by_phone = c.get(f"{AUDIT_URL}?fecha_inicio={MONDAY}&fecha_fin={MONDAY}&cliente=9 1234 5678")
    by_id = c.get(f"{AUDIT_URL}?fecha_inicio={MONDAY}&fecha_fin={MONDAY}&cliente={juan}")
    n_juan = len([e for e in events if e.client_id == juan])
    assert by_phone.text.count('<tr id="event-') == n_juan == by_id.text.count('<tr id="event-')
    oid = sold["orders"][0].id
    by_order = c.get(f"{AUDIT_URL}?fecha_inicio={MONDAY}&fecha_fin={MONDAY}&venta_reserva_id={oid}")
    assert by_order.text.count('<tr id="event-') == len([e for e in events if e.order_id == oid])
    nothing = c.get(f"{AUDIT_URL}?fecha_inicio={MONDAY}&fecha_fin={MONDAY}&tipo_movimiento=zzz&cliente=abc")
    assert nothing.status_code == 200 and "No hay movimientos" in nothing.text
    frag = c.get(f"{AUDIT_URL}?fecha_inicio={MONDAY}&fecha_fin={MONDAY}", headers=HX)
    assert frag.text.lstrip().startswith('<div id="audit-log">')

    x = c.get(f"{AUDIT_URL}?fecha_inicio={MONDAY}&fecha_fin={MONDAY}&export=excel")
    assert re.fullmatch(
        r'attachment; filename="Auditoria_Movimientos_\d{8}_\d{6}\.xlsx"', x.headers["Content-Disposition"]
    )
    wb = load_workbook(io.BytesIO(x.data))
    ws = wb["Movimientos"]
    assert wb.sheetnames[0] == "Movimientos"
    assert [c.value for c in ws[1]] == ["Fecha", "Cliente", "Tipo de Movimiento", "Descripción", "Usuario", "Venta N°"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(events) and isinstance(rows[0][0], datetime)
    assert ws["A2"].number_format == "DD/MM/YYYY HH:MM"
    assert {r[4] for r in rows} == {"sistema", "gerente_rep"}


def test_audit_log_pages_by_100(sold, login, db_session, make_client):
    client = make_client()
    from app.clients.services import record_event

    for i in range(130):
        record_event(client, "client_updated", f"cambio {i}")
    db_session.commit()
    c = login("gerente")
    first = c.get(f"{AUDIT_URL}?cliente={client.id}")
    assert first.text.count('<tr id="event-') == 100 and "Página 1 de 2" in first.text
    second = c.get(f"{AUDIT_URL}?cliente={client.id}&page=2")
    assert second.text.count('<tr id="event-') == 31  # + client_created


@pytest.mark.parametrize(
    "filters",
    [{}, {"incluir_canceladas": True}, {"estado": "cancelada"}, {"categoria": "masajes"}, {"servicio": "calipso"}],
)
@pytest.mark.parametrize("per_page", [1, 2, 5])
def test_service_pages_tile_the_rows_in_order(sold, db_session, filters, per_page):
    """The page statement (ids chosen on the lines first) gives exactly the rows of the full select, in order."""
    from app.reports import sold_queries as q
    from app.reports.filters import DateRange

    kw = {k: (sold[v].id if k in ("categoria", "servicio") else v) for k, v in filters.items()}
    f = q.ServiceSoldFilters(dates=DateRange(MONDAY, MONDAY + timedelta(days=14)), **kw)
    everything = [r.id for r in db_session.execute(q.services_sold_select(f))]
    assert everything
    pages = [
        [r.id for r in db_session.execute(q.services_sold_page_select(f, n, per_page))]
        for n in range(1, len(everything) // per_page + 2)
    ]
    assert [i for page in pages for i in page] == everything
    assert all(len(page) == per_page for page in pages[:-1])


@pytest.mark.parametrize("url", [SERVICES_URL, PRODUCTS_URL, AUDIT_URL])
def test_statement_counts_constant(url, booking_setup, login, db_session, count_statements, make_product):
    from tests.sales.test_statement_counts import add_orders

    s = booking_setup
    product = make_product(is_published=True, stock=1000)
    owner = book([(s["calipso"], MONDAY, "14:00", 1)], products=[(product, 1)])
    add_orders(db_session, s, owner.client_id, 2)
    db_session.commit()
    c = login("gerente")
    args = f"?fecha_inicio={MONDAY}&fecha_fin={MONDAY}&incluir_canceladas=1&incluir_anuladas=1"
    c.get(url + args)
    few_page = count_statements(lambda: c.get(url + args))
    few_frag = count_statements(lambda: c.get(url + args, headers=HX))
    for _ in range(20):
        book([], products=[(product, 2)], phone="+56987650000", name="Otro")
    add_orders(db_session, s, owner.client_id, 60)
    db_session.commit()
    assert count_statements(lambda: c.get(url + args)) == few_page
    assert count_statements(lambda: c.get(url + args, headers=HX)) == few_frag
    assert count_statements(lambda: c.get(url + args + "&page=2", headers=HX)) == few_frag
