"""Login and logout at the original's paths: /accounts/login/ and /accounts/logout/."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from app.auth import services
from app.auth.decorators import public  # noqa: I001
from app.auth.forms import LoginForm, LogoutForm
from app.extensions import db, limiter

bp = Blueprint("auth", __name__, url_prefix="/accounts")

ROLE_HOME = {
    "recepcion": "frontdesk.board",
    "gerente": "reports.cash_daily",
    "marketing": "reports.segmentation_board",
    "admin": "staff.dashboard",
}
FALLBACK_HOME = "staff.dashboard"


def role_home(user) -> str:
    """The role's home page; the staff hub until that capability is installed."""
    endpoint = ROLE_HOME.get(user.role, FALLBACK_HOME)
    if endpoint not in current_app.view_functions:
        endpoint = FALLBACK_HOME
    return url_for(endpoint)


def safe_next(target: str | None) -> str | None:
    """Only local absolute paths are accepted as `next` (no open redirects)."""
    if not target:
        return None
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    return target


def _login_key() -> str:
    username = (request.form.get("username") or "").strip().lower()
    return f"login:{username}:{request.remote_addr}"


@bp.route("/login/", methods=["GET", "POST"])
@limiter.limit(
    "5 per 15 minutes",
    key_func=_login_key,
    methods=["POST"],
    deduct_when=lambda response: response.status_code == 422,
    error_message="Demasiados intentos. Intente nuevamente en unos minutos.",
)
@public
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(request.args.get("next")) or role_home(current_user))
    if request.method == "POST":
        if form.validate_on_submit():
            user = services.authenticate(form.username.data, form.password.data)
            if user is not None:
                db.session.commit()
                session.pop("csrf_token", None)  # a new CSRF token for the new session (review L2)
                g.pop("csrf_token", None)
                login_user(user)
                session.permanent = True
                return redirect(safe_next(form.next.data) or role_home(user))
        form.form_errors.append("Usuario o contraseña incorrectos.")
        return render_template("auth/login.html", form=form), 422
    return render_template("auth/login.html", form=form)


@bp.route("/logout/", methods=["GET", "POST"])
@public
def logout():
    form = LogoutForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("auth/logout.html", form=form), 422
        if current_user.is_authenticated:
            current_user.end_sessions()  # every copy of this session cookie, and the user's other sessions, end
            db.session.commit()
        logout_user()
        session.pop("csrf_token", None)
        flash("Sesión cerrada.", "success")
        return redirect(url_for("auth.login"), 303)
    return render_template("auth/logout.html", form=form)
