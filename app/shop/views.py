"""Public pages (anonymous, mobile-first). Booking and cart arrive with the booking capability."""

from __future__ import annotations

from functools import cached_property
from itertools import groupby

from flask import Response, abort, current_app, render_template, request, url_for
from flask_babel import gettext

from app.auth.decorators import public  # noqa: I001
from app.catalog import queries
from app.catalog.models import Service, ServiceCategory
from app.catalog.version import catalog_version
from app.extensions import db
from app.shop import booking_views, checkout_views, giftcard_views, manage_views  # noqa: F401  (register their routes)
from app.shop.blueprint import bp
from app.shop.texts import N_
from app.web.fragments import cached_part, cached_value, keep_part, keep_static_part, static_part
from app.web.htmx import render_page
from app.web.params import parse_id


def _category_filter() -> int | None:
    raw = request.args.get("categoria", "")
    return parse_id(raw)


def _grouped(services: list[Service]):
    return [(cat, list(items)) for cat, items in groupby(services, key=lambda s: s.category)]


class _Lazy:
    """Catalogue reads a template makes only when its cached part is missing (home and category pages)."""

    def __init__(self, selected: int | None):
        self.selected = selected

    @cached_property
    def groups(self):
        return _grouped(db.session.scalars(queries.published_services(self.selected)).all())

    @cached_property
    def categories(self):
        return db.session.scalars(queries.nav_categories()).all()

    @cached_property
    def services(self):
        return db.session.scalars(queries.published_services(self.selected)).all()


@bp.get("/")
@bp.get("/ventas/", endpoint="home_ventas")
@public
def home():
    selected = _category_filter()
    return render_page("shop/home.html", "service_grid", catalog=_Lazy(selected), selected=selected)


def _category_head(category_id: int) -> dict | None:
    cat = db.session.get(ServiceCategory, category_id)
    if cat is None:
        return None
    return {"id": cat.id, "name": cat.name, "description": cat.description, "image": cat.image}


@bp.get("/ventas/categoria/<int:category_id>/")
@public
def category(category_id: int):
    head = cached_value("category-head", catalog_version(), category_id, lambda: _category_head(category_id))
    if head is None:
        abort(404)
    return render_template("shop/category.html", category=head, catalog=_Lazy(category_id))


@bp.get("/ventas/terminos/")
@public
def terms():
    return render_template(
        "shop/text_page.html",
        title=gettext("Términos y condiciones"),
        text=current_app.config.get("TERMS_TEXT") or gettext(TERMS_PLACEHOLDER),
    )


@bp.get("/ventas/privacidad/")
@public
def privacy():
    return render_template(
        "shop/text_page.html",
        title=gettext("Política de privacidad"),
        text=current_app.config.get("PRIVACY_TEXT") or gettext(PRIVACY_PLACEHOLDER),
    )


# the operator's own TERMS_TEXT / PRIVACY_TEXT (config) are shown as written, in every language
TERMS_PLACEHOLDER = N_(
    "Las reservas quedan confirmadas al recibir el pago o la transferencia.\n"
    "Para cambios o cancelaciones escríbenos a ventas@aremko.cl o por WhatsApp."
)
PRIVACY_PLACEHOLDER = N_(
    "Usamos tus datos solo para gestionar tus reservas y, si lo autorizas, para enviarte novedades.\n"
    "Puedes dejar de recibir mensajes en cualquier momento con un clic."
)


@bp.get("/sitemap.xml")
@public
def sitemap():
    base = current_app.config["PUBLIC_BASE_URL"]
    entries = [(base + "/", "daily", "1.0")]
    for cat in db.session.scalars(queries.nav_categories()):
        entries.append((base + url_for("shop.category", category_id=cat.id), "weekly", "0.8"))
    for service in db.session.scalars(queries.published_services()):
        entries.append((base + url_for("shop.service_detail", service_id=service.id), "weekly", "0.6"))
    body = render_template("shop/sitemap.xml", entries=entries)
    return Response(body, mimetype="application/xml")


ROBOTS_DISALLOW = (
    "/admin/",
    "/accounts/",
    "/ventas/api/",
    "/ventas/admin-dashboard/",
    "/ventas/recepcion/",
    "/ventas/caja-diaria/",
    "/ventas/clientes/",
    "/ventas/reportes/",
    "/ventas/campanas/",
    "/ventas/venta_reservas/",
    "/ventas/compras/",
    "/ventas/cart/",
    "/ventas/checkout/",
)


@bp.get("/robots.txt")
@public
def robots():
    base = current_app.config["PUBLIC_BASE_URL"]
    lines = ["User-agent: *", "Allow: /"]
    lines += [f"Disallow: {path}" for path in ROBOTS_DISALLOW]
    lines.append(f"Sitemap: {base}/sitemap.xml")
    return Response("\n".join(lines) + "\n", mimetype="text/plain")


@bp.app_context_processor
def _public_context():
    def nav_categories():
        try:
            return db.session.scalars(queries.nav_categories()).all()
        except Exception:  # the layout must still render on error pages (e.g. database down)
            db.session.rollback()
            return []

    def local_business_jsonld() -> dict:
        cfg = current_app.config
        return {
            "@context": "https://schema.org",
            "@type": "LocalBusiness",
            "name": cfg["BUSINESS_NAME"],
            "email": cfg["BUSINESS_EMAIL"],
            "telephone": cfg["BUSINESS_WHATSAPP"],
            "url": cfg["BUSINESS_WEBSITE"],
            "address": {"@type": "PostalAddress", "streetAddress": cfg["BUSINESS_ADDRESS"], "addressCountry": "CL"},
        }

    def catalog_part(name: str, *key):
        """A part of a public page rendered earlier from the catalogue in force (None: render and keep it)."""
        try:
            return cached_part(name, catalog_version(), *key)
        except Exception:  # as nav_categories: error pages render without the database
            db.session.rollback()
            return None

    def keep_catalog_part(name: str, html, *key):
        try:
            return keep_part(name, catalog_version(), html, *key)
        except Exception:
            db.session.rollback()
            return html

    return {
        "nav_categories": nav_categories,
        "local_business_jsonld": local_business_jsonld,
        "catalog_part": catalog_part,
        "keep_catalog_part": keep_catalog_part,
        "static_part": static_part,
        "keep_static_part": keep_static_part,
    }
