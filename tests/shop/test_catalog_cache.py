"""Issue 20 §2: the public pages' catalogue parts are cached per catalogue version; any change to a service or a
category (ORM flush or ORM statement) writes a new version in the same transaction, so no page shows a stale one."""

import sqlalchemy as sa

from app.catalog.models import Service, ServiceCategory
from app.catalog.version import KEY
from app.core.settings import Setting


def queries(db_session, fn) -> list[str]:
    """The statements fn() sends, without the test harness's own SAVEPOINT bookkeeping."""
    seen = []

    def listener(conn, cursor, statement, *args):
        if "SAVEPOINT" not in statement:
            seen.append(statement)

    target = db_session.get_bind()
    sa.event.listen(target, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        sa.event.remove(target, "before_cursor_execute", listener)
    return seen


def version(db_session):
    return db_session.scalar(sa.select(Setting.value).where(Setting.key == KEY))


def test_home_and_category_one_statement_when_fresh(client, booking_setup, db_session):
    category_id = booking_setup["calipso"].category_id
    grid = f"/?categoria={category_id}"
    for url in ("/", f"/ventas/categoria/{category_id}/", grid):
        assert client.get(url).status_code == 200
        assert len(queries(db_session, lambda url=url: client.get(url))) == 1, url  # the settings row read
    assert len(queries(db_session, lambda: client.get(grid, headers={"HX-Request": "true"}))) == 1


def test_a_change_through_the_orm_shows_at_once(client, booking_setup, db_session):
    calipso = booking_setup["calipso"]
    assert "Tina Calipso" in client.get("/").text
    before = version(db_session)
    calipso.name = "Tina Calipso Renovada"
    db_session.commit()
    assert version(db_session) != before
    home = client.get("/").text
    assert "Tina Calipso Renovada" in home
    assert "Tina Calipso Renovada" in client.get(f"/ventas/categoria/{calipso.category_id}/").text
    calipso.is_published = False
    db_session.commit()
    assert "Tina Calipso Renovada" not in client.get("/").text


def test_a_category_change_and_an_orm_statement_bump_the_version(client, booking_setup, db_session):
    category = db_session.get(ServiceCategory, booking_setup["calipso"].category_id)
    client.get("/")
    before = version(db_session)
    category.name = "Tinas del Bosque"
    db_session.commit()
    after = version(db_session)
    assert after != before
    assert "Tinas del Bosque" in client.get("/").text
    assert "Tinas del Bosque" in client.get(f"/ventas/categoria/{category.id}/").text
    db_session.execute(sa.update(Service).where(Service.id == booking_setup["calipso"].id).values(name="Tina Nueva"))
    db_session.commit()
    assert version(db_session) != after
    assert "Tina Nueva" in client.get("/").text


def test_each_language_has_its_own_cached_parts(client, booking_setup):
    assert "Reservar" in client.get("/?lang=es").text
    english = client.get("/?lang=en").text
    assert "Reservar</a>" not in english and "Book" in english
    assert "Reservar" in client.get("/?lang=es").text


def test_a_missing_category_is_still_404(client, booking_setup):
    assert client.get("/ventas/categoria/999999/").status_code == 404
    assert client.get("/ventas/categoria/999999/").status_code == 404


def test_service_page_reads_settings_and_the_month_only(client, booking_setup, db_session):
    """Issue 20: the month the panel opens on is read with the request's settings in one statement, the service's
    own values come from the catalogue cache, the chosen day's hours from the month's facts; the hours fragment
    (no month) reads the day with the settings."""
    url = f"/ventas/servicio/{booking_setup['calipso'].id}/"
    assert client.get(url).status_code == 200
    assert len(queries(db_session, lambda: client.get(url))) == 1
    assert len(queries(db_session, lambda: client.get(url + "?mes=2026-04", headers={"HX-Request": "true"}))) == 1
    assert len(queries(db_session, lambda: client.get(url + "?fecha=2026-03-09"))) == 1
    assert client.get(url + "?fecha=2026-03-09").text.count('aria-current="date"') == 1
    assert client.get("/ventas/servicio/99999/").status_code == 404
    hours = url + "horas/?fecha=2026-03-09&cantidad_personas=2"
    assert client.get(hours).status_code == 200
    assert len(queries(db_session, lambda: client.get(hours, headers={"HX-Request": "true"}))) == 1


def test_a_service_change_shows_on_its_page_at_once(client, booking_setup, db_session):
    calipso = booking_setup["calipso"]
    url = f"/ventas/servicio/{calipso.id}/"
    assert "Tina Calipso" in client.get(url).text
    calipso.name, calipso.max_people = "Tina Calipso Renovada", 6
    db_session.commit()
    page = client.get(url).text
    assert "Tina Calipso Renovada" in page and '<option value="6"' in page
    calipso.slot_grid = {**calipso.slot_grid, "tuesday": ["15:00"]}
    db_session.commit()
    assert "martes 3 de marzo: con horarios" in client.get(url).text
    calipso.is_published = False
    db_session.commit()
    assert client.get(url).status_code == 404
    assert client.get(url + "horas/?fecha=2026-03-09").status_code == 404


def test_available_hours_read_the_settings_with_the_context(client, booking_setup, db_session):
    """Issue 20: get-available-hours reads the request's settings in its one statement, and honours them."""
    from app.core.settings import save_settings

    url = f"/ventas/get-available-hours/?servicio_id={booking_setup['calipso'].id}&fecha=2026-03-09"
    assert client.get(url).json["horas_disponibles"] == ["14:00", "17:00"]
    assert len(queries(db_session, lambda: client.get(url))) == 1
    save_settings({"BOOKING_HORIZON_DAYS": 3})
    db_session.commit()
    body = client.get(url).json
    assert body["horas_disponibles"] == [] and {e["motivo"] for e in body["detalle"]} == {"fuera_de_plazo"}
    missing = client.get("/ventas/get-available-hours/?servicio_id=99999&fecha=2026-03-09")
    assert missing.status_code == 404 and missing.json["error"] == "Servicio no encontrado."
