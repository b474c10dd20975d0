"""Waitlist routes (self-service.md §4): the public "Avísame si se libera" form and the offer link; the desk's
"Lista de espera" panel for a day with its confirmed cancellation."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, request, session, url_for
from flask_login import current_user

from app.auth.decorators import public, role_required
from app.catalog.models import Service
from app.core import clock
from app.extensions import db, limiter
from app.waitlist import queries, services
from app.waitlist.forms import CancelEntryForm, JoinWaitlistForm
from app.waitlist.models import WaitlistEntry
from app.web.forms import submit
from app.web.htmx import hx_trigger, render_page, see_other
from app.web.i18n import current_language
from app.web.params import parse_day

bp = Blueprint(
    "waitlist", __name__, url_prefix="/ventas"
)  # visitor pages (their locale is negotiated, app/web/i18n.py)
desk_bp = Blueprint("waitlist_desk", __name__, url_prefix="/ventas")  # the desk's panel: staff pages, es_CL
DESK = ("recepcion", "gerente", "admin")
RATE_MESSAGE = "Demasiadas solicitudes. Intente nuevamente en un minuto."


# --- public --------------------------------------------------------------------------------------------------


def _join_context(form: JoinWaitlistForm, *, joined: WaitlistEntry | None = None) -> dict:
    service = db.session.get(Service, form.servicio_id.data) if form.servicio_id.data else None
    if service is not None and not service.is_bookable_online:
        service = None
    day, people = form.fecha.data, form.cantidad_personas.data
    hours = []
    if service is not None and day is not None and people:
        hours = queries.full_hours(service, day, people)
    return {"form": form, "service": service, "hours": hours, "joined": joined}


@bp.route("/lista-espera/", methods=["GET", "POST"])
@public
@limiter.limit("20 per minute", methods=["POST"], error_message=RATE_MESSAGE)
def join():
    """GET: the form for the slot in the query string (servicio_id, fecha, cantidad_personas, hora); POST: join."""
    if request.method == "GET":
        form = JoinWaitlistForm(formdata=request.args, meta={"csrf": False})
        ctx = _join_context(form)
        if ctx["service"] is None:  # no slot named: the services to choose from
            return see_other(url_for("shop.home"))
        fresh = JoinWaitlistForm(formdata=None, obj=None)
        for name in ("servicio_id", "fecha", "cantidad_personas", "hora"):
            getattr(fresh, name).data = getattr(form, name).data
        return render_page("waitlist/join.html", "waitlist_form", **{**ctx, "form": fresh})
    form = JoinWaitlistForm()

    def apply():
        return services.join_waitlist(
            services.JoinData(
                nombre=form.nombre.data,
                telefono=form.telefono.data,
                email=(form.email.data or "").strip() or None,
                servicio_id=form.servicio_id.data,
                fecha=form.fecha.data,
                hora=form.hora.data,
                cantidad_personas=form.cantidad_personas.data,
                acepta_contacto=bool(form.acepta_contacto.data),
                idioma=current_language(),
            ),
            ip=request.remote_addr,
        )

    if submit(form, apply):
        return render_page("waitlist/join.html", "waitlist_form", **_join_context(form, joined=form.result))
    form.renew_key()
    return render_page("waitlist/join.html", "waitlist_form", status=form.status, **_join_context(form))


@bp.get("/lista-espera/oferta/<token>/")
@public
def offer(token: str):
    """The offer link: opens checkout with the offer's hold (the cart becomes this browser's cart)."""
    entry = db.session.query(WaitlistEntry).filter_by(token=token).first() if len(token) <= 64 else None
    if entry is None:
        abort(404)
    cart = services.offered_cart(entry)
    if cart is not None:
        session["cart_token"] = cart.token
        session[queries.OFFER_SESSION_KEY] = entry.id  # the checkout starts filled in with the entry's contact
        return redirect(url_for("shop.checkout"))
    return render_page("waitlist/offer_closed.html", status=410 if entry.status != "aceptada" else 200, entry=entry)


# --- desk ----------------------------------------------------------------------------------------------------


def _panel_context(day) -> dict:
    entries = db.session.scalars(queries.day_entries(day)).unique().all()
    return {"day": day, "entries": entries, "now": clock.now()}


@desk_bp.get("/recepcion/lista-espera/")
@role_required(*DESK)
def desk_panel():
    day, notice = parse_day(request.args.get("fecha"))
    return render_page("waitlist/desk_panel.html", "panel", notice=notice, **_panel_context(day))


def _entry_or_404(entry_id: int) -> WaitlistEntry:
    entry = db.session.get(WaitlistEntry, entry_id)
    if entry is None:
        abort(404)
    return entry


@desk_bp.route("/recepcion/lista-espera/<int:entry_id>/cancelar/", methods=["GET", "POST"])
@role_required(*DESK)
def desk_cancel(entry_id: int):
    """GET: the confirmation ("¿Cancelar la entrada de …?"); POST: cancel, answer with the day's panel."""
    entry = _entry_or_404(entry_id)
    form = CancelEntryForm()
    if submit(form, lambda: services.cancel_entry(entry, by=current_user)):
        response = render_page("waitlist/desk_panel.html", "panel", **_panel_context(entry.date))
        return hx_trigger(response, "waitlist-changed")
    error = form.first_error if form.is_submitted() else None
    status = form.status if form.is_submitted() else 200
    return render_page("waitlist/desk_cancel.html", "confirm", status=status, entry=entry, form=form, error=error)
