"""The waitlist's forms (ARCHITECTURE.md §3): shape and format here, the rules (slot full, 3 active entries per
phone, duplicates) in `services.join_waitlist`."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField
from wtforms.validators import Optional
from wtforms.validators import ValidationError as FieldError

from app.core.errors import ValidationError as DomainValidationError
from app.core.identity import normalize_email
from app.core.phone import InvalidPhone, normalize_phone
from app.web.forms import BaseForm, DayField, HhmmField, IdField, IntField, OneTimeForm, Required
from app.web.params import MAX_INT32

ANY_HOUR = "cualquiera"


def _valid_phone(form, field):
    try:
        normalize_phone(field.data)
    except InvalidPhone:
        raise FieldError(gettext("Ingresa un teléfono válido, por ejemplo +56 9 1234 5678.")) from None


def _valid_email(form, field):
    try:
        email = normalize_email(field.data)
    except DomainValidationError:
        email = None
    if not email:
        raise FieldError(gettext("Ingresa un e-mail válido."))


class AnyHourField(HhmmField):
    """HH:MM, or "cualquiera" (any hour that day) stored as None."""

    def parse(self, text: str):
        return None if text == ANY_HOUR else super().parse(text)

    def format(self, value) -> str:
        return ANY_HOUR if value is None else value


class JoinWaitlistForm(OneTimeForm):
    """ "Avísame si se libera" (self-service.md §4)."""

    servicio_id = IdField(
        "Servicio", validators=[Required(_l("Servicio no encontrado."))], message=_l("Servicio no encontrado.")
    )
    fecha = DayField(_l("Fecha"), validators=[Required(_l("Indica la fecha."))])
    hora = AnyHourField(_l("Hora"), validators=[Optional()])
    cantidad_personas = IntField(
        "Personas",
        validators=[Required(_l("Indica cuántas personas."))],
        minimum=1,
        maximum=MAX_INT32,
        message=_l("Cantidad de personas inválida."),
    )
    nombre = StringField(_l("Nombre"), validators=[Required(_l("El nombre es obligatorio."))])
    telefono = StringField(_l("Teléfono celular"), validators=[Required(_l("Ingresa tu teléfono.")), _valid_phone])
    email = StringField(_l("E-mail (opcional)"), validators=[Optional(), _valid_email])
    acepta_contacto = BooleanField(
        _l("Acepto que Aremko me contacte por SMS o e-mail si se libera este cupo"),
        validators=[Required(_l("Debes aceptar que te contactemos por este cupo."))],
    )


class CancelEntryForm(BaseForm):
    """The desk's confirmed cancellation (CSRF only)."""
