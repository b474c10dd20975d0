"""The front desk's browser forms (ARCHITECTURE.md §3): board row actions, the order dialogs and the walk-in booking.
Shape and format only; the business rules (ranges, payment methods, capacity, roles) stay in the sales services.
Field names are the spec's form field names; the messages are the ones the desk has always shown."""

from __future__ import annotations

from datetime import datetime

from wtforms import BooleanField, StringField

from app.core import clock
from app.web.forms import ClpField, DayField, HhmmField, IdField, IntField, OneTimeForm, Required, TextValueField
from app.web.params import MAX_INT32

DATE_INVALID = "Fecha inválida."
SOLD_AT_INVALID = "Fecha de venta inválida."
HOUR_MISSING = "Elija una hora libre en la grilla."
HOUR_INVALID = "Indique la hora (HH:MM)."


def number_message(label: str) -> str:
    return f"{label}: ingrese un número entero."


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class FlagField(BooleanField):
    """A checkbox sent as `1` (a hidden `0` before it may carry the unchecked state): checked when any value is `1`;
    absent from the post: the field's default."""

    def process_formdata(self, valuelist):
        self.data = "1" in valuelist if valuelist else bool(self.default)


class LocalDateTimeField(TextValueField):
    """`YYYY-MM-DDTHH:MM` from a datetime-local input, read in America/Santiago."""

    invalid_message = SOLD_AT_INVALID

    def parse(self, text: str) -> datetime:
        try:
            naive = datetime.strptime(text, "%Y-%m-%dT%H:%M")
        except ValueError:
            raise ValueError(self.invalid_message) from None
        return naive.replace(tzinfo=clock.LOCAL_TZ)

    def format(self, value) -> str:
        return clock.to_local(value).strftime("%Y-%m-%dT%H:%M") if isinstance(value, datetime) else str(value)


def _people(required: bool = False) -> IntField:
    message = number_message("Personas")
    return IntField(validators=[Required(message)] if required else [], message=message, maximum=MAX_INT32)


def _provider(required: bool = False) -> IdField:
    message = number_message("Terapeuta")
    return IdField(validators=[Required(message)] if required else [], message=message)


# --- board rows ------------------------------------------------------------------------------------------------------


class LineActionForm(OneTimeForm):
    """Check-in, check-out, no show, undo; `confirmar=1` finishes a check-out with a balance due."""

    confirmar = StringField()


class LinePeopleForm(OneTimeForm):
    personas = _people(required=True)


class LineProviderForm(OneTimeForm):
    proveedor = _provider(required=True)


class LineCancelForm(OneTimeForm):
    motivo = StringField(filters=[_strip])


class MoveForm(OneTimeForm):
    fecha = DayField(message=DATE_INVALID)
    hora = StringField(filters=[_strip])
    proveedor = _provider()


# --- order dialogs ---------------------------------------------------------------------------------------------------


class PaymentForm(OneTimeForm):
    monto = ClpField(validators=[Required(number_message("Monto"))], message=number_message("Monto"))
    metodo_pago = StringField(default="efectivo")
    referencia = StringField(filters=[_strip])
    codigo = StringField()
    saldo_a_favor = FlagField()


class PaymentVoidForm(OneTimeForm):
    motivo = StringField()


class RefundForm(OneTimeForm):
    monto = ClpField(validators=[Required(number_message("Monto"))], message=number_message("Monto"))
    metodo_pago = StringField()
    motivo = StringField()


class DiscountForm(OneTimeForm):
    """An amount, or a code (the code wins); the amount is needed only without a code (checked by the view)."""

    monto = ClpField(message=number_message("Monto"))
    codigo = StringField(filters=[_strip])
    motivo = StringField()


class OrderCancelForm(OneTimeForm):
    motivo = StringField()
    reponer_stock = FlagField(default=True)


class AddServiceForm(OneTimeForm):
    """A service line for an existing order; also read on GET (query string) to draw the hour grid."""

    servicio = IdField(validators=[Required(number_message("Servicio"))], message=number_message("Servicio"))
    fecha = DayField(message=DATE_INVALID)
    hora = HhmmField(validators=[Required(HOUR_INVALID)], message=HOUR_INVALID)
    personas = _people()
    proveedor = _provider()


class AddProductForm(OneTimeForm):
    producto = IdField(validators=[Required(number_message("Producto"))], message=number_message("Producto"))
    cantidad = IntField(message=number_message("Cantidad"), maximum=MAX_INT32)


class ProductQuantityForm(OneTimeForm):
    cantidad = IntField(
        validators=[Required(number_message("Cantidad"))], message=number_message("Cantidad"), maximum=MAX_INT32
    )


class OrderEditForm(OneTimeForm):
    comentarios = StringField()
    documento_fiscal = StringField()
    cobrado = FlagField()
    fecha_reserva = LocalDateTimeField()


# --- walk-in / phone booking -----------------------------------------------------------------------------------------


class NewBookingForm(OneTimeForm):
    """A walk-in or phone booking: the line, the client and an optional payment; also read on GET to draw the grid
    and to carry a client found by the search."""

    servicio = IdField(validators=[Required(number_message("Servicio"))], message=number_message("Servicio"))
    fecha = DayField(message=DATE_INVALID)
    hora = HhmmField(validators=[Required(HOUR_MISSING)], message=HOUR_INVALID)
    personas = _people()
    proveedor = _provider()
    canal = StringField()
    telefono = StringField()
    nombre = StringField()
    email = StringField()
    documento_identidad = StringField()
    acepta_marketing = FlagField()
    comentarios = StringField()
    pago_monto = ClpField(message=number_message("Pago"))
    pago_metodo = StringField()
