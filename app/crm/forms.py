"""Campaign form (shape and format only; the rules live in crm.services.save_campaign)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.crm.models import AUDIENCE_SOURCES, CAMPAIGN_CHANNELS


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CampaignForm(FlaskForm):
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
    whatsapp_template = TextAreaField("Texto WhatsApp (para n8n)", validators=[Optional()])
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
