"""Forms of the AI screens (shape and Spanish messages only)."""

from __future__ import annotations

from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import Length

from app.web.forms import BaseForm, Required


class QuestionForm(BaseForm):
    pregunta = StringField(
        "Pregunta",
        validators=[Required("Escriba una pregunta."), Length(max=500, message="Máximo 500 caracteres.")],
    )


class ObjectiveForm(BaseForm):
    objetivo = StringField(
        "Objetivo de la campaña",
        validators=[Required("Describa el objetivo."), Length(max=500, message="Máximo 500 caracteres.")],
    )


class DraftForm(BaseForm):
    """The copilot's draft as the person edits it before creating the Planning campaign."""

    objetivo = HiddenField()
    segmento = HiddenField()  # JSON, re-validated on submit
    nombre = StringField(
        "Nombre de la campaña",
        validators=[Required("El nombre es obligatorio."), Length(max=100, message="Máximo 100 caracteres.")],
    )
    asunto = StringField("Asunto del correo", validators=[Length(max=200, message="Máximo 200 caracteres.")])
    cuerpo_email = TextAreaField("Cuerpo del correo")
    texto_sms = TextAreaField("Texto SMS", validators=[Length(max=160, message="Máximo 160 caracteres.")])
    whatsapp = BooleanField("Enviar también por WhatsApp (con el texto del SMS)")


class OfferSmsForm(BaseForm):
    texto = TextAreaField(
        "Texto SMS", validators=[Required("El texto es obligatorio."), Length(max=160, message="Máximo 160.")]
    )
    log_id = HiddenField()
    oferta = HiddenField()


class OfferCampaignForm(BaseForm):
    servicio = HiddenField()
    sms = HiddenField()
    email = HiddenField()
