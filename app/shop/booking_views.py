"""Public booking: hours, cart with holds, checkout, the public order page (spec booking.md §2–§6.1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from jinja2_fragments.flask import render_block

from app.auth.decorators import public  # noqa: I001
from app.catalog.models import Service
from app.core import clock
from app.core.errors import DomainError, ValidationError
from app.core.money import format_clp
from app.extensions import db, limiter
from app.sales import cart_services, discount_services
from app.sales import services as sales_services
from app.sales.availability import slot_availability
from app.sales.queries import load_slot_context, load_slot_context_by_id
from app.shop.blueprint import bp
from app.web.htmx import hx_trigger, render_page, wants_fragment
from app.web.params import MAX_INT32, parse_id, parse_int
from app.web.submissions import claim_submission

DAY_NAMES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
MONTH_NAMES = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)
RATE_MESSAGE = "Demasiadas solicitudes. Intente nuevamente en un minuto."


def long_date(day: date) -> str:
    """ "lunes 2 de marzo de 2026" (screen readers read every hour in full)."""
    return f"{DAY_NAMES[day.weekday()]} {day.day} de {MONTH_NAMES[day.month - 1]} de {day.year}"


def duration_label(minutes: int, service_type: str | None = None) -> str:
    """ "1 noche" for a cabin's day, "1 h 30 min" for a massage, "45 min": never "1440 min"."""
    minutes = int(minutes or 0)
    if service_type == "cabana" or (minutes >= 1440 and minutes % 1440 == 0):
        nights = max(round(minutes / 1440), 1)
        return f"{nights} noche{'s' if nights != 1 else ''}"
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


@bp.app_template_filter("duracion")
def _duration_filter(service) -> str:
    return duration_label(service.duration_minutes, service.service_type)


def parse_date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


def parse_people(raw, default: int) -> int | None:
    if raw in (None, ""):
        return default
    return parse_int(raw, minimum=-MAX_INT32, maximum=MAX_INT32)


def public_service(service_id: int) -> Service:
    service = db.session.get(Service, service_id)
    if service is None or not service.is_bookable_online:
        abort(404)
    return service


def current_cart(create: bool = False, *, with_lines: bool = False):
    cart = cart_services.get_cart(session.get("cart_token"), with_lines=with_lines)
    if cart is None and create:
        cart = cart_services.create_cart()
        session["cart_token"] = cart.token
    return cart


@dataclass
class HoursView:
    day: date
    people: int
    entries: list
    price: int

    @property
    def closed(self) -> bool:
        return not self.entries or all(e.motivo == "dia_sin_horario" for e in self.entries)

    @property
    def none_left(self) -> bool:
        return bool(self.entries) and not any(e.reservable for e in self.entries)


def hours_for(service: Service, day: date, people: int) -> HoursView:
    from app.catalog.policy import line_price

    entries = slot_availability(load_slot_context(service, day), people) if day else []
    return HoursView(
        day=day, people=people, entries=entries, price=line_price(service.base_price, service.pricing_rule, people)
    )


def panel_context(
    service: Service,
    *,
    day=None,
    people=None,
    month=None,
    message=None,
    error=None,
    selected=None,
    hours_error=None,
    with_month: bool = True,
):
    """The booking panel: the month calendar and the hours of `day`. Without a day it opens on the first day of
    `month` (default: this month, then up to two more) that has a free slot, never on a day with every slot past."""
    from app.shop.calendar_queries import month_view

    today = clock.today()
    max_day = date.fromordinal(today.toordinal() + int(current_app.config["BOOKING_HORIZON_DAYS"]))
    people = people if people is not None else service.min_people
    if day is None:
        view = month_view(service, max(month or today, today), people, max_day)
        day = view.first_bookable()
        for _ in range(0 if month else 2):
            if day is not None or view.next_month is None:
                break
            view = month_view(service, view.next_month, people, max_day)
            day = view.first_bookable()
        day = day or max(view.first, today)
    else:
        view = month_view(service, day, people, max_day) if with_month else None
    return {
        "service": service,
        "hours": hours_for(service, day, people),
        "today": today,
        "max_day": max_day,
        "month": view,
        "message": message,
        "error": error,
        "hours_error": hours_error,
        "selected": selected,
        "long_date": long_date,
    }


def parse_month(raw: str | None) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip() + "-01")
    except ValueError:
        return None


@bp.get("/ventas/servicio/<int:service_id>/")
@public
def service_detail(service_id: int):
    service = public_service(service_id)
    day = parse_date(request.args.get("fecha"))
    if day is not None and day < clock.today():
        day = None
    people = parse_people(request.args.get("cantidad_personas"), service.min_people)
    if people is None or not service.min_people <= people <= service.max_people:
        people = service.min_people
    ctx = panel_context(service, day=day, people=people, month=parse_month(request.args.get("mes")))
    return render_page("shop/service.html", "booking_panel", **ctx)


@bp.get("/ventas/servicio/<int:service_id>/horas/")
@public
def service_hours(service_id: int):
    service = public_service(service_id)
    day = parse_date(request.args.get("fecha"))
    people = parse_people(request.args.get("cantidad_personas"), service.min_people)
    error = None
    if day is None:
        error, day = "Formato de fecha inválido. Use YYYY-MM-DD.", clock.today()
    if people is None:
        error, people = "Cantidad de personas inválida.", service.min_people
    ctx = panel_context(service, day=day, people=people, hours_error=error, with_month=False)
    return render_page("shop/service.html", "hours", status=422 if error else 200, **ctx)


# --- JSON availability (api.md §5.1) -----------------------------------------------------------------------


def _json_context(prefix: dict):
    """(slot context of `servicio_id` on `fecha`, None) or (None, error response): one statement in all."""
    raw_id = request.args.get("servicio_id", "")
    raw_date = request.args.get("fecha", "")
    if not raw_id or not raw_date:
        return None, (jsonify({**prefix, "error": "Parámetros servicio_id y fecha son requeridos."}), 400)
    day = parse_date(raw_date)
    if day is None:
        return None, (jsonify({**prefix, "error": "Formato de fecha inválido. Use YYYY-MM-DD."}), 400)
    service_id = parse_id(raw_id)
    ctx = load_slot_context_by_id(service_id, day, staff=_staff_mode()) if service_id else None
    if ctx is None:
        return None, (jsonify({**prefix, "error": "Servicio no encontrado."}), 404)
    return ctx, None


def _json_people(prefix: dict):
    """Optional `cantidad_personas`: (people or None, error response or None)."""
    raw = request.args.get("cantidad_personas")
    if not raw:
        return None, None
    people = parse_people(raw, None)
    if people is None:
        return None, (jsonify({**prefix, "error": "Parámetro cantidad_personas inválido."}), 400)
    return people, None


def _staff_mode() -> bool:
    return (
        request.args.get("modo") == "staff"
        and current_user.is_authenticated
        and current_user.role in ("recepcion", "gerente", "admin")
    )


@bp.get("/ventas/get-available-hours/")
@public
def get_available_hours():
    ctx, error = _json_context({"success": False})
    people, people_error = _json_people({"success": False})
    if error or people_error:
        return error or people_error
    entries = slot_availability(ctx, people)
    return jsonify(
        success=True,
        horas_disponibles=[e.hora for e in entries if e.reservable],
        detalle=[e.as_json() for e in entries],
    )


@bp.get("/ventas/check-availability/")
@public
def check_availability():
    from app.sales.availability import check_slot

    ctx, error = _json_context({"available": False})
    people, people_error = _json_people({"available": False})
    if error or people_error:
        return error or people_error
    hhmm = (request.args.get("hora") or "").strip()
    if not hhmm:
        return jsonify(available=False, error="Parámetro hora es requerido."), 400
    entry = check_slot(ctx, hhmm, people)
    if entry.reservable:
        return jsonify(available=True)
    return jsonify(available=False, motivo=entry.motivo, mensaje=entry.mensaje)


# --- cart ---------------------------------------------------------------------------------------------------


def _badge_oob() -> str:
    return render_template("shop/_cart_badge.html", oob=True)


@bp.route("/ventas/add-to-cart/", methods=["POST"])
@limiter.limit("60 per minute", error_message=RATE_MESSAGE)
@public
def add_to_cart():
    form = request.form
    if form.get("producto_id"):
        return _add_product(form)
    service_id = form.get("servicio_id", "")
    service = db.session.get(Service, parse_id(service_id)) if parse_id(service_id) else None
    if service is None or not service.is_bookable_online:
        return _add_failed(None, "Servicio no encontrado.", 422)
    day = parse_date(form.get("fecha"))
    people = parse_people(form.get("cantidad_personas"), service.min_people)
    hhmm = (form.get("hora") or "").strip()
    if day is None or people is None or not hhmm:
        message = "Elija una fecha, un horario y la cantidad de personas."
        return _add_failed(service, message, 422, day=day, people=people)
    cart = current_cart(create=True)
    try:
        claim_submission()
        hold = cart_services.hold_slot(
            cart, sales_services.LineRequest(service_id=service.id, day=day, hhmm=hhmm, people=people)
        )
        subtotal, lines = hold.subtotal, cart_services.cart_line_count(cart)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _add_failed(service, exc.message, exc.status, day=day, people=people)
    minutes = current_app.config["CART_HOLD_MINUTES"]
    message = (
        f"Agregado al carrito: {service.name}, {DAY_NAMES[day.weekday()]} {day:%d/%m/%Y} {hhmm}, "
        f"{people} persona{'s' if people != 1 else ''} — {format_clp(subtotal)}. "
        f"Reservado por {minutes} minutos."
    )
    if wants_fragment():
        ctx = panel_context(service, day=day, people=people, message=message)
        body = render_block("shop/service.html", "booking_panel", **ctx) + _badge_oob()
        response = make_response(body, 200)
        response.vary.add("HX-Request")
        return hx_trigger(response, "cart-changed", {"lineas": lines})
    flash(message, "success")
    return redirect(url_for("shop.cart"), 303)


def _add_failed(service, message, status, *, day=None, people=None):
    if service is None:
        if wants_fragment() or request.accept_mimetypes.best == "application/json":
            return jsonify(success=False, error=message), status
        flash(message, "error")
        return redirect(url_for("shop.home"), 303)
    if wants_fragment():
        ctx = panel_context(service, day=day, people=people, error=message)
        response = make_response(render_block("shop/service.html", "booking_panel", **ctx), status)
        response.vary.add("HX-Request")
        return response
    flash(message, "error")
    args = {"fecha": day.isoformat()} if day else {}
    if people:
        args["cantidad_personas"] = people
    return redirect(url_for("shop.service_detail", service_id=service.id, **args), 303)


def _add_product(form):
    cart = current_cart(create=True)
    try:
        quantity = parse_int(form.get("cantidad") or "1", minimum=-MAX_INT32, maximum=MAX_INT32)
        amount = parse_int(form["monto"], maximum=10**15) if form.get("monto") else None
        if quantity is None or (form.get("monto") and amount is None):
            raise ValueError
    except ValueError:
        quantity, amount = 0, None
    try:
        cart_services.add_product_to_cart(
            cart,
            product_id=parse_id(form["producto_id"]) or -1,
            quantity=quantity,
            amount=amount,
            recipient_name=form.get("destinatario_nombre"),
            recipient_email=form.get("destinatario_email"),
            message=form.get("mensaje"),
        )
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(request.referrer or url_for("shop.home"), 303)
    flash("Producto agregado al carrito.", "success")
    return redirect(url_for("shop.cart"), 303)


def cart_context(cart, *, failing=()):
    now = clock.now()
    holds = list(cart.holds) if cart else []
    products = list(cart.product_lines) if cart else []
    return {
        "cart": cart,
        "holds": holds,
        "products": products,
        "now": now,
        "failing": set(failing),
        "totals": cart_services.cart_totals(cart) if cart else {"subtotal": 0, "discount": 0, "total": 0},
        "hold_minutes": current_app.config["CART_HOLD_MINUTES"],
    }


@bp.get("/ventas/cart/")
@public
def cart():
    return render_page("shop/cart.html", "cart_lines", **cart_context(current_cart(with_lines=True)))


@bp.post("/ventas/remove-from-cart/")
@public
def remove_from_cart():
    cart = current_cart()
    wants_json = request.accept_mimetypes.best == "application/json"
    try:
        index = parse_int(request.form["index"], maximum=MAX_INT32) if request.form.get("index", "") != "" else None
        line_id = parse_id(request.form["linea_id"]) if request.form.get("linea_id") else None
        if (request.form.get("index", "") != "" and index is None) or (request.form.get("linea_id") and not line_id):
            raise ValueError
    except ValueError:
        index = line_id = None
    try:
        if cart is None:
            raise ValidationError("Índice inválido")
        cart_services.remove_cart_line(cart, index=index, line_id=line_id)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        if wants_json:
            return jsonify(success=False, error=exc.message), 400
        if wants_fragment():
            return make_response(exc.message, 400)
        flash(exc.message, "error")
        return redirect(url_for("shop.cart"), 303)
    if wants_json:
        return jsonify(success=True)
    if wants_fragment():
        ctx = cart_context(cart)
        body = (
            render_block("shop/cart.html", "cart_lines", **ctx)
            + render_block("shop/cart.html", "cart_summary", oob=True, **ctx)
            + _badge_oob()
        )
        response = make_response(body, 200)
        response.vary.add("HX-Request")
        return hx_trigger(response, "cart-changed", {"lineas": cart_services.cart_line_count(cart)})
    flash("Línea eliminada del carrito.", "success")
    return redirect(url_for("shop.cart"), 303)


@bp.post("/ventas/cart/codigo/")
@public
def cart_code():
    cart = current_cart()
    status = 200
    error = None
    try:
        if cart is None:
            raise ValidationError(discount_services.INVALID_CODE)
        cart_services.set_cart_code(cart, request.form.get("codigo", ""))
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        error, status = exc.message, 422
    if wants_fragment():
        return render_page("shop/cart.html", "cart_summary", status=status, code_error=error, **cart_context(cart))
    flash(error or "Código aplicado.", "error" if error else "success")
    return redirect(url_for("shop.cart"), 303)


@bp.app_context_processor
def _cart_badge_context():
    def cart_badge_count() -> int:
        try:
            cart = cart_services.get_cart(session.get("cart_token"))
        except Exception:
            db.session.rollback()
            return 0
        return cart_services.cart_line_count(cart) if cart else 0

    return {"cart_badge_count": cart_badge_count}
