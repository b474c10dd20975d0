"""The JSON order representation (spec api.md §4.2): the `ventasreservas` resource and webhook payloads.

Callers that serialise many orders load them with `order_load_options()` so the number of statements does not
depend on the number of orders.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import cache

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased, joinedload, selectinload

from app.auth.models import User
from app.catalog.models import Service
from app.clients.models import Client
from app.core import clock
from app.core.db import UTCDateTime
from app.core.signing import order_token, order_token_maker
from app.sales.models import Discount, DiscountCode, GiftCard, Order, Payment, ProductLine, ServiceLine
from app.web.urls import public_url


def iso_datetime(value: datetime | None) -> str | None:
    """ISO 8601 with the America/Santiago offset (spec api.md §2)."""
    return clock.to_local(value).isoformat(timespec="seconds") if value is not None else None


def iso_date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def order_load_options() -> list:
    """Eager loads for order_representation: a constant number of statements per page of orders."""

    return [
        joinedload(Order.client),  # many-to-one: joined, one round trip less
        selectinload(Order.service_lines).selectinload(ServiceLine.service),
        selectinload(Order.product_lines),
        selectinload(Order.payments).selectinload(Payment.recorded_by),
        selectinload(Order.payments).selectinload(Payment.gift_card),
        selectinload(Order.discounts).selectinload(Discount.code),
    ]


def service_ref(service) -> dict:
    """The nested `servicio` of a service line."""
    return _service_ref(service.id, service.name, service.service_type, service.base_price)


def _service_ref(service_id, name, service_type, base_price) -> dict:
    return {"id": service_id, "nombre": name, "tipo_servicio": service_type, "precio_base": base_price}


def service_line_representation(line, *, with_order: bool = False, service: dict | None = None) -> dict:
    """A service line: an ORM object, or a row with the same attribute names and its `servicio` (service_ref)."""
    out = {"id": line.id}
    if with_order:
        out["venta_reserva"] = line.order_id
    out.update(
        {
            "servicio": service if service is not None else service_ref(line.service),
            "fecha_agendamiento": iso_date(line.service_date),
            "hora_inicio": line.start_time,
            "cantidad_personas": line.people,
            "proveedor_asignado": line.provider_id,
            "precio_unitario": line.unit_price,
            "regla_precio": line.pricing_rule,
            "subtotal": line.subtotal,
            "estado": line.status,
        }
    )
    return out


def product_line_representation(line) -> dict:
    return {
        "id": line.id,
        "venta_reserva": line.order_id,
        "producto": line.product_id,
        "cantidad": line.quantity,
        "precio_unitario": line.unit_price,
        "subtotal": line.subtotal,
        "estado": line.status,
        "destinatario_nombre": line.recipient_name,
        "destinatario_email": line.recipient_email,
        "mensaje": line.message,
    }


def payment_summary(payment) -> dict:
    """A payment inside the order representation (the `pagos` resource adds its own fields)."""
    return payment_summary_of(
        payment,
        username=payment.recorded_by.username if payment.recorded_by else None,
        giftcard=payment.gift_card.code if payment.gift_card else None,
    )


def payment_summary_of(payment, *, username: str | None, giftcard: str | None) -> dict:
    """payment_summary from a payment (object or row) and its user's username and gift card code."""
    return {
        "id": payment.id,
        "fecha_pago": iso_datetime(payment.paid_at),
        "monto": payment.amount,
        "metodo_pago": payment.method,
        "usuario": username,
        "giftcard": giftcard,
        "es_reembolso": payment.is_refund,
        "estado": payment.status,
    }


def discount_summary(discount, code: str | None) -> dict:
    return {"id": discount.id, "monto": discount.amount, "motivo": discount.reason, "codigo": code}


def order_representation(order: Order) -> dict:
    """The order as api.md §4.2 shows it: totals in integer CLP, lines, payments and active discounts."""
    return order_representation_of(
        order,
        client_name=order.client.name if order.client else None,
        services=[service_line_representation(line) for line in order.service_lines],
        products=[product_line_representation(line) for line in order.product_lines],
        payments=[payment_summary(p) for p in order.payments],
        discounts=[
            discount_summary(d, d.code.code if d.code else None) for d in order.discounts if d.status == "activo"
        ],
    )


def order_representation_of(order, *, client_name, services, products, payments, discounts) -> dict:
    """order_representation from an order (object or row with the same attribute names) and its nested parts."""

    return {
        "id": order.id,
        "cliente": order.client_id,
        "cliente_nombre": client_name,
        "fecha_creacion": iso_datetime(order.created_at),
        "fecha_reserva": iso_datetime(order.sold_at),
        "origen": order.origin,
        "estado_pago": order.payment_status,
        "estado_reserva": order.booking_status,
        "total_servicios": order.services_total,
        "total_productos": order.products_total,
        "descuentos": order.discount_total,
        "total": order.total,
        "pagado": order.paid,
        "saldo_pendiente": order.balance_due,
        "saldo_a_favor": order.credit,
        "requiere_reembolso": order.requires_refund,
        "comentarios": order.comments or "",
        "numero_documento_fiscal": order.fiscal_document_number,
        "cobrado": order.charged,
        "enlace_publico": public_url("shop.order_page", token=order_token(order.id)),
        "servicios": services,
        "productos": products,
        "pagos": payments,
        "descuentos_detalle": discounts,
    }


# --- a page of orders as plain rows (the list endpoint): no ORM objects, a fixed number of statements -----------

ORDER_COLUMNS = (
    "id",
    "client_id",
    "created_at",
    "sold_at",
    "origin",
    "payment_status",
    "booking_status",
    "services_total",
    "products_total",
    "discount_total",
    "total",
    "paid",
    "balance_due",
    "credit",
    "requires_refund",
    "comments",
    "fiscal_document_number",
    "charged",
)
SERVICE_LINE_COLUMNS = (
    "id",
    "order_id",
    "service_date",
    "start_time",
    "people",
    "provider_id",
    "unit_price",
    "pricing_rule",
    "subtotal",
    "status",
)
PRODUCT_LINE_COLUMNS = (
    "id",
    "order_id",
    "product_id",
    "quantity",
    "unit_price",
    "subtotal",
    "status",
    "recipient_name",
    "recipient_email",
    "message",
)
PAYMENT_COLUMNS = ("id", "order_id", "paid_at", "amount", "method", "is_refund", "status", "reference", "void_reason")


def columns(model, names) -> list:
    """Mapped attributes labelled with their attribute names, so rows read like the ORM objects."""
    return [getattr(model, name).label(name) for name in names]


def _subquery(stmt, names, *extra):
    """`stmt` (a select of one model, possibly limited) narrowed to its columns `names` (+ `extra`, e.g. join
    keys) as a subquery, and those columns labelled: joins added to it run for the page's rows only, not for each
    row an OFFSET skips. Core columns (an ORM alias of the subquery costs ~2 ms to build per request)."""
    model = stmt.column_descriptions[0]["entity"]
    page = stmt.with_only_columns(*(getattr(model, n) for n in (*names, *extra))).subquery()
    return page, [page.c[name].label(name) for name in names]


def service_line_rows(stmt):
    """`stmt` (a select of ServiceLine in id order) as rows of the line's columns plus its service's (s_id, …)."""

    page, cols = _subquery(stmt, SERVICE_LINE_COLUMNS, "service_id")
    service = aliased(Service)
    return (
        sa.select(
            *cols,
            service.id.label("s_id"),
            service.name.label("s_name"),
            service.service_type.label("s_type"),
            service.base_price.label("s_price"),
        )
        .join(service, service.id == page.c.service_id)
        .order_by(page.c.id)
    )


def service_refs(rows) -> list[dict]:
    """The `servicio` of each row of service_line_rows (one dict per service, shared)."""
    refs: dict[int, dict] = {}
    out = []
    for r in rows:
        ref = refs.get(r.s_id)
        if ref is None:
            ref = refs[r.s_id] = _service_ref(r.s_id, r.s_name, r.s_type, r.s_price)
        out.append(ref)
    return out


_RAW_TIMESTAMP = sa.DateTime(timezone=True)
_ORDER_TIMESTAMPS = ("created_at", "sold_at")


def _local_iso(value: datetime | None, tz) -> str | None:
    """iso_datetime of a timestamp read raw (naive = UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=clock.UTC)
    return value.astimezone(tz).isoformat(timespec="seconds")


def order_rows(stmt):
    """`stmt` (a select of Order, newest first as the `ventasreservas` list) as rows of the columns the
    representation reads plus `client_name`. The two timestamps come as the driver reads them (PostgreSQL: aware;
    SQLite: naive UTC), without UTCDateTime's per-row conversion: order_representations converts them once."""

    page, cols = _subquery(stmt, ORDER_COLUMNS)
    cols = [
        sa.type_coerce(page.c[c.name], _RAW_TIMESTAMP).label(c.name) if c.name in _ORDER_TIMESTAMPS else c for c in cols
    ]
    client = aliased(Client)
    return (
        sa.select(*cols, client.name.label("client_name"))
        .outerjoin(client, client.id == page.c.client_id)
        .order_by(page.c.id.desc())
    )


def payment_rows(stmt):
    """`stmt` (a select of Payment in id order) as rows of its columns plus `username` (who recorded it) and
    `giftcard` (its code)."""

    page, cols = _subquery(stmt, PAYMENT_COLUMNS, "recorded_by_id", "gift_card_id")
    user, card = aliased(User), aliased(GiftCard)
    return (
        sa.select(*cols, user.username.label("username"), card.code.label("giftcard"))
        .outerjoin(user, user.id == page.c.recorded_by_id)
        .outerjoin(card, card.id == page.c.gift_card_id)
        .order_by(page.c.id)
    )


def order_link_maker() -> Callable[[int], str]:
    """The `enlace_publico` of an order id, for many orders: the URL built once around a placeholder token (the
    token's URL-safe characters are never quoted) and the tokens signed by order_token_maker."""
    url = public_url("shop.order_page", token=_TOKEN_PLACEHOLDER)
    prefix, suffix = url.split(_TOKEN_PLACEHOLDER)
    token = order_token_maker()
    return lambda order_id: f"{prefix}{token(order_id)}{suffix}"


_TOKEN_PLACEHOLDER = "TOKEN0placeholder0TOKEN"


@cache
def _nested_statement(dialect: str) -> tuple[sa.CompoundSelect, tuple[int, ...]]:
    """An order page's nested parts in ONE statement, built once per dialect: the service lines with their service,
    the product lines, the payments with user and gift card and the active discounts, as a UNION ALL of one branch
    each. A row is (kind 0–3, id, then one block of columns per kind, NULL in the other kinds' blocks), ordered by
    kind and id; the offsets of the four blocks come with it. A request binds only the order ids (on PostgreSQL one
    array, `= ANY(:ids)`, instead of an IN list rendered anew with one parameter per id)."""
    if dialect == "postgresql":
        ids = sa.bindparam("ids", type_=ARRAY(sa.Integer))

        def ids_in(column):
            return column == sa.any_(ids)
    else:
        ids = sa.bindparam("ids", expanding=True)

        def ids_in(column):
            return column.in_(ids)

    parts = [
        service_line_rows(sa.select(ServiceLine).where(ids_in(ServiceLine.order_id))),
        sa.select(*columns(ProductLine, PRODUCT_LINE_COLUMNS)).where(ids_in(ProductLine.order_id)),
        payment_rows(sa.select(Payment).where(ids_in(Payment.order_id))),
        sa.select(Discount.id, Discount.order_id, Discount.amount, Discount.reason, DiscountCode.code)
        .outerjoin_from(Discount, DiscountCode, DiscountCode.id == Discount.discount_code_id)
        .where(ids_in(Discount.order_id), Discount.status == "activo"),
    ]

    def null_type(column_type):
        # The result columns take the first branch's types, here NULLs: on PostgreSQL, timestamps stay as psycopg2
        # reads them (aware; iso_datetime converts them) instead of UTCDateTime's per-row conversion to UTC.
        if dialect == "postgresql" and isinstance(column_type, UTCDateTime):
            return sa.DateTime(timezone=True)
        return column_type

    blocks = [list(part.selected_columns) for part in parts]
    offsets, width = [], 2
    for block in blocks:
        offsets.append(width)
        width += len(block)
    branches = []
    for kind, part in enumerate(parts):
        cols = [sa.literal_column(str(kind), sa.Integer).label("kind"), blocks[kind][0].label("nid")]
        for other, block in enumerate(blocks):
            cols += [
                (c if other == kind else sa.cast(sa.null(), null_type(c.type))).label(f"k{other}_{i}")
                for i, c in enumerate(block)
            ]
        branches.append(part.order_by(None).with_only_columns(*cols))
    union = sa.union_all(*branches)
    return union.order_by(union.selected_columns.kind, union.selected_columns.nid), tuple(offsets)


def service_line_dicts(rows, *, with_order: bool) -> list[dict]:
    """service_line_representation of each row of service_line_rows, read by position (the columns are
    SERVICE_LINE_COLUMNS, then the service's id, name, type and base price); one `servicio` dict per service."""
    refs: dict[int, dict] = {}
    out = []
    for r in rows:
        ref = refs.get(r[10])
        if ref is None:
            ref = refs[r[10]] = {"id": r[10], "nombre": r[11], "tipo_servicio": r[12], "precio_base": r[13]}
        day = r[2]
        item = {"id": r[0], "venta_reserva": r[1]} if with_order else {"id": r[0]}
        item["servicio"] = ref
        item["fecha_agendamiento"] = day.isoformat() if day is not None else None
        item["hora_inicio"] = r[3]
        item["cantidad_personas"] = r[4]
        item["proveedor_asignado"] = r[5]
        item["precio_unitario"] = r[6]
        item["regla_precio"] = r[7]
        item["subtotal"] = r[8]
        item["estado"] = r[9]
        out.append(item)
    return out


def product_line_dict(r) -> dict:
    """product_line_representation of a row of PRODUCT_LINE_COLUMNS, read by position."""
    return {
        "id": r[0],
        "venta_reserva": r[1],
        "producto": r[2],
        "cantidad": r[3],
        "precio_unitario": r[4],
        "subtotal": r[5],
        "estado": r[6],
        "destinatario_nombre": r[7],
        "destinatario_email": r[8],
        "mensaje": r[9],
    }


def payment_summary_dict(r) -> dict:
    """payment_summary of a row of payment_rows (PAYMENT_COLUMNS, username, giftcard), read by position."""
    return {
        "id": r[0],
        "fecha_pago": iso_datetime(r[2]),
        "monto": r[3],
        "metodo_pago": r[4],
        "usuario": r[9],
        "giftcard": r[10],
        "es_reembolso": r[5],
        "estado": r[6],
    }


def order_representations(session, rows) -> list[dict]:
    """order_representation for each row of order_rows (read by position: ORDER_COLUMNS, then client_name), with
    one statement, built once, for the nested parts (_nested_statement)."""

    ids = [r[0] for r in rows]
    if not ids:
        return []
    services: dict[int, list] = {i: [] for i in ids}
    products: dict[int, list] = {i: [] for i in ids}
    payments: dict[int, list] = {i: [] for i in ids}
    discounts: dict[int, list] = {i: [] for i in ids}
    conn = session.connection()
    stmt, (o_line, o_product, o_payment, o_discount) = _nested_statement(conn.dialect.name)
    lines = []
    for r in conn.execute(stmt, {"ids": ids}).all():
        kind = r[0]
        if kind == 0:
            lines.append(r[o_line:o_product])
        elif kind == 1:
            line = r[o_product:o_payment]
            products[line[1]].append(product_line_dict(line))
        elif kind == 2:
            p = r[o_payment:o_discount]
            payments[p[1]].append(payment_summary_dict(p))
        else:
            d = r[o_discount:]
            discounts[d[1]].append({"id": d[0], "monto": d[2], "motivo": d[3], "codigo": d[4]})
    for line, item in zip(lines, service_line_dicts(lines, with_order=False), strict=True):
        services[line[1]].append(item)
    link, tz = order_link_maker(), clock.LOCAL_TZ
    return [
        {
            "id": r[0],
            "cliente": r[1],
            "cliente_nombre": r[18],
            "fecha_creacion": _local_iso(r[2], tz),
            "fecha_reserva": _local_iso(r[3], tz),
            "origen": r[4],
            "estado_pago": r[5],
            "estado_reserva": r[6],
            "total_servicios": r[7],
            "total_productos": r[8],
            "descuentos": r[9],
            "total": r[10],
            "pagado": r[11],
            "saldo_pendiente": r[12],
            "saldo_a_favor": r[13],
            "requiere_reembolso": r[14],
            "comentarios": r[15] or "",
            "numero_documento_fiscal": r[16],
            "cobrado": r[17],
            "enlace_publico": link(r[0]),
            "servicios": services[r[0]],
            "productos": products[r[0]],
            "pagos": payments[r[0]],
            "descuentos_detalle": discounts[r[0]],
        }
        for r in rows
    ]
