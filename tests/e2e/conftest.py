"""Browser tests: the app served on 127.0.0.1 by a live-server thread, driven by Playwright in Debian's Chromium."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from tests.conftest import PASSWORD, fresh_database, make_test_config, migrate_to_head

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
AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe-core-4.14.1.min.js"
# axe-core runs on every page a journey loads (full loads and HTMX swaps) and reports back to the test;
# a page of the app's own with a critical or serious violation fails the test that loaded it (UX review D15).
AXE_WATCH = """
(() => {
  if (window.top !== window) return;
  let timer = null;
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(check, 250);
  }
  function check() {
    if (!window.axe || !window.__axeReport) return;
    if (window.__axeRunning) { schedule(); return; }
    window.__axeRunning = true;
    window.axe.run(document, {resultTypes: ["violations"]}).then((r) => {
      const bad = r.violations.filter((v) => v.impact === "critical" || v.impact === "serious")
        .map((v) => ({id: v.id, impact: v.impact, count: v.nodes.length,
                      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ") + " — " +
                        n.any.concat(n.all).map((c) => c.message).join(" ").slice(0, 170))}));
      window.__axeReport({url: location.pathname + location.search, violations: bad});
    }).catch(() => {}).finally(() => { window.__axeRunning = false; });
  }
  window.addEventListener("load", schedule);
  document.addEventListener("htmx:afterSettle", schedule);
})();
"""
AXE_REPORTS: list[dict] = []


def watch_axe(context) -> None:
    """Run axe-core on every page of `context` (injected as an init script: the CSP does not apply to it)."""
    context.add_init_script(path=str(AXE_JS))
    context.add_init_script(script=AXE_WATCH)
    context.expose_binding("__axeReport", lambda _source, report: AXE_REPORTS.append(report))


def axe_violations(page) -> list[dict]:
    """Critical and serious axe-core violations of the page as it is now."""
    if not page.evaluate("() => !!window.axe"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    return page.evaluate("""async () => {
      while (window.__axeRunning) await new Promise((done) => setTimeout(done, 50));  // the watcher's own run
      window.__axeRunning = true;
      let r;
      try { r = await window.axe.run(document, {resultTypes: ["violations"]}); }
      finally { window.__axeRunning = false; }
      return r.violations.filter((v) => v.impact === "critical" || v.impact === "serious")
        .map((v) => ({id: v.id, impact: v.impact, count: v.nodes.length,
                      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ") + " — " +
                        n.any.concat(n.all).map((c) => c.message).join(" ").slice(0, 170))}));
    }""")


def assert_axe_clean(page, label: str = "") -> None:
    bad = axe_violations(page)
    assert not bad, f"axe {label or page.url}: {bad}"


@pytest.fixture(autouse=True)
def _axe_clean_pages():
    """Every page the test's browser loaded: 0 critical and 0 serious axe-core violations."""
    AXE_REPORTS.clear()
    yield
    bad = [r for r in AXE_REPORTS if r["violations"]]
    AXE_REPORTS.clear()
    assert not bad, "axe-core: " + "; ".join(f"{r['url']}: {r['violations']}" for r in bad)


PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def choose_people(page, people: int) -> None:
    """Pick the number of people on a service page. The change reloads the hour grid through HTMX; wait until the
    new grid has settled, so that the hour clicked next is on the grid that stays (a click on the old one is lost
    when the swap lands after it, leaving "Agregar al carrito" disabled)."""
    page.evaluate(
        "() => { window.__hoursSettled = new Promise((done) =>"
        " document.body.addEventListener('htmx:afterSettle', () => done(true), {once: true})); }"
    )
    page.select_option("#cantidad_personas", str(people))
    page.evaluate("() => window.__hoursSettled")


def seed_e2e_data() -> None:
    from app.auth.services import create_user
    from app.catalog.models import Service, ServiceCategory
    from app.catalog.policy import validate_slot_grid

    tinas = ServiceCategory(name="Tinas Calientes", sort_order=1, description="Tinas de agua caliente junto al río.")
    masajes = ServiceCategory(name="Masajes", sort_order=2)
    db.session.add_all([tinas, masajes])
    grid = validate_slot_grid(
        {
            day: ["14:00", "17:00", "19:00"]
            for day in ("monday", "wednesday", "thursday", "friday", "saturday", "sunday")
        }
    )
    every_day = validate_slot_grid(
        {
            day: ["10:00", "19:00"]
            for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        }
    )
    db.session.add_all(
        [
            Service(
                name="Tina Calipso",
                base_price=25000,
                duration_minutes=120,
                min_people=1,
                max_people=4,
                service_type="tina",
                category=tinas,
                slot_grid=grid,
                web_description="Tina de madera nativa.",
            ),
            Service(
                name="Masaje Relajación",
                base_price=45000,
                duration_minutes=60,
                service_type="masaje",
                category=masajes,
                slot_grid=grid,
            ),
            # not published: booked only at the desk (the receptionist's journey runs on any weekday)
            Service(
                name="Tina Privada",
                base_price=30000,
                duration_minutes=120,
                min_people=1,
                max_people=4,
                service_type="tina",
                category=tinas,
                slot_grid=every_day,
                is_published=False,
            ),
        ]
    )
    create_user(username="recepcion", role="recepcion", password=PASSWORD, full_name="Recepción Demo")
    create_user(username="gerente", role="gerente", password=PASSWORD, full_name="Gerencia Demo")
    create_user(username="marketing", role="marketing", password=PASSWORD, full_name="Marketing Demo")
    create_user(username="admin", role="admin", password=PASSWORD, full_name="Administración Demo")
    from app.sales.payment_services import ensure_payment_methods

    ensure_payment_methods()
    seed_crm_e2e_data()
    db.session.commit()


def seed_crm_e2e_data() -> None:
    """Three VIP clients (6 past visits, $200.000 paid each) and a campaign in planning (crm journey); the manager
    comes from seed_e2e_data."""
    from datetime import timedelta

    from app.catalog.models import Service
    from app.clients.services import create_client
    from app.core import clock
    from app.crm.services import save_campaign
    from app.sales.models import Order, ServiceLine

    history = Service(
        name="Tina Histórica",
        base_price=25000,
        duration_minutes=120,
        service_type="tina",
        slot_grid={},
        is_published=False,
        is_active=False,
    )
    db.session.add(history)
    db.session.flush()
    for n, name in enumerate(("Valentina VIP", "Vicente VIP", "Violeta VIP")):
        client = create_client(
            data={"name": name, "phone": f"+5697000000{n}", "email": f"vip{n}@example.com"},
            origin="seed",
            marketing_consent=True,
        )
        for visit in range(6):
            order = Order(
                client_id=client.id,
                origin="recepcion",
                total=200000 if visit == 0 else 0,
                paid=200000 if visit == 0 else 0,
            )
            db.session.add(order)
            db.session.flush()
            db.session.add(
                ServiceLine(
                    order_id=order.id,
                    service_id=history.id,
                    start_time="14:00",
                    people=1,
                    service_date=clock.today() - timedelta(days=10 + visit),
                    unit_price=0,
                    pricing_rule="por_persona",
                    subtotal=0,
                    status="checkout",
                )
            )
    save_campaign(None, data={"name": "Campaña VIP Invierno", "audience_source": "lista", "channels": ["email"]})
    from app.clients.models import ClientUpdateRequest

    # one pending contact update (the staff screens' journey reviews it)
    db.session.add(
        ClientUpdateRequest(
            client_id=client.id,
            source="checkout",
            proposed={
                "email": {"actual": client.email, "propuesto": "violeta@nuevo.cl"},
                "nombre": {"actual": client.name, "propuesto": "Violeta Vip Rojas"},
            },
        )
    )


LIVE_APPS: dict = {}  # live server URL -> its Flask app (a journey that reads what the app would send)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, database_templates):
    """Serve a fresh, migrated database (SQLite file, or a new PostgreSQL database) on a free port: a copy of the
    session's migrated template (made here, or already by the race tests)."""
    tmp = tmp_path_factory.mktemp("e2e")
    database = fresh_database(tmp, template=database_templates.get(migrate_to_head))
    url = database.__enter__()
    application = create_app(
        make_test_config(SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS={}, MEDIA_ROOT=str(tmp / "media"))
    )
    with application.app_context():
        seed_e2e_data()
        db.session.remove()
    server = make_server("127.0.0.1", 0, application, threaded=True)
    application.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    LIVE_APPS[application.config["PUBLIC_BASE_URL"]] = application
    yield f"http://127.0.0.1:{server.server_port}"
    LIVE_APPS.clear()
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
        plain_new_context = instance.new_context

        def new_context(**kwargs):  # every journey's context runs axe-core on each page it loads
            # no colour transitions (Bootstrap honours reduced motion): axe measures settled colours, not a fade
            kwargs.setdefault("reduced_motion", "reduce")
            context = plain_new_context(**kwargs)
            watch_axe(context)
            return context

        instance.new_context = new_context
        yield instance
        instance.close()


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(**PHONE, locale="es-CL")
    page = context.new_page()
    yield page
    context.close()
