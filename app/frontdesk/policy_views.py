"""Booking policies per service category, `/ventas/configuracion/politicas/` (self-service.md §1; gerente, admin)."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user

from app.auth.decorators import role_required
from app.catalog.models import ServiceCategory
from app.extensions import db
from app.frontdesk.blueprint import bp
from app.frontdesk.policy_forms import PolicyForm
from app.sales.policy_queries import category_policies, recent_changes
from app.sales.policy_services import update_policy
from app.web.forms import submit
from app.web.htmx import render_page, wants_fragment
from app.web.params import parse_id

EDITORS = ("gerente", "admin")


def _prefix(category_id: int) -> str:
    return f"c{category_id}"


def _forms(posted: PolicyForm | None = None, posted_id: int | None = None) -> list[tuple]:
    out = []
    for cat, row, values in category_policies():
        if posted is not None and cat.id == posted_id:
            form = posted
        else:
            form = PolicyForm(formdata=None, data=values, prefix=_prefix(cat.id))
        out.append((cat, row, form))
    return out


@bp.route("/configuracion/politicas/", methods=["GET", "POST"])
@role_required(*EDITORS)
def booking_policies():
    """One form per category; a POST saves one category (HTMX: that form comes back)."""
    if request.method == "GET":
        return render_page("frontdesk/policies.html", "policy_list", forms=_forms(), changes=recent_changes())
    category_id = parse_id(request.form.get("categoria_id"))
    category = db.session.get(ServiceCategory, category_id) if category_id else None
    if category is None:
        abort(404)
    form = PolicyForm(prefix=_prefix(category.id))
    saved = submit(form, lambda: update_policy(category, form.values(), by=current_user))
    status = 200 if saved else 422
    saved_id = category.id if saved else None
    if wants_fragment():
        # a saved policy also refreshes "Últimos cambios" (out-of-band swap, house style §3)
        oob = [render_template("frontdesk/_policy_changes.html", changes=recent_changes(), oob=True)] if saved else []
        return render_page(
            "frontdesk/_policy_form.html",
            "policy_form",
            status=status,
            oob_swaps=oob,
            cat=category,
            form=form,
            saved_id=saved_id,
        )
    return render_page(
        "frontdesk/policies.html",
        None,
        status=status,
        forms=_forms(form, category.id),
        changes=recent_changes(),
        saved_id=saved_id,
    )
