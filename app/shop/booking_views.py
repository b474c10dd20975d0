"""Public booking: hours, cart with holds, checkout, the public order page (spec booking.md §2–§6.1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace

import sqlalchemy as sa
from flask import (
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from jinja2_fragments.flask import render_block

from app.auth.decorators import public  # noqa: I001
from app.catalog.models import Service
from app.catalog.version import catalog_version
from app.core import clock
from app.core.errors import ValidationError
from app.core.money import format_clp
from app.core.settings import in_force
from app.extensions import db, limiter
from app.sales import cart_services, discount_services
from app.sales import queries as sales_queries
from app.sales import services as sales_services
from app.sales.availability import slot_availability
from app.sales.queries import load_slot_context, load_slot_context_by_id
from app.shop.blueprint import bp
from app.shop.forms import (
    INVALID_INDEX,
    AddProductToCartForm,
    AddToCartForm,
    CartCodeForm,
    RemoveFromCartForm,
)
from app.shop.texts import (  # noqa: F401  (duration_label: used by callers)
    duration_label,
    long_date,
    people_text,
    weekday_initials,
    weekday_name,
)
from app.web.forms import submit
from app.web.fragments import cached_value
from app.web.htmx import hx_trigger, render_page, wants_fragment
from app.web.params import MAX_INT32, parse_id, parse_int

RATE_MESSAGE = lazy_gettext("Demasiadas solicitudes. Intente nuevamente en un minuto.")


def parse_date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


def parse_people(raw, default: int) -> int | None:
    if raw in (None, ""):
        return default
    return parse_int(raw, minimum=-MAX_INT32, maximum=MAX_INT32)


class ServiceValues(SimpleNamespace):
    """A service's columns as plain values, with the model's derived values: what the service page and its hours
    read of the service, kept per catalogue version (issue 20) instead of loading the row on every request."""

    pricing_rule = Service.pricing_rule
    type_label = Service.type_label
    price_label = Service.price_label
    is_bookable_online = Service.is_bookable_online

    def __str__(self) -> str:
        return self.name


def _service_values(service_id: int) -> ServiceValues | None:
    service = db.session.get(Service, service_id)
    if service is None:
        return None
    return ServiceValues(**{attr.key: getattr(service, attr.key) for attr in sa.inspect(Service).column_attrs})


def public_service_values(service_id: int) -> ServiceValues:
    """The bookable service `service_id` (404 otherwise): no statement while the catalogue has not changed."""
    service = cached_value("service-values", catalog_version(), service_id, lambda: _service_values(service_id))
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

    @property
    def key(self) -> tuple:
        """What the rendered hours show (with the service, the chosen time and the error): the cache key."""
        slots = tuple((e.hora, e.reservable, e.motivo, e.disponibles) for e in self.entries)
        return (self.day, self.people, self.price, slots)


def hours_for(service: Service, day: date, people: int, contexts: dict | None = None) -> HoursView:
    """The hours of `day`; `contexts` are the availability contexts the month calendar already read (no second
    statement when `day` is one of them)."""
    from app.catalog.policy import line_price

    ctx = (contexts or {}).get(day) if day else None
    if day and ctx is None:
        ctx = load_slot_context(service, day)
    entries = slot_availability(ctx, people) if day else []
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
    month_facts=None,
    contexts: dict | None = None,
):
    """The booking panel: the month calendar and the hours of `day`. Without a day it opens on the first day of
    `month` (default: this month, then up to two more) that has a free slot, never on a day with every slot past.
    `month_facts`: the opening month's facts, read already (`read_month_facts`); `contexts`: availability contexts
    by day, read already."""
    from app.shop.calendar_queries import month_view

    today = clock.today()
    max_day = date.fromordinal(today.toordinal() + int(in_force()["BOOKING_HORIZON_DAYS"]))
    people = people if people is not None else service.min_people
    if day is None:
        view = month_view(service, max(month or today, today), people, max_day, month_facts)
        day = view.first_bookable()
        for _ in range(0 if month else 2):
            if day is not None or view.next_month is None:
                break
            view = month_view(service, view.next_month, people, max_day)
            day = view.first_bookable()
        day = day or max(view.first, today)
    else:
        view = month_view(service, day, people, max_day, month_facts) if with_month else None
    return {
        "service": service,
        "hours": hours_for(service, day, people, view.contexts if view is not None else contexts),
        "today": today,
        "max_day": max_day,
        "month": view,
        "message": message,
        "error": error,
        "hours_error": hours_error,
        "selected": selected,
        "long_date": long_date,
        "weekday_initials": weekday_initials,
        "add_form": AddToCartForm(formdata=None),  # a fresh one-time key on every render of the panel
    }


def parse_month(raw: str | None) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip() + "-01")
    except ValueError:
        return None


@bp.get("/ventas/servicio/<int:service_id>/")
@public
def service_detail(service_id: int):
    from app.shop.calendar_queries import read_month_facts

    day = parse_date(request.args.get("fecha"))
    today = clock.today()
    if day is not None and day < today:
        day = None
    month = parse_month(request.args.get("mes"))
    # the month the panel opens on, read with the request's settings before the service (one round trip, issue 20)
    facts = read_month_facts(service_id, (day or max(month or today, today)).replace(day=1))
    service = public_service_values(service_id)
    people = parse_people(request.args.get("cantidad_personas"), service.min_people)
    if people is None or not service.min_people <= people <= service.max_people:
        people = service.min_people
    ctx = panel_context(service, day=day, people=people, month=month, month_facts=facts)
    return render_page("shop/service.html", "booking_panel", **ctx)


@bp.get("/ventas/servicio/<int:service_id>/horas/")
@public
def service_hours(service_id: int):
    day = parse_date(request.args.get("fecha"))
    error = None
    if day is None:
        error, day = gettext("Formato de fecha inválido. Use YYYY-MM-DD."), clock.today()
    # the day's availability with the request's settings, before the service (one round trip, issue 20)
    day_context = load_slot_context_by_id(service_id, day)
    service = public_service_values(service_id)
    people = parse_people(request.args.get("cantidad_personas"), service.min_people)
    if people is None:
        error, people = gettext("Cantidad de personas inválida."), service.min_people
    ctx = panel_context(
        service, day=day, people=people, hours_error=error, with_month=False, contexts={day: day_context}
    )
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

SERVICE_NOT_FOUND = lazy_gettext("Servicio no encontrado.")


def cart_badge_oob() -> str:
    """The navbar's cart badge as an out-of-band swap."""
    return render_template("shop/_cart_badge.html", oob=True)


def _bookable_service(service_id: int | None) -> Service | None:
    service = db.session.get(Service, service_id) if service_id else None
    return service if service is not None and service.is_bookable_online else None


BADGE_LINES = "aremko.cart_badge_lines"  # this request's cart line count, once a service knows it


@bp.route("/ventas/add-to-cart/", methods=["POST"])
@limiter.limit("60 per minute", error_message=RATE_MESSAGE)
@public
def add_to_cart():
    product_form = AddProductToCartForm()
    if product_form.producto_id.raw:
        return _add_product(product_form)
    form = AddToCartForm()
    service = _bookable_service(form.servicio_id.data)
    if service is None:
        return _add_failed(None, SERVICE_NOT_FOUND, 422)
    day, hhmm = form.fecha.data, form.hora.data
    people = service.min_people if form.cantidad_personas.data is None else form.cantidad_personas.data

    def hold():
        # the cart and its line count in one statement (its holds and products are not loaded: issue 20)
        cart, lines = cart_services.get_cart_and_line_count(session.get("cart_token"))
        if cart is None:
            cart, lines = current_cart(create=True), 0
        line = cart_services.hold_slot(
            cart, sales_services.LineRequest(service_id=service.id, day=day, hhmm=hhmm, people=people), lines=lines
        )
        # the panel below renders the service as loaded in this transaction: kept out of the commit's expiry, so
        # that it is not read again (issue 20)
        db.session.expunge(service)
        return line.subtotal, lines + 1

    if not submit(form, hold):
        return _add_failed(service, form.first_error, form.refusal_status, day=day, people=people)
    db.session.add(service)
    subtotal, lines = form.result
    request.environ[BADGE_LINES] = lines  # the badge shows the count the hold returned: no second read of the cart
    minutes = in_force()["CART_HOLD_MINUTES"]
    message = gettext(
        "Agregado al carrito: %(service)s, %(weekday)s %(date)s %(time)s, %(people)s — %(amount)s. "
        "Reservado por %(minutes)d minutos.",
        service=service.name,
        weekday=weekday_name(day),
        date=f"{day:%d/%m/%Y}",
        time=hhmm,
        people=people_text(people),
        amount=format_clp(subtotal),
        minutes=minutes,
    )
    if wants_fragment():
        ctx = panel_context(service, day=day, people=people, message=message)
        response = render_page("shop/service.html", "booking_panel", oob_swaps=[cart_badge_oob()], **ctx)
        return hx_trigger(response, "cart-changed", {"lineas": lines})
    flash(message, "success")
    return redirect(url_for("shop.cart"), 303)


def _add_failed(service, message, status, *, day=None, people=None):
    if service is None:
        if wants_fragment() or request.accept_mimetypes.best == "application/json":
            return jsonify(success=False, error=str(message)), status
        flash(str(message), "error")
        return redirect(url_for("shop.home"), 303)
    if wants_fragment():
        ctx = panel_context(service, day=day, people=people, error=message)
        return render_page("shop/service.html", "booking_panel", status=status, **ctx)
    flash(str(message), "error")
    args = {"fecha": day.isoformat()} if day else {}
    if people:
        args["cantidad_personas"] = people
    return redirect(url_for("shop.service_detail", service_id=service.id, **args), 303)


def _add_product(form: AddProductToCartForm):
    """A product (a gift card with its amount and recipient) into the cart: back to the page it came from on a
    refusal, with the message."""

    def add():
        cart_services.add_product_to_cart(
            current_cart(create=True),
            product_id=form.producto_id.data,
            quantity=1 if form.cantidad.data is None else form.cantidad.data,
            amount=form.monto.data,
            recipient_name=form.destinatario_nombre.data,
            recipient_email=form.destinatario_email.data,
            message=form.mensaje.data,
        )

    if not submit(form, add):
        flash(str(form.first_error), "error")
        return redirect(request.referrer or url_for("shop.home"), 303)
    flash(gettext("Producto agregado al carrito."), "success")
    return redirect(url_for("shop.cart"), 303)


class LazyTotals:
    """`cart_totals(cart)` (subtotal, discount, total), computed when a template first reads it: the cart lines'
    fragment does not show them, so it reads no discount code (issue 20)."""

    def __init__(self, cart):
        self._cart = cart
        self._values: dict | None = None

    def _get(self) -> dict:
        if self._values is None:
            self._values = (
                cart_services.cart_totals(self._cart) if self._cart else {"subtotal": 0, "discount": 0, "total": 0}
            )
        return self._values

    def __getitem__(self, key: str):
        return self._get()[key]

    def __getattr__(self, key: str):
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self._get()[key]
        except KeyError:
            raise AttributeError(key) from None


def cart_context(cart, *, failing=(), code_form: CartCodeForm | None = None):
    now = clock.now()
    holds = list(cart.holds) if cart else []
    products = list(cart.product_lines) if cart else []
    return {
        "cart": cart,
        "holds": holds,
        "products": products,
        "now": now,
        "failing": set(failing),
        "totals": LazyTotals(cart),
        "remove_form": RemoveFromCartForm(formdata=None),
        "code_form": code_form or CartCodeForm(formdata=None),
    }


@bp.get("/ventas/cart/")
@public
def cart():
    from app.shop.cart_queries import cart_with_lines

    cart = cart_with_lines(session.get("cart_token"))  # plain values in one statement (issue 20)
    request.environ[BADGE_LINES] = len(cart.holds) + len(cart.product_lines) if cart else 0  # the badge's count
    return render_page("shop/cart.html", "cart_lines", **cart_context(cart))


@bp.post("/ventas/remove-from-cart/")
@public
def remove_from_cart():
    form = RemoveFromCartForm()
    cart = current_cart()
    wants_json = request.accept_mimetypes.best == "application/json"

    def remove():
        if cart is None:
            raise ValidationError(INVALID_INDEX)
        cart_services.remove_cart_line(cart, index=form.index.data, line_id=form.linea_id.data)

    if not submit(form, remove):
        if wants_json:
            return jsonify(success=False, error=str(form.first_error)), 400
        if wants_fragment():
            return make_response(str(form.first_error), 400)
        flash(str(form.first_error), "error")
        return redirect(url_for("shop.cart"), 303)
    if wants_json:
        return jsonify(success=True)
    if wants_fragment():
        ctx = cart_context(cart)
        summary = render_block("shop/cart.html", "cart_summary", oob=True, **ctx)
        response = render_page("shop/cart.html", "cart_lines", oob_swaps=[summary, cart_badge_oob()], **ctx)
        return hx_trigger(response, "cart-changed", {"lineas": cart_services.cart_line_count(cart)})
    flash(gettext("Línea eliminada del carrito."), "success")
    return redirect(url_for("shop.cart"), 303)


@bp.post("/ventas/cart/codigo/")
@public
def cart_code():
    form = CartCodeForm()
    cart = current_cart()

    def apply_code():
        if cart is None:
            raise ValidationError(discount_services.INVALID_CODE, field="codigo")
        cart_services.set_cart_code(cart, form.codigo.data or "")

    applied = submit(form, apply_code)
    if wants_fragment():
        return render_page(
            "shop/cart.html", "cart_summary", status=200 if applied else 422, **cart_context(cart, code_form=form)
        )
    flash(gettext("Código aplicado.") if applied else str(form.first_error), "success" if applied else "error")
    return redirect(url_for("shop.cart"), 303)


@bp.app_context_processor
def _cart_badge_context():
    def cart_badge_count() -> int:
        if BADGE_LINES in request.environ:
            return request.environ[BADGE_LINES]
        try:
            return sales_queries.cart_line_count(session.get("cart_token"))
        except Exception:
            db.session.rollback()
            return 0

    return {"cart_badge_count": cart_badge_count}
