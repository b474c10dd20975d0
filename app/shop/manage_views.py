"""The manage-booking side of the public order page (self-service.md §2): the customer cancels the booking or
moves a line to another free slot, with the signed order link and no login. The page itself is
`checkout_views.order_page`; the rules are `sales.selfservice_services` / `selfservice_queries`."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, request, url_for
from flask_babel import gettext as _

from app.auth.decorators import public
from app.core import clock
from app.extensions import db, limiter
from app.sales.availability import slot_availability
from app.sales.models import ServiceLine
from app.sales.queries import load_slot_context
from app.sales.selfservice_queries import manage_state
from app.sales.selfservice_services import customer_cancel, customer_reschedule
from app.shop.blueprint import bp
from app.shop.booking_views import RATE_MESSAGE, parse_date
from app.shop.checkout_views import _order_from_token
from app.shop.forms import CancelBookingForm, RescheduleForm
from app.web.forms import submit
from app.web.htmx import render_page, see_other
from app.web.submissions import DuplicateSubmission


def _back(token: str):
    return see_other(url_for("shop.order_page", token=token))


@bp.route("/ventas/reserva/<token>/cancelar/", methods=["GET", "POST"])
@limiter.limit("20 per minute", error_message=RATE_MESSAGE)
@public
def order_cancel(token: str):
    """GET: the confirmation step (what is returned and how); POST: cancel, once per form render."""
    order = _order_from_token(token)
    state = manage_state(order)
    form = CancelBookingForm()
    if request.method == "GET":
        if not state.can_cancel:
            return _back(token)
        return render_page("shop/order_cancel.html", "cancel_form", order=order, token=token, state=state, form=form)
    refund_to = "dinero" if form.devolucion_dinero.data else "giftcard"
    if submit(form, lambda: customer_cancel(order, refund_to=refund_to)):
        flash(_("Tu reserva fue cancelada."), "success")
        return _back(token)
    if isinstance(form.refusal, DuplicateSubmission):  # the first click already did it
        return _back(token)
    form.renew_key()
    db.session.refresh(order)
    return render_page(
        "shop/order_cancel.html",
        "cancel_form",
        status=form.refusal_status if form.refusal_status in (409, 422) else 422,
        order=order,
        token=token,
        state=manage_state(order),
        form=form,
    )


def _line_of(order, line_id: int) -> ServiceLine:
    line = db.session.get(ServiceLine, line_id)
    if line is None or line.order_id != order.id:
        abort(404)
    return line


def _hours(line: ServiceLine, day: date | None) -> list:
    """The public panel's hours of the line's service on `day` for the same people (the line itself ignored)."""
    if day is None or day < clock.today():
        return []
    ctx = load_slot_context(line.service, day, staff=False, ignore_line_id=line.id)
    return slot_availability(ctx, line.people)


def _reschedule_page(order, token, line, form, *, status=200, block="reschedule_form"):
    day = form.fecha.data if isinstance(form.fecha.data, date) else parse_date(request.args.get("fecha") or "")
    day = day or line.service_date
    state = manage_state(order)
    line_state = next((ls for ls in state.lines if ls.line.id == line.id), None)
    return render_page(
        "shop/order_reschedule.html",
        block,
        status=status,
        order=order,
        token=token,
        line=line,
        line_state=line_state,
        day=day,
        hours=_hours(line, day),
        form=form,
    )


@bp.route("/ventas/reserva/<token>/lineas/<int:line_id>/cambiar/", methods=["GET", "POST"])
@limiter.limit("30 per minute", error_message=RATE_MESSAGE)
@public
def order_line_reschedule(token: str, line_id: int):
    """GET: the service's booking panel for the same people (`?fecha=` picks the day; HTMX swaps the hours);
    POST: move the line (409 and the old booking kept when the slot was taken meanwhile)."""
    order = _order_from_token(token)
    line = _line_of(order, line_id)
    form = RescheduleForm()
    if request.method == "GET":
        block = "hours" if request.args.get("fecha") else "reschedule_form"
        return _reschedule_page(order, token, line, form, block=block)
    if submit(form, lambda: customer_reschedule(line, day=form.fecha.data, hhmm=form.hora.data)):
        flash(
            _(
                "Listo: tu reserva quedó para el %(day)s a las %(time)s.",
                day=f"{line.service_date:%d/%m/%Y}",
                time=line.start_time,
            ),
            "success",
        )
        return _back(token)
    if isinstance(form.refusal, DuplicateSubmission):
        return _back(token)
    form.renew_key()
    db.session.refresh(line)
    status = form.refusal_status if form.refusal_status in (409, 422) else 422
    return _reschedule_page(order, token, line, form, status=status)
