"""Pure CRM rules (no database, no clock): campaign template placeholders, ROI arithmetic, lead auto-status."""

from __future__ import annotations

import string

CAMPAIGN_PLACEHOLDERS = ("nombre_cliente", "apellido_cliente", "link")
CONTACTING_ACTIVITIES = ("Call", "Email Sent", "Meeting")


def template_error(text: str | None, allowed=CAMPAIGN_PLACEHOLDERS) -> str | None:
    """The Spanish error for a template with unknown `{variables}` or unbalanced braces, else None."""
    if not text:
        return None
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError:
        return "Llaves sin cerrar."
    for name in fields:
        if name not in allowed:
            shown = "{" + name + "}"
            return f"Variable desconocida: {shown}. Variables permitidas: " + ", ".join("{" + a + "}" for a in allowed)
    return None


def render_template_text(text: str | None, *, first_name: str, last_name: str, link: str) -> str:
    """A validated campaign template filled for one client."""
    return (text or "").format(nombre_cliente=first_name, apellido_cliente=last_name, link=link)


def status_after_activity(lead_status: str, activity_type: str) -> str:
    """crm.md §10: a Call, Email Sent or Meeting on a New lead makes it Contacted; anything else is unchanged."""
    if lead_status == "New" and activity_type in CONTACTING_ACTIVITIES:
        return "Contacted"
    return lead_status


def roi(revenue: int, cost: int) -> float | None:
    """(revenue − cost) / cost when cost > 0 (a ratio for display, never stored as money)."""
    if cost <= 0:
        return None
    return (revenue - cost) / cost
