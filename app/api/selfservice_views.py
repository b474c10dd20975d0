"""Cancel and reschedule over JSON (self-service.md §6): the manage-booking page's rules for a staff token; for
gerente/admin the policy (cut-offs, fees, the two-reschedule limit) is ignored."""

from __future__ import annotations

from datetime import date

from flask import abort, jsonify, request
from flask_login import current_user

from app.api.auth import api_roles
from app.api.blueprint import bp
from app.api.idempotency import idempotent
from app.api.openapi_views import Operation, document
from app.api.resource_views import ApiValidationError, Field
from app.core import clock
from app.core.uow import unit_of_work
from app.extensions import db
from app.sales.models import Order, ServiceLine
from app.sales.representation import order_representation, service_line_representation
from app.sales.selfservice_services import customer_cancel, customer_reschedule
from app.web.params import MAX_INT32

DESK = ("recepcion", "gerente", "admin")
ERROR = {"$ref": "#/components/schemas/Error"}
OBJECT = {"type": "object"}


def _row_or_404(model, obj_id: int):
    """The row, or 404 — also for ids beyond the INTEGER id column (SQLite would overflow: a 500)."""
    row = db.session.get(model, obj_id) if 0 < obj_id <= MAX_INT32 else None
    return row if row is not None else abort(404)


def _body() -> dict:
    body = request.get_json(silent=True)
    if body is None and not request.data:
        return {}
    if not isinstance(body, dict):
        raise ApiValidationError({"body": ["JSON inválido."]})
    return body


@bp.post("/ventas/api/ventasreservas/<int:obj_id>/cancelar/")
@api_roles(*DESK)
@idempotent
def api_order_cancel(obj_id: int):
    """Cancel every line; `devolucion` `giftcard` (default) or `dinero` (left as credit, requiere_reembolso)."""
    order = _row_or_404(Order, obj_id)
    try:
        body = _body()
        refund_to = body.get("devolucion", "giftcard")
        if refund_to not in ("giftcard", "dinero"):
            raise ApiValidationError({"devolucion": ["Use giftcard o dinero."]})
    except ApiValidationError as exc:
        return exc.response()
    with unit_of_work():
        customer_cancel(order, refund_to=refund_to, by=current_user, origin="api")
    return jsonify(order_representation(order))


@bp.post("/ventas/api/reservaservicios/<int:obj_id>/reprogramar/")
@api_roles(*DESK)
@idempotent
def api_line_reschedule(obj_id: int):
    """Move a line to `fecha_agendamiento` + `hora_inicio` (same people; the price is read again)."""
    line = _row_or_404(ServiceLine, obj_id)
    try:
        body = _body()
    except ApiValidationError as exc:
        return exc.response()
    errors = {}
    day = None
    try:
        day = date.fromisoformat(str(body.get("fecha_agendamiento", "")))
    except ValueError:
        errors["fecha_agendamiento"] = ["Fecha inválida (YYYY-MM-DD)."]
    hhmm = str(body.get("hora_inicio", ""))
    if not clock.is_hhmm(hhmm):
        errors["hora_inicio"] = ["Hora inválida (HH:MM)."]
    if errors:
        return ApiValidationError(errors).response()
    with unit_of_work():
        customer_reschedule(line, day=day, hhmm=hhmm, by=current_user, origin="api")
    return jsonify(service_line_representation(line, with_order=True))


_RESPONSES = {"400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR, "409": ERROR, "422": ERROR, "429": ERROR}
_IDEMPOTENCY = [{"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string"}}]
document(
    Operation(
        "/ventas/api/ventasreservas/{obj_id}/cancelar/",
        "post",
        "Cancelar una venta como el cliente (recepcion, gerente, admin; gerente/admin sin política)",
        "autoservicio",
        path_params=[Field("obj_id", "integer")],
        body=[Field("devolucion", enum=("giftcard", "dinero"), description="giftcard (defecto) o dinero")],
        responses={"200": OBJECT, **_RESPONSES},
        headers=_IDEMPOTENCY,
    )
)
document(
    Operation(
        "/ventas/api/reservaservicios/{obj_id}/reprogramar/",
        "post",
        "Reprogramar una reserva de servicio (recepcion, gerente, admin; gerente/admin sin política)",
        "autoservicio",
        path_params=[Field("obj_id", "integer")],
        body=[Field("fecha_agendamiento", "date"), Field("hora_inicio", "time")],
        body_required=["fecha_agendamiento", "hora_inicio"],
        responses={"200": OBJECT, **_RESPONSES},
        headers=_IDEMPOTENCY,
    )
)
