"""Communications forms (ARCHITECTURE.md §3): shape and format only; the rules stay in the services
(`sms_template_services.save_template`, `consent_services`), whose refusals land on the field they name."""

from __future__ import annotations

from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, ValidationError

from app.clients.models import CONSENT_LABELS
from app.comms.consent_services import PREFERENCE_FIELDS
from app.comms.policy import SMS_CAPABLE_TYPES, type_label
from app.core.phone import InvalidPhone, normalize_phone
from app.web.forms import BaseForm

SUPPRESSION_CHANNELS = {"sms": "SMS", "email": "E-mail"}
SUPPRESSION_MISSING = "Indique canal y destino."
EMAIL_INVALID = "Correo inválido."
CHECKED = ("on", "1", "true")
NOTE_TOO_LONG = "La nota admite hasta 200 caracteres."


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ConsentCheckbox(BooleanField):
    """A consent checkbox as the pages send it: ticked when its value is `on` (or `1`/`true`)."""

    def process_formdata(self, valuelist):
        self.data = bool(valuelist) and valuelist[0] in CHECKED


class ConsentsForm(BaseForm):
    """The client page's consent checkboxes (staff); one `ConsentCheckbox` per preference field, added below."""

    def values(self) -> dict[str, bool]:
        return {name: self[name].data for name in PREFERENCE_FIELDS}


for _name in PREFERENCE_FIELDS:
    setattr(ConsentsForm, _name, ConsentCheckbox(CONSENT_LABELS[_name]))
del _name


class StaffConsentsForm(ConsentsForm):
    """The staff consent page (`/ventas/clientes/<id>/preferencias/`): the checkboxes and an optional note."""

    nota = StringField("Nota (opcional)", filters=[_strip], validators=[Length(max=200, message=NOTE_TOO_LONG)])


class PreferencesForm(ConsentsForm):
    """The public preferences page: the same checkboxes, and "No recibir nada"."""

    nada = BooleanField("No recibir nada", false_values=("",))


class UnsubscribeForm(BaseForm):
    """The unsubscribe confirmation. It is also the RFC 8058 one-click POST sent by the mail client, which carries
    no CSRF token: none is asked (the route is exempt too). `todo=1` comes in the link's query string, so the form
    reads `request.values`."""

    class Meta:
        csrf = False

    todo = HiddenField()

    @property
    def everything(self) -> bool:
        return self.todo.data == "1"


class ResendForm(BaseForm):
    """The "Reenviar" button of a log row: where to go back to afterwards (a staff page)."""

    next = HiddenField()

    def target(self, default: str) -> str:
        back = self.next.data or ""
        return back if back.startswith("/ventas/") else default


class TemplateForm(BaseForm):
    """An SMS template. Name, type and text are checked by `save_template` (its messages, on these fields)."""

    name = StringField("Nombre", render_kw={"maxlength": 100, "required": True})
    message_type = SelectField(
        "Tipo de mensaje", choices=[(t, type_label(t)) for t in SMS_CAPABLE_TYPES], validate_choice=False
    )
    content = TextAreaField("Texto", default="")
    is_active = BooleanField("Activa (desactiva la otra plantilla del mismo tipo)", default=True)


class TemplatePreviewForm(BaseForm):
    """The live preview while typing: the text alone."""

    content = TextAreaField("Texto", default="")


class SuppressionForm(BaseForm):
    """A destination added to the suppression list by hand: a Chilean phone (E.164 after `address`) or an e-mail."""

    channel = SelectField(
        "Canal",
        choices=list(SUPPRESSION_CHANNELS.items()),
        validate_choice=False,
        validators=[AnyOf(tuple(SUPPRESSION_CHANNELS), message=SUPPRESSION_MISSING)],
    )
    destination = StringField(
        "Teléfono o correo",
        filters=[_strip],
        validators=[DataRequired(message=SUPPRESSION_MISSING)],
    )
    address = ""

    def validate_destination(self, field) -> None:
        if self.channel.data == "sms":
            try:
                self.address = normalize_phone(field.data)
            except InvalidPhone as exc:
                raise ValidationError(exc.message) from None
        elif self.channel.data == "email":
            address = field.data.lower()
            if "@" not in address or len(address) > 254:
                raise ValidationError(EMAIL_INVALID)
            self.address = address
