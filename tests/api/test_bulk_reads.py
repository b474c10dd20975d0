"""Bulk reads for automation (issue 20 item 5, docs/API.md «Lecturas masivas»): keyset `cursor` pages of up to
1,000 rows without COUNT, and the NDJSON exports of clients, orders and payments with `updated_since`."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.core.clock import LOCAL_TZ
from tests.api.conftest import MONDAY


def walk_cursor(caller, path: str, size: int, inserted=None) -> list[dict]:
    """Every item of `path` following `next_cursor`; `inserted()` runs between pages."""
    items, cursor = [], ""
    while True:
        sep = "&" if "?" in path else "?"
        resp = caller.get(f"{path}{sep}cursor={cursor}&page_size={size}")
        assert resp.status_code == 200, resp.json
        body = resp.json
        assert set(body) == {"next_cursor", "next", "results"}  # no count
        items += body["results"]
        if body["next_cursor"] is None:
            assert body["next"] is None
            return items
        assert len(body["results"]) == size and f"cursor={body['next_cursor']}" in body["next"]
        cursor = body["next_cursor"]
        if inserted:
            inserted()


def walk_pages(caller, path: str) -> list[dict]:
    items, page = [], 1
    while True:
        body = caller.get(f"{path}?page={page}&page_size=200").json
        items += body["results"]
        if body["next"] is None:
            return items
        page += 1


def ndjson(resp) -> list[dict]:
    assert resp.status_code == 200 and resp.mimetype == "application/x-ndjson"
    text = resp.get_data(as_text=True)
    assert text == "" or text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def place(booking_setup, client, hhmm: str = "14:00", *, cancel_by=None):
    """An order for Tina Calipso at `hhmm` (14:00 or 17:00); with `cancel_by`, cancelled to free the slot again."""
    from app.sales import checkout_services
    from app.sales import services as sales_services

    order = checkout_services.place_order(
        lines=[sales_services.LineRequest(service_id=booking_setup["calipso"].id, day=MONDAY, hhmm=hhmm, people=2)],
        data=checkout_services.CheckoutData(telefono=client.phone, nombre=client.name),
        origin="recepcion",
        staff=True,
    )
    if cancel_by is not None:
        sales_services.cancel_order(order, reason="liberar cupo", by=cancel_by)
    return order


def test_cursor_walk_equals_page_walk_for_clients(api, make_client, db_session):
    for _ in range(7):
        make_client()
    db_session.flush()
    desk = api("recepcion")
    pages = walk_pages(desk, "/ventas/api/clientes/")
    assert [c["id"] for c in pages] == sorted(c["id"] for c in pages) and len(pages) >= 7
    assert walk_cursor(desk, "/ventas/api/clientes/", 3) == pages
    assert walk_cursor(desk, "/ventas/api/clientes/", 1000) == pages
    # filters apply to the cursor walk as to the pages
    one = pages[2]
    assert walk_cursor(desk, f"/ventas/api/clientes/?telefono={one['telefono']}", 2) == [one]


def test_cursor_is_stable_under_inserts(api, make_client, db_session):
    for _ in range(6):
        make_client()
    db_session.flush()
    desk = api("recepcion")
    before = walk_cursor(desk, "/ventas/api/clientes/", 2)
    added = []

    def insert():
        added.append(make_client())
        db_session.flush()

    during = walk_cursor(desk, "/ventas/api/clientes/", 2, inserted=insert)
    ids = [c["id"] for c in during]
    assert len(ids) == len(set(ids))  # nothing repeated, nothing skipped
    assert ids[: len(before)] == [c["id"] for c in before]
    assert set(ids) - {c["id"] for c in before} <= {c.id for c in added}


def test_cursor_on_orders_walks_newest_first(api, booking_setup, make_client, make_user, db_session):
    owner, gerente = make_client(), make_user("gerente")
    for _ in range(4):
        place(booking_setup, owner, cancel_by=gerente)
    db_session.flush()
    desk = api("recepcion")
    pages = walk_pages(desk, "/ventas/api/ventasreservas/")
    assert len(pages) == 4 and [o["id"] for o in pages] == sorted((o["id"] for o in pages), reverse=True)
    assert walk_cursor(desk, "/ventas/api/ventasreservas/", 3) == pages

    def insert():  # a newer order lands before the cursor: the walk goes on unchanged
        place(booking_setup, owner, cancel_by=gerente)
        db_session.flush()

    assert walk_cursor(desk, "/ventas/api/ventasreservas/", 1, inserted=insert) == pages


def test_page_size_bounds(api):
    desk = api("recepcion")
    assert desk.get("/ventas/api/clientes/?cursor=&page_size=1000").status_code == 200
    too_big = desk.get("/ventas/api/clientes/?cursor=&page_size=1001")
    assert too_big.status_code == 400 and too_big.json["detail"]["page_size"] == ["Debe ser un entero entre 1 y 1000."]
    assert desk.get("/ventas/api/clientes/?cursor=&page_size=0").status_code == 400
    # the offset pages keep the spec's maximum (api.md §4: 200)
    assert desk.get("/ventas/api/clientes/?page_size=201").status_code == 400
    for forged in ("abc", "aWQ6LTE", "!!", "aWQ6eA"):
        bad = desk.get(f"/ventas/api/clientes/?cursor={forged}")
        assert bad.status_code == 400 and bad.json["detail"]["cursor"] == ["Cursor inválido."], forged


def test_cursor_page_runs_no_count(api, make_client, db_session):
    for _ in range(3):
        make_client()
    db_session.flush()
    desk = api("recepcion")
    desk.get("/ventas/api/clientes/?cursor=&page_size=2")  # warm-up: the token's first use is recorded
    bind = db_session.get_bind()
    target = bind.engine if hasattr(bind, "engine") else bind
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement.lower())

    sa.event.listen(target, "before_cursor_execute", record)
    try:
        first = desk.get("/ventas/api/clientes/?cursor=&page_size=2").json
        assert desk.get(f"/ventas/api/clientes/?cursor={first['next_cursor']}&page_size=2").status_code == 200
    finally:
        sa.event.remove(target, "before_cursor_execute", record)
    client_selects = [s for s in statements if "from clients" in s]
    assert len(client_selects) == 2 and not any("count(" in s for s in client_selects)
    assert "clients.id >" in client_selects[1]  # keyset, not OFFSET (SQLite renders a constant `OFFSET 0`)


def test_exports_equal_the_list_contents(api, booking_setup, make_client, db_session):
    owner = make_client()
    make_client()
    order = place(booking_setup, owner)
    place(booking_setup, owner, "17:00")
    db_session.flush()
    desk = api("recepcion")
    assert (
        desk.post(
            "/ventas/api/pagos/", json={"venta_reserva": order.id, "monto": 10000, "metodo_pago": "efectivo"}
        ).status_code
        == 201
    )
    for name in ("clientes", "ventasreservas", "pagos"):
        listed = walk_pages(desk, f"/ventas/api/{name}/")
        exported = ndjson(desk.get(f"/ventas/api/{name}/export.ndjson"))
        assert listed and exported == sorted(listed, key=lambda item: item["id"]), name
    filtered = ndjson(desk.get(f"/ventas/api/clientes/export.ndjson?telefono={owner.phone}"))
    assert [c["id"] for c in filtered] == [owner.id]


def test_export_walks_in_batches(api, make_client, db_session, monkeypatch):
    from app.api import resource_views

    monkeypatch.setattr(resource_views, "EXPORT_BATCH", 2)
    for _ in range(5):
        make_client()
    db_session.flush()
    desk = api("recepcion")
    assert ndjson(desk.get("/ventas/api/clientes/export.ndjson")) == walk_pages(desk, "/ventas/api/clientes/")


def test_updated_since(api, booking_setup, make_client, db_session, freeze_clock):
    from app.clients.models import Client
    from app.sales.payment_services import record_payment

    desk = api("recepcion")
    old = make_client(name="Antigua")
    old_order = place(booking_setup, old)
    db_session.flush()
    db_session.execute(
        sa.update(Client).where(Client.id == old.id).values(updated_at=datetime(2026, 1, 1, tzinfo=LOCAL_TZ))
    )
    freeze_clock(datetime(2026, 3, 2, 12, 0, tzinfo=LOCAL_TZ))
    recent = make_client(name="Reciente")
    new_order = place(booking_setup, recent, "17:00")
    payment = record_payment(old_order, amount=5000, method="efectivo", by=None)
    db_session.flush()
    since = "2026-03-02T11:00:00-03:00"
    clients = ndjson(desk.get(f"/ventas/api/clientes/export.ndjson?updated_since={since}"))
    assert recent.id in {c["id"] for c in clients} and old.id not in {c["id"] for c in clients}
    orders = ndjson(desk.get(f"/ventas/api/ventasreservas/export.ndjson?updated_since={since}"))
    assert [o["id"] for o in orders] == [old_order.id, new_order.id]  # the old one got a payment
    payments = ndjson(desk.get(f"/ventas/api/pagos/export.ndjson?updated_since={since}"))
    assert [p["id"] for p in payments] == [payment.id]
    later = (datetime(2026, 3, 2, 12, 0, tzinfo=LOCAL_TZ) + timedelta(minutes=1)).isoformat()
    assert ndjson(desk.get(f"/ventas/api/pagos/export.ndjson?updated_since={later.replace('+', '%2B')}")) == []
    naive = ndjson(desk.get("/ventas/api/ventasreservas/export.ndjson?updated_since=2026-03-02T11:59"))
    assert [o["id"] for o in naive] == [old_order.id, new_order.id]  # naive = America/Santiago
    for bad in ("ayer", "2026-13-01T00:00", "2026-03-02", "2026-03-02T25:00"):
        resp = desk.get(f"/ventas/api/clientes/export.ndjson?updated_since={bad}")
        assert resp.status_code == 400 and "updated_since" in resp.json["detail"], bad
    assert desk.get("/ventas/api/clientes/export.ndjson?segmento=nada").status_code == 400


def test_export_roles(api, client):
    assert client.get("/ventas/api/clientes/export.ndjson").status_code == 401
    assert api("marketing").get("/ventas/api/clientes/export.ndjson").status_code == 200
    assert api("marketing").get("/ventas/api/pagos/export.ndjson").status_code == 403
    assert api("recepcion").get("/ventas/api/pagos/export.ndjson").status_code == 200


def test_openapi_documents_cursor_and_exports(client):
    doc = client.get("/ventas/api/openapi.json").json
    paths = doc["paths"]
    for name in ("clientes", "ventasreservas", "pagos"):
        export = paths[f"/ventas/api/{name}/export.ndjson"]["get"]
        assert "application/x-ndjson" in export["responses"]["200"]["content"]
        assert "updated_since" in {p["name"] for p in export["parameters"]}
    listing = paths["/ventas/api/clientes/"]["get"]
    params = {p["name"]: p for p in listing["parameters"]}
    assert params["page_size"]["schema"]["maximum"] == 1000 and "cursor" in params
    assert set(doc["components"]["schemas"]["ClientesCursorPage"]["required"]) == {"next_cursor", "next", "results"}


def test_cursor_walk_equals_page_walk_for_every_resource(api, booking_setup, make_client, make_product, db_session):
    from app.api.resource_views import RESOURCES

    owner = make_client()
    make_product()
    order = place(booking_setup, owner)
    place(booking_setup, owner, "17:00")
    db_session.flush()
    admin = api("admin")
    assert (
        admin.post(
            "/ventas/api/pagos/", json={"venta_reserva": order.id, "monto": 10000, "metodo_pago": "efectivo"}
        ).status_code
        == 201
    )
    for res in RESOURCES:
        path = f"/ventas/api/{res.name}/"
        pages = walk_pages(admin, path)
        assert walk_cursor(admin, path, 2) == pages, res.name
