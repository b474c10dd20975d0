"""Excel builders for the caja diaria and the cierre de caja (spec reports.md §2.1, §2.3), fed by cash_queries."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import sqlalchemy as sa

from app.core.db import stream_rows
from app.core.xlsx import Sheet
from app.extensions import db
from app.reports import cash_queries as queries
from app.sales.models import CashClose

DETAIL_HEADERS = (
    "ID Pago",
    "Fecha Pago",
    "ID Venta/Reserva",
    "Cliente",
    "Método de Pago",
    "Monto",
    "Usuario",
    "Tipo",
    "Estado",
    "Referencia",
)
SUMMARY_HEADERS = ("Sección", "Concepto", "Cantidad / Valor", "Ingresos", "Reembolsos", "Neto")
USER_HEADERS = (
    "Usuario",
    "Pagos",
    "Dinero real (neto)",
    "Gift cards redimidas",
    "Descuentos (cantidad)",
    "Descuentos otorgados",
)
CLOSE_HEADERS = ("Método", "Esperado", "Contado", "Diferencia")


def payment_type(row) -> str:
    """Reembolso, Abono (a payment below the total of an order whose customer chose to pay the deposit,
    self-service.md §3) or Pago."""
    if row.is_refund or row.amount < 0:
        return "Reembolso"
    snapshot = getattr(row, "policy_snapshot", None) or {}
    if snapshot.get("pago") == "abono" and row.amount < (getattr(row, "order_total", 0) or 0):
        return "Abono"
    return "Pago"


def payment_status(row) -> str:
    return "Válido" if row.status == "valido" else "Anulado"


def user_label(username: str | None) -> str:
    return username or "sistema"


def detail_rows(stmt: sa.Select) -> Iterator[tuple]:
    for r in stream_rows(db.session, stmt):
        yield (
            r.id,
            r.paid_at,
            r.order_id,
            r.client_name,
            r.method_label,
            r.amount,
            user_label(r.username),
            payment_type(r),
            payment_status(r),
            r.reference,
        )


def detail_sheet(title: str, stmt: sa.Select) -> Sheet:
    return Sheet(title, DETAIL_HEADERS, detail_rows(stmt), money_columns=(5,), wide_columns=(3, 9))


def cash_daily_sheets(summary, filters: Sequence[tuple[str, object]], giftcard_sales: Sequence = ()) -> list[Sheet]:
    """ "Resumen" (filters, block A rows + total, gift-card sales per method, B, C), "Por Usuario" (block D),
    "Detalle" (streamed)."""
    resumen: list[tuple] = [("Filtros", label, value, None, None, None) for label, value in filters]
    for m in summary.methods:
        resumen.append(("Dinero recibido", m.label, m.transactions, m.income, m.refunds, m.net))
    t = summary.cash_total
    resumen.append(("Dinero recibido", "Total dinero real", t["transactions"], t["income"], t["refunds"], t["net"]))
    for g in giftcard_sales:  # money received: already inside "Dinero recibido"
        resumen.append(("Venta de gift cards", g.label, g.transactions, None, None, g.net))
    resumen.append(
        ("Gift cards redimidas", "Gift cards redimidas", summary.giftcards.count, None, None, summary.giftcards.total)
    )
    resumen.append(
        ("Descuentos otorgados", "Total descuentos", summary.discount_count, None, None, summary.discount_total)
    )
    for d in summary.discounts:
        resumen.append(("Descuentos otorgados", user_label(d.username), d.count, None, None, d.total))
    users: Iterable[tuple] = [
        (user_label(u.username), u.payments, u.cash_net, u.giftcard, u.discount_count, u.discounts)
        for u in summary.users
    ]
    return [
        Sheet("Resumen", SUMMARY_HEADERS, resumen, money_columns=(3, 4, 5), wide_columns=(0, 1)),
        Sheet("Por Usuario", USER_HEADERS, users, money_columns=(2, 3, 5), wide_columns=(0,)),
        detail_sheet("Detalle", queries.detail(summary.filter)),
    ]


def close_sheets(close: CashClose, lines: Sequence, late_total: int) -> list[Sheet]:
    """ "Cierre" (Método, Esperado, Contado, Diferencia, then the close's data and notes), "Pagos" (the day's
    payments, voided included and marked)."""
    rows: list[tuple] = [(ln.label, ln.expected, ln.counted, ln.difference) for ln in lines]
    rows.append(
        ("Total", sum(ln.expected for ln in lines), sum(ln.counted for ln in lines), sum(ln.difference for ln in lines))
    )
    rows.append((None, None, None, None))
    rows.append(("Fecha", close.business_date, None, None))
    rows.append(("Estado", "Cerrada" if close.status == "cerrada" else "Reabierta", None, None))
    rows.append(("Versión", close.version, None, None))
    rows.append(("Cerrado por", user_label(close.closed_by.username if close.closed_by else None), None, None))
    rows.append(("Cerrado el", close.closed_at, None, None))
    rows.append(("Notas", close.notes or None, None, None))
    if close.reopened_at is not None:
        rows.append(
            ("Reabierto por", user_label(close.reopened_by.username if close.reopened_by else None), None, None)
        )
        rows.append(("Reabierto el", close.reopened_at, None, None))
        rows.append(("Motivo reapertura", close.reopen_reason, None, None))
    rows.append(("Pagos posteriores al cierre", late_total, None, None))
    day_payments = queries.detail(queries.CashFilter.for_day(close.business_date, include_voided=True))
    return [
        Sheet("Cierre", CLOSE_HEADERS, rows, money_columns=(1, 2, 3), wide_columns=(0, 1)),
        detail_sheet("Pagos", day_payments),
    ]
