"""Waitlist fixtures: a full Tina Calipso (capacity 1) at 14:00 on Monday 02/03/2026 and helpers to join and book."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

DAY = date(2026, 3, 2)  # booking_setup's Monday (now = 10:00 local)
_phones = itertools.count(1)


def next_phone() -> str:
    return f"+5699{next(_phones):07d}"


@pytest.fixture
def book(db_session):
    """book(service, hhmm, people=1, day=DAY) -> a desk order holding that slot."""
    from app.sales.checkout_services import CheckoutData, place_order
    from app.sales.services import LineRequest

    def do(service, hhmm="14:00", people=1, day=DAY, **data):
        lines = [LineRequest(service_id=service.id, day=day, hhmm=hhmm, people=people)]
        contact = CheckoutData(telefono=next_phone(), nombre="Ocupa Cupo", **data)
        return place_order(lines=lines, data=contact, origin="recepcion", staff=True)

    return do


@pytest.fixture
def join(db_session):
    """join(service, hhmm or None, people=1, day=DAY, email=None) -> a waiting entry."""
    from app.waitlist.services import JoinData, join_waitlist

    def do(service, hhmm="14:00", people=1, day=DAY, email=None, phone=None, name="Camila Rojas", idioma="es"):
        return join_waitlist(
            JoinData(
                nombre=name,
                telefono=phone or next_phone(),
                email=email,
                servicio_id=service.id,
                fecha=day,
                hora=hhmm,
                cantidad_personas=people,
                acepta_contacto=True,
                idioma=idioma,
            )
        )

    return do
