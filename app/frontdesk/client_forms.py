"""The client screens' forms (spec crm.md §7, §8): the import upload, its confirm/discard, the merge.

The upload's limits (extension, size, rows, time) and their messages stay in app.clients.import_services; the form
only asks for a file.
"""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, SelectMultipleField, StringField, TextAreaField, ValidationError

from app.web.forms import BaseForm, DayField, Required
from app.web.params import parse_id

NO_FILE = "Seleccione un archivo .xlsx."
NO_SURVIVOR = "Elija el cliente que se conserva."
MAX_MERGE = 10


class ClientImportForm(BaseForm):
    archivo = FileField("Archivo .xlsx", validators=[FileRequired(NO_FILE)])
    consentimiento_marketing = StringField("Consentimiento de marketing para clientes nuevos")

    @property
    def marketing(self) -> bool:
        """New clients get marketing consent (the select's `si`; `1`/`on` from older forms)."""
        return self.consentimiento_marketing.data in ("si", "1", "on")


class ClientImportActionForm(BaseForm):
    """Confirm or discard a previewed import: a one-click POST, the CSRF token only."""


def merge_ids(raw: str | None) -> list[int]:
    """`12,45` → [12, 45]: distinct valid ids, at most ten."""
    ids: list[int] = []
    for part in (raw or "").replace(" ", "").split(","):
        value = parse_id(part)
        if value and value not in ids:
            ids.append(value)
    return ids[:MAX_MERGE]


class ClientMergeForm(BaseForm):
    """The clients to merge (`ids`) and the one that is kept (`sobreviviente`, one of them)."""

    ids = HiddenField()
    sobreviviente = StringField("Se conserva")

    @property
    def client_ids(self) -> list[int]:
        return merge_ids(self.ids.data)

    @property
    def survivor_id(self) -> int | None:
        value = parse_id(self.sobreviviente.data or "")
        return value if value in self.client_ids else None

    def validate_sobreviviente(self, field) -> None:
        if self.survivor_id is None or len(self.client_ids) < 2:
            raise ValidationError(NO_SURVIVOR)


# --- create / edit (spec crm.md §3) and the review of pending updates (§4) --------------------------------------

NAME_MISSING = "El nombre es obligatorio."
PHONE_MISSING = "El teléfono es obligatorio."


class ClientForm(BaseForm):
    """A client's data as the desk types it. Normalising (phone E.164 with phonenumbers, RUT, e-mail) and the
    duplicate phone are the service's (app.clients.services), whose refusals land on the field they name."""

    nombre = StringField("Nombre", validators=[Required(NAME_MISSING)])
    telefono = StringField("Teléfono", validators=[Required(PHONE_MISSING)])
    email = StringField("E-mail")
    documento_identidad = StringField("RUT o documento")
    ciudad = StringField("Ciudad")
    pais = StringField("País")
    fecha_nacimiento = DayField("Fecha de nacimiento")
    notas = TextAreaField("Notas")
    acepta_marketing = BooleanField("Acepta recibir promociones (marketing)")

    @classmethod
    def initial(cls, client) -> dict:
        return {
            "nombre": client.name,
            "telefono": client.phone,
            "email": client.email,
            "documento_identidad": client.document_id,
            "ciudad": client.city,
            "pais": client.country,
            "fecha_nacimiento": client.birth_date,
            "notas": client.notes,
        }

    def client_data(self) -> dict:
        return {
            "name": self.nombre.data,
            "phone": self.telefono.data,
            "email": self.email.data,
            "document_id": self.documento_identidad.data,
            "city": self.ciudad.data,
            "country": self.pais.data,
            "birth_date": self.fecha_nacimiento.data,
            "notes": self.notas.data,
        }


class UpdateReviewForm(BaseForm):
    """One pending update: the ticked fields (`campos`) are applied with `aprobar`, none with `rechazar`."""

    campos = SelectMultipleField(choices=[], validate_choice=False)
    accion = StringField()

    def validate_accion(self, field):
        if field.data not in ("aprobar", "rechazar"):
            raise ValidationError("Elija Aprobar seleccionados o Rechazar.")
        if field.data == "aprobar" and not self.campos.data:
            raise ValidationError("Marque al menos un campo para aprobar, o use Rechazar.")
