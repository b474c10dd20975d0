"""Browser tests: the app served on 127.0.0.1 by a live-server thread, driven by Playwright in Debian's Chromium."""

from __future__ import annotations

import threading

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from tests.conftest import PASSWORD, fresh_database, make_test_config

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def seed_e2e_data() -> None:
    from app.auth.services import create_user
    from app.catalog.models import Service, ServiceCategory
    from app.catalog.policy import validate_slot_grid

    tinas = ServiceCategory(name="Tinas Calientes", sort_order=1, description="Tinas de agua caliente junto al río.")
    masajes = ServiceCategory(name="Masajes", sort_order=2)
    db.session.add_all([tinas, masajes])
    grid = validate_slot_grid({day: ["14:00", "17:00", "19:00"] for day in
                               ("monday", "wednesday", "thursday", "friday", "saturday", "sunday")})
    every_day = validate_slot_grid({day: ["10:00", "19:00"] for day in
                                    ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")})
    db.session.add_all([
        Service(name="Tina Calipso", base_price=25000, duration_minutes=120, min_people=1, max_people=4,
                service_type="tina", category=tinas, slot_grid=grid, web_description="Tina de madera nativa."),
        Service(name="Masaje Relajación", base_price=45000, duration_minutes=60, service_type="masaje",
                category=masajes, slot_grid=grid),
        # not published: booked only at the desk (the receptionist's journey runs on any weekday)
        Service(name="Tina Privada", base_price=30000, duration_minutes=120, min_people=1, max_people=4,
                service_type="tina", category=tinas, slot_grid=every_day, is_published=False),
    ])
    create_user(username="recepcion", role="recepcion", password=PASSWORD, full_name="Recepción Demo")
    from app.payments.services import ensure_payment_methods

    ensure_payment_methods()
    db.session.commit()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """Serve a fresh, migrated database (SQLite file, or a new PostgreSQL database) on a free port."""
    tmp = tmp_path_factory.mktemp("e2e")
    database = fresh_database(tmp)
    url = database.__enter__()
    application = create_app(make_test_config(SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS={},
                                              MEDIA_ROOT=str(tmp / "media")))
    with application.app_context():
        upgrade()
        seed_e2e_data()
        db.session.remove()
    server = make_server("127.0.0.1", 0, application, threaded=True)
    application.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    database.__exit__(None, None, None)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(**PHONE, locale="es-CL")
    page = context.new_page()
    yield page
    context.close()
