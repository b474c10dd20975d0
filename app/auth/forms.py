from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired


class LoginForm(FlaskForm):
    username = StringField("Usuario", validators=[InputRequired(message="Ingrese su usuario.")])
    password = PasswordField("Contraseña", validators=[InputRequired(message="Ingrese su contraseña.")])
    next = HiddenField()


class LogoutForm(FlaskForm):
    pass
