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
