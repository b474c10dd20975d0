"""Fixtures of the AI module's tests: an app with AI_FEATURES_ENABLED (sharing the test's connection), a FakeLLM put
in its place, and a small sales history (clients, orders, lines, payments, gift cards) to compare answers with."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from tests.conftest import make_test_config

_AI_APP = {}


@pytest.fixture
def ai_app(app, db_session):
    from app import create_app

    if "app" not in _AI_APP:
        application = create_app(make_test_config(AI_FEATURES_ENABLED=True))

        @application.teardown_request
        def _remove(_exc):
            from flask import g

            from app.extensions import db

            db.session.remove()
            g.pop("_login_user", None)

        _AI_APP["app"] = application
    application = _AI_APP["app"]
    application.extensions.pop("ai_llm", None)
    saved = dict(application.config)
    yield application
    application.config.clear()
    application.config.update(saved)
    application.extensions.pop("ai_llm", None)


@pytest.fixture
def fake_llm(ai_app):
    from app.ai.llm import FakeLLM

    fake = FakeLLM()
    ai_app.extensions["ai_llm"] = fake
    return fake


@pytest.fixture
def ai_client(ai_app):
    return ai_app.test_client()


@pytest.fixture
def ai_login(ai_client, make_user):
    def do_login(role: str = "gerente", user=None):
        user = user or make_user(role)
        with ai_client.session_transaction() as sess:
            sess["_user_id"] = str(user.id)
            sess["_fresh"] = True
        ai_client.user = user
        return ai_client

    return do_login


@pytest.fixture
def ai_ctx(ai_app):
    """An app context of the AI app (for calling services directly)."""
    with ai_app.test_request_context():
        yield ai_app


NOW = datetime(2026, 3, 4, 15, 0)  # Wednesday 04/03/2026 15:00 local


@pytest.fixture
def sales_data(db_session, make_client, make_category, make_service, freeze_clock):
    """Five clients with paid orders in 2025 and 2026, tubs, massages and a cabin, a no-show, a gift card; now =
    Wednesday 04/03/2026 15:00 local."""
    from app.core.clock import LOCAL_TZ
    from app.sales.models import GiftCard, Order, Payment, ServiceLine
    from app.sales.payment_services import ensure_payment_methods

    freeze_clock(NOW.replace(tzinfo=LOCAL_TZ))
    ensure_payment_methods()
    tinas = make_category(name="Tinas IA")
    tina = make_service(name="Tina Calipso IA", category=tinas, service_type="tina")
    masaje = make_service(name="Masaje IA", category=tinas, service_type="masaje", base_price=45000)
    cabana = make_service(name="Cabaña IA", category=tinas, service_type="cabana", base_price=90000)
    from app.core.identity import rut_check_digit

    clients = [
        make_client(
            name=f"Cliente IA {i}",
            document_id=f"1{i}345678-{rut_check_digit(f'1{i}345678')}",
            birth_date=date(1980 + i, 5, 17),
            marketing_consent=True,
        )
        for i in range(1, 6)
    ]

    def order(client, day: date, lines, paid: int, method="efectivo", status="pendiente"):
        total = sum(sub for _, sub, _ in lines)
        o = Order(
            client_id=client.id,
            origin="recepcion",
            sold_at=datetime.combine(day, datetime.min.time().replace(hour=12), tzinfo=LOCAL_TZ),
            services_total=total,
            total=total,
            paid=paid,
            balance_due=total - paid,
            payment_status="pagado" if paid >= total else "parcial",
        )
        db_session.add(o)
        db_session.flush()
        for service, sub, people in lines:
            db_session.add(
                ServiceLine(
                    order_id=o.id,
                    service_id=service.id,
                    service_date=day,
                    start_time="14:00",
                    people=people,
                    unit_price=sub // people,
                    pricing_rule="por_persona",
                    subtotal=sub,
                    status=status,
                )
            )
        if paid:
            db_session.add(
                Payment(
                    order_id=o.id,
                    amount=paid,
                    method=method,
                    paid_at=datetime.combine(day, datetime.min.time().replace(hour=13), tzinfo=LOCAL_TZ),
                )
            )
        db_session.flush()
        return o

    c1, c2, c3, c4, c5 = clients
    order(c1, date(2025, 2, 10), [(tina, 50000, 2), (masaje, 45000, 1)], 95000, status="checkout")
    order(c1, date(2025, 6, 14), [(tina, 50000, 2)], 50000, status="checkout")
    order(c2, date(2025, 7, 5), [(tina, 25000, 1), (masaje, 45000, 1)], 70000, "transferencia", status="checkout")
    order(c2, date(2025, 8, 9), [(tina, 25000, 1)], 25000, status="checkout")
    order(c3, date(2025, 11, 20), [(cabana, 90000, 2)], 90000, status="checkout")
    order(c4, date(2026, 1, 17), [(tina, 50000, 2)], 20000, status="no_show")
    order(c5, date(2026, 3, 2), [(masaje, 45000, 1), (tina, 25000, 1)], 70000, status="checkout")
    order(c5, date(2026, 3, 7), [(cabana, 90000, 2)], 0)  # next Saturday, not paid
    order(c3, date(2026, 3, 8), [(tina, 50000, 2)], 0)  # next Sunday
    db_session.add(
        GiftCard(code="IAGC0001", initial_amount=30000, issued_on=date(2026, 1, 1), expires_on=date(2026, 12, 31))
    )
    db_session.flush()
    return {"clients": clients, "tina": tina, "masaje": masaje, "cabana": cabana, "today": date(2026, 3, 4)}


@pytest.fixture
def seen_sql(db_session):
    """A list filled with every statement the database sees while the fixture is active."""
    import sqlalchemy as sa

    seen: list[str] = []
    target = db_session.get_bind()
    target = target.engine if hasattr(target, "engine") else target

    def listener(conn, cursor, statement, *args):
        seen.append(statement)

    sa.event.listen(target, "before_cursor_execute", listener)
    yield seen
    sa.event.remove(target, "before_cursor_execute", listener)


def day(n: int) -> date:
    return NOW.date() + timedelta(days=n)
