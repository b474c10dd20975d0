"""An English-speaking visitor on a phone (390 px, browser language English) books a tub for two and pays with the
(fake) Flow: every page in English, money $12.345 and dates DD/MM/YYYY (self-service.md §5)."""

import os
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.core import clock
from tests.e2e.conftest import PHONE, choose_people

pytestmark = pytest.mark.e2e
SHOTS = os.environ.get("I18N_SHOTS")  # a folder: save a screenshot of each step there (looked at by a person)


@pytest.fixture
def english_phone(browser):
    context = browser.new_context(**PHONE, locale="en-US")
    page = context.new_page()
    yield page
    context.close()


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_english_visitor_books_and_pays_with_fake_flow(live_server, english_phone):
    page = english_phone
    day = clock.today() + timedelta(days=9)  # a day no other journey books (they share the live server)
    while day.weekday() == 1:  # closed on Tuesdays
        day += timedelta(days=1)
    page.goto(live_server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hot springs by the forest")
    shot(page, "1-home")
    page.locator("#service-grid").get_by_role("link", name="Book Tina Calipso").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tina Calipso")
    page.fill("#fecha", day.isoformat())
    expect(page.locator("#hours legend")).to_contain_text(f"{day:%A} {day.day} {day:%B} {day.year}")
    choose_people(page, 2)
    expect(page.locator("#live-price")).to_have_text("Total: $50.000")
    page.locator("#hours label", has_text="17:00").click()
    shot(page, "2-service")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#booking-panel")).to_contain_text(
        f"Added to cart: Tina Calipso, {day:%A} {day:%d/%m/%Y} 17:00, 2 people — $50.000."
    )
    page.get_by_role("link", name="View cart").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your cart")
    expect(page.locator("#cart-lines")).to_contain_text(f"{day:%d/%m/%Y} 17:00 · 2 people")
    expect(page.locator("#cart-lines .countdown")).to_contain_text("min left")
    expect(page.locator("#cart-total")).to_have_text("$50.000")
    shot(page, "3-cart")
    page.get_by_role("link", name="Continue to payment").click()
    expect(page.get_by_role("heading", name="Your booking details")).to_be_visible()
    page.get_by_role("button", name="Confirm booking").click()  # empty: English errors
    expect(page.locator("#checkout-form .alert-danger")).to_contain_text("Enter a valid phone number.")
    shot(page, "4-checkout-errors")
    page.get_by_label("Phone").fill("9 8765 4321")
    page.get_by_label("Full name").fill("Mary Smith")
    page.locator("#email").fill("mary@example.com")
    page.get_by_label("Flow (cards, Webpay)").check()
    page.locator("#acepta_terminos").check()
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.locator("#fake-flow")).to_contain_text("$50.000")
    expect(page.locator("#fake-flow")).to_contain_text("Test Flow — no money is charged")
    shot(page, "5-fake-flow")
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.locator("#payment-result h1")).to_have_text("Payment successful!")
    shot(page, "6-paid")
    page.get_by_role("link", name="View my booking").click()
    expect(page.locator("#order-status")).to_have_text("Paid")
    expect(page.locator("#order-balance")).to_have_text("$0")
    expect(page.locator("main")).to_contain_text(f"Tina Calipso — {day:%d/%m/%Y} 17:00, 2 people")
    shot(page, "7-order")
    # the switch: back to Spanish, remembered for the next page
    page.get_by_role("link", name="ES", exact=True).click()
    expect(page.locator("#order-status")).to_have_text("Pagada")
    expect(page.locator("html")).to_have_attribute("lang", "es-CL")
    shot(page, "8-order-es")
