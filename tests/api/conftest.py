"""API test helpers: bearer headers per role, a seeded order."""

from __future__ import annotations

from datetime import date

import pytest

MONDAY = date(2026, 3, 2)


@pytest.fixture
def token_for(make_user, db_session):
    """token_for(role) -> headers with a fresh personal token of a new user of that role."""
    from app.auth.services import create_api_token

    def make(role: str = "recepcion", user=None, **kw) -> dict:
        user = user or make_user(role)
        _, raw = create_api_token(user, **kw)
        db_session.flush()
        return {"Authorization": f"Bearer {raw}"}

    return make


@pytest.fixture
def api(client, token_for):
    """api(role) -> a small client whose calls carry that role's bearer token."""

    class Api:
        def __init__(self, headers):
            self.headers = headers

        def __getattr__(self, method):
            def call(path, json=None, headers=None, **kw):
                return getattr(client, method)(path, json=json, headers={**self.headers, **(headers or {})}, **kw)

            return call

    return lambda role="recepcion": Api(token_for(role))


@pytest.fixture
def placed_order(booking_setup, make_client):
    """An order for Tina Calipso Monday 14:00, 2 people ($50.000), placed through the booking service."""
    from app.sales import checkout_services
    from app.sales import services as sales_services

    client = make_client(name="María Pérez", phone="+56987654321")
    return checkout_services.place_order(
        lines=[sales_services.LineRequest(service_id=booking_setup["calipso"].id, day=MONDAY, hhmm="14:00", people=2)],
        data=checkout_services.CheckoutData(telefono=client.phone, nombre=client.name),
        origin="recepcion",
        staff=True,
    )
