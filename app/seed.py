"""`flask seed-demo`: idempotent demo data by natural keys (spec catalog.md §7). Flushes; the CLI commits."""

from __future__ import annotations

import random
import secrets
from datetime import date, time, timedelta

import sqlalchemy as sa

from app.auth.models import User
from app.auth.services import create_user, ensure_system_user
from app.catalog.models import Product, ProductCategory, Provider, Service, ServiceCategory
from app.catalog.policy import validate_slot_grid
from app.clients.models import Client
from app.clients.services import create_client
from app.core import clock
from app.extensions import db
from app.orders.models import DiscountCode, Order, ServiceLine
from app.payments.services import ensure_payment_methods

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
    ("Tina Calipso", "Tinas Calientes", "tina", 25000, 1, 4, 120, 1, TUB_TIMES, [], True,
     "Tina de ciprés para hasta 4 personas con vista al bosque."),
    ("Tina Hornopirén", "Tinas Calientes", "tina", 25000, 1, 6, 120, 1, TUB_TIMES, [], True,
     "Nuestra tina más amplia, ideal para grupos de amigos o familia."),
    ("Tina Grande", "Tinas Calientes", "tina", 22000, 2, 8, 120, 2, TUB_TIMES, [], True,
     "Dos tinas gemelas para grupos; precio por persona."),
    ("Masaje Relajación", "Masajes", "masaje", 45000, 1, 1, 60, 3, MASSAGE_TIMES,
     ["Ana Soto", "Berta Muñoz", "Carla Ruiz"], True, "Masaje de cuerpo completo con aceites tibios."),
    ("Masaje Descontracturante", "Masajes", "masaje", 50000, 1, 1, 60, 2, MASSAGE_TIMES,
     ["Ana Soto", "Berta Muñoz"], True, "Trabajo profundo en espalda, cuello y hombros."),
    ("Cabaña Arrayán", "Cabañas", "cabana", 90000, 1, 2, 1440, 1, CABIN_TIMES, [], True,
     "Cabaña para dos con tinaja privada y desayuno."),
    ("Cabaña Lenga", "Cabañas", "cabana", 120000, 1, 4, 1440, 1, CABIN_TIMES, [], True,
     "Cabaña familiar para cuatro personas junto al río."),
    ("Tina Mantención", "Tinas Calientes", "tina", 0, 1, 1, 60, 1, TUB_TIMES, [], False,
     "Uso interno para mantención."),
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
FIRST_NAMES = ["María", "José", "Camila", "Felipe", "Valentina", "Matías", "Javiera", "Sebastián", "Catalina",
               "Benjamín", "Francisca", "Vicente", "Constanza", "Tomás", "Antonia", "Diego", "Fernanda", "Joaquín",
               "Isidora", "Cristóbal", "Daniela", "Nicolás", "Paula", "Ignacio", "Carolina", "Rodrigo", "Macarena",
               "Gonzalo", "Trinidad", "Andrés"]
SURNAMES = ["González", "Muñoz", "Rojas", "Díaz", "Pérez", "Soto", "Contreras", "Silva", "Martínez", "Sepúlveda",
            "Morales", "Rodríguez", "López", "Fuentes", "Hernández", "Torres", "Araya", "Flores", "Espinoza",
            "Valenzuela", "Castillo", "Tapia", "Reyes", "Gutiérrez", "Castro", "Pizarro", "Álvarez", "Vásquez",
            "Sánchez", "Fernández", "Ramírez", "Carrasco", "Gómez", "Cortés", "Herrera", "Núñez", "Jara"]
CITIES = ["Puerto Varas", "Puerto Montt", "Frutillar", "Osorno", "Llanquihue", "Santiago", "Valdivia",
          "Concepción", "Castro", "Ensenada"]


def _by_name(model, name):
    return db.session.scalar(sa.select(model).where(model.name == name))


def _grid(times) -> dict:
    return validate_slot_grid({day: list(times) for day in OPEN_DAYS})


def seed_demo(*, password: str | None = None, client_count: int = 200, order_count: int = 300,
              rng_seed: int = 7) -> dict:
    """Create the demo catalogue, staff, clients and orders that are missing; never modifies existing rows."""
    created: dict[str, int] = {}

    def count(key: str, n: int = 1) -> None:
        created[key] = created.get(key, 0) + n

    ensure_system_user()
    count("metodos_de_pago", ensure_payment_methods())
    if not db.session.scalar(sa.select(DiscountCode.id).where(DiscountCode.code == "AREMKO15")):
        db.session.add(DiscountCode(code="AREMKO15", kind="porcentaje", value=15,
                                    description="15 % de descuento (código general)"))
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
    for (name, cat, kind, price, lo, hi, minutes, capacity, times, provs, published, description) in SERVICES:
        if _by_name(Service, name) is None:
            db.session.add(Service(
                name=name, category=categories[cat], service_type=kind, base_price=price, min_people=lo,
                max_people=hi, duration_minutes=minutes, max_concurrent_bookings=capacity, slot_grid=_grid(times),
                providers=[providers[p] for p in provs], is_published=published, web_description=description,
                opening_time=time(9, 0), closing_time=time(23, 59),
            ))
            count("servicios")
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
            db.session.add(Product(name=name, category=product_categories[cat], base_price=price, stock=stock,
                                   is_gift_card=gift, is_published=True,
                                   provider=None if gift else providers["Distribuidora Sur"]))
            count("productos")
    db.session.flush()

    users = []
    for username, role, full_name in STAFF:
        if db.session.scalar(sa.select(User.id).where(User.username == username)):
            users.append((username, role, None))
            continue
        pw = password or secrets.token_urlsafe(12)
        create_user(username=username, role=role, password=pw, email=f"{username}@example.com",
                    full_name=full_name)
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
        create_client(data={"name": f"{first} {s1} {s2}", "phone": phone, "email": _ascii(email),
                            "city": city, "birth_date": birth_date},
                      origin="seed", marketing_consent=consent < 0.7, consent_source="staff")
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


def _seed_orders(rng: random.Random, n: int) -> int:
    """Historical and upcoming orders (6 months back to 2 weeks ahead) with payments, discounts, cancellations
    and no-shows, written directly: past dates cannot be booked through availability, and this is history."""
    from app.catalog.policy import line_price
    from app.orders.services import apply_code, cancel_order, recalculate_order
    from app.payments.services import record_payment

    services = [s for s in db.session.scalars(sa.select(Service).where(Service.is_published.is_(True)))]
    clients = list(db.session.scalars(sa.select(Client).order_by(Client.id)))
    sistema = ensure_system_user()
    today = clock.today()
    taken: set[tuple[int, date, str]] = set()
    created = 0
    for _ in range(n * 3):
        if created >= n:
            break
        service = rng.choice(services)
        day = today + timedelta(days=rng.randrange(-180, 15))
        weekday = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")[day.weekday()]
        times = service.slot_grid.get(weekday) or []
        if not times:
            continue
        hhmm = rng.choice(times)
        if (service.id, day, hhmm) in taken:
            continue
        taken.add((service.id, day, hhmm))
        client = rng.choice(clients)
        people = rng.randrange(service.min_people, service.max_people + 1)
        sold = clock.local_instant(day - timedelta(days=rng.randrange(0, 20)), time(12, 0))
        order = Order(client_id=client.id, origin=rng.choice(["web", "recepcion", "telefono"]),
                      contact_name=client.name, contact_email=client.email, contact_phone=client.phone,
                      created_at=sold, sold_at=sold, created_by_id=sistema.id)
        db.session.add(order)
        db.session.flush()
        provider_id = service.providers[0].id if service.service_type == "masaje" and service.providers else None
        status = "pendiente"
        if day < today:
            status = rng.choices(["checkout", "no_show"], weights=[92, 8])[0]
        db.session.add(ServiceLine(order_id=order.id, service_id=service.id, service_date=day, start_time=hhmm,
                                   people=people, provider_id=provider_id, unit_price=service.base_price,
                                   pricing_rule=service.pricing_rule, status=status,
                                   subtotal=line_price(service.base_price, service.pricing_rule, people)))
        recalculate_order(order)
        roll = rng.random()
        if rng.random() < 0.1:
            apply_code(order, "AREMKO15", by=sistema)
        if roll < 0.08:
            cancel_order(order, reason="Cliente no puede asistir", by=sistema)
        elif roll < 0.85 and order.total > 0:
            method = rng.choice(["efectivo", "tarjeta", "transferencia", "flow"])
            amount = order.total if rng.random() < 0.8 else max(order.total // 2, 1)
            record_payment(order, amount=amount, method=method, by=sistema)
        created += 1
    return created
