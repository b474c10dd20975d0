"""`flask seed-demo`: idempotent demo data by natural keys (spec catalog.md §7). Flushes; the CLI commits."""

from __future__ import annotations

import random
import secrets
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from app.auth.models import User
from app.auth.services import create_user, ensure_system_user
from app.catalog.models import Product, ProductCategory, Provider, Service, ServiceCategory
from app.catalog.policy import validate_slot_grid
from app.clients.models import Client
from app.clients.services import create_client
from app.core import clock
from app.extensions import db
from app.sales.models import DiscountCode, Order, ServiceLine
from app.sales.payment_services import ensure_payment_methods
from app.sales.policy_services import ensure_booking_policies

OPEN_DAYS = ("monday", "wednesday", "thursday", "friday", "saturday", "sunday")  # closed on Tuesdays
TUB_TIMES = ["14:00", "14:30", "17:00", "19:00", "19:30", "21:30", "22:00"]
MASSAGE_TIMES = ["13:00", "14:15", "15:30", "16:45", "18:00", "19:15", "20:30"]
CABIN_TIMES = ["16:00"]

CATEGORIES = [
    ("Tinas Calientes", 1, "Tinas de madera con agua caliente junto al río Pescado, rodeadas de bosque nativo."),
    ("Masajes", 2, "Masajes de relajación y descontracturantes con terapeutas certificadas."),
    ("Cabañas", 3, "Cabañas para descansar después de las tinas, con desayuno opcional."),
]
PROVIDERS = [
    ("Ana Soto", "+56987650001"),
    ("Berta Muñoz", "+56987650002"),
    ("Carla Ruiz", "+56987650003"),
    ("Distribuidora Sur", "+56652234567"),
]
# name, category, type, price, min, max, minutes, capacity, times, providers, published, description
SERVICES = [
    (
        "Tina Calipso",
        "Tinas Calientes",
        "tina",
        25000,
        1,
        4,
        120,
        1,
        TUB_TIMES,
        [],
        True,
        "Tina de ciprés para hasta 4 personas con vista al bosque.",
    ),
    (
        "Tina Hornopirén",
        "Tinas Calientes",
        "tina",
        25000,
        1,
        6,
        120,
        1,
        TUB_TIMES,
        [],
        True,
        "Nuestra tina más amplia, ideal para grupos de amigos o familia.",
    ),
    (
        "Tina Grande",
        "Tinas Calientes",
        "tina",
        22000,
        2,
        8,
        120,
        2,
        TUB_TIMES,
        [],
        True,
        "Dos tinas gemelas para grupos; precio por persona.",
    ),
    (
        "Masaje Relajación",
        "Masajes",
        "masaje",
        45000,
        1,
        1,
        60,
        3,
        MASSAGE_TIMES,
        ["Ana Soto", "Berta Muñoz", "Carla Ruiz"],
        True,
        "Masaje de cuerpo completo con aceites tibios.",
    ),
    (
        "Masaje Descontracturante",
        "Masajes",
        "masaje",
        50000,
        1,
        1,
        60,
        2,
        MASSAGE_TIMES,
        ["Ana Soto", "Berta Muñoz"],
        True,
        "Trabajo profundo en espalda, cuello y hombros.",
    ),
    (
        "Cabaña Arrayán",
        "Cabañas",
        "cabana",
        90000,
        1,
        2,
        1440,
        1,
        CABIN_TIMES,
        [],
        True,
        "Cabaña para dos con tinaja privada y desayuno.",
    ),
    (
        "Cabaña Lenga",
        "Cabañas",
        "cabana",
        120000,
        1,
        4,
        1440,
        1,
        CABIN_TIMES,
        [],
        True,
        "Cabaña familiar para cuatro personas junto al río.",
    ),
    (
        "Tina Mantención",
        "Tinas Calientes",
        "tina",
        0,
        1,
        1,
        60,
        1,
        TUB_TIMES,
        [],
        False,
        "Uso interno para mantención.",
    ),
]
PRODUCTS = [
    ("Agua mineral 500 ml", "Bebidas", 1500, 48, False),
    ("Jugo natural", "Bebidas", 3000, 24, False),
    ("Cerveza artesanal", "Bebidas", 4500, 36, False),
    ("Espumante 750 ml", "Bebidas", 18000, 12, False),
    ("Gift Card $25.000", "Gift Cards", 25000, 0, True),
    ("Gift Card $50.000", "Gift Cards", 50000, 0, True),
    ("Gift Card monto libre", "Gift Cards", 0, 0, True),
]
STAFF = [
    ("admin", "admin", "Administración Aremko"),
    ("gerente", "gerente", "Gerencia Aremko"),
    ("recepcion", "recepcion", "Recepción Aremko"),
    ("marketing", "marketing", "Marketing Aremko"),
]
FIRST_NAMES = [
    "María",
    "José",
    "Camila",
    "Felipe",
    "Valentina",
    "Matías",
    "Javiera",
    "Sebastián",
    "Catalina",
    "Benjamín",
    "Francisca",
    "Vicente",
    "Constanza",
    "Tomás",
    "Antonia",
    "Diego",
    "Fernanda",
    "Joaquín",
    "Isidora",
    "Cristóbal",
    "Daniela",
    "Nicolás",
    "Paula",
    "Ignacio",
    "Carolina",
    "Rodrigo",
    "Macarena",
    "Gonzalo",
    "Trinidad",
    "Andrés",
]
SURNAMES = [
    "González",
    "Muñoz",
    "Rojas",
    "Díaz",
    "Pérez",
    "Soto",
    "Contreras",
    "Silva",
    "Martínez",
    "Sepúlveda",
    "Morales",
    "Rodríguez",
    "López",
    "Fuentes",
    "Hernández",
    "Torres",
    "Araya",
    "Flores",
    "Espinoza",
    "Valenzuela",
    "Castillo",
    "Tapia",
    "Reyes",
    "Gutiérrez",
    "Castro",
    "Pizarro",
    "Álvarez",
    "Vásquez",
    "Sánchez",
    "Fernández",
    "Ramírez",
    "Carrasco",
    "Gómez",
    "Cortés",
    "Herrera",
    "Núñez",
    "Jara",
]
CITIES = [
    "Puerto Varas",
    "Puerto Montt",
    "Frutillar",
    "Osorno",
    "Llanquihue",
    "Santiago",
    "Valdivia",
    "Concepción",
    "Castro",
    "Ensenada",
]


def _by_name(model, name):
    return db.session.scalar(sa.select(model).where(model.name == name))


def _grid(times) -> dict:
    return validate_slot_grid({day: list(times) for day in OPEN_DAYS})


def seed_demo(
    *, password: str | None = None, client_count: int = 200, order_count: int = 300, rng_seed: int = 7
) -> dict:
    """Create the demo catalogue, staff, clients and orders that are missing; never modifies existing rows."""
    created: dict[str, int] = {}

    def count(key: str, n: int = 1) -> None:
        created[key] = created.get(key, 0) + n

    ensure_system_user()
    count("metodos_de_pago", ensure_payment_methods())
    if not db.session.scalar(sa.select(DiscountCode.id).where(DiscountCode.code == "AREMKO15")):
        db.session.add(
            DiscountCode(code="AREMKO15", kind="porcentaje", value=15, description="15 % de descuento (código general)")
        )
        count("codigos_descuento")
    categories = {}
    for name, order, description in CATEGORIES:
        cat = _by_name(ServiceCategory, name)
        if cat is None:
            cat = ServiceCategory(name=name, sort_order=order, description=description)
            db.session.add(cat)
            count("categorias")
        categories[name] = cat
    providers = {}
    for name, phone in PROVIDERS:
        prov = _by_name(Provider, name)
        if prov is None:
            prov = Provider(name=name, phone=phone)
            db.session.add(prov)
            count("proveedores")
        providers[name] = prov
    db.session.flush()
    for name, cat, kind, price, lo, hi, minutes, capacity, times, provs, published, description in SERVICES:
        if _by_name(Service, name) is None:
            db.session.add(
                Service(
                    name=name,
                    category=categories[cat],
                    service_type=kind,
                    base_price=price,
                    min_people=lo,
                    max_people=hi,
                    duration_minutes=minutes,
                    max_concurrent_bookings=capacity,
                    slot_grid=_grid(times),
                    providers=[providers[p] for p in provs],
                    is_published=published,
                    web_description=description,
                    opening_time=time(9, 0),
                    closing_time=time(23, 59),
                )
            )
            count("servicios")
    db.session.flush()
    count("politicas_reserva", ensure_booking_policies())  # self-service.md §1 defaults per category
    product_categories = {}
    for pname in ("Bebidas", "Gift Cards"):
        pc = _by_name(ProductCategory, pname)
        if pc is None:
            pc = ProductCategory(name=pname)
            db.session.add(pc)
            count("categorias_producto")
        product_categories[pname] = pc
    for name, cat, price, stock, gift in PRODUCTS:
        if _by_name(Product, name) is None:
            db.session.add(
                Product(
                    name=name,
                    category=product_categories[cat],
                    base_price=price,
                    stock=stock,
                    is_gift_card=gift,
                    is_published=True,
                    provider=None if gift else providers["Distribuidora Sur"],
                )
            )
            count("productos")
    db.session.flush()

    users = []
    for username, role, full_name in STAFF:
        if db.session.scalar(sa.select(User.id).where(User.username == username)):
            users.append((username, role, None))
            continue
        pw = password or secrets.token_urlsafe(12)
        create_user(username=username, role=role, password=pw, email=f"{username}@example.com", full_name=full_name)
        users.append((username, role, pw))
        count("usuarios")

    rng = random.Random(rng_seed)
    existing = set(db.session.scalars(sa.select(Client.phone)))
    made = 0
    while made < client_count:
        # draw every value first, so re-runs walk the same sequence and skip exactly the same people
        phone = f"+569{rng.randrange(10_000_000, 99_999_999)}"
        first, s1, s2 = rng.choice(FIRST_NAMES), rng.choice(SURNAMES), rng.choice(SURNAMES)
        has_mail, birth, city, consent = rng.random() < 0.7, rng.random() < 0.6, rng.choice(CITIES), rng.random()
        suffix = rng.randrange(1, 999)
        birthday = date(rng.randrange(1950, 2006), rng.randrange(1, 13), rng.randrange(1, 29))
        made += 1
        if phone in existing:
            continue
        existing.add(phone)
        email = f"{first}.{s1}{suffix}@example.com".lower() if has_mail else None
        birth_date = birthday if birth else None
        create_client(
            data={
                "name": f"{first} {s1} {s2}",
                "phone": phone,
                "email": _ascii(email),
                "city": city,
                "birth_date": birth_date,
            },
            origin="seed",
            marketing_consent=consent < 0.7,
            consent_source="staff",
        )
        count("clientes")
    if order_count and not db.session.scalar(sa.select(Order.id).limit(1)):
        count("ventas", _seed_orders(rng, order_count))
    db.session.flush()
    return {"created": created, "users": users}


def _ascii(text: str | None) -> str | None:
    if text is None:
        return None
    table = str.maketrans("áéíóúñü", "aeiounu")
    return text.translate(table)


HISTORY_DAYS = 90
AHEAD_DAYS = 14
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CLOSE_SHORTFALL_NOTE = "Faltó vuelto en efectivo; revisado con recepción."


def _at(day: date, minutes: int) -> datetime:
    """Local wall time `minutes` after midnight of `day`, as an aware instant."""
    return clock.local_instant(day, time(0, 0)) + timedelta(minutes=minutes)


def _slot_minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


def _seed_orders(rng: random.Random, n: int) -> int:
    """A spa's last 90 days and next two weeks, written directly (past dates cannot be booked through availability,
    and this is history): orders sold up to three weeks before the visit, payments dated when they happened (Flow at
    the web sale, phone deposits by transfer, the balance at the desk on the day), drinks sold at the spa, some
    cancellations and no-shows, closed cash days with their counted lines, clients "since" their first purchase, and
    campaigns with their messages and results. Today looks like a day at the desk: a handful of arrivals, some paid,
    some with balances, a few payments so far."""
    services = list(db.session.scalars(sa.select(Service).where(Service.is_published.is_(True)).order_by(Service.id)))
    clients = list(db.session.scalars(sa.select(Client).order_by(Client.id)))
    if not services or not clients:
        return 0
    drinks = list(db.session.scalars(sa.select(Product).where(Product.is_gift_card.is_(False)).order_by(Product.id)))
    sistema = ensure_system_user()
    desk = db.session.scalar(sa.select(User).where(User.username == "recepcion")) or sistema
    today, now = clock.today(), clock.now()
    # Regulars come back: a few clients carry most visits (weights drawn once, in client order).
    loyalty = [rng.paretovariate(1.6) for _ in clients]
    specs = _order_specs(rng, n, services, today, now)
    orders: list[tuple[Order, dict]] = []
    for spec in sorted(specs, key=lambda sp: sp["sold_at"]):
        client = rng.choices(clients, weights=loyalty)[0]
        orders.append((_seed_order(rng, spec, client, drinks, sistema, desk, today, now), spec))
    _date_clients(rng, [o for o, _ in orders], today)
    _close_cash_days(rng, today, sistema, desk)
    _seed_campaigns(rng, today, now, sistema)
    return len(orders)


def _order_specs(rng: random.Random, n: int, services: list, today: date, now: datetime) -> list[dict]:
    """Which visits happen: `n` distinct (service, day, time) slots, weekends busier, a handful today."""
    slots = []
    for offset in range(-HISTORY_DAYS, AHEAD_DAYS + 1):
        day = today + timedelta(days=offset)
        weekday = WEEKDAYS[day.weekday()]
        weight = (2.0 if weekday in ("saturday", "sunday") else 1.3 if weekday == "friday" else 1.0) * (
            0.5 if offset > 0 else 1.0
        )  # the future is only partly booked yet
        for service in services:
            for hhmm in service.slot_grid.get(weekday) or []:
                slots.append((day, service, hhmm, weight))
    todays = [s for s in slots if s[0] == today]
    rng.shuffle(todays)
    picked = todays[: min(len(todays), max(1, min(7, n // 40)))]
    rest = [s for s in slots if s[0] != today]
    keys = sorted(range(len(rest)), key=lambda i: rng.random() ** (1 / rest[i][3]), reverse=True)  # weighted sample
    picked += [rest[i] for i in keys[: max(n - len(picked), 0)]]
    specs = []
    for day, service, hhmm, _ in picked[:n]:
        origin = rng.choices(["web", "telefono", "recepcion"], weights=[45, 25, 30])[0]
        lead = 0 if origin == "recepcion" else rng.randrange(1, 22 if origin == "web" else 11)
        sold_day = min(day - timedelta(days=lead), today)
        sold_at = _at(sold_day, rng.randrange(9 * 60, 21 * 60))
        visit_at = _at(day, _slot_minutes(hhmm))
        if origin == "recepcion":
            sold_at = visit_at - timedelta(minutes=rng.randrange(5, 40))
        if sold_at > now:  # nothing is sold in the future
            sold_at = now - timedelta(minutes=rng.randrange(5, 120))
        specs.append(
            {"day": day, "service": service, "hhmm": hhmm, "origin": origin, "sold_at": sold_at, "visit_at": visit_at}
        )
    return specs


def _seed_order(rng, spec, client, drinks, sistema, desk, today: date, now: datetime) -> Order:
    from app.catalog.policy import line_price
    from app.sales.discount_services import apply_code
    from app.sales.models import Discount, Payment, ProductLine
    from app.sales.services import cancel_order, recalculate_order

    service, day, sold_at, visit_at = spec["service"], spec["day"], spec["sold_at"], spec["visit_at"]
    seller = sistema if spec["origin"] == "web" else desk
    order = Order(
        client_id=client.id,
        origin=spec["origin"],
        contact_name=client.name,
        contact_email=client.email,
        contact_phone=client.phone,
        created_at=sold_at,
        sold_at=sold_at,
        created_by_id=seller.id,
    )
    db.session.add(order)
    db.session.flush()
    people = rng.randrange(service.min_people, service.max_people + 1)
    provider_id = rng.choice(service.providers).id if service.service_type == "masaje" and service.providers else None
    if visit_at > now:
        status = "pendiente"
    elif day < today:
        status = rng.choices(["checkout", "no_show"], weights=[93, 7])[0]
    else:  # today, the slot has started: in the spa, or done if it started long ago
        status = "checkout" if visit_at + timedelta(minutes=service.duration_minutes) <= now else "checkin"
    line = ServiceLine(
        order_id=order.id,
        service_id=service.id,
        service_date=day,
        start_time=spec["hhmm"],
        people=people,
        provider_id=provider_id,
        unit_price=service.base_price,
        pricing_rule=service.pricing_rule,
        status=status,
        created_by_id=seller.id,
        created_at=sold_at,
        subtotal=line_price(service.base_price, service.pricing_rule, people),
    )
    if status in ("checkin", "checkout"):
        line.checked_in_at = visit_at - timedelta(minutes=rng.randrange(0, 15))
        if status == "checkout":
            line.checked_out_at = visit_at + timedelta(minutes=service.duration_minutes)
    db.session.add(line)
    if drinks and status in ("checkin", "checkout") and rng.random() < 0.35:
        for product in rng.sample(drinks, rng.randrange(1, 3)):
            qty = rng.randrange(1, 4)
            db.session.add(
                ProductLine(
                    order_id=order.id,
                    product_id=product.id,
                    quantity=qty,
                    unit_price=product.base_price,
                    subtotal=qty * product.base_price,
                    created_by_id=desk.id,
                    created_at=visit_at,
                )
            )
    recalculate_order(order)
    if rng.random() < 0.08:
        apply_code(order, "AREMKO15", by=seller)
        for d in db.session.scalars(sa.select(Discount).where(Discount.order_id == order.id)):
            d.created_at = sold_at
    if rng.random() < 0.06:
        cancel_order(
            order, reason=rng.choice(["Cliente no puede asistir", "Cambio de planes", "Lluvia intensa"]), by=seller
        )
        order.cancelled_at = min(sold_at + timedelta(days=rng.randrange(0, 3)), now)
        return order

    def pay(amount: int, method: str, at: datetime, by) -> None:
        if amount > 0 and at <= now:
            db.session.add(
                Payment(
                    order_id=order.id,
                    amount=amount,
                    method=method,
                    recorded_by_id=by.id,
                    paid_at=at,
                    created_at=at,
                    reference=None,
                )
            )
            db.session.flush()
            recalculate_order(order)

    if spec["origin"] == "web":
        pay(order.total, "flow", sold_at + timedelta(minutes=rng.randrange(1, 6)), sistema)
    elif spec["origin"] == "telefono" and rng.random() < 0.7:
        pay(
            order.total // 2,
            rng.choice(["transferencia", "transferencia", "bancoestado", "scotiabank"]),
            sold_at + timedelta(minutes=rng.randrange(10, 240)),
            desk,
        )
    settles = status == "checkout" or (status == "checkin" and rng.random() < 0.5)
    if settles and rng.random() < 0.97:  # a few past visits still owe money
        method = rng.choices(["tarjeta", "efectivo", "transferencia", "mercadopago"], weights=[50, 30, 15, 5])[0]
        pay(order.balance_due, method, min(visit_at + timedelta(minutes=rng.randrange(0, 150)), now), desk)
    return order


def _date_clients(rng: random.Random, orders: list[Order], today: date) -> None:
    """ "Cliente desde" = the first purchase; clients who never bought joined at some point of the history."""
    first: dict[int, datetime] = {}
    for order in orders:
        if order.client_id not in first or order.created_at < first[order.client_id]:
            first[order.client_id] = order.created_at
    for client in db.session.scalars(sa.select(Client).where(Client.origin == "seed")):
        joined = first.get(client.id) or _at(
            today - timedelta(days=rng.randrange(1, HISTORY_DAYS * 2)), rng.randrange(9 * 60, 22 * 60)
        )
        client.created_at = joined
    db.session.flush()


def _close_cash_days(rng: random.Random, today: date, sistema, desk) -> None:
    """Close the past days that had payments, at the end of the day, as the desk counted them; the last two days
    and a few older ones are left open, and some closes carry a small cash shortfall explained in the notes."""
    from app.sales.cash_queries import expected_by_method
    from app.sales.models import CashClose, CashCloseLine, Payment

    paid_days = {clock.to_local(at).date() for at in db.session.scalars(sa.select(Payment.paid_at))}
    for offset in range(HISTORY_DAYS, 2, -1):
        day = today - timedelta(days=offset)
        if day not in paid_days or rng.random() < 0.08:
            continue
        short = rng.random() < 0.12
        lines = []
        for ln in expected_by_method(day):
            counted = ln.expected - 2000 if short and ln.code == "efectivo" and ln.expected >= 2000 else ln.expected
            lines.append(
                CashCloseLine(
                    method_code=ln.code, expected=ln.expected, counted=counted, difference=counted - ln.expected
                )
            )
        differs = any(ln.difference for ln in lines)
        db.session.add(
            CashClose(
                business_date=day,
                status="cerrada",
                version=1,
                closed_by_id=desk.id,
                closed_at=_at(day, 22 * 60 + 45 + rng.randrange(0, 40)),
                lines=lines,
                notes=CLOSE_SHORTFALL_NOTE if differs else None,
            )
        )
    db.session.flush()


CAMPAIGNS = [
    # name, days from today (start), status, channels, budget, goal
    ("Invierno en tinas", -70, "Completed", ["sms", "email"], 60000, "Llenar las tinas de lunes a jueves."),
    ("Día de la madre", -35, "Completed", ["email"], 30000, "Vender masajes y gift cards para mamá."),
    ("Verano junto al río", 4, "Planning", ["sms"], 45000, "Reservas de cabañas para enero."),
]


def _seed_campaigns(rng: random.Random, today: date, now: datetime, sistema) -> None:
    """Three campaigns: two sent, with delivered/opened messages and orders that follow them (the ROI attributes
    those), and one planned to start in a few days."""
    from app.clients.models import ClientPreferences
    from app.comms.models import CommunicationLog
    from app.crm.models import Campaign, CampaignTarget

    clients = list(
        db.session.scalars(  # campaigns reach only clients who accept promotions
            sa.select(Client)
            .join(ClientPreferences, ClientPreferences.client_id == Client.id)
            .where(ClientPreferences.accepts_promotional.is_(True))
            .order_by(Client.id)
        )
    )
    allowed = {c.id for c in clients}
    for name, offset, status, channels, budget, goal in CAMPAIGNS:
        if db.session.scalar(sa.select(Campaign.id).where(Campaign.name == name)):
            continue
        start = today + timedelta(days=offset)
        campaign = Campaign(
            name=name,
            goal=goal,
            description=f"Campaña de demostración: {goal.lower()}",
            start_date=start,
            end_date=start + timedelta(days=21),
            status=status,
            budget=budget,
            channels=channels,
            audience_source="lista",
            created_by_id=sistema.id,
            sms_template=(
                "Hola {nombre_cliente}, en Aremko te esperamos con tinas calientes junto al río. Reserva en {link}"
            )
            if "sms" in channels
            else None,
            email_subject_template=f"{name} en Aremko" if "email" in channels else None,
            email_body_template=(
                f"Hola {{nombre_cliente}},\n\n{goal} Reserva en {{link}}\n\nEquipo Aremko"
                if "email" in channels
                else None
            ),
        )
        db.session.add(campaign)
        db.session.flush()
        sent_at = _at(start, 11 * 60)
        # some recipients bought within the attribution window (they "converted"), the rest did not
        buyers = (
            set(
                db.session.scalars(
                    sa.select(Order.client_id).where(
                        Order.created_at >= sent_at, Order.created_at < sent_at + timedelta(days=20)
                    )
                )
            )
            & allowed
        )
        converted = rng.sample(sorted(buyers), min(len(buyers), 6)) if status == "Completed" else []
        others = [c for c in clients if c.id not in buyers]
        targets = [db.session.get(Client, cid) for cid in converted] + rng.sample(others, min(len(others), 34))
        for client in targets:
            db.session.add(
                CampaignTarget(
                    campaign_id=campaign.id,
                    client_id=client.id,
                    source="manual",
                    added_by_id=sistema.id,
                    added_at=_at(start - timedelta(days=2), 11 * 60),
                )
            )
        if status != "Completed":
            continue
        campaign.sent_at = sent_at
        for client in targets:
            for channel in channels:
                destination = client.phone if channel == "sms" else client.email
                if not destination:
                    continue
                opened = rng.random() < (0.45 if channel == "email" else 0.2)
                db.session.add(
                    CommunicationLog(
                        client_id=client.id,
                        campaign_id=campaign.id,
                        communication_type=channel.upper(),
                        message_type="PROMOTIONAL",
                        destination=destination,
                        status="DELIVERED",
                        idempotency_key=f"seed:campaign:{campaign.id}:{client.id}:{channel}",
                        not_before=sent_at,
                        sent_at=sent_at,
                        delivered_at=sent_at + timedelta(minutes=1),
                        read_at=sent_at + timedelta(hours=rng.randrange(1, 48)) if opened else None,
                        segments=1 if channel == "sms" else None,
                        cost=12 if channel == "sms" else 0,
                        triggered_by="campaign",
                        created_by_id=sistema.id,
                        created_at=sent_at,
                        updated_at=sent_at,
                    )
                )
    db.session.flush()
