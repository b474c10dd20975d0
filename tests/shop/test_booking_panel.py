"""The booking panel (D11, D12): month calendar, first free day, durations, the add button, Ver horarios by GET."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from app.core import clock
from app.core.clock import LOCAL_TZ

HX = {"HX-Request": "true"}


@pytest.fixture
def calipso(booking_setup):
    return booking_setup["calipso"]


def day_cell(page: str, iso: str) -> str:
    """The calendar cell (link or span) of one day."""
    d = datetime.fromisoformat(iso)
    months = (
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    )
    pattern = r'<(a|span) class="cal-day[^>]*(aria-label|title)="[a-zé]+ {} de {}: [^"]*"[^>]*>'
    match = re.search(pattern.format(d.day, months[d.month - 1]), page)
    assert match, iso
    return match.group(0)


def test_calendar_greys_closed_full_and_past_days_and_links_the_others(client, calipso):
    page = client.get(f"/ventas/servicio/{calipso.id}/").text  # Monday 02/03/2026 10:00
    assert 'id="booking-calendar"' in page and "Marzo 2026" in page
    assert day_cell(page, "2026-03-01").startswith('<span class="cal-day cal-pasado')  # Sunday, past
    monday = day_cell(page, "2026-03-02")
    assert monday.startswith("<a ") and "lunes 2 de marzo: con horarios" in monday and 'aria-current="date"' in monday
    assert f'href="/ventas/servicio/{calipso.id}/?fecha=2026-03-02&amp;cantidad_personas=1"' in monday
    assert "hx-get=" in monday and 'hx-target="#booking-panel"' in monday
    assert day_cell(page, "2026-03-03").startswith('<span class="cal-day cal-cerrado')  # Tuesday: no grid
    assert "martes 3 de marzo: cerrado" in day_cell(page, "2026-03-03")
    assert day_cell(page, "2026-03-04").startswith("<a ")  # Wednesday 14:00
    # fill Wednesday 04/03 (capacity 1, one slot): it reads "sin cupos" and is not a link any more
    client.post(
        "/ventas/add-to-cart/",
        data={"servicio_id": calipso.id, "fecha": "2026-03-04", "hora": "14:00", "cantidad_personas": 1},
    )
    other = client.application.test_client()
    page = other.get(f"/ventas/servicio/{calipso.id}/").text
    assert day_cell(page, "2026-03-04").startswith('<span class="cal-day cal-agotado')
    # next month by link, without JavaScript; the fragment for HTMX
    april = other.get(f"/ventas/servicio/{calipso.id}/?mes=2026-04")
    assert "Abril 2026" in april.text and 'aria-label="Mes anterior"' in april.text
    frag = other.get(f"/ventas/servicio/{calipso.id}/?mes=2026-04", headers=HX)
    assert frag.text.lstrip().startswith('<section id="booking-panel"') and "Abril 2026" in frag.text
    assert "lunes 6 de abril" in frag.text and 'value="2026-04-01"' in frag.text  # 01/04 is a Wednesday


def test_calendar_month_is_one_statement(client, calipso, count_statements):
    from app.shop.calendar_queries import month_days

    with client.application.test_request_context():
        month_days(calipso, datetime(2026, 4, 1).date(), 2)  # loads the service row once
        states = {}
        n = count_statements(lambda: states.update(month_days(calipso, datetime(2026, 3, 1).date(), 2)))
    assert n == 1 and len(states) == 31
    assert states[datetime(2026, 3, 9).date()] == "disponible" and states[datetime(2026, 3, 10).date()] == "cerrado"


def test_panel_opens_on_the_next_day_with_a_free_slot(client, calipso, freeze_clock):
    freeze_clock(datetime(2026, 3, 2, 21, 30, tzinfo=LOCAL_TZ))  # Monday evening: both slots past
    page = client.get(f"/ventas/servicio/{calipso.id}/").text
    assert 'id="fecha"' in page and 'value="2026-03-04"' in page  # Wednesday, not today
    assert "Horario — miércoles 4 de marzo de 2026" in page
    today = client.get(f"/ventas/servicio/{calipso.id}/?fecha=2026-03-02").text
    assert '<span class="slot-time">14:00</span> <span class="d-block small slot-state">Ya pasó</span>' in today


def test_durations_read_as_hours_and_nights(client, booking_setup):
    from app.shop.booking_views import duration_label

    assert duration_label(1440, "cabana") == "1 noche" and duration_label(2880, "cabana") == "2 noches"
    assert duration_label(90, "masaje") == "1 h 30 min" and duration_label(60) == "1 h"
    assert duration_label(45) == "45 min" and duration_label(120, "tina") == "2 h"
    cabin = booking_setup["arrayan"]
    cabin.duration_minutes = 1440
    page = client.get(f"/ventas/servicio/{cabin.id}/").text
    assert "1 noche" in page and "1440 min" not in page
    assert "1 noche" in client.get("/").text


def test_add_button_disabled_on_a_closed_day_and_error_shown_once(client, calipso):
    closed = client.get(f"/ventas/servicio/{calipso.id}/horas/?fecha=2026-03-03", headers=HX).text
    assert "Cerrado este día" in closed
    assert re.search(r'<button[^>]*id="add-to-cart"[^>]*disabled', closed)
    open_day = client.get(f"/ventas/servicio/{calipso.id}/horas/?fecha=2026-03-02", headers=HX).text
    assert not re.search(r'<button[^>]*id="add-to-cart"[^>]*disabled', open_day)
    missing_hour = client.post(
        "/ventas/add-to-cart/",
        data={"servicio_id": calipso.id, "fecha": "2026-03-02", "cantidad_personas": 1},
        headers=HX,
    )
    assert missing_hour.status_code == 422
    assert missing_hour.text.count("Elija una fecha, un horario y la cantidad de personas.") == 1


def test_ver_horarios_is_a_get_form_without_the_csrf_token(client, calipso):
    page = client.get(f"/ventas/servicio/{calipso.id}/").text
    query_form = re.search(r'<form id="booking-query" method="get" action="([^"]+)"></form>', page)
    assert query_form and query_form.group(1) == f"/ventas/servicio/{calipso.id}/"
    assert re.search(r'<input class="form-control" type="date" id="fecha" name="fecha" form="booking-query"', page)
    assert 'name="cantidad_personas" form="booking-query"' in page
    assert '<button class="btn btn-outline-secondary btn-touch mt-2" type="submit" form="booking-query">' in page
    # the only fields of the GET form are the date and the people: what a browser puts in the URL
    get_fields = re.findall(r'name="([a-z_]+)"[^>]*form="booking-query"', page)
    assert sorted(get_fields) == ["cantidad_personas", "fecha"]
    chosen = client.get(f"/ventas/servicio/{calipso.id}/?fecha=2026-03-09&cantidad_personas=3").text
    assert 'name="fecha" value="2026-03-09"' in chosen and 'name="cantidad_personas" value="3"' in chosen
    assert "Total: $75.000" in chosen


def test_add_to_cart_same_submission_key_twice_holds_once(client, booking_setup, db_session):
    import sqlalchemy as sa

    from app.sales.models import CartHold

    grande = booking_setup["grande"]  # capacity 2: a double click would hold twice
    data = {
        "servicio_id": grande.id,
        "fecha": "2026-03-02",
        "hora": "19:00",
        "cantidad_personas": 2,
        "submission_key": "add-key-1",
    }
    first = client.post("/ventas/add-to-cart/", data=data, headers=HX)
    second = client.post("/ventas/add-to-cart/", data=data, headers=HX)
    assert first.status_code == 200 and second.status_code == 409
    assert "Este formulario ya fue enviado" in second.text
    assert db_session.scalar(sa.select(sa.func.count()).select_from(CartHold)) == 1
    assert clock.today().isoformat() == "2026-03-02"


def test_month_contexts_equal_the_days_own_contexts(client, booking_setup, db_session):
    """The calendar's one read of the month gives every day the context get-available-hours reads for that day
    (blocks, slot blocks, lines, live holds; the massages' therapists), so the calendar and the hours agree."""
    from datetime import date

    from app.catalog.models import ProviderAbsence, ServiceBlock, SlotBlock
    from app.sales.availability import slot_availability, slot_motives
    from app.sales.queries import load_slot_context
    from app.shop.calendar_queries import day_state, month_contexts

    s = booking_setup
    db_session.add_all(
        [
            ServiceBlock(
                service_id=s["calipso"].id, start_date=date(2026, 3, 14), end_date=date(2026, 4, 2), reason="x"
            ),
            ServiceBlock(service_id=None, start_date=date(2026, 3, 30), end_date=date(2026, 3, 30), reason="todo"),
            SlotBlock(service_id=s["relajacion"].id, date=date(2026, 3, 9), time="13:00", reason="aseo"),
            ProviderAbsence(
                provider_id=s["berta"].id, start_date=date(2026, 3, 16), end_date=date(2026, 4, 6), reason="x"
            ),
        ]
    )
    db_session.commit()
    for n, (service, day, hhmm) in enumerate(
        [
            ("calipso", "2026-03-04", "14:00"),
            ("relajacion", "2026-03-09", "14:15"),
            ("grande", "2026-03-16", "19:00"),
            ("descontracturante", "2026-03-16", "13:00"),  # Ana, the only one left on the 16th
            ("relajacion", "2026-04-06", "13:00"),
        ]
    ):
        other = client.application.test_client()
        data = {"servicio_id": s[service].id, "fecha": day, "hora": hhmm, "cantidad_personas": 2 if n == 2 else 1}
        assert other.post("/ventas/add-to-cart/", data=data).status_code == 303
    with client.application.test_request_context():
        for name in ("calipso", "grande", "relajacion", "descontracturante", "arrayan"):
            service = s[name]
            for first in (date(2026, 3, 1), date(2026, 4, 1)):
                contexts = month_contexts(service, first)
                assert min(contexts) == max(first, date(2026, 3, 2)) and len(contexts) >= 28
                for day, ctx in contexts.items():
                    own = load_slot_context(service, day)
                    ctx.now_local = own.now_local  # read a moment apart
                    for c in (ctx, own):  # a therapist's busy intervals in any order
                        c.busy = {pid: sorted(b, key=lambda b: (b.start, b.end)) for pid, b in c.busy.items()}
                    assert ctx == own, (name, day)
                    for people in (None, 1, 2, 9):
                        entries = slot_availability(own, people)
                        assert [e.motivo for e in entries] == list(slot_motives(ctx, people))
                        assert day_state(e.motivo for e in entries) == day_state(slot_motives(ctx, people))
