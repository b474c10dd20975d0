"""Calendar feeds: the secret .ics URLs (public, token-checked) and `/ventas/calendario/` for gerente/admin."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_login import current_user

from app.auth.decorators import public, role_required
from app.calendars import feeds, services
from app.calendars.models import FEED_KINDS
from app.catalog.models import Provider, Service
from app.core.errors import DomainError
from app.core.uow import unit_of_work
from app.extensions import db
from app.web.errors import error_response
from app.web.htmx import render_page
from app.web.urls import public_url

bp = Blueprint("calendars", __name__, url_prefix="/ventas/calendario")


@bp.errorhandler(DomainError)
def _refused(exc: DomainError):
    """A refused rotation (an unknown service or provider) is a flash on the list, as it always was; anything else
    as the app-wide handler does."""
    if request.endpoint == "calendars.feed_rotate":
        flash(exc.message, "danger")
        return redirect(url_for("calendars.feed_list"), 303)
    return error_response(exc.status, exc.message)


@bp.get("/<any(servicio, proveedor):kind>/<int:object_id>/<token>.ics")
@public
def feed(kind: str, object_id: int, token: str):
    if not feeds.token_matches(kind, object_id, token):
        abort(404)
    owner = db.session.get(feeds.MODELS[kind], object_id)
    if owner is None:
        abort(404)
    body, etag = feeds.feed_ics(kind, owner)
    response = Response(body, mimetype="text/calendar")
    response.set_etag(etag)
    response.make_conditional(request)
    response.headers["Content-Disposition"] = f'inline; filename="aremko-{kind}-{object_id}.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


def feed_url(kind: str, object_id: int, version: int) -> str:
    return public_url(
        "calendars.feed", kind=kind, object_id=object_id, token=feeds.feed_token(kind, object_id, version)
    )


@bp.get("/")
@role_required("gerente", "admin")
def feed_list():
    sections = []
    for kind, model, title in (("servicio", Service, "Servicios"), ("proveedor", Provider, "Proveedores")):
        owners = list(db.session.scalars(sa.select(model).where(model.is_active).order_by(model.name)))
        versions = feeds.feed_versions(kind)
        sections.append((kind, title, [(o, feed_url(kind, o.id, versions.get(o.id, 0))) for o in owners]))
    return render_page("calendars/feeds.html", None, sections=sections)


@bp.post("/<kind>/<int:object_id>/regenerar/")
@role_required("admin")
def feed_rotate(kind: str, object_id: int):
    if kind not in FEED_KINDS:
        abort(404)
    with unit_of_work():  # a refusal is answered by _refused
        services.rotate_feed(kind, object_id, by=current_user)
    flash("Enlace regenerado: el anterior dejó de funcionar. Vuelva a suscribir el calendario.", "success")
    return redirect(url_for("calendars.feed_list"), 303)
