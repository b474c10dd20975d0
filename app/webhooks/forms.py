"""Webhook administration forms (ARCHITECTURE.md §3): shape only. The URL and the events are checked by
`services.clean_url` / `clean_events`, whose messages land on the `url` and `eventos` fields."""

from __future__ import annotations

from wtforms import BooleanField, SelectMultipleField, StringField

from app.web.forms import BaseForm
from app.webhooks.models import EVENTS


class EndpointForm(BaseForm):
    """Register or edit an endpoint. Field names are the page's (`descripcion`, `eventos`, `activo`)."""

    url = StringField(
        "URL (https://)",
        id="wh-url",
        render_kw={"required": True, "maxlength": 500, "placeholder": "https://n8n.example.com/webhook/aremko"},
    )
    descripcion = StringField("Descripción", id="wh-desc", render_kw={"maxlength": 200})
    eventos = SelectMultipleField("Eventos", choices=list(EVENTS.items()), validate_choice=False, id="wh-eventos")
    activo = BooleanField("Activo", id="wh-activo", default=True)

    @classmethod
    def initial(cls, endpoint) -> dict:
        """The form's values for an existing endpoint (GET of the edit page)."""
        return {
            "url": endpoint.url,
            "descripcion": endpoint.description,
            "eventos": list(endpoint.events or []),
            "activo": endpoint.is_active,
        }

    def values(self) -> dict:
        """The service's keyword arguments."""
        return {
            "url": self.url.data or "",
            "description": self.descripcion.data or "",
            "events": list(self.eventos.data or []),
            "is_active": self.activo.data,
        }


class ReplayForm(BaseForm):
    """The "Reenviar" button of a delivery: only the CSRF token; a refusal is a flash on the delivery's page."""
