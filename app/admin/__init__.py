"""Back office at /admin/ (Flask-Admin), every view gated by role (spec README §5–§6)."""

from __future__ import annotations

from flask import Flask, g
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from app.admin.views import RoleIndexView, register_views


def _csp_nonce() -> str:
    import secrets

    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def init_admin(app: Flask) -> Admin:
    """One Admin per app (tests build several apps)."""
    from flask_babel import Babel

    app.config.setdefault("BABEL_DEFAULT_LOCALE", "es")
    Babel(app, locale_selector=lambda: "es")
    admin = Admin(
        app,
        name="Administración Aremko",
        url="/admin",
        theme=Bootstrap4Theme(base_template="admin/aremko_base.html"),
        index_view=RoleIndexView(name="Inicio", url="/admin"),
        csp_nonce_generator=_csp_nonce,
    )
    register_views(admin)
    from app.admin.crm import register_crm_views

    register_crm_views(admin)
    return admin
