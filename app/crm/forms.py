"""Campaign forms (shape and format only; the rules live in crm.services and crm.sending_services)."""

from __future__ import annotations

from datetime import datetime

from wtforms import DateField, Field, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import AnyOf, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.core.clock import LOCAL_TZ
from app.crm.models import AUDIENCE_SOURCES, CAMPAIGN_CHANNELS, Campaign
from app.extensions import db
from app.sales.client_queries import SEGMENT_KEYS
from app.web.forms import BaseForm, IdField, OneTimeForm
from app.web.params import parse_id

CAMPAIGN_REQUIRED = "Elija una campaña en planificación o activa."
SEGMENT_UNKNOWN = "Segmento desconocido."
NO_CLIENTS = "No se seleccionaron clientes."
WHEN_INVALID = "Elija cuándo enviar: ahora o programado."
SCHEDULE_REQUIRED = "Indique la fecha y hora del envío programado."
OPEN_STATUSES = ("Planning", "Active")  # campaigns that may still take clients


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CampaignForm(BaseForm):
    name = StringField("Nombre")
    description = TextAreaField("Descripción", validators=[Optional()])
    goal = TextAreaField("Objetivo", validators=[Optional()])
    start_date = DateField("Fecha de inicio", validators=[Optional()])
    end_date = DateField("Fecha de término", validators=[Optional()])
    budget = IntegerField(
        "Presupuesto (CLP)", default=0, validators=[Optional(), NumberRange(min=0, message="Debe ser un entero ≥ 0.")]
    )
    audience_source = SelectField("Audiencia", choices=list(AUDIENCE_SOURCES.items()), default="reglas")
    target_min_visits = IntegerField(
        "Visitas mínimas (0 = sin filtro)",
        default=0,
        validators=[Optional(), NumberRange(min=0, message="Debe ser un entero ≥ 0.")],
    )
    target_min_spend = IntegerField(
        "Gasto mínimo CLP (0 = sin filtro)",
        default=0,
        validators=[Optional(), NumberRange(min=0, message="Debe ser un entero ≥ 0.")],
    )
    target_segments = MultiCheckboxField("Segmentos (ninguno = todos)", choices=[], validate_choice=False)
    channels = MultiCheckboxField("Canales", choices=list(CAMPAIGN_CHANNELS.items()), validate_choice=False)
    email_subject_template = StringField("Asunto del correo electrónico", validators=[Optional()])
    email_body_template = TextAreaField("Cuerpo del correo electrónico", validators=[Optional()])
    sms_template = TextAreaField("Texto SMS", validators=[Optional()])
    whatsapp_template = TextAreaField("Texto WhatsApp", validators=[Optional()])
    automation_notes = TextAreaField("Notas de automatización (flujo n8n)", validators=[Optional()])

    def campaign_data(self) -> dict:
        return {
            "name": self.name.data or "",
            "description": self.description.data,
            "goal": self.goal.data,
            "start_date": self.start_date.data,
            "end_date": self.end_date.data,
            "budget": self.budget.data or 0,
            "audience_source": self.audience_source.data,
            "target_min_visits": self.target_min_visits.data or 0,
            "target_min_spend": self.target_min_spend.data or 0,
            "target_segments": self.target_segments.data or [],
            "channels": self.channels.data or [],
            "email_subject_template": self.email_subject_template.data,
            "email_body_template": self.email_body_template.data,
            "sms_template": self.sms_template.data,
            "whatsapp_template": self.whatsapp_template.data,
            "automation_notes": self.automation_notes.data,
        }


class CampaignSendForm(OneTimeForm):
    """*Enviar campaña*: now or at a local date and time; the confirmation step (`confirmar=1`) sends, once."""

    cuando = StringField(default="ahora", validators=[AnyOf(("ahora", "programado"), message=WHEN_INVALID)])
    fecha_hora = StringField("Fecha y hora (hora de Chile)")
    confirmar = StringField()

    when: datetime | None = None

    def validate_fecha_hora(self, field) -> None:
        """A `datetime-local` value read in Chile's time, required only for a scheduled send (`self.when`)."""
        self.when = None
        if self.cuando.data != "programado":
            return
        try:
            self.when = datetime.fromisoformat((field.data or "").strip()).replace(tzinfo=LOCAL_TZ)
        except ValueError:
            raise ValidationError(SCHEDULE_REQUIRED) from None


class CampaignTestForm(BaseForm):
    """*Envío de prueba*: a phone or an e-mail (the service says which and whether it is valid)."""

    destino = StringField("Teléfono o correo electrónico")


class IdListField(Field):
    """Checked ids (`selected_clients`, one input per row, each possibly `1,2,3`): the distinct valid ids, sorted;
    anything else is ignored."""

    def process_formdata(self, valuelist):
        ids = {parse_id(part) for raw in valuelist for part in raw.split(",")}
        self.data = sorted(i for i in ids if i is not None)

    def _value(self) -> str:
        return ",".join(str(i) for i in self.data or [])


class CampaignSelectionForm(BaseForm):
    """The segmentation board's *Agregar a campaña*: clients checked by hand or the whole segment. The campaign
    must exist and be open; `origen` is the list to return to."""

    campaign = IdField("Campaña", message=CAMPAIGN_REQUIRED)
    segmento = StringField(filters=[_strip], validators=[Optional(), AnyOf(SEGMENT_KEYS, message=SEGMENT_UNKNOWN)])
    selected_clients = IdListField(default=list)
    origen = StringField()

    chosen: Campaign | None = None

    def validate_campaign(self, field) -> None:
        """The campaign picked, still open (`self.chosen`)."""
        self.chosen = db.session.get(Campaign, field.data) if field.data is not None else None
        if self.chosen is None or self.chosen.status not in OPEN_STATUSES:
            self.chosen = None
            if not field.errors:
                raise ValidationError(CAMPAIGN_REQUIRED)

    def validate_selected_clients(self, field) -> None:
        if not self.segmento.data and not field.data:
            raise ValidationError(NO_CLIENTS)
