"""Daily manager e-mail (communications.md §4.8): one per recipient and day, two Excel attachments."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import sqlalchemy as sa

from app.comms.dispatch_services import dispatch_outbox
from app.comms.models import CommunicationLog
from app.reports.manager_report import manager_report
from tests.automations.conftest import local
from tests.comms.conftest import RecordingEmail, RecordingSms


def test_no_recipients_no_report(app, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_EMAIL_RECIPIENTS", [])
    assert manager_report() == "sin destinatarios (REPORT_EMAIL_RECIPIENTS vacío)"
    assert db_session.scalar(sa.select(sa.func.count()).select_from(CommunicationLog)) == 0


def test_report_per_recipient_with_caja_and_tomorrows_reservations(
    app, db_session, freeze_clock, monkeypatch, make_order, make_client
):
    from app.sales.payment_services import ensure_payment_methods, record_payment

    monkeypatch.setitem(app.config, "REPORT_EMAIL_RECIPIENTS", ["jefe@example.com", "dueno@example.com"])
    freeze_clock(local(2026, 3, 2, 21, 0))
    ensure_payment_methods()
    paid = make_order(client=make_client(name="Camila Rojas"), lines=[(date(2026, 3, 3), "17:00")])
    record_payment(paid, amount=25000, method="efectivo", by=None)
    make_order(lines=[(date(2026, 3, 3), "14:00")], line_status="cancelada")
    make_order(lines=[(date(2026, 3, 4), "14:00")])
    assert manager_report() == "2 reportes en cola"
    assert manager_report() == "0 reportes en cola"
    email = RecordingEmail()
    assert dispatch_outbox(sms=RecordingSms(), email=email).sent == 2
    mail = next(m for m in email.sent if m["to"] == "jefe@example.com")
    assert mail["subject"] == "Reporte diario Aremko - 02/03/2026" and "$25.000" in mail["text"]
    assert "Dejar de recibir" not in mail["text"] and mail["headers"] == {}
    names = [a[0] for a in mail["attachments"]]
    assert names == ["Caja_Diaria_20260302.xlsx", "Reservas_20260303.xlsx"]
    reservas = openpyxl.load_workbook(io.BytesIO(mail["attachments"][1][2]))["Servicios Vendidos"]
    rows = list(reservas.iter_rows(values_only=True))
    assert rows[0][:4] == ("ID Venta/Reserva", "Cliente", "Categoría del Servicio", "Servicio")
    assert [(r[0], r[1], r[5], r[8], r[9]) for r in rows[1:]] == [
        (paid.id, "Camila Rojas", "17:00", "Sin terapeuta", "Pendiente")
    ]
    caja = openpyxl.load_workbook(io.BytesIO(mail["attachments"][0][2]))
    assert caja.sheetnames == ["Resumen", "Por Usuario", "Detalle"]
