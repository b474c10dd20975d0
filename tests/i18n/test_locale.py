"""The locale of a request (self-service.md §5): ?lang= (remembered in a cookie) → cookie → Accept-Language → es_CL
on visitor pages; staff pages are es_CL whatever the browser asks."""

import pytest

EN = {"Accept-Language": "en-US,en;q=0.9"}


def lang_of(resp) -> str:
    text = resp.get_data(as_text=True)
    start = text.index("<html lang=") + len('<html lang="')
    return text[start : text.index('"', start)]


def test_default_is_spanish(client):
    resp = client.get("/")
    assert resp.status_code == 200
    assert lang_of(resp) == "es-CL"
    assert 'aria-label="Idioma"' in resp.text
    assert "Accept-Language" in resp.headers["Vary"]


@pytest.mark.parametrize("header", ["en", "en-GB,en;q=0.8", "de-DE,de;q=0.9,en;q=0.5"])
def test_accept_language_english(client, header):
    resp = client.get("/", headers={"Accept-Language": header})
    assert lang_of(resp) == "en"
    assert 'aria-label="Language"' in resp.text
    assert "lang=" not in resp.headers.get("Set-Cookie", "")  # only ?lang= is remembered


@pytest.mark.parametrize("header", ["es-CL,es;q=0.9,en;q=0.5", "fr-FR", "", "*"])
def test_accept_language_spanish_or_unsupported(client, header):
    assert lang_of(client.get("/", headers={"Accept-Language": header})) == "es-CL"


def test_cookie_beats_accept_language(client):
    client.set_cookie("lang", "es")
    assert lang_of(client.get("/", headers=EN)) == "es-CL"
    client.set_cookie("lang", "en")
    assert lang_of(client.get("/", headers={"Accept-Language": "es-CL"})) == "en"


def test_query_beats_cookie_and_is_remembered(client):
    client.set_cookie("lang", "es")
    resp = client.get("/?lang=en", headers={"Accept-Language": "es-CL"})
    assert lang_of(resp) == "en"
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("lang=en;") and "SameSite=Lax" in cookie and "HttpOnly" in cookie
    # the next page, without ?lang=, stays English through the cookie
    assert lang_of(client.get("/ventas/carrito/", headers={"Accept-Language": "es-CL"})) == "en"
    back = client.get("/ventas/carrito/?lang=es", headers=EN)
    assert lang_of(back) == "es-CL" and back.headers["Set-Cookie"].startswith("lang=es;")
    assert lang_of(client.get("/", headers=EN)) == "es-CL"


@pytest.mark.parametrize("value", ["xx", "", "e" * 40, "<script>"])
def test_unknown_lang_values_are_ignored(client, value):
    resp = client.get("/", query_string={"lang": value}, headers=EN)
    assert resp.status_code == 200
    assert lang_of(resp) == "en"  # falls through to Accept-Language
    assert "lang=" not in resp.headers.get("Set-Cookie", "")


def test_switch_links_keep_other_arguments(client, make_category):
    cat = make_category(name="Tinas")
    resp = client.get(f"/?categoria={cat.id}", headers=EN)
    assert f'href="/?categoria={cat.id}&amp;lang=es"' in resp.text
    assert f'href="/?categoria={cat.id}&amp;lang=en"' in resp.text
    assert 'aria-current="true" title="English"' in resp.text


def test_unknown_url_404_follows_the_visitor(client):
    resp = client.get("/no-existe/", headers=EN)
    assert resp.status_code == 404
    assert lang_of(resp) == "en"


def test_staff_pages_stay_spanish(login):
    client = login("recepcion")
    client.set_cookie("lang", "en")
    resp = client.get("/ventas/admin-dashboard/?lang=en", headers=EN)
    assert resp.status_code == 200
    assert lang_of(resp) == "es-CL"
    assert "lang=" not in resp.headers.get("Set-Cookie", "")  # a staff page does not change the visitor's choice
    assert 'aria-label="Language"' not in resp.text


def test_flask_admin_stays_spanish(login):
    client = login("admin")
    resp = client.get("/admin/clients/new/", headers=EN)  # an unknown view: Flask-Admin's own 404 in Spanish
    page = client.get("/admin/", headers=EN)
    assert page.status_code == 200
    assert '<html lang="en"' not in page.text
    assert resp.status_code in (200, 403, 404)


def test_visitor_form_errors_follow_the_locale(app):
    """WTForms' own messages (Flask-WTF reads Flask-Babel's locale): English for an English visitor, Spanish on a
    staff screen with the same browser."""
    from werkzeug.datastructures import MultiDict
    from wtforms import IntegerField

    from app.web.forms import BaseForm

    class F(BaseForm):
        class Meta:
            csrf = False

        n = IntegerField()

    with app.test_request_context("/ventas/carrito/", headers=EN):
        app.preprocess_request()
        form = F(formdata=MultiDict({"n": "x"}))
        form.validate()
        assert form.n.errors == ["Not a valid integer value."]
    with app.test_request_context("/ventas/admin-dashboard/", headers=EN):
        app.preprocess_request()
        form = F(formdata=MultiDict({"n": "x"}))
        form.validate()
        assert form.n.errors == ["No es un valor entero válido."]


def test_wtforms_catalogue_is_loaded_once_per_locale_not_per_request(app):
    """Flask-WTF loads WTForms' catalogue from disk on every request that builds a form; BaseForm keeps one copy per
    locale (the messages still follow the visitor, test above)."""
    from werkzeug.datastructures import MultiDict
    from wtforms import IntegerField

    from app.web import forms

    class F(forms.BaseForm):
        class Meta:
            csrf = False

        n = IntegerField()

    forms._wtforms_catalogue.cache_clear()
    for _ in range(3):
        with app.test_request_context("/ventas/carrito/", headers=EN):
            app.preprocess_request()
            form = F(formdata=MultiDict({"n": "x"}))
            form.validate()
            assert form.n.errors == ["Not a valid integer value."]
    info = forms._wtforms_catalogue.cache_info()
    assert info.misses == 1 and info.hits == 2
