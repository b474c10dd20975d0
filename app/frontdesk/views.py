"""Front desk routes (spec booking.md §9–10): today board, line actions, payment/discount/cancel dialogs,
client search, walk-in and phone bookings. Views read a form (forms.py), call one service through `submit()` (one
unit of work), choose the response."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date, timedelta

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from app.auth.decorators import role_required
from app.catalog.models import Service
from app.core import clock
from app.core.errors import ValidationError
from app.core.money import format_clp
from app.extensions import db
from app.frontdesk import (  # noqa: F401  (the *_views register routes on bp)
    block_views,
    giftcard_views,
    order_views,
    policy_views,
    purchase_views,
    queries,
)
from app.frontdesk import walk_in_queries as walk_in
from app.frontdesk.blueprint import DESK, bp
from app.frontdesk.dialogs import dialog_done, dialog_error, new_form, order_dialog, row_post, walk_in_choice
from app.frontdesk.forms import (
    DiscountForm,
    LineActionForm,
    LineCancelForm,
    LinePeopleForm,
    LineProviderForm,
    MoveForm,
    NewBookingForm,
    OrderCancelForm,
    PaymentForm,
    PaymentVoidForm,
    RefundForm,
    number_message,
)
from app.frontdesk.queries import active_methods
from app.sales import checkout_services, discount_services
from app.sales import line_services as line_ops
from app.sales import services as sales_services
from app.sales.models import Discount, Payment, ServiceLine
from app.sales.payment_services import is_privileged, record_payment, refund, void_payment
from app.web.forms import submit
from app.web.htmx import hx_trigger, render_page, see_other, wants_fragment
from app.web.params import parse_day
from app.web.submissions import FIELD as SUBMISSION_FIELD
from app.web.submissions import submission_keys

LINE_ACTIONS = ("checkin", "checkout", "no-show", "deshacer")


# --- board ---------------------------------------------------------------------------------------------------


def row_context() -> dict:
    """Values every board row needs, computed once per request (not per row)."""
    from flask_wtf.csrf import generate_csrf

    return {
        "today": clock.today(),
        "now_hhmm": clock.local_now().strftime("%H:%M"),
        "csrf": generate_csrf(),
        "order_base": "/ventas/venta_reservas/",
    }


class RowsCache:
    """Rendered board rows keyed by everything they are rendered from (the rows' values, the therapists offered,
    today and the current minute), so an unchanged board is not re-rendered on every poll. The key holds the
    values themselves (no hash collisions). The cached HTML holds placeholders, never a session's CSRF token nor a
    submission key: the rows are rendered with `csrf_token()` and `submission_field()` (what the row forms call, through
    macros/forms.html `csrf_field`) replaced by slots, and the request's token and a fresh key per form go in after
    the cache (a cached token would be another session's; a cached key would be claimed by another render)."""

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
                **{**ctx, "csrf_token": lambda: self.CSRF_SLOT, "submission_field": lambda: self.KEY_INPUT},
            )
            with self.lock:
                self.entries[key] = html
                while len(self.entries) > self.size:
                    self.entries.popitem(last=False)
        first, *rest = html.replace(self.CSRF_SLOT, ctx["csrf"]).split(self.KEY_SLOT)
        keys = submission_keys()
        return Markup("".join([first, *(next(keys) + part for part in rest)]))


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


def _line_post(line_id: int, form, message: str, apply):
    """Run `apply(line)` (one service call) for a board row through `submit()`, answer with the row (HTMX) or a
    redirect to the board; a refusal shows its message in the row (422/409)."""
    line = _line_or_404(line_id)
    day = line.service_date
    if submit(form, lambda: apply(line)):
        if wants_fragment():
            return _row_response(line_id)
        flash(message, "success")
    else:
        if wants_fragment():
            return _row_response(line_id, status=form.status, error=form.first_error, event=False)
        flash(form.first_error, "danger")
    return redirect(url_for("frontdesk.board", fecha=day.isoformat()), 303)


@bp.post("/recepcion/lineas/<int:line_id>/<action>/")
@role_required(*DESK)
def line_action(line_id: int, action: str):
    if action not in LINE_ACTIONS:
        abort(404)
    form = LineActionForm()

    def apply(line):
        if action == "checkout" and line.order.balance_due > 0 and form.confirmar.data != "1":
            raise ValidationError(f"Saldo pendiente {format_clp(line.order.balance_due)}. ¿Finalizar igual?")
        line_ops.change_status(line, action, by=current_user)

    return _line_post(line_id, form, "Reserva actualizada.", apply)


@bp.post("/recepcion/lineas/<int:line_id>/cancelar/")
@role_required(*DESK)
def line_cancel(line_id: int):
    form = LineCancelForm()
    return _line_post(
        line_id,
        form,
        "Reserva cancelada.",
        lambda line: line_ops.cancel_line(line, reason=form.motivo.data or "", by=current_user),
    )


@bp.post("/recepcion/lineas/<int:line_id>/personas/")
@role_required(*DESK)
def line_people(line_id: int):
    form = LinePeopleForm()
    return _line_post(
        line_id,
        form,
        "Personas actualizadas.",
        lambda line: line_ops.change_people(line, people=form.personas.data, by=current_user),
    )


@bp.post("/recepcion/lineas/<int:line_id>/proveedor/")
@role_required(*DESK)
def line_provider(line_id: int):
    form = LineProviderForm()
    return _line_post(
        line_id,
        form,
        "Terapeuta actualizado.",
        lambda line: line_ops.change_provider(line, provider_id=form.proveedor.data, by=current_user),
    )


@bp.get("/recepcion/lineas/<int:line_id>/acciones/")
@role_required(*DESK)
def line_more(line_id: int):
    return render_page(
        "frontdesk/line_actions.html",
        "dialog",
        line=_line_or_404(line_id),
        people_form=LinePeopleForm(),
        cancel_form=LineCancelForm(),
    )


@bp.route("/recepcion/lineas/<int:line_id>/mover/", methods=["GET", "POST"])
@role_required(*DESK)
def line_move(line_id: int):
    line = _line_or_404(line_id)
    form = MoveForm() if request.method == "POST" else MoveForm(formdata=request.args or None)

    def apply():
        day = form.fecha.data or clock.today()
        line_ops.move_service_line(
            line, day=day, hhmm=form.hora.data or "", provider_id=form.proveedor.data, by=current_user
        )
        return f"Reserva movida al {day:%d/%m/%Y} {form.hora.data}."

    if submit(form, apply):
        if not wants_fragment():
            flash(form.result, "success")
            return redirect(url_for("frontdesk.board", fecha=(form.fecha.data or clock.today()).isoformat()), 303)
        response = make_response(render_template("frontdesk/_dialog_done.html", message=form.result))
        return hx_trigger(response, "order-changed", {"order_id": line.order_id})
    if form.status != 200:
        form.renew_key()
    line = _line_or_404(line_id)
    day = form.fecha.data or line.service_date
    grid = walk_in.hour_grid(line.service, day, line.people, ignore_line_id=line.id)
    selected = form.hora.data or (line.start_time if day == line.service_date else None)
    if request.method == "GET" and request.args.get("bloque") == "horas" and wants_fragment():
        return render_page("frontdesk/_hour_grid_alone.html", grid=grid, selected=selected, show_price=False)
    return render_page(
        "frontdesk/move.html", "dialog", status=form.status, line=line, form=form, grid=grid, selected=selected
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


@bp.route("/venta_reservas/<int:order_id>/pagos/nuevo/", methods=["GET"])
@bp.route("/venta_reservas/<int:order_id>/pagos/", methods=["POST"])
@role_required(*DESK)
def payment_dialog(order_id: int):
    def apply(order, form):
        payment = record_payment(
            order,
            amount=form.monto.data,
            method=form.metodo_pago.data or "",
            by=current_user,
            reference=form.referencia.data or None,
            gift_card_code=form.codigo.data,
            allow_credit=form.saldo_a_favor.data,
        )
        return f"Pago registrado: {format_clp(payment.amount)} ({payment.method})."

    return order_dialog(
        order_id,
        "frontdesk/payment.html",
        lambda order: new_form(PaymentForm, monto=order.balance_due),
        apply,
        event="payment-recorded",
        methods=active_methods(),
    )


@bp.post("/pagos/<int:payment_id>/anular/")
@role_required(*DESK)
def payment_void(payment_id: int):
    payment = db.session.get(Payment, payment_id) or abort(404)
    form = PaymentVoidForm()
    if submit(form, lambda: void_payment(payment, reason=form.motivo.data or "", by=current_user)):
        return dialog_done("Pago anulado.", "payment-recorded", payment.order_id)
    return dialog_error(form.first_error, form.status)


@bp.route("/venta_reservas/<int:order_id>/reembolsos/", methods=["GET", "POST"])
@role_required("gerente", "admin")
def refund_dialog(order_id: int):
    def apply(order, form):
        amount = form.monto.data
        refund(order, amount=amount, method=form.metodo_pago.data or "", reason=form.motivo.data or "", by=current_user)
        return f"Reembolso registrado: {format_clp(amount)}."

    return order_dialog(
        order_id,
        "frontdesk/refund.html",
        lambda order: new_form(RefundForm, monto=order.credit),
        apply,
        event="payment-recorded",
        methods=active_methods(exclude=()),
    )


@bp.route("/venta_reservas/<int:order_id>/descuentos/", methods=["GET", "POST"])
@role_required(*DESK)
def discount_dialog(order_id: int):
    def apply(order, form):
        code = form.codigo.data or None
        if code is None and form.monto.data is None:
            raise ValidationError(number_message("Monto"), field="monto")
        discount_services.apply_discount(
            order,
            amount=None if code else form.monto.data,
            code=code,
            reason=form.motivo.data or "",
            by=current_user,
        )
        return "Descuento aplicado."

    return order_dialog(order_id, "frontdesk/discount.html", lambda order: new_form(DiscountForm), apply)


@bp.post("/descuentos/<int:discount_id>/anular/")
@role_required(*DESK)
def discount_void(discount_id: int):
    discount = db.session.get(Discount, discount_id) or abort(404)
    return row_post(
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
            order, reason=form.motivo.data or "", by=current_user, restock=form.reponer_stock.data
        )
        return f"Venta #{order.id} cancelada."

    return order_dialog(order_id, "frontdesk/cancel.html", lambda order: new_form(OrderCancelForm), apply)


# --- walk-in / phone booking ---------------------------------------------------------------------------------


@bp.route("/recepcion/nueva-reserva/", methods=["GET", "POST"])
@role_required(*DESK)
def new_booking():
    form = NewBookingForm() if request.method == "POST" else NewBookingForm(formdata=request.args or None)
    if submit(form, lambda: _create_walk_in(form)):
        order, payment = form.result
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
    if form.status != 200:
        form.renew_key()
    services = walk_in.walk_in_services()
    service, day, people = walk_in_choice(form, services)
    block = "slot_grid" if request.method == "GET" and request.args.get("bloque") == "horas" else "booking_form"
    closed = walk_in.cash_day_closed()
    return render_page(
        "frontdesk/new_booking.html",
        block,
        status=form.status,
        form=form,
        services=services,
        grid=walk_in.hour_grid(service, day, people),
        today=clock.today(),
        cash_closed=closed,
        takes_payment=not closed or is_privileged(current_user),
        methods=active_methods(exclude=("flow", "giftcard")),
    )


def _create_walk_in(form: NewBookingForm):
    service = db.session.get(Service, form.servicio.data)
    if service is None or walk_in.is_internal(service):
        raise ValidationError("Ese servicio no se puede reservar desde recepción.", field="servicio")
    origin = form.canal.data if form.canal.data in ("recepcion", "telefono") else "recepcion"
    data = checkout_services.CheckoutData(
        telefono=form.telefono.data or "",
        nombre=form.nombre.data or "",
        email=form.email.data or None,
        documento_identidad=form.documento_identidad.data or None,
        acepta_marketing=form.acepta_marketing.data,
        comentarios=form.comentarios.data or None,
    )
    req = sales_services.LineRequest(
        service_id=service.id,
        day=form.fecha.data or clock.today(),
        hhmm=form.hora.data,
        people=1 if form.personas.data is None else form.personas.data,
        provider_id=form.proveedor.data,
    )
    try:
        order = checkout_services.place_order(lines=[req], data=data, origin=origin, by=current_user, staff=True)
    except sales_services.SlotUnavailable as exc:
        raise walk_in.clearer_conflict(exc) from None
    payment = None
    if form.pago_monto.data is not None:
        if walk_in.cash_day_closed() and not is_privileged(current_user):
            raise ValidationError(  # above the form: the payment fields are not shown once the day is closed
                f"La caja del {clock.today():%d/%m/%Y} está cerrada: la reserva no se guardó. "
                "Quite el monto y use «Crear reserva sin pago»."
            )
        payment = record_payment(
            order, amount=form.pago_monto.data, method=form.pago_metodo.data or "", by=current_user
        )
    return order, payment
