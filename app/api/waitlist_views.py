"""`GET /ventas/api/lista-espera/` (self-service.md §6): the waitlist entries, paginated like the router resources
({count, next, previous, results}); filters `fecha`, `estado`, `servicio_id`."""

from __future__ import annotations

from datetime import date

from flask import jsonify, request

from app.api.auth import api_roles
from app.api.blueprint import bp
from app.api.openapi_views import Operation, document
from app.api.resource_views import ApiValidationError, Field, page_links, parse_paging
from app.core.pagination import paginate
from app.extensions import db
from app.waitlist.models import WAITLIST_STATUSES
from app.waitlist.queries import api_entries
from app.waitlist.services import entry_representation
from app.web.params import parse_id

WAITLIST_READ = ("recepcion", "gerente", "admin")


@bp.get("/ventas/api/lista-espera/")
@api_roles(*WAITLIST_READ)
def waitlist_list():
    try:
        return _waitlist_page()
    except ApiValidationError as exc:
        return exc.response()


def _waitlist_page():
    page_number, per_page = parse_paging()
    errors = {}
    day = None
    if request.args.get("fecha"):
        try:
            day = date.fromisoformat(request.args["fecha"])
        except ValueError:
            errors["fecha"] = ["Formato de fecha inválido. Use YYYY-MM-DD."]
    status = request.args.get("estado") or None
    if status is not None and status not in WAITLIST_STATUSES:
        errors["estado"] = [f"Debe ser uno de: {', '.join(WAITLIST_STATUSES)}."]
    service_id = None
    if request.args.get("servicio_id"):
        service_id = parse_id(request.args["servicio_id"])
        if service_id is None:
            errors["servicio_id"] = ["Valor de filtro inválido."]
    if errors:
        raise ApiValidationError(errors)
    page = paginate(db.session, api_entries(day=day, status=status, service_id=service_id), page_number, per_page)
    next_url, previous_url = page_links(page, per_page)
    return jsonify(
        count=page.total, next=next_url, previous=previous_url, results=[entry_representation(e) for e in page.items]
    )


ENTRY = {
    "type": "object",
    "required": ["id", "estado", "nombre", "telefono", "servicio_id", "fecha", "cantidad_personas"],
    "properties": {
        "id": {"type": "integer"},
        "estado": {"type": "string", "enum": list(WAITLIST_STATUSES)},
        "nombre": {"type": "string"},
        "telefono": {"type": "string"},
        "email": {"type": "string", "nullable": True},
        "servicio_id": {"type": "integer"},
        "servicio": {"type": "string"},
        "fecha": {"type": "string", "format": "date"},
        "hora": {"type": "string", "nullable": True, "description": "HH:MM; null = cualquier hora ese día"},
        "cantidad_personas": {"type": "integer"},
        "idioma": {"type": "string", "enum": ["es", "en"], "description": "idioma de la oferta (SMS/e-mail)"},
        "creada": {"type": "string", "format": "date-time"},
        "ofertas": {"type": "integer"},
        "hora_ofrecida": {"type": "string", "nullable": True},
        "ofrecida_en": {"type": "string", "format": "date-time", "nullable": True},
        "oferta_vence": {"type": "string", "format": "date-time", "nullable": True},
        "venta_reserva_id": {"type": "integer", "nullable": True},
    },
}
API_ERROR = {"$ref": "#/components/schemas/Error"}
document(
    Operation(
        "/ventas/api/lista-espera/",
        "get",
        "Lista de espera (recepción, gerente, admin)",
        "lista-espera",
        params=[
            Field("page", "integer", minimum=1),
            Field("page_size", "integer", minimum=1),
            Field("fecha", "date"),
            Field("estado", description="esperando, ofrecida, aceptada, vencida o cancelada"),
            Field("servicio_id", "integer", minimum=1),
        ],
        responses={
            "200": {
                "type": "object",
                "required": ["count", "next", "previous", "results"],
                "properties": {
                    "count": {"type": "integer"},
                    "next": {"type": "string", "nullable": True},
                    "previous": {"type": "string", "nullable": True},
                    "results": {"type": "array", "items": ENTRY},
                },
            },
            "400": API_ERROR,
            "401": API_ERROR,
            "403": API_ERROR,
            "429": API_ERROR,
        },
    )
)
