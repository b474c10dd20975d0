"""English for visitors (self-service.md §5): Flask-Babel, the locale of a request, the language switch.

* The source language is es_CL (the msgids); `app/translations/en/LC_MESSAGES/messages.po` is the English
  catalogue (docs/I18N.md: how to add a string and regenerate it).
* Visitor pages (the blueprints in `VISITOR_BLUEPRINTS`, and a URL that matched no route) take the locale from
  `?lang=` (remembered in the `lang` cookie), else the cookie, else `Accept-Language`, else es_CL. Every other page
  (the staff screens, Flask-Admin, the API) is es_CL whatever the browser asks.
* Money (`$12.345`) and dates (`DD/MM/YYYY`) are formatted by app/web/filters.py the same way in both languages.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, current_app, request
from flask_babel import Babel, get_locale, gettext, refresh

from app.core.errors import Msg

DEFAULT_LOCALE = "es_CL"
LOCALES = ("es_CL", "en")
# ?lang= values and what they mean; the switch shows them in this order
LANG_CODES = {"es": "es_CL", "en": "en"}
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
# Blueprints whose pages a visitor reads: the public site, cart, checkout and order page (shop), Flow's return and
# the gift-card pages (payments, fake_flow), unsubscribe and preferences (comms_public), the waitlist.
VISITOR_BLUEPRINTS = frozenset({"shop", "payments", "fake_flow", "comms_public", "waitlist"})

babel = Babel()


def _lang_code(value: str | None) -> str | None:
    """The locale a `?lang=` / cookie value names (`es`, `es_CL`, `es-CL`, `en`, `en-US`…), None if unsupported."""
    raw = (value or "").strip().lower().replace("-", "_")
    if not raw or len(raw) > 10:
        return None
    return LANG_CODES.get(raw.split("_", 1)[0])


def visitor_request() -> bool:
    """Whether this request shows a visitor page (its locale is negotiated) rather than a staff one (es_CL)."""
    if request.url_rule is None:  # no route: a 404 a visitor may read
        return True
    return request.blueprint in current_app.config.get("VISITOR_BLUEPRINTS", VISITOR_BLUEPRINTS)


def select_locale() -> str:
    """?lang= → cookie → Accept-Language → es_CL, on visitor pages; es_CL everywhere else."""
    if not request or not visitor_request():
        return DEFAULT_LOCALE
    chosen = _lang_code(request.args.get("lang")) or _lang_code(request.cookies.get(COOKIE))
    if chosen:
        return chosen
    best = request.accept_languages.best_match(("es", "es-CL", "en"))
    return _lang_code(best) or DEFAULT_LOCALE


def current_language() -> str:
    """The two-letter language of the current locale ("es" or "en"), what `clients.language` stores."""
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "es"


def translated(text):
    """A service's Spanish text in the current locale: a `Msg` through its msgid with its values (the values that
    are Msg too, translated; data such as a service name or a date left as is), any other string through the
    catalogue as written (the fixed refusals, app/shop/texts.py). Other values (lazy strings, None) unchanged."""
    if isinstance(text, Msg):
        values = {k: translated(v) if isinstance(v, Msg) else v for k, v in text.params.items()}
        return gettext(text.msgid, **values) if values else gettext(text.msgid)
    if isinstance(text, str) and text:
        return gettext(text)
    return text


def html_lang() -> str:
    """The `<html lang>` value: es-CL or en."""
    return "en" if current_language() == "en" else "es-CL"


def lang_url(code: str) -> str:
    """The current page with `?lang=<code>` (other query arguments kept): the ES | EN switch's links."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    args.append(("lang", code))
    return f"{request.path}?{urlencode(args)}"


def _remember_lang(response):
    """`?lang=` on a visitor page is remembered in a cookie for the next pages."""
    if request.args.get("lang") is not None and visitor_request():
        chosen = _lang_code(request.args.get("lang"))
        if chosen and chosen != _lang_code(request.cookies.get(COOKIE)):
            response.set_cookie(
                COOKIE,
                "en" if chosen == "en" else "es",
                max_age=COOKIE_MAX_AGE,
                samesite="Lax",
                secure=request.is_secure,
                httponly=True,
            )
    if visitor_request():
        response.vary.update(("Accept-Language", "Cookie"))
    return response


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "America/Santiago")
    app.config.setdefault("VISITOR_BLUEPRINTS", VISITOR_BLUEPRINTS)
    babel.init_app(app, locale_selector=select_locale)
    # Flask-Babel caches the locale on `g`, which outlives a request where an app context was already pushed
    # (a job, the tests): each request decides afresh.
    app.before_request(refresh)
    app.after_request(_remember_lang)
    app.add_template_global(html_lang, "html_lang")
    app.add_template_global(current_language, "current_language")
    app.add_template_global(lang_url, "lang_url")
