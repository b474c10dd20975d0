"""A customer on a phone (390 px) manages a booking from the link every confirmation and reminder carries
(self-service.md §2): cancels it from the link of the rendered reminder (refund as a gift card), and another time
moves it to another hour.
Screenshots go to $MANAGE_SCREENSHOTS when set (manual review)."""

import os
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.core import clock
from tests.e2e.conftest import choose_people
from tests.e2e.test_booking_journey import fill_checkout

pytestmark = pytest.mark.e2e
SHOTS = os.environ.get("MANAGE_SCREENSHOTS")


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def day_ahead(days):
    day = clock.today() + timedelta(days=days)
    while day.weekday() == 1:  # the tubs are closed on Tuesdays
        day += timedelta(days=1)
    return day


def book_and_pay_by_transfer(page, base, day, hhmm):
    """Book Tina Calipso for 2 on `day` at `hhmm` by transfer; returns the order page's URL (the manage link)."""
    page.goto(f"{base}/ventas/servicio/1/?fecha={day.isoformat()}&cantidad_personas=2")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tina Calipso")
    expect(page.locator("#hours")).to_contain_text(hhmm)
    choose_people(page, 2)
    page.locator("#hours label", has_text=hhmm).click()
    page.get_by_role("button", name="Agregar al carrito").click()
    expect(page.locator("#booking-panel")).to_contain_text("Agregado al carrito: Tina Calipso")
    page.goto(base + "/ventas/checkout/")
    fill_checkout(page, "Transferencia bancaria")
    expect(page).to_have_url(re.compile(r"/ventas/reserva/[^/]+/$"))
    return page.url


def reminder_links(base, order_page_url, day):
    """Render the order's BOOKING_REMINDER (SMS and e-mail) as the dispatcher would at send time, in the live
    server's app and database; returns the manage link each carries. The outbox rows are not kept."""
    import sqlalchemy as sa

    from app.comms.models import CommunicationLog
    from app.comms.outbox_services import enqueue
    from app.comms.policy import EMAIL, SMS
    from app.comms.render import render
    from app.core.signing import order_id_from_token
    from app.extensions import db
    from app.sales.models import Order
    from tests.e2e.conftest import LIVE_APPS

    app = LIVE_APPS[base]
    links = {}
    with app.app_context():
        order = db.session.get(Order, order_id_from_token(order_page_url.rstrip("/").rsplit("/", 1)[-1]))
        try:
            for channel, destination, suffix in (
                (SMS, order.client.phone, "sms"),
                (EMAIL, order.client.email, "email"),
            ):
                key = f"order:{order.id}:BOOKING_REMINDER:{day.isoformat()}:{suffix}"
                inserted = enqueue(
                    message_type="BOOKING_REMINDER",
                    channel=channel,
                    idempotency_key=key,
                    client_id=order.client_id,
                    order_id=order.id,
                    destination=destination,
                    triggered_by="e2e",
                )
                assert inserted
                log = db.session.scalar(sa.select(CommunicationLog).where(CommunicationLog.idempotency_key == key))
                message = render(log)
                body = message.text if channel == SMS else message.html
                found = re.findall(r"https?://[^\s\"<>]+/ventas/reserva/[^/\s\"<>]+/", body)
                assert found, body
                links[suffix] = found[0]
        finally:
            db.session.rollback()
            db.session.remove()
    return links


def test_phone_customer_cancels_from_the_link(live_server, phone_page):
    page = phone_page
    day = day_ahead(11)  # days no other journey books (they share the live server)
    order_page = book_and_pay_by_transfer(page, live_server, day, "14:00")
    links = reminder_links(live_server, order_page, day)
    link = links["sms"]  # the reminder's SMS, opened on the phone
    assert links["email"] == link == order_page  # the e-mail carries the same signed link
    page.goto(link)
    expect(page.locator("#manage-booking")).to_contain_text("Puedes cancelar sin costo hasta el")
    expect(page.get_by_role("link", name="Cambiar fecha u hora")).to_be_visible()
    shot(page, "manage-390.png")
    page.get_by_role("link", name="Cancelar reserva").click()
    expect(page.locator("#refund-amount")).to_have_text("Te devolvemos: $0")  # nothing paid yet
    shot(page, "cancel-confirm-390.png")
    page.get_by_role("button", name="Sí, cancelar mi reserva").click()
    expect(page).to_have_url(link)
    expect(page.locator("body")).to_contain_text("Tu reserva fue cancelada.")
    expect(page.locator("#order-status")).to_have_text("Cancelada")
    expect(page.get_by_role("link", name="Cancelar reserva")).to_have_count(0)
    shot(page, "cancelled-390.png")


def test_phone_customer_moves_the_booking_to_another_hour(live_server, phone_page, browser):
    page = phone_page
    day = day_ahead(12)
    link = book_and_pay_by_transfer(page, live_server, day, "14:00")
    page.goto(link)
    page.get_by_role("link", name="Cambiar fecha u hora").click()
    expect(page.get_by_role("heading", name="Cambiar fecha u hora")).to_be_visible()
    expect(page.locator("#reschedule-hours")).to_contain_text("17:00")
    expect(page.locator("#reschedule-hours label", has_text="14:00")).to_have_count(0)  # where it already is
    shot(page, "reschedule-390.png")
    page.locator("#reschedule-hours label", has_text="19:00").click()
    page.get_by_role("button", name="Cambiar mi reserva").click()
    expect(page).to_have_url(link)
    expect(page.locator("body")).to_contain_text(f"Listo: tu reserva quedó para el {day:%d/%m/%Y} a las 19:00.")
    expect(page.locator("#manage-booking")).to_contain_text(f"{day:%d/%m/%Y} 19:00")
    shot(page, "rescheduled-390.png")
    desktop = browser.new_context(viewport={"width": 1366, "height": 900}, locale="es-CL")
    try:  # the same link on a computer
        wide = desktop.new_page()
        wide.goto(link)
        expect(wide.locator("#manage-booking")).to_contain_text("19:00")
        shot(wide, "manage-1366.png")
    finally:
        desktop.close()


def test_manager_edits_a_policy_at_the_desk(live_server, browser):
    from tests.conftest import PASSWORD

    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="es-CL")
    page = context.new_page()
    try:
        page.goto(live_server + "/accounts/login/")
        page.get_by_label("Usuario").fill("gerente")
        page.get_by_label("Contraseña").fill(PASSWORD)
        page.get_by_role("button", name="Ingresar").click()
        expect(page.get_by_role("link", name=re.compile("Salir"), include_hidden=True).first).to_be_attached()
        page.goto(live_server + "/ventas/configuracion/politicas/")
        form = page.locator(".policy-form", has_text="Masajes")
        form.get_by_label("Cancelación sin costo hasta (horas antes)").fill("36")
        form.get_by_role("button", name="Guardar").click()
        expect(page.locator(".policy-form", has_text="Masajes")).to_contain_text("Política guardada.")
        expect(page.locator("#policy-changes")).to_contain_text("24 → 36")  # refreshed without a reload
        form = page.locator(".policy-form", has_text="Masajes")
        form.get_by_label("Abono para confirmar una reserva online (%)").fill("150")
        form.get_by_role("button", name="Guardar").click()
        expect(page.locator(".policy-form", has_text="Masajes")).to_contain_text("Ingrese un porcentaje entre 0 y 100.")
        shot(page, "policies-1366.png")
        page.reload()
        expect(page.locator("#policy-changes")).to_contain_text("24 → 36")
    finally:
        context.close()
