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
    # Flask-Babel is set up by app.web.i18n (create_app): staff pages, these included, are es_CL.
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
