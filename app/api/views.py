"""Imports every API module (their routes and resources register on `bp`) and documents the hand-written
endpoints for the OpenAPI document."""

from __future__ import annotations

from app.api import (  # noqa: F401  (register their routes)
    catalog_views,
    client_views,
    openapi_views,
    order_views,
    selfservice_views,
    waitlist_views,
)
from app.api.blueprint import bp
from app.api.openapi_views import PUBLIC, Operation, document
from app.api.resource_views import Field

__all__ = ["bp"]

ANY = {"type": "object"}
CLIENT = {
    "type": "object",
    "required": ["id", "nombre", "telefono"],
    "properties": {
        "id": {"type": "integer"},
        "nombre": {"type": "string"},
        "telefono": {"type": "string"},
        "email": {"type": "string", "nullable": True},
        "documento_identidad": {"type": "string", "nullable": True},
        "ciudad": {"type": "string", "nullable": True},
        "pais": {"type": "string", "nullable": True},
        "fecha_nacimiento": {"type": "string", "format": "date", "nullable": True},
    },
}
ERROR_TEXT = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
API_ERROR = {"$ref": "#/components/schemas/Error"}
MINI_ERROR = {
    "type": "object",
    "required": ["status", "message"],
    "properties": {"status": {"type": "string", "enum": ["error"]}, "message": {}},
}
PHONE = Field("telefono", required=True, max_length=30, description="teléfono (se normaliza a E.164)")
CLIENT_BODY = [
    Field("nombre", max_length=100),
    Field("telefono", max_length=30),
    Field("email", nullable=True, max_length=254),
    Field("documento_identidad", nullable=True, max_length=30),
    Field("pais", nullable=True, max_length=60),
    Field("ciudad", nullable=True, max_length=100),
    Field("fecha_nacimiento", "date", nullable=True),
]
STAFF_ERRORS = {"401": API_ERROR, "403": API_ERROR, "429": API_ERROR}  # 429: wrong-credential budget spent

document(
    Operation(
        "/ventas/api/get-client-details/",
        "get",
        "¿Teléfono conocido? Anónimo: solo nombre de pila (10/min/IP)",
        "clientes-consulta",
        security=PUBLIC,
        params=[PHONE],
        responses={
            "200": {
                "type": "object",
                "required": ["found"],
                "properties": {
                    "found": {"type": "boolean"},
                    "nombre": {"type": "string"},
                    "email": {"type": "string"},
                    "documento_identidad": {"type": "string"},
                },
            },
            "400": ERROR_TEXT,
            "401": API_ERROR,
            "429": API_ERROR,
        },
    )
)
document(
    Operation(
        "/ventas/api/get-client-by-phone/",
        "get",
        "Cliente por teléfono (personal)",
        "clientes-consulta",
        params=[PHONE],
        responses={
            "200": {"type": "object", "required": ["cliente"], "properties": {"cliente": CLIENT}},
            "404": {"type": "object", "properties": {"cliente": {"nullable": True}}},
            "400": ERROR_TEXT,
            **STAFF_ERRORS,
        },
    )
)
document(
    Operation(
        "/ventas/api/cliente/",
        "get",
        "Mini-API: listar clientes (100 por página, máx. 500)",
        "cliente",
        params=[Field("page", "integer", minimum=1), Field("page_size", "integer", minimum=1)],
        responses={
            "200": {
                "type": "object",
                "required": ["status", "count", "page", "pages", "data"],
                "properties": {
                    "status": {"type": "string"},
                    "count": {"type": "integer"},
                    "page": {"type": "integer"},
                    "pages": {"type": "integer"},
                    "data": {"type": "array", "items": CLIENT},
                },
            },
            "400": MINI_ERROR,
            **STAFF_ERRORS,
        },
    )
)
document(
    Operation(
        "/ventas/api/cliente/{telefono}/",
        "get",
        "Mini-API: cliente por teléfono",
        "cliente",
        path_params=[Field("telefono", max_length=30)],
        responses={
            "200": {
                "type": "object",
                "required": ["status", "count", "data"],
                "properties": {
                    "status": {"type": "string"},
                    "count": {"type": "integer"},
                    "data": {"type": "array", "items": CLIENT},
                },
            },
            "404": MINI_ERROR,
            **STAFF_ERRORS,
        },
    )
)
document(
    Operation(
        "/ventas/api/cliente/create/",
        "post",
        "Mini-API: crear cliente",
        "cliente",
        body=CLIENT_BODY,
        body_required=["nombre", "telefono"],
        responses={
            "201": {
                "type": "object",
                "required": ["status", "message", "data"],
                "properties": {"status": {"type": "string"}, "message": {"type": "string"}, "data": CLIENT},
            },
            "400": MINI_ERROR,
            **STAFF_ERRORS,
        },
    )
)
for _method in ("put", "patch"):
    document(
        Operation(
            "/ventas/api/cliente/update/{telefono}/",
            _method,
            "Mini-API: actualizar cliente",
            "cliente",
            path_params=[Field("telefono", max_length=30)],
            body=[f for f in CLIENT_BODY if f.name != "telefono"],
            responses={
                "200": {
                    "type": "object",
                    "required": ["status", "message", "data"],
                    "properties": {"status": {"type": "string"}, "message": {"type": "string"}, "data": CLIENT},
                },
                "400": MINI_ERROR,
                "404": MINI_ERROR,
                **STAFF_ERRORS,
            },
        )
    )
document(
    Operation(
        "/ventas/ventas/prebooking/",
        "post",
        "Pre-reserva (token/personal: recepcion, gerente, admin)",
        "prebooking",
        body=[
            Field("telefono", max_length=30),
            Field("nombre_cliente", max_length=100),
            Field("email", nullable=True, max_length=254),
            Field("comentarios", nullable=True, max_length=2000),
            Field("discount_code", nullable=True, max_length=30),
            Field(
                "servicios",
                "array",
                items="object",
                of=[
                    Field("servicio_id", "integer", minimum=1),
                    Field("fecha_agendamiento", description="ISO 8601"),
                    Field("hora_inicio", "time"),
                    Field("cantidad_personas", "integer", minimum=1),
                ],
            ),
        ],
        body_required=["telefono", "nombre_cliente", "servicios"],
        headers=[
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[\x20-\x7e]+$"},
            }
        ],
        responses={
            "201": {
                "type": "object",
                "required": ["status", "message", "venta_reserva_id", "total", "discount_applied"],
                "properties": {
                    "status": {"type": "string"},
                    "message": {"type": "string"},
                    "venta_reserva_id": {"type": "integer"},
                    "total": {"type": "integer"},
                    "discount_applied": {"type": "integer"},
                },
            },
            # an invalid or busy Idempotency-Key is refused before the endpoint, in the API's standard error shape
            "400": {"anyOf": [MINI_ERROR, API_ERROR]},
            "409": {"anyOf": [{"type": "object", "required": ["status", "message"]}, API_ERROR]},
            "422": API_ERROR,
            **STAFF_ERRORS,
        },
    )
)
SLOT_PARAMS = [
    Field("servicio_id", "integer", required=True, minimum=1),
    Field("fecha", "date", required=True),
    Field("cantidad_personas", "integer", minimum=1),
]
document(
    Operation(
        "/ventas/get-available-hours/",
        "get",
        "Horas disponibles de un servicio en una fecha",
        "disponibilidad",
        security=PUBLIC,
        params=SLOT_PARAMS,
        responses={
            "200": {
                "type": "object",
                "required": ["success", "horas_disponibles", "detalle"],
                "properties": {
                    "success": {"type": "boolean"},
                    "horas_disponibles": {"type": "array", "items": {"type": "string"}},
                    "detalle": {"type": "array", "items": ANY},
                },
            },
            "400": ANY,
            "404": ANY,
        },
    )
)
document(
    Operation(
        "/ventas/check-availability/",
        "get",
        "¿Está disponible un horario?",
        "disponibilidad",
        security=PUBLIC,
        params=[*SLOT_PARAMS, Field("hora", "time", required=True)],
        responses={
            "200": {
                "type": "object",
                "required": ["available"],
                "properties": {
                    "available": {"type": "boolean"},
                    "motivo": {"type": "string", "nullable": True},
                    "mensaje": {"type": "string", "nullable": True},
                },
            },
            "400": ANY,
            "404": ANY,
        },
    )
)
document(
    Operation(
        "/ventas/api/flow/create/",
        "post",
        "Iniciar pago Flow de una reserva (token de la orden o personal)",
        "flow",
        security=PUBLIC,
        body=[Field("reserva_id", "integer", minimum=1), Field("token", nullable=True)],
        body_required=["reserva_id"],
        responses={
            "200": {
                "type": "object",
                "required": ["url", "token"],
                "properties": {"url": {"type": "string"}, "token": {"type": "string"}},
            },
            **{s: ERROR_TEXT for s in ("400", "403", "404", "405", "409", "502", "503")},
        },
    )
)
# Automation endpoints (api.md §6, X-API-KEY) and the inbound SMS webhook (§7): original error shapes.
AUTOMATION = [{"apiKeyAuth": []}]
AUTOMATION_ERRORS = {s: ERROR_TEXT for s in ("400", "401", "404", "429", "503")}
CONTACT_BODY = [
    Field("contact_identifier_type", enum=("email", "phone", "cliente_id", "contact_id")),
    Field("contact_identifier", max_length=254),
    Field("campaign_id", "integer", minimum=1),
]
CREATED = {"type": "object", "required": ["success"], "properties": {"success": {"type": "boolean"}}}
CAMPAIGN_ID = [Field("campaign_id", "integer", minimum=1)]
document(
    Operation(
        "/ventas/api/campaigns/{campaign_id}/details/",
        "get",
        "Campaña: datos y plantillas (n8n)",
        "automatización",
        security=AUTOMATION,
        path_params=CAMPAIGN_ID,
        responses={
            "200": {
                "type": "object",
                "required": ["id", "name", "status"],
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "status": {"type": "string"},
                    "goal": {"type": "string", "nullable": True},
                    "start_date": {"type": "string", "nullable": True},
                    "end_date": {"type": "string", "nullable": True},
                    **{
                        k: {"type": "string", "nullable": True}
                        for k in ("email_subject_template", "email_body_template", "sms_template", "whatsapp_template")
                    },
                },
            },
            **AUTOMATION_ERRORS,
        },
    )
)
document(
    Operation(
        "/ventas/api/campaigns/{campaign_id}/targets/",
        "get",
        "Campaña: destinatarios elegibles ahora (consentimiento, supresión, topes; 100 por página, máx. 1000)",
        "automatización",
        security=AUTOMATION,
        path_params=CAMPAIGN_ID,
        params=[
            Field("page", "integer", minimum=1),
            Field("page_size", "integer", minimum=1),
            Field("canal", enum=("sms", "email", "whatsapp", "any")),
        ],
        responses={
            "200": {
                "type": "object",
                "required": ["campaign_id", "count", "page", "page_size", "next", "targets"],
                "properties": {
                    "campaign_id": {"type": "integer"},
                    "count": {"type": "integer"},
                    "page": {"type": "integer"},
                    "page_size": {"type": "integer"},
                    "next": {"type": "string", "nullable": True},
                    "targets": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["id", "nombre"],
                            "properties": {
                                "id": {"type": "integer"},
                                "nombre": {"type": "string"},
                                "apellido": {"type": "string"},
                                "email": {"type": "string", "nullable": True},
                                "telefono": {"type": "string", "nullable": True},
                                "acepta_sms": {"type": "boolean"},
                                "acepta_email": {"type": "boolean"},
                                "acepta_whatsapp": {"type": "boolean"},
                            },
                        },
                    },
                },
            },
            **AUTOMATION_ERRORS,
        },
    )
)
document(
    Operation(
        "/ventas/api/activities/log/",
        "post",
        "Registrar una actividad de campaña (n8n)",
        "automatización",
        security=AUTOMATION,
        body=[
            *CONTACT_BODY,
            Field("activity_type", max_length=40),
            Field("subject", max_length=255),
            Field("notes", nullable=True, max_length=5000),
        ],
        body_required=["contact_identifier_type", "contact_identifier", "campaign_id", "activity_type", "subject"],
        responses={
            "201": {**CREATED, "properties": {**CREATED["properties"], "activity_id": {"type": "integer"}}},
            **AUTOMATION_ERRORS,
        },
    )
)
document(
    Operation(
        "/ventas/api/interactions/log/",
        "post",
        "Registrar una interacción de campaña (n8n)",
        "automatización",
        security=AUTOMATION,
        body=[
            *CONTACT_BODY,
            Field("interaction_type", max_length=20),
            Field("timestamp", nullable=True, description="ISO 8601; inválido = ahora"),
            Field("details", "object", nullable=True),
            Field("activity_id", "integer", nullable=True, minimum=1),
        ],
        body_required=["contact_identifier_type", "contact_identifier", "campaign_id", "interaction_type"],
        responses={
            "201": {**CREATED, "properties": {**CREATED["properties"], "interaction_id": {"type": "integer"}}},
            **AUTOMATION_ERRORS,
        },
    )
)
document(
    Operation(
        "/ventas/api/sms/inbound/",
        "post",
        "Respuesta SMS entrante del proveedor (token ?token= o X-SMS-Token)",
        "sms",
        security=[{}],
        params=[Field("token", max_length=200)],
        body=[Field("from", max_length=30), Field("message", max_length=1600)],
        responses={
            "200": {"type": "object", "required": ["ok"], "properties": {"ok": {"type": "boolean"}}},
            "400": ANY,
            "401": ANY,
            "429": ANY,
        },
    )
)
for _path, _schema in (
    ("/healthz", {"type": "object", "required": ["status"]}),
    ("/readyz", {"type": "object", "required": ["status", "database"]}),
):
    document(
        Operation(
            _path, "get", "Salud del servicio", "salud", security=[{}], responses={"200": _schema, "503": _schema}
        )
    )
