"""`/ventas/configuracion/` (spec README §4, §6): the run-time settings an admin may override (DB value wins over the
environment), admin only. The booking policies page `/ventas/configuracion/politicas/` is linked from here."""

from __future__ import annotations

from itertools import groupby

from flask import Blueprint, current_app, flash, request, url_for
from flask_login import current_user

from app.auth.decorators import role_required
from app.auth.models import User
from app.core.settings import EDITABLE, env_value, overrides_detail, save_settings, setting
from app.extensions import db
from app.staff.settings_forms import SettingsForm
from app.web.forms import submit
from app.web.htmx import render_page, see_other, wants_fragment

bp = Blueprint("configuracion", __name__, url_prefix="/ventas/configuracion")
ADMIN = ("admin",)
POLICIES_PATH = "/ventas/configuracion/politicas/"


def _policies_url() -> str | None:
    """The booking policies page, when installed (it belongs to the self-service module)."""
    return POLICIES_PATH if any(r.rule == POLICIES_PATH for r in current_app.url_map.iter_rules()) else None


def _page(form: SettingsForm, *, saved: str | None = None):
    rows = overrides_detail()
    users = {u.id: u for u in db.session.query(User).filter(User.id.in_({r.updated_by_id for r in rows.values()}))}
    sections = [(name, list(specs)) for name, specs in groupby(EDITABLE, key=lambda s: s.section)]
    return render_page(
        "staff/settings.html",
        "settings_form",
        status=form.status,
        form=form,
        sections=sections,
        overrides=rows,
        users=users,
        env=env_value,
        saved=saved,
        policies_url=_policies_url(),
    )


def _current() -> dict:
    return {spec.key: setting(spec.key) for spec in EDITABLE}


@bp.route("/", methods=["GET", "POST"])
@role_required(*ADMIN)
def settings_page():
    form = SettingsForm(data=_current())
    if request.method == "POST" and not any(spec.key in request.form for spec in EDITABLE):
        form.validate()
        form.form_errors.append("No se recibió ningún ajuste: recargue la página e intente de nuevo.")
        return _page(form)
    if submit(form, lambda: save_settings(form.values(), by=current_user)):
        n = len(form.result)
        message = "Sin cambios." if not n else f"{n} ajuste{'s' if n != 1 else ''} guardado{'s' if n != 1 else ''}."
        if wants_fragment():
            return _page(SettingsForm(formdata=None, data=_current()), saved=message)
        flash(message, "success")
        return see_other(url_for("configuracion.settings_page"))
    return _page(form)
