from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, PasswordField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional


class LoginForm(FlaskForm):
    username = StringField("Usuario", validators=[InputRequired(message="Ingrese su usuario.")])
    password = PasswordField("Contraseña", validators=[InputRequired(message="Ingrese su contraseña.")])
    next = HiddenField()


class LogoutForm(FlaskForm):
    pass


class TokenForm(FlaskForm):
    name = StringField("Nombre del token", validators=[DataRequired("Indique un nombre."), Length(max=100)])
    days = IntegerField(
        "Días de validez (vacío = sin vencimiento)",
        validators=[Optional(), NumberRange(min=1, max=3650, message="Entre 1 y 3650 días.")],
    )


class RevokeForm(FlaskForm):
    """Only the CSRF token: revoking takes no other input."""
