"""Front desk routes (spec booking.md §9–10): today board, line actions, payment/discount/cancel dialogs,
client search, walk-in and phone bookings. Views parse, call one service, commit once, choose the response."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from datetime import date, timedelta

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from app.auth.decorators import role_required
from app.catalog.models import Service
from app.core import clock
from app.core.errors import DomainError, ValidationError
from app.core.money import format_clp, parse_clp
from app.extensions import db
from app.frontdesk import queries
from app.frontdesk import walk_in_queries as walk_in
from app.frontdesk.blueprint import DESK, bp
from app.frontdesk.queries import active_methods
from app.sales import checkout_services, discount_services
from app.sales import line_services as line_ops
from app.sales import services as sales_services
from app.sales.models import Discount, Order, Payment, ServiceLine
from app.sales.payment_services import is_privileged, record_payment, refund, void_payment
from app.web import params
from app.web.htmx import hx_trigger, render_page, see_other, wants_fragment
from app.web.params import MAX_INT32, parse_day, parse_hhmm, parse_id
from app.web.submissions import FIELD as SUBMISSION_FIELD
from app.web.submissions import claim_submission, new_submission_key, submission_field

LINE_ACTIONS = ("checkin", "checkout", "no-show", "deshacer")


def parse_int(raw, *, field: str, label: str) -> int:
    """A number typed in a form (`10.000`, `$10.000`, `3`) or a Spanish ValidationError naming the field."""
    try:
        value = parse_clp(raw or "")
    except ValueError:
        raise ValidationError(f"{label}: ingrese un número entero.", field=field) from None
    if "monto" not in field and abs(value) > MAX_INT32:  # ids, people, quantities: INTEGER columns
        raise ValidationError(f"{label}: ingrese un número entero.", field=field)
    return value


# --- board ---------------------------------------------------------------------------------------------------


def row_context() -> dict:
    """Values every board row needs, computed once per request (not per row)."""
    from flask_wtf.csrf import generate_csrf

    return {
        "today": clock.today(),
        "now_hhmm": clock.local_now().strftime("%H:%M"),
        "csrf": generate_csrf(),
        "order_base": "/ventas/venta_reservas/",
        "row_key": submission_field,
    }


class RowsCache:
    """Rendered board rows keyed by everything they are rendered from (the rows' values, the therapists offered,
    today and the current minute), so an unchanged board is not re-rendered on every poll. The key holds the
    values themselves (no hash collisions); the CSRF token and a fresh one-time submission key per form go in
    after the cache, per request (a cached key would be claimed by another render)."""

    CSRF_SLOT = "__board_csrf_token__"
    KEY_SLOT = "__board_submission_key__"
    KEY_INPUT = Markup(f'<input type="hidden" name="{SUBMISSION_FIELD}" value="{KEY_SLOT}">')

    def __init__(self, size: int = 16):
        self.size = size
        self.entries: OrderedDict[tuple, str] = OrderedDict()
        self.lock = threading.Lock()

    def render(self, rows, providers: dict, ctx: dict) -> Markup:
        key = (
            tuple(tuple(r) for r in rows),
            tuple((k, tuple(v)) for k, v in sorted(providers.items())),
            ctx["today"],
            ctx["now_hhmm"],
            ctx["order_base"],
        )
        with self.lock:
            html = self.entries.get(key)
            if html is not None:
                self.entries.move_to_end(key)
        if html is None:
            html = render_template(
                "frontdesk/_board_rows.html",
                rows=rows,
                providers=providers,
                **{**ctx, "csrf": self.CSRF_SLOT, "row_key": lambda: self.KEY_INPUT},
            )
            with self.lock:
                self.entries[key] = html
                while len(self.entries) > self.size:
                    self.entries.popitem(last=False)
        html = html.replace(self.CSRF_SLOT, ctx["csrf"])
        return Markup(re.sub(self.KEY_SLOT, lambda _: new_submission_key(), html))


rows_cache = RowsCache()


def board_context(day: date, show_cancelled: bool) -> dict:
    rows = queries.board_rows(day, show_cancelled=show_cancelled)
    massage_ids = [r.service_id for r in rows if r.service_type == "masaje"]
    providers = queries.providers_for(massage_ids)
    ctx = row_context()
    return {
        "day": day,
        "rows": rows,
        "rows_html": rows_cache.render(rows, providers, ctx),
        "counters": queries.board_counters(rows),
        "show_cancelled": show_cancelled,
        "providers": providers,
        "show_provider": any(r.provider_id or r.service_type == "masaje" for r in rows),
        "prev_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        **ctx,
    }


@bp.get("/recepcion/")
@role_required(*DESK)
def board():
    day, notice = parse_day(request.args.get("fecha"))
    ctx = board_context(day, request.args.get("mostrar_canceladas") == "1")
    return render_page("frontdesk/board.html", "board", notice=notice, **ctx)


def _line_or_404(line_id: int) -> ServiceLine:
    line = db.session.get(ServiceLine, line_id)
    if line is None:
        abort(404)
    return line


def _row_response(line_id: int, *, status: int = 200, error: str | None = None, event: bool = True):
    row = queries.board_row(line_id)
    providers = queries.providers_for([row.service_id]) if row.service_type == "masaje" else {}
    body = render_template("frontdesk/_board_row_alone.html", r=row, providers=providers, error=error, **row_context())
    response = make_response(body, status)
    return hx_trigger(response, "order-changed", {"order_id": row.order_id}) if event else response


def _line_post(line_id: int, message: str, apply):
    """Run `apply(line)` (one service call) for a board row, commit once, answer with the row (HTMX) or a
    redirect to the board; a DomainError rolls back and shows the message in the row (422/409)."""
    line = _line_or_404(line_id)
    day = line.service_date
    try:
        claim_submission()
        apply(line)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        if wants_fragment():
            return _row_response(line_id, status=exc.status, error=exc.message, event=False)
        flash(exc.message, "danger")
    else:
        if wants_fragment():
            return _row_response(line_id)
        flash(message, "success")
    return redirect(url_for("frontdesk.board", fecha=day.isoformat()), 303)


@bp.post("/recepcion/lineas/<int:line_id>/<action>/")
@role_required(*DESK)
def line_action(line_id: int, action: str):
    if action not in LINE_ACTIONS:
        abort(404)

    def apply(line):
        if action == "checkout" and line.order.balance_due > 0 and request.form.get("confirmar") != "1":
            raise ValidationError(f"Saldo pendiente {format_clp(line.order.balance_due)}. ¿Finalizar igual?")
        line_ops.change_status(line, action, by=current_user)

    return _line_post(line_id, "Reserva actualizada.", apply)


@bp.post("/recepcion/lineas/<int:line_id>/cancelar/")
@role_required(*DESK)
def line_cancel(line_id: int):
    return _line_post(
        line_id,
        "Reserva cancelada.",
        lambda line: line_ops.cancel_line(line, reason=request.form.get("motivo", ""), by=current_user),
    )


@bp.post("/recepcion/lineas/<int:line_id>/personas/")
@role_required(*DESK)
def line_people(line_id: int):
    return _line_post(
        line_id,
        "Personas actualizadas.",
        lambda line: line_ops.change_people(
            line, people=parse_int(request.form.get("personas"), field="personas", label="Personas"), by=current_user
        ),
    )


@bp.post("/recepcion/lineas/<int:line_id>/proveedor/")
@role_required(*DESK)
def line_provider(line_id: int):
    return _line_post(
        line_id,
        "Terapeuta actualizado.",
        lambda line: line_ops.change_provider(
            line,
            provider_id=parse_int(request.form.get("proveedor"), field="proveedor", label="Terapeuta"),
            by=current_user,
        ),
    )


@bp.get("/recepcion/lineas/<int:line_id>/acciones/")
@role_required(*DESK)
def line_more(line_id: int):
    return render_page("frontdesk/line_actions.html", "dialog", line=_line_or_404(line_id))


@bp.route("/recepcion/lineas/<int:line_id>/mover/", methods=["GET", "POST"])
@role_required(*DESK)
def line_move(line_id: int):
    line = _line_or_404(line_id)
    error, status = None, 200
    if request.method == "POST":
        try:
            claim_submission()
            day, bad = parse_day(request.form.get("fecha"))
            if bad:
                raise ValidationError("Fecha inválida.", field="fecha")
            hhmm = (request.form.get("hora") or "").strip()
            provider = request.form.get("proveedor") or None
            provider_id = parse_int(provider, field="proveedor", label="Terapeuta") if provider else None
            line_ops.move_service_line(line, day=day, hhmm=hhmm, provider_id=provider_id, by=current_user)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            error, status = exc.message, exc.status
        else:
            response = make_response(
                render_template("frontdesk/_dialog_done.html", message=f"Reserva movida al {day:%d/%m/%Y} {hhmm}.")
            )
            if not wants_fragment():
                flash(f"Reserva movida al {day:%d/%m/%Y} {hhmm}.", "success")
                return redirect(url_for("frontdesk.board", fecha=day.isoformat()), 303)
            return hx_trigger(response, "order-changed", {"order_id": line.order_id})
    line = _line_or_404(line_id)
    form = request.form if request.method == "POST" else request.args
    day, _bad = parse_day(form.get("fecha") or line.service_date.isoformat())
    grid = walk_in.hour_grid(line.service, day, line.people, ignore_line_id=line.id)
    selected = form.get("hora") or (line.start_time if day == line.service_date else None)
    if request.method == "GET" and request.args.get("bloque") == "horas" and wants_fragment():
        return render_page("frontdesk/_hour_grid_alone.html", grid=grid, selected=selected, show_price=False)
    return render_page(
        "frontdesk/move.html", "dialog", status=status, line=line, error=error, form=form, grid=grid, selected=selected
    )


# --- client search -------------------------------------------------------------------------------------------


@bp.get("/clientes/buscar/")
@role_required(*DESK)
def client_search():
    q = request.args.get("q", "")
    clients = queries.search_clients(q)
    today = clock.today()
    return render_page(
        "frontdesk/client_search.html",
        "results",
        q=q,
        clients=clients,
        today=today,
        bookings=queries.bookings_on([c.id for c in clients], today),
    )


# --- order dialogs (payments, discounts, cancel) -------------------------------------------------------------


def _order_or_404(order_id: int) -> Order:
    order = db.session.get(Order, order_id)
    if order is None:
        abort(404)
    return order


def _dialog_done(message: str, event: str, order_id: int):
    if not wants_fragment():
        flash(message, "success")
        return redirect(request.form.get("volver") or url_for("frontdesk.board"), 303)
    response = make_response(render_template("frontdesk/_dialog_done.html", message=message))
    hx_trigger(response, "order-changed", {"order_id": order_id})
    return hx_trigger(response, event, {"order_id": order_id}) if event != "order-changed" else response


def _dialog_error(exc: DomainError):
    if not wants_fragment():
        flash(exc.message, "danger")
        return redirect(request.form.get("volver") or url_for("frontdesk.board"), 303)
    return make_response(render_template("frontdesk/_dialog_done.html", message=exc.message, error=True), exc.status)


def _order_dialog(order_id: int, template: str, apply, *, event: str = "order-changed", **extra):
    """GET shows the dialog; POST runs `apply(order, form)` (one service call, returns the success message) and
    commits once; a DomainError rolls back and re-renders the dialog with the message (422/409).
    Callable `extra` values are evaluated with the (re-read) order."""
    order = _order_or_404(order_id)
    error, status, form = None, 200, request.form
    if request.method == "POST":
        try:
            claim_submission()
            message = apply(order, form)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            order = _order_or_404(order_id)
            error, status = exc.message, exc.status
        else:
            return _dialog_done(message, event, order_id)
    ctx = {key: value(order) if callable(value) else value for key, value in extra.items()}
    return render_page(template, "dialog", status=status, order=order, error=error, form=form, **ctx)


def _row_post(order_id: int, message: str, event: str, apply):
    """A one-click POST from a list (void a payment or a discount): commit once, answer like a dialog."""
    try:
        claim_submission()
        apply()
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _dialog_error(exc)
    return _dialog_done(message, event, order_id)


@bp.route("/venta_reservas/<int:order_id>/pagos/nuevo/", methods=["GET"])
@bp.route("/venta_reservas/<int:order_id>/pagos/", methods=["POST"])
@role_required(*DESK)
def payment_dialog(order_id: int):
    def apply(order, form):
        payment = record_payment(
            order,
            amount=parse_int(form.get("monto"), field="monto", label="Monto"),
            method=form.get("metodo_pago", ""),
            by=current_user,
            reference=(form.get("referencia") or "").strip() or None,
            gift_card_code=form.get("codigo"),
            allow_credit=form.get("saldo_a_favor") == "1",
        )
        return f"Pago registrado: {format_clp(payment.amount)} ({payment.method})."

    return _order_dialog(
        order_id,
        "frontdesk/payment.html",
        apply,
        event="payment-recorded",
        methods=active_methods(),
        default_amount=lambda order: order.balance_due,
    )


@bp.post("/pagos/<int:payment_id>/anular/")
@role_required(*DESK)
def payment_void(payment_id: int):
    payment = db.session.get(Payment, payment_id) or abort(404)
    return _row_post(
        payment.order_id,
        "Pago anulado.",
        "payment-recorded",
        lambda: void_payment(payment, reason=request.form.get("motivo", ""), by=current_user),
    )


@bp.route("/venta_reservas/<int:order_id>/reembolsos/", methods=["GET", "POST"])
@role_required("gerente", "admin")
def refund_dialog(order_id: int):
    def apply(order, form):
        amount = parse_int(form.get("monto"), field="monto", label="Monto")
        refund(order, amount=amount, method=form.get("metodo_pago", ""), reason=form.get("motivo", ""), by=current_user)
        return f"Reembolso registrado: {format_clp(amount)}."

    return _order_dialog(
        order_id,
        "frontdesk/refund.html",
        apply,
        event="payment-recorded",
        methods=active_methods(exclude=()),
        default_amount=lambda order: order.credit,
    )


@bp.route("/venta_reservas/<int:order_id>/descuentos/", methods=["GET", "POST"])
@role_required(*DESK)
def discount_dialog(order_id: int):
    def apply(order, form):
        code = (form.get("codigo") or "").strip() or None
        amount = None if code else parse_int(form.get("monto"), field="monto", label="Monto")
        discount_services.apply_discount(
            order, amount=amount, code=code, reason=form.get("motivo", ""), by=current_user
        )
        return "Descuento aplicado."

    return _order_dialog(order_id, "frontdesk/discount.html", apply)


@bp.post("/descuentos/<int:discount_id>/anular/")
@role_required(*DESK)
def discount_void(discount_id: int):
    discount = db.session.get(Discount, discount_id) or abort(404)
    return _row_post(
        discount.order_id,
        "Descuento anulado.",
        "order-changed",
        lambda: discount_services.void_discount(discount, by=current_user),
    )


@bp.route("/venta_reservas/<int:order_id>/cancelar/", methods=["GET", "POST"])
@role_required(*DESK)
def order_cancel(order_id: int):
    def apply(order, form):
        line_ops.cancel_order_by_staff(
            order, reason=form.get("motivo", ""), by=current_user, restock=form.get("reponer_stock", "1") == "1"
        )
        return f"Venta #{order.id} cancelada."

    return _order_dialog(order_id, "frontdesk/cancel.html", apply)


# --- walk-in / phone booking ---------------------------------------------------------------------------------


def _walk_in_choice(form, services: list[Service]):
    """(service, day, people) chosen in the form, falling back to the first service, today and its minimum."""
    chosen = parse_id(form.get("servicio"))
    service = next((s for s in services if s.id == chosen), services[0] if services else None)
    day, _bad = parse_day(form.get("fecha"))
    people = params.parse_int(form.get("personas"), minimum=1, maximum=99)
    if people is None:
        people = max(service.min_people, min(2, service.max_people)) if service else 1
    return service, day, people


@bp.route("/recepcion/nueva-reserva/", methods=["GET", "POST"])
@role_required(*DESK)
def new_booking():
    form = request.form if request.method == "POST" else request.args
    error, status = None, 200
    if request.method == "POST":
        try:
            claim_submission()
            order, payment = _create_walk_in(form)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            error, status = exc.message, exc.status
        else:
            message = f"Reserva #{order.id} creada."
            if payment is not None:
                message += f" Pago registrado: {format_clp(payment.amount)}."
            elif walk_in.cash_day_closed() and not is_privileged(current_user):
                message += " Quedó sin pago: la caja de hoy está cerrada."
            flash(message, "success")
            target = url_for(
                "frontdesk.board",
                fecha=order.service_lines[0].service_date.isoformat() if order.service_lines else None,
            )
            return see_other(target)
    services = walk_in.walk_in_services()
    service, day, people = _walk_in_choice(form, services)
    block = "slot_grid" if request.method == "GET" and request.args.get("bloque") == "horas" else "booking_form"
    closed = walk_in.cash_day_closed()
    return render_page(
        "frontdesk/new_booking.html",
        block,
        status=status,
        form=form,
        error=error,
        services=services,
        grid=walk_in.hour_grid(service, day, people),
        today=clock.today(),
        cash_closed=closed,
        takes_payment=not closed or is_privileged(current_user),
        methods=active_methods(exclude=("flow", "giftcard")),
    )


def _create_walk_in(form):
    service_id = parse_int(form.get("servicio"), field="servicio", label="Servicio")
    service = db.session.get(Service, service_id)
    if service is None or walk_in.is_internal(service):
        raise ValidationError("Ese servicio no se puede reservar desde recepción.", field="servicio")
    day, bad = parse_day(form.get("fecha"))
    if bad:
        raise ValidationError("Fecha inválida.", field="fecha")
    hhmm = (form.get("hora") or "").strip()
    if not hhmm:
        raise ValidationError("Elija una hora libre en la grilla.", field="hora")
    hhmm = parse_hhmm(hhmm)
    people = parse_int(form.get("personas") or "1", field="personas", label="Personas")
    provider = form.get("proveedor") or None
    origin = form.get("canal") if form.get("canal") in ("recepcion", "telefono") else "recepcion"
    data = checkout_services.CheckoutData(
        telefono=form.get("telefono", ""),
        nombre=form.get("nombre", ""),
        email=form.get("email") or None,
        documento_identidad=form.get("documento_identidad") or None,
        acepta_marketing=form.get("acepta_marketing") == "1",
        comentarios=form.get("comentarios") or None,
    )
    req = sales_services.LineRequest(
        service_id=service_id,
        day=day,
        hhmm=hhmm,
        people=people,
        provider_id=parse_int(provider, field="proveedor", label="Terapeuta") if provider else None,
    )
    try:
        order = checkout_services.place_order(lines=[req], data=data, origin=origin, by=current_user, staff=True)
    except sales_services.SlotUnavailable as exc:
        raise walk_in.clearer_conflict(exc) from None
    payment = None
    if (form.get("pago_monto") or "").strip():
        if walk_in.cash_day_closed() and not is_privileged(current_user):
            raise ValidationError(
                f"La caja del {clock.today():%d/%m/%Y} está cerrada: la reserva no se guardó. "
                "Quite el monto y use «Crear reserva sin pago».",
                field="pago_monto",
            )
        amount = parse_int(form.get("pago_monto"), field="pago_monto", label="Pago")
        payment = record_payment(order, amount=amount, method=form.get("pago_metodo", ""), by=current_user)
    return order, payment


from app.frontdesk import giftcard_views, order_views  # noqa: E402,F401  (register their routes on bp)
