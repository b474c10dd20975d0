"""Excel builders for servicios/productos vendidos and auditoría (spec reports.md §3, §4, §8).

Rows stream from plain-column queries (`stream_rows`: yield_per(1000) on the session's connection), no ORM identity
map, so memory stays flat.
"""

from __future__ import annotations

from collections.abc import Iterator

from app.clients.models import EVENT_TYPES
from app.core.db import stream_rows
from app.core.xlsx import Sheet
from app.reports import audit_queries as aq
from app.reports import sold_queries as q
from app.reports.sales_exports import _summary_rows

SERVICE_HEADERS = [
    "ID Venta/Reserva",
    "Cliente",
    "Categoría del Servicio",
    "Servicio",
    "Fecha de Agendamiento",
    "Hora de Agendamiento",
    "Cantidad de Personas",
    "Monto Total",
    "Proveedor Asignado",
    "Estado",
]
PRODUCT_HEADERS = [
    "ID Venta/Reserva",
    "Cliente",
    "Fecha Venta",
    "Proveedor",
    "Producto",
    "Cantidad",
    "Precio Unitario",
    "Monto Total",
]
BY_PRODUCT_HEADERS = ["Producto", "Proveedor", "Unidades", "Monto"]
AUDIT_HEADERS = ["Fecha", "Cliente", "Tipo de Movimiento", "Descripción", "Usuario", "Venta N°"]
NOT_ASSIGNED = "Sin terapeuta"  # no provider on the line (UX review D18: no "N/A")


def service_row(r) -> tuple:
    """One servicios vendidos row, the same for the page and the Excel. `r` is a row of `services_sold_select`,
    unpacked by position: a Row's attribute access costs ~0.4 µs a column, 4 s over 1.000.000 lines."""
    _, order_id, client, category, service, day, start, people, subtotal, provider, status = r
    return (
        order_id,
        client,
        category or q.NO_CATEGORY,
        service,
        day,
        start,
        people,
        subtotal,
        provider or NOT_ASSIGNED,
        q.service_line_status_label(status),
    )


def service_rows(session, f: q.ServiceSoldFilters) -> Iterator[tuple]:
    yield from map(service_row, stream_rows(session, q.services_sold_select(f)))


def service_sheets(session, f: q.ServiceSoldFilters, *, filter_labels, totals) -> list[Sheet]:
    """ "Servicios Vendidos" then "Resumen" (filters and totals)."""
    summary = _summary_rows(
        filter_labels, [("Líneas", totals.n), ("Σ Personas", int(totals.people)), ("Σ Monto", int(totals.amount))]
    )
    return [
        Sheet(
            "Servicios Vendidos",
            SERVICE_HEADERS,
            service_rows(session, f),
            money_columns=(7,),
            wide_columns=(1, 2, 3, 8),
        ),
        Sheet("Resumen", ["Dato", "Valor"], summary, money_columns=(1,), wide_columns=(0, 1)),
    ]


def product_rows(session, f: q.ProductSoldFilters) -> Iterator[tuple]:
    for r in stream_rows(session, q.products_sold_select(f)):
        yield (
            r.order_id,
            r.client_name,
            r.sold_at,
            r.provider_name or "",
            r.product_name,
            r.quantity,
            r.unit_price,
            r.subtotal,
        )


def product_sheets(session, f: q.ProductSoldFilters, *, filter_labels, totals) -> list[Sheet]:
    """ "Productos Vendidos", "Por Producto", "Resumen"."""
    by_product = (
        (r.product_name, r.provider_name or "", int(r.units), int(r.amount))
        for r in session.execute(q.products_sold_by_product_select(f))
    )
    summary = _summary_rows(
        filter_labels, [("Líneas", totals.n), ("Σ Unidades", int(totals.units)), ("Σ Monto", int(totals.amount))]
    )
    return [
        Sheet(
            "Productos Vendidos",
            PRODUCT_HEADERS,
            product_rows(session, f),
            money_columns=(6, 7),
            wide_columns=(1, 3, 4),
        ),
        Sheet("Por Producto", BY_PRODUCT_HEADERS, by_product, money_columns=(3,), wide_columns=(0, 1)),
        Sheet("Resumen", ["Dato", "Valor"], summary, money_columns=(1,), wide_columns=(0, 1)),
    ]


def audit_rows(session, f: aq.AuditFilters) -> Iterator[tuple]:
    for r in stream_rows(session, aq.audit_select(f)):
        yield (
            r.created_at,
            r.client_name,
            EVENT_TYPES.get(r.event_type, r.event_type),
            r.description,
            r.username or aq.SYSTEM_USER,
            r.order_id,
        )


def audit_sheets(session, f: aq.AuditFilters, *, filter_labels, total: int) -> list[Sheet]:
    """ "Movimientos" then "Resumen"."""
    return [
        Sheet("Movimientos", AUDIT_HEADERS, audit_rows(session, f), wide_columns=(1, 2, 3)),
        Sheet(
            "Resumen", ["Dato", "Valor"], _summary_rows(filter_labels, [("Movimientos", total)]), wide_columns=(0, 1)
        ),
    ]
