from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.validators import Optional


class CheckoutForm(FlaskForm):
    telefono = StringField("Teléfono")
    nombre = StringField("Nombre y apellido")
    email = StringField("E-mail")
    documento_identidad = StringField("RUT o pasaporte (opcional)", validators=[Optional()])
    metodo_pago = RadioField("Forma de pago", choices=[], validate_choice=False)
    acepta_terminos = BooleanField("Acepto los términos y condiciones")
    acepta_marketing = BooleanField(
        "Quiero recibir saludos de cumpleaños, promociones y novedades de Aremko por SMS y e-mail"
    )
    comentarios = TextAreaField("Comentarios (opcional)", validators=[Optional()])
