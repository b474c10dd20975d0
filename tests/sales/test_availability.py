"""Availability policy table (spec catalog.md §4 and §6) on pure SlotContexts, incl. DST change days."""

from datetime import date, datetime

import pytest

from app.core.clock import LOCAL_TZ
from app.sales.availability import (
    Busy,
    ServiceInfo,
    SlotContext,
    booking_status,
    check_slot,
    compute_totals,
    payment_status,
    slot_availability,
    slot_start,
)

MONDAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=LOCAL_TZ)
GRID = {
    "monday": ["14:00", "17:00"],
    "tuesday": [],
    "wednesday": ["14:00"],
    "thursday": [],
    "friday": [],
    "saturday": ["19:00"],
    "sunday": ["19:00"],
}


def tina(**kw):
    values = dict(
        id=1,
        name="Tina Calipso",
        service_type="tina",
        is_active=True,
        is_published=True,
        min_people=1,
        max_people=4,
        capacity=1,
        duration_minutes=120,
        grid=GRID,
    )
    values.update(kw)
    return ServiceInfo(**values)


def ctx(service=None, day=MONDAY, now=NOW, **kw):
    return SlotContext(service=service or tina(), day=day, now_local=now, **kw)


def motivo(context, hhmm="14:00", people=None):
    return check_slot(context, hhmm, people).motivo


def test_monday_hours_one_place_each():
    entries = slot_availability(ctx())
    assert [(e.hora, e.disponibles, e.reservable) for e in entries] == [("14:00", 1, True), ("17:00", 1, True)]


@pytest.mark.parametrize(
    "context, hhmm, people, expected",
    [
        (ctx(service=tina(is_active=False)), "14:00", None, "servicio_no_disponible"),
        (ctx(service=tina(is_published=False)), "14:00", None, "servicio_no_disponible"),
        (ctx(day=date(2026, 3, 1)), "19:00", None, "fecha_pasada"),
        (ctx(day=date(2027, 3, 3), horizon_days=365), "14:00", None, "fuera_de_plazo"),
        (ctx(day=date(2026, 3, 3)), "14:00", None, "dia_sin_horario"),
        (ctx(), "15:00", None, "hora_invalida"),
        (ctx(block_reason="Mantención"), "14:00", None, "bloqueado"),
        (ctx(slot_blocks={"14:00": "Evento"}), "14:00", None, "bloqueado"),
        (ctx(now=datetime(2026, 3, 2, 14, 5, tzinfo=LOCAL_TZ)), "14:00", None, "hora_pasada"),
        (ctx(now=datetime(2026, 3, 2, 12, 30, tzinfo=LOCAL_TZ), lead_minutes=120), "14:00", None, "hora_pasada"),
        (ctx(now=datetime(2026, 3, 2, 12, 30, tzinfo=LOCAL_TZ), lead_minutes=120), "17:00", None, None),
        (ctx(), "14:00", 5, "personas_fuera_de_rango"),
        (ctx(), "14:00", 0, "personas_fuera_de_rango"),
        (ctx(), "14:00", 4, None),
        (ctx(occupied={"14:00": 1}), "14:00", None, "sin_cupo"),
        (ctx(service=tina(capacity=2), occupied={"14:00": 1}), "14:00", None, None),
        (ctx(service=tina(capacity=2), occupied={"14:00": 2}), "14:00", None, "sin_cupo"),
    ],
)
def test_check_order_and_reasons(context, hhmm, people, expected):
    assert motivo(context, hhmm, people) == expected


def test_people_message_uses_range():
    assert check_slot(ctx(), "14:00", 5).mensaje == "La cantidad de personas debe estar entre 1 y 4."


def test_staff_mode_differs_only_in_checks_1_3_7():
    started = datetime(2026, 3, 2, 14, 5, tzinfo=LOCAL_TZ)
    assert motivo(ctx(now=started, staff=True)) is None  # recepcion can still book today's 14:00
    assert motivo(ctx(service=tina(is_published=False), staff=True)) is None
    assert motivo(ctx(day=date(2027, 6, 1), staff=True, service=tina(grid={"tuesday": ["14:00"]}))) is None
    assert motivo(ctx(day=date(2026, 3, 1), staff=True), "19:00") == "fecha_pasada"
    assert motivo(ctx(service=tina(is_active=False), staff=True)) == "servicio_no_disponible"
    assert motivo(ctx(occupied={"14:00": 1}, staff=True)) == "sin_cupo"


def massage(**kw):
    return tina(
        id=2,
        name="Masaje Relajación",
        service_type="masaje",
        max_people=1,
        duration_minutes=60,
        grid={"monday": ["13:00", "14:15"]},
        capacity=3,
        **kw,
    )


def test_massage_needs_free_qualified_provider_least_loaded_first():
    base = dict(service=massage(), qualified=[(10, "Ana"), (11, "Berta")])
    assert check_slot(ctx(**base), "13:00").proveedores_libres == [10, 11]
    ana_busy = {10: [Busy(slot_start(MONDAY, "13:00"), slot_start(MONDAY, "14:00"))]}
    assert check_slot(ctx(**base, busy=ana_busy, load={10: 1}), "13:00").proveedores_libres == [11]
    both = {**ana_busy, 11: [Busy(slot_start(MONDAY, "12:30"), slot_start(MONDAY, "13:30"))]}
    entry = check_slot(ctx(**base, busy=both), "13:00")
    assert entry.motivo == "sin_terapeuta" and entry.mensaje == "No hay terapeuta disponible en ese horario."
    # busy 13:00-14:00 does not overlap 14:15
    assert check_slot(ctx(**base, busy=both), "14:15").reservable
    # load decides between two free providers, then the id
    assert check_slot(ctx(**base, load={10: 2, 11: 1}), "14:15").proveedores_libres == [11, 10]
    assert motivo(ctx(service=massage(), qualified=[]), "13:00") == "sin_terapeuta"


@pytest.mark.parametrize(
    "day",
    [date(2026, 4, 5), date(2026, 9, 6), date(2026, 4, 4), date(2026, 9, 5)],  # Chile's 2026 DST change days
)
def test_dst_change_days_keep_every_slot(day):
    grid = {k: ["14:00", "17:00", "22:00"] for k in GRID}
    entries = slot_availability(ctx(service=tina(grid=grid), day=day, now=datetime(2026, 1, 1, 0, 0, tzinfo=LOCAL_TZ)))
    assert [e.hora for e in entries] == ["14:00", "17:00", "22:00"] and all(e.reservable for e in entries)
    starts = [slot_start(day, e.hora) for e in entries]
    assert [s.astimezone(LOCAL_TZ).strftime("%H:%M") for s in starts] == ["14:00", "17:00", "22:00"]
    assert len(set(starts)) == 3


def test_totals_and_states_worked_examples():
    t = compute_totals([50000], [], [], [])
    assert (t.total, t.balance_due, t.credit) == (50000, 50000, 0)
    t = compute_totals([50000], [], [(5000, None)], [10000])
    assert (t.discount_total, t.total, t.paid, t.balance_due) == (5000, 45000, 10000, 35000)
    assert payment_status(cancelled=False, total=45000, paid=10000, has_refund=False) == "parcial"
    t = compute_totals([50000], [], [(5000, None)], [10000, 100000])
    assert (t.balance_due, t.credit) == (0, 65000)
    t = compute_totals([60000], [], [(0, 15)], [])
    assert (t.discount_total, t.total) == (9000, 51000)
    t = compute_totals([60000], [3000], [(0, 15)], [])
    assert (t.discount_total, t.total) == (9450, 53550)
    t = compute_totals([10000], [], [(20000, None)], [])
    assert (t.discount_total, t.total) == (10000, 0)
    assert payment_status(cancelled=False, total=0, paid=0, has_refund=False) == "pagado"
    assert payment_status(cancelled=True, total=50000, paid=0, has_refund=True) == "reembolsado"
    assert payment_status(cancelled=True, total=50000, paid=20000, has_refund=False) == "cancelado"


@pytest.mark.parametrize(
    "statuses, expected",
    [
        ([], "pendiente"),
        (["cancelada"], "cancelada"),
        (["no_show", "cancelada"], "no_show"),
        (["checkout", "no_show"], "checkout"),
        (["checkin", "pendiente"], "checkin"),
        (["pendiente"], "pendiente"),
    ],
)
def test_booking_status(statuses, expected):
    assert booking_status(cancelled=False, line_statuses=statuses) == expected
