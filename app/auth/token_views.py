"""`/ventas/mi-cuenta/tokens/`: a staff user's own API tokens — create (shown once) and revoke (spec api.md §1)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app.auth.decorators import role_required
from app.auth.forms import RevokeForm, TokenForm
from app.auth.models import ApiToken
from app.auth.services import create_api_token, revoke_api_token
from app.extensions import db

bp = Blueprint("tokens", __name__, url_prefix="/ventas/mi-cuenta/tokens")


def _own_tokens():
    return db.session.scalars(
        sa.select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.id.desc())
    ).all()


def _page(form, *, raw=None, status=200):
    return render_template(
        "auth/tokens.html", form=form, tokens=_own_tokens(), raw=raw, revoke_form=RevokeForm()
    ), status


@bp.get("/")
@role_required()
def token_list():
    return _page(TokenForm())


@bp.post("/")
@role_required()
def token_create():
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    _, raw = create_api_token(current_user, name=form.name.data, days=form.days.data)
    db.session.commit()
    return _page(TokenForm(formdata=None), raw=raw, status=201)


@bp.post("/<int:token_id>/revocar/")
@role_required()
def token_revoke(token_id: int):
    form = RevokeForm()
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    if not form.validate_on_submit():
        abort(400)
    revoke_api_token(token)
    db.session.commit()
    flash(f"Token «{token.name}» revocado.", "success")
    return redirect(url_for("tokens.token_list"), 303)
