"""`flask seed-demo`: the spec's demo catalogue and people, idempotent, passwords printed once."""

import re

import sqlalchemy as sa

from app.auth.models import User
from app.auth.services import authenticate
from app.catalog.models import Product, Service
from app.clients.models import Client, ClientPreferences
from app.core.phone import is_mobile, normalize_phone
from app.sales.models import DiscountCode, Order, PaymentMethod
from app.seed import seed_demo


def count(db_session, model):
    return db_session.scalar(sa.select(sa.func.count()).select_from(model))


def test_seed_creates_the_spec_demo_data(db_session):
    summary = seed_demo(password="clave-demo-larga", client_count=200, order_count=60)
    services = {s.name: s for s in db_session.scalars(sa.select(Service))}
    assert len([s for s in services.values() if s.is_published]) == 7
    assert not services["Tina Mantención"].is_published
    assert all(s.slot_grid["tuesday"] == [] for s in services.values())
    assert services["Tina Calipso"].slot_grid["monday"] == [
        "14:00",
        "14:30",
        "17:00",
        "19:00",
        "19:30",
        "21:30",
        "22:00",
    ]
    assert services["Masaje Relajación"].slot_grid["sunday"][0] == "13:00"
    assert services["Cabaña Lenga"].slot_grid["friday"] == ["16:00"]
    assert services["Tina Grande"].max_concurrent_bookings == 2 and services["Tina Grande"].min_people == 2
    assert {p.name for p in services["Masaje Descontracturante"].providers} == {"Ana Soto", "Berta Muñoz"}
    assert services["Cabaña Arrayán"].price_label == "$90.000 precio por cabaña, máx 2 personas"
    assert db_session.scalar(sa.select(Product).where(Product.name == "Gift Card monto libre")).base_price == 0
    assert count(db_session, PaymentMethod) == 10
    assert db_session.scalar(sa.select(DiscountCode.value).where(DiscountCode.code == "AREMKO15")) == 15
    roles = dict(db_session.execute(sa.select(User.username, User.role)).all())
    assert {k: roles[k] for k in ("admin", "gerente", "recepcion", "marketing")} == {
        "admin": "admin",
        "gerente": "gerente",
        "recepcion": "recepcion",
        "marketing": "marketing",
    }
    assert roles["sistema"] == "admin"
    assert authenticate("recepcion", "clave-demo-larga") is not None
    assert all(pw == "clave-demo-larga" for _, _, pw in summary["users"])

    phones = db_session.scalars(sa.select(Client.phone)).all()
    assert len(phones) == 200 == len(set(phones))
    assert all(normalize_phone(p) == p and is_mobile(p) and re.fullmatch(r"\+569\d{8}", p) for p in phones)
    no_consent = db_session.scalar(
        sa.select(sa.func.count())
        .select_from(ClientPreferences)
        .where(ClientPreferences.accepts_promotional.is_(False))
    )
    assert 0.2 <= no_consent / 200 <= 0.4
    orders = db_session.scalars(sa.select(Order)).all()
    assert len(orders) == 60
    assert {o.payment_status for o in orders} >= {"pagado", "pendiente"}
    assert all(
        o.total
        == sum(ln.subtotal for ln in o.service_lines if ln.status != "cancelada")
        + sum(ln.subtotal for ln in o.product_lines if ln.status == "activa")
        - o.discount_total
        for o in orders
        if not o.cancelled_at
    )


def test_seed_is_idempotent_and_never_changes_passwords(db_session):
    first = seed_demo(client_count=50, order_count=10)
    passwords = {u: pw for u, _, pw in first["users"]}
    assert all(len(pw) >= 10 for pw in passwords.values())
    hashes = dict(db_session.execute(sa.select(User.username, User.password_hash)).all())
    before = {m: count(db_session, m) for m in (Service, Product, Client, Order, PaymentMethod)}
    second = seed_demo(password="otra-clave-larga", client_count=50, order_count=10)
    assert {k: v for k, v in second["created"].items() if v} == {}
    assert all(pw is None for _, _, pw in second["users"])
    assert dict(db_session.execute(sa.select(User.username, User.password_hash)).all()) == hashes
    assert {m: count(db_session, m) for m in before} == before
    assert authenticate("admin", passwords["admin"]) is not None


def test_seed_cli_prints_passwords_once(app, db_session):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "Usuario recepcion (recepcion) contraseña: " in first.output
    again = runner.invoke(args=["seed-demo"])
    assert "contraseña sin cambios" in again.output and "contraseña: " not in again.output


def test_seed_history_looks_like_a_real_spa(db_session, freeze_clock):
    """UX review D6: 90 days of history and two weeks ahead, payments on the days they happened, closed cash days,
    drinks sold, campaigns with results, clients "since" their first purchase, and an ordinary day at the desk."""
    from datetime import datetime, timedelta

    from app.comms.models import CommunicationLog
    from app.core import clock
    from app.core.clock import LOCAL_TZ
    from app.crm.models import Campaign
    from app.crm.roi_queries import campaign_roi
    from app.reports.cash_queries import CashFilter
    from app.reports.cash_views import load_summary
    from app.sales.cash_queries import expected_by_method
    from app.sales.models import CashClose, Payment, ProductLine, ServiceLine

    now = datetime(2026, 12, 6, 17, 30, tzinfo=LOCAL_TZ)  # a Sunday afternoon
    freeze_clock(now)
    today = now.date()
    seed_demo(password="clave-demo-larga", client_count=200, order_count=300)

    payments = db_session.scalars(sa.select(Payment)).all()
    days = {clock.to_local(p.paid_at).date() for p in payments}
    assert len(days) >= 30 and min(days) >= today - timedelta(days=90 + 21)
    assert all(p.paid_at <= clock.now() for p in payments)  # nothing is paid in the future
    total = sum(p.amount for p in payments)
    todays = load_summary(CashFilter.for_day(today)).cash_total
    assert 0 < todays["net"] < total * 0.05 and 1 <= todays["transactions"] <= 15

    lines_today = db_session.scalars(sa.select(ServiceLine).where(ServiceLine.service_date == today)).all()
    assert 1 <= len(lines_today) <= 7
    service_days = set(db_session.scalars(sa.select(ServiceLine.service_date)))
    assert min(service_days) >= today - timedelta(days=90) and max(service_days) <= today + timedelta(days=14)
    assert any(d > today for d in service_days) and len({d for d in service_days if d < today}) >= 40
    assert all(
        ln.status == "pendiente"
        for ln in db_session.scalars(sa.select(ServiceLine).where(ServiceLine.service_date > today))
    )

    closes = db_session.scalars(sa.select(CashClose)).all()
    assert len(closes) >= 20 and all(c.business_date < today - timedelta(days=1) for c in closes)
    sample = closes[len(closes) // 2]
    assert {ln.method_code: ln.expected for ln in sample.lines} == {
        ln.code: ln.expected for ln in expected_by_method(sample.business_date)
    }
    assert clock.to_local(sample.closed_at).date() == sample.business_date
    assert all(c.notes for c in closes if any(ln.difference for ln in c.lines))

    assert db_session.scalar(sa.select(sa.func.count()).select_from(ProductLine)) > 20
    orders = db_session.scalars(sa.select(Order)).all()
    first = {}
    for o in orders:
        first[o.client_id] = min(first.get(o.client_id, o.created_at), o.created_at)
    clients = {c.id: c for c in db_session.scalars(sa.select(Client))}
    assert all(clients[cid].created_at == at for cid, at in first.items())
    assert all(c.created_at <= clock.now() for c in clients.values())

    sent = [c for c in db_session.scalars(sa.select(Campaign).order_by(Campaign.id)) if c.sent_at]
    assert len(sent) >= 2
    roi = campaign_roi(sent[0])
    assert roi.sent > 0 and roi.orders > 0 and roi.revenue > 0
    assert (
        db_session.scalar(
            sa.select(sa.func.count()).select_from(CommunicationLog).where(CommunicationLog.read_at.is_not(None))
        )
        > 0
    )
    planned = db_session.scalar(sa.select(Campaign).where(Campaign.sent_at.is_(None)))
    assert planned.start_date > today and planned.sms_template

    before = {m: count(db_session, m) for m in (Order, Payment, CashClose, Campaign, CommunicationLog)}
    seed_demo(client_count=200, order_count=300)
    assert {m: count(db_session, m) for m in before} == before
