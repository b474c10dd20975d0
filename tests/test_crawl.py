"""Crawl of the app with the demo data, as anonymous and as each role (UX review §3, D5).

From each role's home pages: every linked page (href, hx-get), every GET route without arguments and one real id
for each route with one int id; each as a full page and as an HTMX fragment. Then every form (and hx-post) of the
pages seen, once empty and once with malformed values (CSRF is off in tests).

Asserted: no 5xx; no link to a page the role may not open (a linked page answering 403); every 4xx is the styled
Spanish error page or fragment (`data-error-page`), a form re-rendered with its messages, or the API's JSON error.
Path patterns (ids replaced) are sampled a few times each, so the crawl stays short.
"""

from __future__ import annotations

import re
from collections import defaultdict
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
import sqlalchemy as sa

from app.extensions import db

ROLES = [None, "recepcion", "marketing", "gerente", "admin"]
SAMPLES_PER_PATTERN = 2
MAX_PAGES = 400  # per role; the admin has the most (every back-office list)
SKIP_PREFIXES = ("/static/", "/admin/static/", "/media/", "/ventas/fake-flow/", "/accounts/logout/", "/favicon.ico")
SKIP_FORM_ACTIONS = ("/accounts/logout/", "/ventas/fake-flow/")
ENGLISH = ("Bad Request", "Not Found", "Forbidden", "Method Not Allowed", "Internal Server Error", "Unauthorized")

# routes with one int id that no crawled page links to: the table where a real id is found
ID_TABLES = {
    "category_id": "service_categories",
    "service_id": "services",
    "order_id": "orders",
    "card_id": "gift_cards",
    "close_id": "cash_closes",
    "purchase_id": "purchases",
    "log_id": "communication_logs",
    "template_id": "sms_templates",
    "message_id": "fake_messages",
    "client_id": "clients",
    "import_id": "client_imports",
    "campaign_id": "campaigns",
    "endpoint_id": "webhook_endpoints",
    "delivery_id": "webhook_deliveries",
}
LINE_TABLES = {"/ventas/detalles-compras/": "purchase_lines", "/ventas/recepcion/lineas/": "order_service_lines"}
# The automation API (X-API-KEY only, for n8n) answers 503 "disabled" while AUTOMATION_API_KEY is unset, its documented
# state in the test config. The crawl runs it configured and presents the key to those routes (as n8n does), so they
# are crawled with real ids and still have to answer without a 5xx.
AUTOMATION_KEY = "crawl-automation-key-0123456789abcdef"


class _Page(HTMLParser):
    """Links (href, hx-get), forms with their fields, and hx-post/hx-delete targets of one HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[dict] = []
        self.posts: list[str] = []
        self._form: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if a.get("hx-get"):
            self.links.append(a["hx-get"])
        for verb in ("hx-post", "hx-delete", "hx-patch", "hx-put"):
            if a.get(verb) and tag != "form":
                self.posts.append(a[verb])
        if tag == "form":
            self._form = {
                "action": a.get("action") or a.get("hx-post") or a.get("hx-get") or "",
                "method": (a.get("method") or ("get" if a.get("hx-get") else "post")).lower(),
                "fields": [],
                "autosubmit": "data-autosubmit" in a,
            }
            self.forms.append(self._form)
        elif tag in ("input", "select", "textarea") and self._form is not None and a.get("name"):
            self._form["fields"].append((a["name"], (a.get("type") or tag).lower()))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def _malformed(kind: str) -> str:
    return {
        "number": "abc",
        "date": "31/02/20x6",
        "datetime-local": "ayer",
        "time": "25:99",
        "email": "no-es-correo",
        "tel": "12ab",
        "checkbox": "zz",
        "radio": "zz",
        "select": "zz<>",
        "hidden": "zz<>",
        "file": "no-es-un-archivo",
        "month": "13-2026",
    }.get(kind, "x" * 300 + "<script>'\"")


def _pattern(url: str) -> str:
    """The route's rule (ids, tokens and segment names folded) and the query's keys."""
    from flask import current_app
    from werkzeug.exceptions import HTTPException

    parts = urlsplit(url)
    try:
        rule, _args = current_app.url_map.bind("localhost").match(parts.path, return_rule=True)
        path = rule.rule
    except HTTPException:  # unknown path or a redirect (missing slash): keep it, ids folded
        path = re.sub(r"/\d+(?=/|$)", "/N", parts.path)
    keys = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)} - {"page", "sort", "desc"})
    return path + ("?" + "&".join(keys) if keys else "")


def _internal(base: str, href: str) -> str | None:
    if not href or href.startswith(("#", "mailto:", "tel:", "javascript:", "data:")):
        return None
    url = urljoin(base, href)
    parts = urlsplit(url)
    if parts.scheme not in ("", "http") or parts.netloc not in ("", "localhost"):
        return None
    if "lang=" in parts.query:  # the ES | EN switch: this crawl reads the Spanish site (tests/i18n the English one)
        return None
    path = parts.path + ("?" + parts.query if parts.query else "")
    return None if path.startswith(SKIP_PREFIXES) else path


def _is_styled_error(resp, url: str) -> bool:
    text = resp.get_data(as_text=True)
    if any(word in text for word in ENGLISH):
        return False
    if resp.is_json or url.startswith("/ventas/api/"):
        return bool(resp.is_json and resp.json.get("error"))
    if "data-error-page" in text:
        return True
    if '<html lang="es-CL">' in text and "<h1" in text:  # the view's own page explaining what is missing
        return True
    # a form re-rendered with its messages (422/409/400 on a submission)
    return resp.status_code in (400, 409, 422) and (
        "is-invalid" in text or 'role="alert"' in text or "alert-danger" in text or "invalid-feedback" in text
    )


@pytest.fixture
def demo(db_session):
    from app.seed import seed_demo

    seed_demo(password="clave-demo-larga-123", client_count=25, order_count=30)
    db.session.commit()


def _login(client, role):
    from app.auth.models import User

    user = db.session.scalars(
        sa.select(User).where(User.role == role, User.is_active.is_(True), User.is_system.is_(False)).order_by(User.id)
    ).first()
    with client.session_transaction() as sess:
        sess["_user_id"] = str(user.id)
        sess["_fresh"] = True


def _start_urls(app, role) -> list[str]:
    from app.auth.views import ROLE_HOME

    with app.test_request_context():
        from flask import url_for

        if role is None:
            return ["/"]
        return [url_for(ROLE_HOME[role]), url_for("staff.dashboard"), "/admin/"]


def _api_key_headers(app, url: str) -> dict[str, str]:
    """X-API-KEY for the routes guarded by `automation_key_required`, nothing for the others."""
    from werkzeug.exceptions import HTTPException

    try:
        endpoint, _args = app.url_map.bind("localhost").match(urlsplit(url).path)
    except HTTPException:
        return {}
    view = app.view_functions.get(endpoint)
    return {"X-API-KEY": AUTOMATION_KEY} if getattr(view, "_automation_key", False) else {}


def _route_urls(app, seen_patterns: set[str]) -> list[str]:
    """Every GET route without arguments, and one real id for each route with one int id not reached by links."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(SKIP_PREFIXES) or rule.endpoint == "static":
            continue
        if not rule.arguments:
            urls.append(rule.rule)
            continue
        if len(rule.arguments) != 1:
            continue
        (arg,) = rule.arguments
        if type(rule._converters[arg]).__name__ != "IntegerConverter":
            continue
        pattern = _pattern(rule.rule.replace(f"<int:{arg}>", "1"))
        if pattern in seen_patterns:
            continue
        table = (
            next((t for prefix, t in LINE_TABLES.items() if rule.rule.startswith(prefix)), None)
            if arg == "line_id"
            else ID_TABLES.get(arg)
        )
        if table is None:
            continue
        real = db.session.execute(sa.text(f"SELECT min(id) FROM {table}")).scalar()  # noqa: S608 (fixed names)
        if real is not None:
            urls.append(rule.rule.replace(f"<int:{arg}>", str(real)))
    return urls


@pytest.mark.parametrize("role", ROLES, ids=[r or "anonimo" for r in ROLES])
def test_crawl_every_page_and_form(app, client, demo, role, monkeypatch):
    monkeypatch.setitem(app.config, "AUTOMATION_API_KEY", AUTOMATION_KEY)
    if role:
        _login(client, role)
    failures: list[str] = []
    sampled: dict[str, int] = defaultdict(int)
    visited: set[str] = set()
    linked_from: dict[str, str] = {}
    forms: dict[tuple, dict] = {}
    posts: dict[str, str] = {}
    queue: list[str] = list(_start_urls(app, role))
    added_routes = False

    def check(resp, url, how):
        if resp.status_code >= 500:
            failures.append(f"{how} {url} -> {resp.status_code}")
        elif resp.status_code >= 400 and resp.status_code != 401 and not _is_styled_error(resp, url):
            failures.append(f"{how} {url} -> {resp.status_code} sin página de error en español")

    while queue or not added_routes:
        if not queue:
            added_routes = True
            queue = [u for u in _route_urls(app, set(sampled)) if u not in visited]
            continue
        url = queue.pop(0)
        pattern = _pattern(url)
        if url in visited or sampled[pattern] >= SAMPLES_PER_PATTERN or len(visited) >= MAX_PAGES:
            continue
        visited.add(url)
        sampled[pattern] += 1
        resp = client.get(url, headers=_api_key_headers(app, url))
        check(resp, url, "GET")
        if resp.status_code == 403 and url in linked_from and role is not None:
            failures.append(f"enlace a página prohibida para {role}: {url} (desde {linked_from[url]})")
        if resp.status_code == 200 and resp.mimetype == "text/html":
            if sampled[pattern] == 1:
                fragment = client.get(url, headers={"HX-Request": "true", **_api_key_headers(app, url)})
                check(fragment, url, "GET (HTMX)")
            page = _Page()
            page.feed(resp.get_data(as_text=True))
            for href in page.links:
                target = _internal(url, href)
                if target and target not in visited:
                    linked_from.setdefault(target, url)
                    queue.append(target)
            for form in page.forms:
                action = _internal(url, form["action"] or url)
                if action and not form["autosubmit"] and not action.startswith(SKIP_FORM_ACTIONS):
                    key = (_pattern(action), form["method"], tuple(n for n, _ in form["fields"]))
                    forms.setdefault(key, dict(form, action=action))
            for target in page.posts:
                action = _internal(url, target)
                if action and not action.startswith(SKIP_FORM_ACTIONS):
                    posts.setdefault(_pattern(action), action)
        resp.close()

    for form in forms.values():
        malformed = [(name, _malformed(kind)) for name, kind in form["fields"] if kind not in ("submit", "button")]
        for data in ([], malformed):
            if form["method"] == "get":
                sep = "&" if "?" in form["action"] else "?"
                url = form["action"] + (sep + urlencode(data) if data else "")
                resp = client.get(url)
            else:
                resp = client.post(form["action"], data=dict(data) if data else {})
            check(resp, form["action"], f"{form['method'].upper()} formulario {'malformado' if data else 'vacío'}")
            resp.close()
    for action in posts.values():
        resp = client.post(action, data={}, headers={"HX-Request": "true"})
        check(resp, action, "hx-post vacío")
        resp.close()

    assert len(visited) >= (5 if role is None else 20), sorted(visited)
    assert not failures, "\n".join(failures)
