"""The one shape of the desk's order dialogs, shared by views.py and order_views.py: GET shows the dialog, POST goes
through the dialog's form (`submit()`: validate, one unit of work, the refusal on the form) and answers with the
done message (HTMX) or a redirect back; a one-click POST from a list (void) runs in `unit_of_work()` and its refusal
is answered in the dialog by the blueprint's DomainError handler below."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, make_response, redirect, render_template, request, url_for

from app.auth.views import safe_next
from app.catalog.models import Service
from app.core import clock
from app.core.errors import DomainError
from app.core.uow import unit_of_work
from app.extensions import db
from app.frontdesk.blueprint import bp
from app.sales.models import Order
from app.web.errors import error_response
from app.web.forms import OneTimeForm, submit
from app.web.htmx import hx_trigger, render_page, wants_fragment
from app.web.submissions import claim_submission

# One-click POSTs whose refusal is answered like a dialog (the message in #dialog, or a flash and a redirect back)
IN_DIALOG = {"frontdesk.discount_void", "frontdesk.order_product_void"}


def order_or_404(order_id: int) -> Order:
    order = db.session.get(Order, order_id)
    if order is None:
        abort(404)
    return order


def back_url() -> str:
    """Where a plain (no JavaScript) POST returns: the page it came from (`volver`, a local path), else the board."""
    return safe_next(request.form.get("volver")) or url_for("frontdesk.board")


def dialog_done(message: str, event: str, order_id: int):
    if not wants_fragment():
        flash(message, "success")
        return redirect(back_url(), 303)
    response = make_response(render_template("frontdesk/_dialog_done.html", message=message))
    hx_trigger(response, "order-changed", {"order_id": order_id})
    return hx_trigger(response, event, {"order_id": order_id}) if event != "order-changed" else response


def dialog_error(message: str, status: int):
    if not wants_fragment():
        flash(message, "danger")
        return redirect(back_url(), 303)
    return make_response(render_template("frontdesk/_dialog_done.html", message=message, error=True), status)


@bp.errorhandler(DomainError)
def _refused(exc: DomainError):
    """A service's refusal that left a view: in the dialog for the one-click list actions, else the app's answer."""
    if request.endpoint in IN_DIALOG:
        return dialog_error(exc.message, exc.status)
    return error_response(exc.status, exc.message)


def new_form(form_class, **data):
    """The dialog's form: the posted values on POST, the current values (`data`) on GET."""
    return form_class() if request.method == "POST" else form_class(data=data)


def order_dialog(
    order_id: int,
    template: str,
    make_form: Callable[[Order], OneTimeForm],
    apply: Callable[[Order, OneTimeForm], str],
    *,
    event: str = "order-changed",
    **extra,
):
    """GET shows the dialog; POST runs `apply(order, form)` (one service call, returns the success message) through
    `submit()`; a refusal re-renders the dialog with the messages on their fields (422/409).
    Callable `extra` values are evaluated with the (re-read) order."""
    order = order_or_404(order_id)
    form = make_form(order)
    if submit(form, lambda: apply(order, form)):
        return dialog_done(form.result, event, order_id)
    if form.status != 200:
        order = order_or_404(order_id)
        form.renew_key()
    ctx = {key: value(order) if callable(value) else value for key, value in extra.items()}
    return render_page(template, "dialog", status=form.status, order=order, form=form, **ctx)


def row_post(order_id: int, message: str, event: str, apply: Callable[[], object]):
    """A one-click POST from a list (void a discount or a product line): one unit of work, answered like a dialog
    (a refusal by `_refused`)."""
    with unit_of_work():
        claim_submission()
        apply()
    return dialog_done(message, event, order_id)


def walk_in_choice(form, services: list[Service]):
    """(service, day, people) chosen in the form, falling back to the first service, today and its minimum."""
    chosen = form.servicio.data
    service = next((s for s in services if s.id == chosen), services[0] if services else None)
    day = form.fecha.data or clock.today()
    people = form.personas.data if form.personas.data is not None and 1 <= form.personas.data <= 99 else None
    if people is None:
        people = max(service.min_people, min(2, service.max_people)) if service else 1
    return service, day, people
