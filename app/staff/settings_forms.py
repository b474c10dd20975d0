"""The run-time settings form (spec README §4): one field per editable key of app.core.settings.EDITABLE, named
after the key. Shape and format here; bounds and the quiet-hours order are app.core.settings.save_settings'."""

from __future__ import annotations

from wtforms import TextAreaField

from app.core.settings import EDITABLE, SettingSpec
from app.frontdesk.forms import FlagField
from app.web.forms import BaseForm, HhmmField, IntField, Required

NUMBER_MISSING = "Ingrese un número entero."


def _field(spec: SettingSpec):
    if spec.kind == "bool":
        return FlagField(spec.label)
    if spec.kind == "hhmm":
        return HhmmField(spec.label, validators=[Required("Indique la hora (HH:MM).")])
    if spec.kind == "text":
        return TextAreaField(spec.label)
    return IntField(spec.label, validators=[Required(NUMBER_MISSING)], message=NUMBER_MISSING)


class SettingsForm(BaseForm):
    def values(self) -> dict:
        return {spec.key: self[spec.key].data for spec in EDITABLE}


for _spec in EDITABLE:
    setattr(SettingsForm, _spec.key, _field(_spec))
del _spec
