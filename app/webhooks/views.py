"""`/ventas/webhooks/` (admin): endpoint CRUD, secret rotation, "Enviar prueba", the delivery log and replay."""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from app.auth.decorators import role_required
from app.core.pagination import paginate, parse_page
from app.core.uow import unit_of_work
from app.extensions import db
from app.web.forms import submit
from app.web.htmx import render_page
from app.webhooks import dispatch_services as dispatcher
from app.webhooks import queries, services
from app.webhooks.event_services import queue_ping
from app.webhooks.forms import EndpointForm, ReplayForm
from app.webhooks.models import DELIVERY_STATUS_LABELS, EVENTS, PING, WebhookDelivery, WebhookEndpoint

bp = Blueprint("webhooks", __name__, url_prefix="/ventas/webhooks")
PER_PAGE = 50


def _endpoint_or_404(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        abort(404)
    return endpoint


def _delivery_or_404(delivery_id: int) -> WebhookDelivery:
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        abort(404)
    return delivery


def _send_now(delivery_id: int) -> str:
    """Try one delivery right away (the admin waits at most the 10 s timeout); the outcome for a flash."""
    dispatcher.dispatch(only_ids=[delivery_id])
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery.status == "DELIVERED":
        return f"Entregada (HTTP {delivery.last_status_code})."
    return f"No entregada: {delivery.last_error or 'sin respuesta'}. Se reintentará automáticamente."


@bp.get("/")
@role_required("admin")
def endpoint_list():
    endpoints = list(db.session.scalars(queries.endpoints_statement()))
    return render_page("webhooks/endpoints.html", None, endpoints=endpoints, events=EVENTS)


@bp.route("/nuevo/", methods=["GET", "POST"])
@role_required("admin")
def endpoint_new():
    form = EndpointForm()
    if submit(form, lambda: services.create_endpoint(**form.values(), by=current_user)):
        flash("Webhook registrado. Copie el secreto para verificar las firmas.", "success")
        return redirect(url_for("webhooks.endpoint_detail", endpoint_id=form.result.id), 303)
    return render_page(
        "webhooks/endpoint_form.html", "endpoint_form", status=form.status, form=form, events=EVENTS, endpoint=None
    )


@bp.get("/<int:endpoint_id>/")
@role_required("admin")
def endpoint_detail(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    recent = paginate(db.session, queries.deliveries_statement({"webhook": endpoint.id}), 1, 10)
    return render_page("webhooks/endpoint_detail.html", None, endpoint=endpoint, events=EVENTS, recent=recent)


@bp.route("/<int:endpoint_id>/editar/", methods=["GET", "POST"])
@role_required("admin")
def endpoint_edit(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    form = EndpointForm(data=EndpointForm.initial(endpoint) if request.method == "GET" else None)
    if submit(form, lambda: services.update_endpoint(endpoint, **form.values())):
        flash("Webhook actualizado.", "success")
        return redirect(url_for("webhooks.endpoint_detail", endpoint_id=endpoint_id), 303)
    return render_page(
        "webhooks/endpoint_form.html", "endpoint_form", status=form.status, form=form, events=EVENTS, endpoint=endpoint
    )


@bp.post("/<int:endpoint_id>/secreto/")
@role_required("admin")
def endpoint_rotate_secret(endpoint_id: int):
    with unit_of_work():
        services.rotate_secret(_endpoint_or_404(endpoint_id))
    flash("Secreto regenerado: actualice el receptor; las próximas entregas se firman con el nuevo.", "success")
    return redirect(url_for("webhooks.endpoint_detail", endpoint_id=endpoint_id), 303)


@bp.post("/<int:endpoint_id>/prueba/")
@role_required("admin")
def endpoint_ping(endpoint_id: int):
    with unit_of_work():  # queued and committed first: the dispatcher sends only committed deliveries
        delivery = queue_ping(_endpoint_or_404(endpoint_id))
    flash(f"Prueba enviada. {_send_now(delivery.id)}", "info")
    return redirect(url_for("webhooks.endpoint_detail", endpoint_id=endpoint_id), 303)


@bp.route("/<int:endpoint_id>/eliminar/", methods=["GET", "POST"])
@role_required("admin")
def endpoint_delete(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    if request.method == "GET":
        count = db.session.query(WebhookDelivery).filter_by(endpoint_id=endpoint.id).count()
        return render_page("webhooks/endpoint_delete.html", None, endpoint=endpoint, deliveries=count)
    with unit_of_work():
        services.delete_endpoint(endpoint)
    flash("Webhook eliminado.", "success")
    return redirect(url_for("webhooks.endpoint_list"), 303)


@bp.get("/entregas/")
@role_required("admin")
def delivery_list():
    filters = queries.delivery_filters(request.args)
    page = paginate(db.session, queries.deliveries_statement(filters), parse_page(request.args.get("page")), PER_PAGE)
    endpoints = list(db.session.scalars(queries.endpoints_statement()))
    return render_page(
        "webhooks/deliveries.html",
        "delivery_list",
        page=page,
        args=filters,
        endpoint_options=[(e.id, e.description or e.url) for e in endpoints],
        event_options=[(e, e) for e in (*EVENTS, PING)],
        statuses=DELIVERY_STATUS_LABELS,
    )


@bp.get("/entregas/<int:delivery_id>/")
@role_required("admin")
def delivery_detail(delivery_id: int):
    delivery = _delivery_or_404(delivery_id)
    body = json.dumps(delivery.payload, ensure_ascii=False, indent=2)
    return render_page("webhooks/delivery_detail.html", None, delivery=delivery, body=body, form=ReplayForm())


@bp.post("/entregas/<int:delivery_id>/reenviar/")
@role_required("admin")
def delivery_replay(delivery_id: int):
    delivery = _delivery_or_404(delivery_id)
    form = ReplayForm()
    if submit(form, lambda: services.replay_delivery(delivery)):
        flash(f"Reenvío con el mismo evento {delivery.event_id}. {_send_now(delivery_id)}", "info")
    else:
        flash(form.first_error, "danger")
    return redirect(url_for("webhooks.delivery_detail", delivery_id=delivery_id), 303)
