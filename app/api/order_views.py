"""Orders over JSON: ventasreservas, reservaservicios, reservaproductos, pagos (api.md §4) and the pre-booking
endpoint (§5.4). Every write goes through the booking/payment services (locks, totals, audit)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import jsonify, request
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.api.auth import api_roles
from app.api.blueprint import bp
from app.api.idempotency import idempotent
from app.api.resource_views import (
    ApiForbidden,
    ApiValidationError,
    Bound,
    Field,
    Filter,
    Resource,
    equals,
    parse_date,
    parse_datetime,
    register,
    register_export,
)
from app.auth.models import User
from app.catalog.models import Product, Provider, Service
from app.clients.models import Client
from app.core import clock
from app.core.errors import DomainError, ValidationError
from app.core.uow import unit_of_work
from app.extensions import db
from app.sales import checkout_services, discount_services, line_services
from app.sales import edit_services as editing
from app.sales import services as sales_services
from app.sales.models import (
    BOOKING_STATUSES,
    LINE_STATUSES,
    ORDER_ORIGINS,
    PAYMENT_STATUSES,
    Order,
    Payment,
    ProductLine,
    ServiceLine,
)
from app.sales.payment_services import record_payment, void_payment
from app.sales.representation import (
    PRODUCT_LINE_COLUMNS,
    columns,
    iso_datetime,
    order_load_options,
    order_representation,
    order_representations,
    order_rows,
    payment_rows,
    payment_summary,
    product_line_representation,
    service_line_dicts,
    service_line_representation,
    service_line_rows,
)

DESK = frozenset({"recepcion", "gerente", "admin"})
MANAGERS = frozenset({"gerente", "admin"})


def sold_from(column) -> Bound:
    return Bound(lambda param: column >= param, clock.local_midnight)


def _day_after_midnight(day):
    return clock.local_midnight(day + timedelta(days=1))


def sold_until(column) -> Bound:
    return Bound(lambda param: column < param, _day_after_midnight)


def reason_param(default: str) -> str:
    return (request.args.get("motivo") or "").replace("\x00", "").strip()[:255] or default


def _order(order_id: int) -> Order:
    return db.session.get(Order, order_id)


# --- ventasreservas ------------------------------------------------------------------------------------------

# Documented shapes of the representations (app.sales.representation builds them; a test compares the keys).
SERVICE_REF = [Field("id", "integer"), Field("nombre"), Field("tipo_servicio"), Field("precio_base", "integer")]
SERVICE_LINE_FIELDS = [
    Field("id", "integer"),
    Field("servicio", "object", of=SERVICE_REF),
    Field("fecha_agendamiento", "date"),
    Field("hora_inicio", "time"),
    Field("cantidad_personas", "integer"),
    Field("proveedor_asignado", "integer", nullable=True),
    Field("precio_unitario", "integer"),
    Field("regla_precio"),
    Field("subtotal", "integer"),
    Field("estado"),
]
PRODUCT_LINE_FIELDS = [
    Field("id", "integer"),
    Field("venta_reserva", "integer"),
    Field("producto", "integer"),
    Field("cantidad", "integer"),
    Field("precio_unitario", "integer"),
    Field("subtotal", "integer"),
    Field("estado"),
    Field("destinatario_nombre", nullable=True),
    Field("destinatario_email", nullable=True),
    Field("mensaje", nullable=True),
]
PAYMENT_SUMMARY_FIELDS = [
    Field("id", "integer"),
    Field("fecha_pago", "datetime"),
    Field("monto", "integer"),
    Field("metodo_pago"),
    Field("usuario", nullable=True),
    Field("giftcard", nullable=True),
    Field("es_reembolso", "boolean"),
    Field("estado"),
]
ORDER_FIELDS = [
    Field("id", "integer"),
    Field("cliente", "integer"),
    Field("cliente_nombre", nullable=True),
    Field("fecha_creacion", "datetime"),
    Field("fecha_reserva", "datetime"),
    Field("origen", enum=ORDER_ORIGINS),
    Field("estado_pago", enum=PAYMENT_STATUSES),
    Field("estado_reserva", enum=BOOKING_STATUSES),
    *(
        Field(name, "integer")
        for name in (
            "total_servicios",
            "total_productos",
            "descuentos",
            "total",
            "pagado",
            "saldo_pendiente",
            "saldo_a_favor",
        )
    ),
    Field("requiere_reembolso", "boolean"),
    Field("comentarios"),
    Field("numero_documento_fiscal", nullable=True),
    Field("cobrado", "boolean"),
    Field("enlace_publico"),
    Field("servicios", "array", items="object", of=SERVICE_LINE_FIELDS),
    Field("productos", "array", items="object", of=PRODUCT_LINE_FIELDS),
    Field("pagos", "array", items="object", of=PAYMENT_SUMMARY_FIELDS),
    Field(
        "descuentos_detalle",
        "array",
        items="object",
        of=[Field("id", "integer"), Field("monto", "integer"), Field("motivo"), Field("codigo", nullable=True)],
    ),
]


def _service_requests(raw: list[dict]) -> list[sales_services.LineRequest]:
    out, errors = [], []
    for n, item in enumerate(raw, start=1):
        sid, people, provider = item.get("servicio"), item.get("cantidad_personas", 1), item.get("proveedor_asignado")
        day, hhmm = parse_date(item.get("fecha_agendamiento")), item.get("hora_inicio")
        ints_ok = all(isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**31 for v in (sid, people)) and (
            provider is None or (isinstance(provider, int) and not isinstance(provider, bool) and 0 < provider < 2**31)
        )
        if not ints_ok or day is None or not clock.is_hhmm(hhmm):
            errors.append(
                f"Línea {n}: indique servicio, fecha_agendamiento (YYYY-MM-DD), hora_inicio (HH:MM) y "
                "cantidad_personas válidos."
            )
            continue
        out.append(sales_services.LineRequest(service_id=sid, day=day, hhmm=hhmm, people=people, provider_id=provider))
    if errors:
        raise ApiValidationError({"servicios": errors})
    return out


def _product_requests(raw: list[dict]) -> list[tuple[int, int]]:
    out, errors = [], []
    for n, item in enumerate(raw, start=1):
        pid, qty = item.get("producto"), item.get("cantidad", 1)
        if not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v < 10**6 for v in (pid, qty)):
            errors.append(f"Línea {n}: indique producto y cantidad válidos.")
            continue
        out.append((pid, qty))
    if errors:
        raise ApiValidationError({"productos": errors})
    return out


def _service_exists(lines: list[sales_services.LineRequest]) -> None:
    ids = {ln.service_id for ln in lines}
    found = set(db.session.scalars(sa.select(Service.id).where(Service.id.in_(ids)))) if ids else set()
    if ids - found:
        raise ApiValidationError({"servicios": ["Servicio no encontrado."]})


class OrderResource(Resource):
    def base_query(self):
        return sa.select(Order).order_by(Order.id.desc())

    def keyset_descending(self):
        return True

    def load_options(self):
        return order_load_options()

    def serialize(self, obj):
        return order_representation(obj)

    def rows_query(self, stmt):
        return order_rows(stmt)

    def serialize_rows(self, rows):
        return order_representations(db.session, rows)

    def create(self, values, by):
        client = db.session.get(Client, values["cliente"])
        lines = _service_requests(values.get("servicios") or [])
        products = _product_requests(values.get("productos") or [])
        if not lines:
            raise ApiValidationError({"servicios": ["Incluya al menos un servicio."]})
        _service_exists(lines)
        data = checkout_services.CheckoutData(
            telefono=client.phone, nombre=client.name, email=client.email, comentarios=values.get("comentarios")
        )
        order = checkout_services.place_order(lines=lines, data=data, origin="api", by=by, staff=True, client=client)
        for product_id, quantity in products:
            if db.session.get(Product, product_id) is None:
                raise ApiValidationError({"productos": ["Producto no encontrado."]})
            editing.add_product_line(order, product_id=product_id, quantity=quantity, by=by)
        if values.get("codigo_descuento"):
            discount_services.apply_code(order, values["codigo_descuento"], by=by)
        return order

    def update(self, obj, values, by, *, partial):
        if "fecha_reserva" in values and by.role not in MANAGERS:
            raise ApiForbidden("Solo gerente o admin pueden cambiar fecha_reserva.")
        editing.edit_order(
            obj,
            comments=values.get("comentarios", obj.comments),
            fiscal_document_number=values.get("numero_documento_fiscal", obj.fiscal_document_number),
            charged=values.get("cobrado", obj.charged),
            sold_at=values.get("fecha_reserva"),
            by=by,
        )
        return obj

    def delete(self, obj, by):
        line_services.cancel_order_by_staff(obj, reason=reason_param("Cancelada vía API"), by=by)
        return order_representation(obj)


def _has_line(condition):
    return sa.exists().where(ServiceLine.order_id == Order.id, condition)


ORDERS = register(
    bp,
    OrderResource(
        name="ventasreservas",
        model=Order,
        summary="Ventas/reservas (más recientes primero)",
        read_roles=DESK,
        write_roles=DESK,
        idempotent_create=True,
        fields=ORDER_FIELDS,
        create_fields=[
            Field("cliente", "integer", required=True, ref=Client),
            Field(
                "servicios",
                "array",
                items="object",
                required=True,
                description="[{servicio, fecha_agendamiento, hora_inicio, cantidad_personas, proveedor_asignado?}]",
            ),
            Field("productos", "array", items="object", description="[{producto, cantidad}]"),
            Field("comentarios", nullable=True, max_length=2000),
            Field("codigo_descuento", nullable=True, max_length=30),
        ],
        update_fields=[
            Field("comentarios", nullable=True, max_length=2000),
            Field("numero_documento_fiscal", nullable=True, max_length=50),
            Field("cobrado", "boolean"),
            Field("fecha_reserva", "datetime", description="solo gerente/admin"),
        ],
        filters=[
            Filter("cliente", "integer", equals(Order.client_id)),
            Filter("servicio", "integer", Bound(lambda v: _has_line(ServiceLine.service_id == v))),
            Filter("fecha_inicio", "date", sold_from(Order.sold_at), "fecha_reserva desde (YYYY-MM-DD)"),
            Filter("fecha_fin", "date", sold_until(Order.sold_at), "fecha_reserva hasta (YYYY-MM-DD)"),
            Filter("fecha_servicio", "date", Bound(lambda v: _has_line(ServiceLine.service_date == v))),
            Filter("estado_pago", "string", equals(Order.payment_status), enum=PAYMENT_STATUSES),
            Filter("estado_reserva", "string", equals(Order.booking_status), enum=BOOKING_STATUSES),
            Filter("origen", "string", equals(Order.origin), enum=ORDER_ORIGINS),
        ],
        delete_params=[("motivo", "motivo de la cancelación (por defecto «Cancelada vía API»)")],
    ),
)


# --- reservaservicios ----------------------------------------------------------------------------------------

STATE_ACTIONS = {"checkin": "checkin", "checkout": "checkout", "no_show": "no-show"}
EDITABLE_LINE_STATES = ("pendiente", "checkin", "checkout", "no_show")


class ServiceLineResource(Resource):
    def load_options(self):
        return [selectinload(ServiceLine.service)]

    def serialize(self, obj):
        return service_line_representation(obj, with_order=True)

    def rows_query(self, stmt):
        return service_line_rows(stmt)

    def serialize_rows(self, rows):
        return service_line_dicts(rows, with_order=True)

    def create(self, values, by):
        req = sales_services.LineRequest(
            service_id=values["servicio_id"],
            day=values["fecha_agendamiento"],
            hhmm=values["hora_inicio"],
            people=values["cantidad_personas"],
            provider_id=values.get("proveedor_asignado"),
        )
        return editing.add_service_line(_order(values["venta_reserva"]), req, by=by)

    def update(self, obj, values, by, *, partial):
        if "fecha_agendamiento" in values or "hora_inicio" in values:
            line_services.move_service_line(
                obj,
                day=values.get("fecha_agendamiento", obj.service_date),
                hhmm=values.get("hora_inicio", obj.start_time),
                provider_id=values.get("proveedor_asignado", obj.provider_id),
                by=by,
            )
        elif values.get("proveedor_asignado") is not None and values["proveedor_asignado"] != obj.provider_id:
            line_services.change_provider(obj, provider_id=values["proveedor_asignado"], by=by)
        if "cantidad_personas" in values and values["cantidad_personas"] != obj.people:
            line_services.change_people(obj, people=values["cantidad_personas"], by=by)
        if "estado" in values and values["estado"] != obj.status:
            target = values["estado"]
            action = (
                "deshacer"
                if target == "pendiente" or line_services.UNDO.get(obj.status) == target
                else STATE_ACTIONS[target]
            )
            line_services.change_status(obj, action, by=by)
        return obj

    def delete(self, obj, by):
        line_services.cancel_line(obj, reason=reason_param("Cancelada vía API"), by=by)
        return service_line_representation(obj, with_order=True)


def _line_date(op) -> Bound:
    return Bound(lambda day: op(ServiceLine.service_date, day))


register(
    bp,
    ServiceLineResource(
        name="reservaservicios",
        model=ServiceLine,
        summary="Servicios reservados (líneas de servicio)",
        read_roles=DESK,
        write_roles=DESK,
        idempotent_create=True,
        fields=[
            Field("id", "integer", attr="id", write=False),
            Field("venta_reserva", "integer", attr="order_id", write=False),
            Field("servicio", "object", write=False, of=SERVICE_REF),
            Field("fecha_agendamiento", "date", attr="service_date"),
            Field("hora_inicio", "time", attr="start_time"),
            Field("cantidad_personas", "integer", attr="people", minimum=1),
            Field("proveedor_asignado", "integer", attr="provider_id", nullable=True),
            Field("precio_unitario", "integer", attr="unit_price", write=False),
            Field("regla_precio", attr="pricing_rule", write=False),
            Field("subtotal", "integer", attr="subtotal", write=False),
            Field("estado", attr="status", enum=LINE_STATUSES, write=False),
        ],
        create_fields=[
            Field("venta_reserva", "integer", required=True, ref=Order),
            Field("servicio_id", "integer", required=True, ref=Service),
            Field("fecha_agendamiento", "date", required=True),
            Field("hora_inicio", "time", required=True),
            Field("cantidad_personas", "integer", required=True, minimum=1, max_length=None),
            Field("proveedor_asignado", "integer", nullable=True, ref=Provider),
        ],
        update_fields=[
            Field("fecha_agendamiento", "date", description="con hora_inicio: mover la reserva"),
            Field("hora_inicio", "time"),
            Field("cantidad_personas", "integer", minimum=1),
            Field("proveedor_asignado", "integer", nullable=True, ref=Provider),
            Field("estado", enum=EDITABLE_LINE_STATES, description="transiciones del tablero (check-in, etc.)"),
        ],
        filters=[
            Filter("venta_reserva", "integer", equals(ServiceLine.order_id)),
            Filter("servicio", "integer", equals(ServiceLine.service_id)),
            Filter("proveedor", "integer", equals(ServiceLine.provider_id)),
            Filter("estado", "string", equals(ServiceLine.status), enum=LINE_STATUSES),
            Filter("fecha", "date", _line_date(lambda c, d: c == d)),
            Filter("fecha_inicio", "date", _line_date(lambda c, d: c >= d)),
            Filter("fecha_fin", "date", _line_date(lambda c, d: c <= d)),
        ],
        delete_params=[("motivo", "motivo de la cancelación (por defecto «Cancelada vía API»)")],
    ),
)


# --- reservaproductos ----------------------------------------------------------------------------------------


class ProductLineResource(Resource):
    def serialize(self, obj):
        return product_line_representation(obj)

    def rows_query(self, stmt):
        return stmt.with_only_columns(*columns(ProductLine, PRODUCT_LINE_COLUMNS))

    def create(self, values, by):
        line = editing.add_product_line(
            _order(values["venta_reserva"]), product_id=values["producto"], quantity=values["cantidad"], by=by
        )
        line.recipient_name = values.get("destinatario_nombre")  # gift-card style dedication, no rule attached
        line.recipient_email = values.get("destinatario_email")
        line.message = values.get("mensaje")
        db.session.flush()
        return line

    def update(self, obj, values, by, *, partial):
        if "cantidad" in values:
            editing.change_product_quantity(obj, quantity=values["cantidad"], by=by)
        return obj

    def delete(self, obj, by):
        editing.void_product_line(obj, by=by)
        return product_line_representation(obj)


register(
    bp,
    ProductLineResource(
        name="reservaproductos",
        model=ProductLine,
        summary="Productos vendidos (líneas de producto)",
        read_roles=DESK,
        write_roles=DESK,
        idempotent_create=True,
        fields=[
            Field("id", "integer", attr="id", write=False),
            Field("venta_reserva", "integer", attr="order_id", write=False),
            Field("producto", "integer", attr="product_id", write=False),
            Field("cantidad", "integer", attr="quantity", minimum=1),
            Field("precio_unitario", "integer", attr="unit_price", write=False),
            Field("subtotal", "integer", attr="subtotal", write=False),
            Field("estado", attr="status", write=False),
            Field("destinatario_nombre", attr="recipient_name", nullable=True, write=False),
            Field("destinatario_email", attr="recipient_email", nullable=True, write=False),
            Field("mensaje", attr="message", nullable=True, write=False),
        ],
        create_fields=[
            Field("venta_reserva", "integer", required=True, ref=Order),
            Field("producto", "integer", required=True, ref=Product),
            Field("cantidad", "integer", required=True, minimum=1),
            Field("destinatario_nombre", nullable=True, max_length=100),
            Field("destinatario_email", nullable=True, max_length=254),
            Field("mensaje", nullable=True, max_length=2000),
        ],
        update_fields=[
            Field("cantidad", "integer", required=True, minimum=1, description="aplica la diferencia de stock")
        ],
        filters=[
            Filter("venta_reserva", "integer", equals(ProductLine.order_id)),
            Filter("producto", "integer", equals(ProductLine.product_id)),
        ],
    ),
)


# --- pagos ---------------------------------------------------------------------------------------------------

NOT_MODIFIABLE = "Los pagos no se modifican; anule el pago y registre uno nuevo."


def payment_representation(payment: Payment, out: dict | None = None) -> dict:
    """The `pagos` resource: payment_summary (`out`, given for rows of payment_rows) plus its own fields."""
    out = out if out is not None else payment_summary(payment)
    return {
        "id": out["id"],
        "venta_reserva": payment.order_id,
        "fecha_pago": out["fecha_pago"],
        "monto": out["monto"],
        "metodo_pago": out["metodo_pago"],
        "usuario": out["usuario"],
        "giftcard": out["giftcard"],
        "es_reembolso": out["es_reembolso"],
        "referencia": payment.reference,
        "estado": out["estado"],
        "motivo_anulacion": payment.void_reason,
    }


class PaymentResource(Resource):
    def load_options(self):
        return [selectinload(Payment.recorded_by), selectinload(Payment.gift_card)]

    def serialize(self, obj):
        return payment_representation(obj)

    def rows_query(self, stmt):
        return payment_rows(stmt)

    def serialize_rows(self, rows):
        # rows of payment_rows, read by position: PAYMENT_COLUMNS, then username and giftcard
        return [
            {
                "id": r[0],
                "venta_reserva": r[1],
                "fecha_pago": iso_datetime(r[2]),
                "monto": r[3],
                "metodo_pago": r[4],
                "usuario": r[9],
                "giftcard": r[10],
                "es_reembolso": r[5],
                "referencia": r[7],
                "estado": r[6],
                "motivo_anulacion": r[8],
            }
            for r in rows
        ]

    def create(self, values, by):
        order = _order(values["venta_reserva"])
        if values["metodo_pago"] == "descuento":
            reason = (values.get("referencia") or "").strip() or "Descuento vía API"
            discount = discount_services.apply_discount(order, amount=values["monto"], reason=reason, by=by)
            return {
                "id": discount.id,
                "tipo": "descuento",
                "venta_reserva": order.id,
                "monto": discount.amount,
                "motivo": discount.reason,
            }
        return record_payment(
            order,
            amount=values["monto"],
            method=values["metodo_pago"],
            by=by,
            reference=values.get("referencia"),
            gift_card_code=values.get("giftcard_codigo"),
            allow_credit=bool(values.get("permitir_saldo_a_favor")),
        )

    def delete(self, obj, by):
        void_payment(obj, reason=reason_param("Anulado vía API"), by=by)
        return payment_representation(obj)


_by_username = Bound(lambda username: Payment.recorded_by_id.in_(sa.select(User.id).where(User.username == username)))


PAYMENTS = register(
    bp,
    PaymentResource(
        name="pagos",
        model=Payment,
        summary="Pagos (anular = DELETE)",
        read_roles=DESK,
        write_roles=DESK,
        idempotent_create=True,
        not_modifiable=NOT_MODIFIABLE,
        fields=[
            Field("id", "integer", attr="id", write=False),
            Field("venta_reserva", "integer", attr="order_id", write=False),
            Field("fecha_pago", "datetime", attr="paid_at", write=False),
            Field("monto", "integer", attr="amount", write=False),
            Field("metodo_pago", attr="method", write=False),
            Field("usuario", write=False, nullable=True, description="username de quien registró"),
            Field("giftcard", write=False, nullable=True, description="código de la gift card"),
            Field("es_reembolso", "boolean", attr="is_refund", write=False),
            Field("referencia", attr="reference", nullable=True, write=False),
            Field("estado", attr="status", write=False),
            Field("motivo_anulacion", attr="void_reason", nullable=True, write=False),
        ],
        create_fields=[
            Field("venta_reserva", "integer", required=True, ref=Order),
            Field("monto", "integer", required=True, minimum=1),
            Field("metodo_pago", required=True, max_length=30, description="código del método, o «descuento»"),
            Field("referencia", nullable=True, max_length=120),
            Field("giftcard_codigo", nullable=True, max_length=20),
            Field("permitir_saldo_a_favor", "boolean"),
        ],
        filters=[
            Filter("venta_reserva", "integer", equals(Payment.order_id)),
            Filter("metodo_pago", "string", equals(Payment.method)),
            Filter("usuario", "string", _by_username, "username de quien registró"),
            Filter("estado", "string", equals(Payment.status), enum=("valido", "anulado")),
            Filter("fecha_inicio", "date", sold_from(Payment.paid_at)),
            Filter("fecha_fin", "date", sold_until(Payment.paid_at)),
        ],
        delete_params=[("motivo", "motivo de la anulación (por defecto «Anulado vía API»)")],
    ),
)


# --- §5.4 pre-booking ----------------------------------------------------------------------------------------


def _prebooking_error(message: str, status: int = 400):
    return jsonify(status="error", message=message), status


def _prebooking_lines(raw) -> list[sales_services.LineRequest]:
    if not isinstance(raw, list) or not raw or len(raw) > 20:
        raise ValidationError("Incluya al menos un servicio en «servicios».")
    out = []
    for n, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise ValidationError(f"Servicio {n}: formato inválido.")
        sid, people = item.get("servicio_id"), item.get("cantidad_personas", 1)
        if not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**31 for v in (sid, people)):
            raise ValidationError(f"Servicio {n}: servicio_id y cantidad_personas deben ser enteros positivos.")
        raw_when = item.get("fecha_agendamiento")
        day, hhmm = parse_date(raw_when), item.get("hora_inicio")
        if day is None:
            when = parse_datetime(raw_when)
            if when is not None:
                local = clock.to_local(when)
                day, hhmm = local.date(), local.strftime("%H:%M")
        if day is None or not clock.is_hhmm(hhmm):
            raise ValidationError(
                f"Servicio {n}: fecha_agendamiento debe ser fecha y hora ISO 8601 "
                "(o fecha YYYY-MM-DD con hora_inicio HH:MM)."
            )
        out.append(sales_services.LineRequest(service_id=sid, day=day, hhmm=hhmm, people=people))
    return out


def _text(body: dict, key: str, limit: int) -> str | None:
    value = body.get(key)
    if value is not None and (not isinstance(value, str) or "\x00" in value):
        raise ValidationError(f"«{key}» debe ser texto.")
    return value[:limit] if value else None


@bp.post("/ventas/ventas/prebooking/")
@api_roles(*DESK)
@idempotent
def prebooking():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _prebooking_error("JSON inválido.")
    try:
        with unit_of_work():
            lines = _prebooking_lines(body.get("servicios"))
            ids = {ln.service_id for ln in lines}
            if len(set(db.session.scalars(sa.select(Service.id).where(Service.id.in_(ids))))) != len(ids):
                raise ValidationError("Servicio no encontrado.")
            data = checkout_services.CheckoutData(
                telefono=_text(body, "telefono", 30) or "",
                nombre=_text(body, "nombre_cliente", 100) or "",
                email=_text(body, "email", 254),
                comentarios=_text(body, "comentarios", 2000),
            )
            code = _text(body, "discount_code", 30)
            order = checkout_services.place_order(lines=lines, data=data, origin="api", by=current_user, staff=True)
            if code:
                discount_services.apply_code(order, code, by=current_user)
    except sales_services.SlotUnavailable as exc:
        detail = ", ".join(f"{label} ({entry.mensaje or 'no disponible'})" for label, entry in exc.failures)
        return _prebooking_error(f"Horario no disponible: {detail}", 409)
    except DomainError as exc:
        return _prebooking_error(exc.message, 409 if exc.status == 409 else 400)
    body = {
        "status": "success",
        "message": "Pre-reserva creada exitosamente",
        "venta_reserva_id": order.id,
        "total": order.total,
        "discount_applied": order.discount_total,
    }
    return jsonify(body), 201


# --- bulk exports (NDJSON, docs/API.md «Lecturas masivas») -------------------------------------------------------


def _payment_changed(since):
    return sa.or_(Payment.created_at >= since, Payment.voided_at >= since)


def orders_changed_since(stmt, since):
    """Orders created, cancelled, with a payment recorded or voided, or a line added, cancelled, checked in or out
    since `since` (orders have no updated_at column: these are the changes an automation syncs)."""
    line_changed = sa.or_(
        ServiceLine.created_at >= since,
        ServiceLine.cancelled_at >= since,
        ServiceLine.checked_in_at >= since,
        ServiceLine.checked_out_at >= since,
    )
    return stmt.where(
        sa.or_(
            Order.created_at >= since,
            Order.cancelled_at >= since,
            sa.exists().where(Payment.order_id == Order.id, _payment_changed(since)),
            _has_line(line_changed),
            sa.exists().where(ProductLine.order_id == Order.id, ProductLine.created_at >= since),
        )
    )


def payments_changed_since(stmt, since):
    """Payments recorded or voided since `since`."""
    return stmt.where(_payment_changed(since))


register_export(bp, ORDERS, orders_changed_since)
register_export(bp, PAYMENTS, payments_changed_since)
