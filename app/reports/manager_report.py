"""Daily manager e-mail (communications.md §4.8, reports.md §9): the job `manager_report` (21:00 local, only with
REPORT_EMAIL_RECIPIENTS) queues one STAFF_REPORT per recipient; its renderer attaches `Caja_Diaria_<YYYYMMDD>.xlsx`
(today's caja diaria, the §2.1 workbook) and `Reservas_<YYYYMMDD>.xlsx` (tomorrow's service lines, §3 columns).
"""

from __future__ import annotations

import os
import tempfile
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app

from app.catalog.models import Provider, Service, ServiceCategory
from app.clients.models import Client
from app.comms.outbox_services import enqueue
from app.comms.render import Rendered, register_renderer, render_email
from app.core import clock
from app.core.xlsx import Sheet, write_sheets
from app.extensions import db
from app.reports.sales_queries import LINE_STATUS_LABELS
from app.reports.sold_exports import NOT_ASSIGNED
from app.sales.models import Order, ServiceLine

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RESERVAS_HEADERS = (
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
)


def manager_report() -> str:
    """Job: one STAFF_REPORT row per recipient and day (key `report:daily:<date>:<recipient>`); flushes."""
    recipients = current_app.config.get("REPORT_EMAIL_RECIPIENTS") or []
    if not recipients:
        return "sin destinatarios (REPORT_EMAIL_RECIPIENTS vacío)"
    today = clock.today()
    queued = sum(
        enqueue(
            message_type="STAFF_REPORT",
            channel="EMAIL",
            idempotency_key=f"report:daily:{today}:{recipient}",
            destination=recipient,
            expires_at=clock.now() + timedelta(days=1),
            triggered_by="manager_report",
            payload={"date": today.isoformat()},
        )
        for recipient in recipients
    )
    return f"{queued} reportes en cola"


def reservations_select(day: date) -> sa.Select:
    """The day's service lines (cancelled excluded) in the services-sold layout, by time then id."""
    return (
        sa.select(
            ServiceLine.order_id,
            Client.name,
            ServiceCategory.name,
            Service.name,
            ServiceLine.service_date,
            ServiceLine.start_time,
            ServiceLine.people,
            ServiceLine.subtotal,
            Provider.name,
            ServiceLine.status,
        )
        .join(Order, Order.id == ServiceLine.order_id)
        .join(Client, Client.id == Order.client_id)
        .join(Service, Service.id == ServiceLine.service_id)
        .outerjoin(ServiceCategory, ServiceCategory.id == Service.category_id)
        .outerjoin(Provider, Provider.id == ServiceLine.provider_id)
        .where(ServiceLine.service_date == day, ServiceLine.status != "cancelada")
        .order_by(ServiceLine.start_time, ServiceLine.id)
    )


def _reservation_rows(day: date):
    for r in db.session.execute(reservations_select(day)):
        yield (
            r[0],
            r[1],
            r[2] or "",
            r[3],
            r[4],
            r[5],
            r[6],
            r[7],
            r[8] or NOT_ASSIGNED,
            LINE_STATUS_LABELS.get(r[9], r[9]),
        )


def workbook_bytes(sheets) -> bytes:
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    try:
        write_sheets(path, sheets)
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.unlink(path)


@register_renderer("STAFF_REPORT")
def render_manager_report(log) -> Rendered:
    from app.reports.cash_exports import cash_daily_sheets
    from app.reports.cash_queries import CashFilter
    from app.reports.cash_views import load_summary
    from app.sales.cash_queries import day_bounds

    day = date.fromisoformat((log.payload or {})["date"])
    tomorrow = day + timedelta(days=1)
    summary = load_summary(CashFilter(*day_bounds(day)))
    filters = [
        ("Reporte", "Caja Diaria"),
        ("Fecha inicio", day),
        ("Fecha fin", day),
        ("Método de pago", "Todos"),
        ("Usuario", "Todos"),
        ("Incluir anulados", "No"),
    ]
    caja = workbook_bytes(cash_daily_sheets(summary, filters))
    reservas = workbook_bytes(
        [
            Sheet(
                "Servicios Vendidos",
                RESERVAS_HEADERS,
                _reservation_rows(tomorrow),
                money_columns=(7,),
                wide_columns=(1, 3),
            )
        ]
    )
    lines = db.session.scalar(sa.select(sa.func.count()).select_from(reservations_select(tomorrow).subquery()))
    return render_email(
        log,
        "STAFF_REPORT",
        subject=f"Reporte diario Aremko - {day:%d/%m/%Y}",
        day=day,
        tomorrow=tomorrow,
        cash=summary.cash_total,
        lines=lines,
        attachments=[
            (f"Caja_Diaria_{day:%Y%m%d}.xlsx", XLSX, caja),
            (f"Reservas_{tomorrow:%Y%m%d}.xlsx", XLSX, reservas),
        ],
    )
