"""Excel builders for the sales list and purchases (spec reports.md §5–6), fed by sales_queries.

Rows stream from the database (`yield_per(1000)`); line summaries are read once per chunk of 1000 orders, so the
number of statements grows with rows / 1000, never per row.
"""

from __future__ import annotations

from collections.abc import Iterator

from app.core import clock
from app.core.db import STREAM_CHUNK, stream_rows
from app.core.phone import format_phone
from app.core.xlsx import Sheet
from app.reports import sales_queries as q

CHUNK = STREAM_CHUNK  # orders per chunk: their line summaries are read once per chunk

ORDER_HEADERS = [
    "ID Venta/Reserva",
    "Fecha Venta",
    "Cliente",
    "Teléfono",
    "Servicios",
    "Productos",
    "Total Servicios",
    "Total Productos",
    "Descuentos",
    "Total",
    "Pagado",
    "Saldo Pendiente",
    "Saldo a Favor",
    "Estado Pago",
    "Estado Reserva",
    "Origen",
]
ORDER_MONEY = (6, 7, 8, 9, 10, 11, 12)
PURCHASE_HEADERS = ["ID", "Fecha", "Proveedor", "N° Documento", "Método de Pago", "Líneas", "Total"]
PURCHASE_LINE_HEADERS = [
    "ID Compra",
    "Fecha",
    "Proveedor",
    "Producto",
    "Descripción",
    "Cantidad",
    "Precio Unitario",
    "Subtotal",
]


def order_rows(session, f: q.OrderFilters) -> Iterator[tuple]:
    now = clock.now()
    for chunk in stream_rows(session, q.orders_export_select(f), chunk=CHUNK).partitions():
        summaries = q.line_summaries(session, [r.id for r in chunk])
        for r in chunk:
            s = summaries.get(r.id) or q.LineSummary()
            yield (
                r.id,
                r.sold_at,
                r.client_name,
                format_phone(r.client_phone),
                s.services,
                s.products,
                r.services_total,
                r.products_total,
                r.discount_total,
                r.total,
                r.paid,
                r.balance_due,
                r.credit,
                q.payment_label(r.payment_status, r.checkout_method, r.payment_due_at, now),
                q.BOOKING_STATUS_LABELS.get(r.booking_status, r.booking_status),
                q.ORIGIN_LABELS.get(r.origin, r.origin),
            )


def _summary_rows(filters: list[tuple[str, object]], totals: list[tuple[str, object]]) -> list[tuple]:
    return [(label, value) for label, value in filters] + [("", None)] + [(label, value) for label, value in totals]


def order_sheets(session, f: q.OrderFilters, *, filter_labels: list[tuple[str, object]], totals) -> list[Sheet]:
    """ "Ventas" (spec columns) then "Resumen" (filters and totals)."""
    summary = _summary_rows(
        filter_labels,
        [
            ("Ventas", totals.n),
            ("Σ Total", int(totals.total)),
            ("Σ Pagado", int(totals.paid)),
            ("Σ Saldo pendiente", int(totals.balance_due)),
            ("Σ Saldo a favor", int(totals.credit)),
        ],
    )
    return [
        Sheet("Ventas", ORDER_HEADERS, order_rows(session, f), money_columns=ORDER_MONEY, wide_columns=(2, 4, 5)),
        Sheet("Resumen", ["Dato", "Valor"], summary, money_columns=(1,), wide_columns=(0, 1)),
    ]


def purchase_rows(session, f: q.PurchaseFilters) -> Iterator[tuple]:
    for r in stream_rows(session, q.purchases_select(f)):
        yield (
            r.id,
            r.purchase_date,
            r.provider_name or "",
            r.document_number or "",
            r.payment_method_label or r.payment_method or "",
            r.n_lines,
            r.total,
        )


def purchase_line_rows(session, f: q.PurchaseFilters) -> Iterator[tuple]:
    for r in stream_rows(session, q.purchase_lines_select(f)):
        yield (
            r.purchase_id,
            r.purchase_date,
            r.provider_name or "",
            r.product_name or "",
            r.description,
            r.quantity,
            r.unit_price,
            r.subtotal,
        )


def purchase_sheets(
    session, f: q.PurchaseFilters, *, filter_labels: list[tuple[str, object]], totals, line_totals
) -> list[Sheet]:
    """ "Compras" (list columns), "Detalle" (line columns), then "Resumen"."""
    summary = _summary_rows(
        filter_labels,
        [
            ("Compras", totals.n),
            ("Σ Total", int(totals.total)),
            ("Líneas", line_totals.n),
            ("Σ Cantidad", int(line_totals.quantity)),
            ("Σ Subtotal", int(line_totals.subtotal)),
        ],
    )
    return [
        Sheet("Compras", PURCHASE_HEADERS, purchase_rows(session, f), money_columns=(6,), wide_columns=(2,)),
        Sheet(
            "Detalle",
            PURCHASE_LINE_HEADERS,
            purchase_line_rows(session, f),
            money_columns=(6, 7),
            wide_columns=(2, 3, 4),
        ),
        Sheet("Resumen", ["Dato", "Valor"], summary, money_columns=(1,), wide_columns=(0, 1)),
    ]
