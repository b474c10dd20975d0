"""CRM fixtures: clients with visits/spend in known segments, campaigns."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from app.core.clock import LOCAL_TZ

TODAY = date(2026, 3, 2)


@pytest.fixture
def crm_now(freeze_clock):
    freeze_clock(datetime(2026, 3, 2, 10, 0, tzinfo=LOCAL_TZ))
    return TODAY


@pytest.fixture
def add_visits(db_session, make_service, crm_now):
    """add_visits(client, visits=N, spend=X): N past visits (one order each) and X paid on a future order."""
    from app.sales.models import Order, ServiceLine

    service = make_service()

    def add(client, *, visits=0, spend=0):
        for i in range(visits):
            order = Order(client_id=client.id, origin="recepcion", total=0, paid=0)
            db_session.add(order)
            db_session.flush()
            db_session.add(
                ServiceLine(
                    order_id=order.id,
                    service_id=service.id,
                    service_date=TODAY - timedelta(days=1 + i),
                    start_time="14:00",
                    people=1,
                    unit_price=0,
                    pricing_rule="por_persona",
                    subtotal=0,
                    status="pendiente",
                )
            )
        if spend:
            db_session.add(Order(client_id=client.id, origin="recepcion", total=spend, paid=spend))
        db_session.flush()
        return client

    return add


@pytest.fixture
def make_campaign(db_session):
    from app.crm.services import save_campaign

    counter = iter(range(1, 10_000))

    def factory(**overrides):
        data = {
            "name": f"Campaña {next(counter)}",
            "audience_source": "reglas",
            "channels": ["sms", "email"],
            "sms_template": "Hola {nombre_cliente}, promo en {link}",
            "email_subject_template": "Promo para {nombre_cliente}",
            "email_body_template": "Hola {nombre_cliente} {apellido_cliente}: {link}",
        }
        status = overrides.pop("status", None)
        data.update(overrides)
        campaign = save_campaign(None, data=data)
        if status:
            campaign.status = status
        db_session.flush()
        return campaign

    return factory
