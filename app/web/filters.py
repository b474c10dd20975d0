"""Jinja filters: money, dates and phones formatted for es-CL."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask

from app.core.clock import to_local
from app.core.money import format_clp
from app.core.phone import format_phone


def fmt_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value) if value.tzinfo else value
    return value.strftime("%d/%m/%Y")


def fmt_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo:
        value = to_local(value)
    return value.strftime("%d/%m/%Y %H:%M")


def fmt_time(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo:
        value = to_local(value)
    return value.strftime("%H:%M")


def fmt_lines(text: str | None):
    """Plain text with line breaks, autoescaped (service descriptions)."""
    from markupsafe import Markup, escape

    return Markup("<br>").join(escape(line) for line in (text or "").splitlines())


def fmt_percent(value, decimals: int = 1) -> str:
    """A percentage as es-CL writes it: 24.8 -> "24,8 %", -100 -> "-100,0 %"; None -> "—". The value is already
    in percent (multiply a ratio by 100 first)."""
    if value is None:
        return "—"
    rounded = round(float(value), int(decimals)) or 0.0  # never "-0,0 %"
    return f"{rounded:.{int(decimals)}f} %".replace(".", ",")


def init_filters(app: Flask) -> None:
    app.add_template_filter(format_clp, "clp")
    app.add_template_filter(fmt_date, "fecha")
    app.add_template_filter(fmt_datetime, "fecha_hora")
    app.add_template_filter(format_phone, "telefono")
    app.add_template_filter(fmt_time, "hora")
    app.add_template_filter(fmt_lines, "lineas")
    app.add_template_filter(fmt_percent, "porcentaje")
    # links to optional screens: shown only when that endpoint is installed
    app.add_template_global(lambda endpoint: endpoint in app.view_functions, "has_endpoint")
    from app.web.submissions import submission_field

    app.add_template_global(submission_field, "submission_field")
    from app.web.forms import init_form_globals

    init_form_globals(app)
    app.add_template_global(can, "can")
    app.add_template_global(staff_page, "staff_page")
    from app.web.htmx import wants_fragment

    app.add_template_global(wants_fragment, "is_fragment")


def can(endpoint: str) -> bool:
    """Whether the current user may open `endpoint` (installed, and its role_required roles include the user's):
    templates render links to other roles' pages as plain text (UX review D5)."""
    from flask import current_app
    from flask_login import current_user

    view = current_app.view_functions.get(endpoint)
    if view is None:
        return False
    roles = getattr(view, "_roles", None)
    if roles is None:  # public, or gated by its own rules (Flask-Admin views check their role themselves)
        return True
    return bool(current_user.is_authenticated and current_user.role in roles)


def staff_page() -> bool:
    """Staff layout (staff navbar, no shop links) for a logged-in user anywhere but on the public pages."""
    from flask import current_app, request
    from flask_login import current_user

    if not current_user.is_authenticated:
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return not getattr(view, "_public", False)
