"""Public pages (anonymous, mobile-first). Booking and cart arrive with the booking capability."""

from __future__ import annotations

from itertools import groupby

from flask import Response, abort, current_app, render_template, request, url_for

from app.auth.decorators import public  # noqa: I001
from app.catalog import queries
from app.catalog.models import Service, ServiceCategory
from app.extensions import db
from app.shop import booking_views, checkout_views, giftcard_views, manage_views  # noqa: F401  (register their routes)
from app.shop.blueprint import bp
from app.web.htmx import render_page
from app.web.params import parse_id


def _category_filter() -> int | None:
    raw = request.args.get("categoria", "")
    return parse_id(raw)


def _grouped(services: list[Service]):
    return [(cat, list(items)) for cat, items in groupby(services, key=lambda s: s.category)]


@bp.get("/")
@bp.get("/ventas/", endpoint="home_ventas")
@public
def home():
    selected = _category_filter()
    services = db.session.scalars(queries.published_services(selected)).all()
    categories = db.session.scalars(queries.nav_categories()).all()
    return render_page(
        "shop/home.html",
        "service_grid",
        groups=_grouped(services),
        categories=categories,
        selected=selected,
    )


@bp.get("/ventas/categoria/<int:category_id>/")
@public
def category(category_id: int):
    cat = db.session.get(ServiceCategory, category_id) or abort(404)
    services = db.session.scalars(queries.published_services(category_id)).all()
    return render_template("shop/category.html", category=cat, services=services)


@bp.get("/ventas/terminos/")
@public
def terms():
    return render_template(
        "shop/text_page.html",
        title="Términos y condiciones",
        text=current_app.config.get("TERMS_TEXT") or TERMS_PLACEHOLDER,
    )


@bp.get("/ventas/privacidad/")
@public
def privacy():
    return render_template(
        "shop/text_page.html",
        title="Política de privacidad",
        text=current_app.config.get("PRIVACY_TEXT") or PRIVACY_PLACEHOLDER,
    )


TERMS_PLACEHOLDER = (
    "Las reservas quedan confirmadas al recibir el pago o la transferencia.\n"
    "Para cambios o cancelaciones escríbenos a ventas@aremko.cl o por WhatsApp."
)
PRIVACY_PLACEHOLDER = (
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

    return {"nav_categories": nav_categories, "local_business_jsonld": local_business_jsonld}
