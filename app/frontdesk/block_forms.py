"""The blocks screen's forms (spec catalog.md §3): a service (or the whole spa) closed for a date range, one time of
one day closed. Shape and format only; the rules (dates in order, not in the past, the bookings it covers, a slot
blocked twice) are app.sales.block_services', whose refusals land on the field they name."""

from __future__ import annotations

from wtforms import StringField

from app.frontdesk.forms import FlagField
from app.web.forms import DayField, HhmmField, IdField, OneTimeForm, Required

REASON_MISSING = "Indique el motivo del bloqueo."


class ServiceBlockForm(OneTimeForm):
    servicio_id = IdField("Servicio")  # empty = todo el spa
    desde = DayField("Desde", validators=[Required("Indique la fecha de inicio.")])
    hasta = DayField("Hasta", validators=[Required("Indique la fecha de término.")])
    motivo = StringField("Motivo", validators=[Required(REASON_MISSING)])
    confirmar = FlagField("Confirmo el bloqueo")


class SlotBlockForm(OneTimeForm):
    servicio_id = IdField("Servicio", validators=[Required("Elija un servicio.")])
    fecha = DayField("Fecha", validators=[Required("Indique la fecha.")])
    hora = HhmmField("Hora", validators=[Required("Indique la hora (HH:MM).")])
    motivo = StringField("Motivo", validators=[Required(REASON_MISSING)])
    confirmar = FlagField("Confirmo el bloqueo")
