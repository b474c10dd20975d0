"""OpenAPI 3 document generated from the resource declarations and the documented hand-written endpoints
(spec api.md §9), and the interactive docs page (vendored Swagger UI)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app, jsonify, render_template

from app.api.auth import api_roles
from app.api.blueprint import bp
from app.api.resource_views import MAX_CURSOR_PAGE_SIZE, MAX_PAGE_SIZE, RESOURCES, Field, Resource
from app.core import clock
from app.extensions import limiter

AUTH = [{"bearerAuth": []}, {"cookieAuth": []}]
PUBLIC = [{}, {"bearerAuth": []}, {"cookieAuth": []}]
ERROR_STATUSES = {
    "400": "Datos inválidos",
    "401": "Autenticación requerida",
    "403": "Sin permiso",
    "404": "No encontrado",
    "405": "Método no permitido",
    "409": "Conflicto de dominio",
    "422": "Regla de negocio",
    "429": "Demasiadas solicitudes",
}


def field_schema(f: Field) -> dict:
    if f.type == "integer":
        schema = {"type": "integer"}
        if f.minimum is not None:
            schema["minimum"] = f.minimum
        if f.write:
            schema["maximum"] = 2**31 - 1
    elif f.type == "boolean":
        schema = {"type": "boolean"}
    elif f.type == "date":
        schema = {"type": "string", "format": "date"}
    elif f.type == "datetime":
        schema = {"type": "string", "format": "date-time"}
    elif f.type == "time":
        schema = {"type": "string", "pattern": clock.HHMM_PATTERN}
    elif f.type == "array":
        if f.items == "object":
            schema = {"type": "array", "items": object_schema(f.of) if f.of else {"type": "object"}}
        else:
            schema = {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}
    elif f.type == "object":
        schema = object_schema(f.of) if f.of else {"type": "object"}
    else:
        schema = {"type": "string"}
        if f.max_length:
            schema["maxLength"] = f.max_length
        if f.enum:
            schema["enum"] = list(f.enum)
    if f.nullable:
        schema["nullable"] = True
    if f.description:
        schema["description"] = f.description
    return schema


def object_schema(fields: list[Field], *, required: list[str] | None = None) -> dict:
    schema = {"type": "object", "properties": {f.name: field_schema(f) for f in fields}}
    names = [f.name for f in fields] if required is None else required
    if names:
        schema["required"] = names
    return schema


def input_schema(fields: list[Field], *, partial: bool) -> dict:
    writable = [f for f in fields if f.write]
    return object_schema(writable, required=[] if partial else [f.name for f in writable if f.required])


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: str) -> dict:
    return {s: _json(_ref("Error"), ERROR_STATUSES[s]) for s in statuses}


def _query(name: str, schema: dict, description: str = "", required: bool = False) -> dict:
    param = {"name": name, "in": "query", "required": required, "schema": schema}
    if description:
        param["description"] = description
    return param


FILTER_SCHEMAS = {
    "integer": {"type": "integer", "minimum": 0, "maximum": 999999999},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "string": {"type": "string", "maxLength": 100},
}


def resource_paths(res: Resource, schemas: dict) -> dict:
    name = res.schema_name
    schemas[name] = object_schema([f for f in res.fields if f.read])
    schemas[f"{name}Create"] = input_schema(res.input_fields(create=True), partial=False)
    schemas[f"{name}Update"] = input_schema(res.input_fields(create=False), partial=False)
    schemas[f"{name}Patch"] = input_schema(res.input_fields(create=False), partial=True)
    schemas[f"{name}Page"] = {
        "type": "object",
        "required": ["count", "next", "previous", "results"],
        "properties": {
            "count": {"type": "integer"},
            "next": {"type": "string", "nullable": True},
            "previous": {"type": "string", "nullable": True},
            "results": {"type": "array", "items": _ref(name)},
        },
    }
    schemas[f"{name}CursorPage"] = {
        "type": "object",
        "required": ["next_cursor", "next", "results"],
        "properties": {
            "next_cursor": {"type": "string", "nullable": True, "description": "null en la última página"},
            "next": {"type": "string", "nullable": True},
            "results": {"type": "array", "items": _ref(name)},
        },
    }
    read_security = PUBLIC if res.read_roles is None else AUTH
    tag = res.name
    roles = "anónimo" if res.read_roles is None else ", ".join(sorted(res.read_roles))
    write_roles = ", ".join(sorted(res.write_roles))
    filters = [
        _query(f.name, {**FILTER_SCHEMAS[f.type], **({"enum": list(f.enum)} if f.enum else {})}, f.description)
        for f in res.filters
    ]
    paging = [
        _query("page", {"type": "integer", "minimum": 1, "maximum": 1000000}),
        _query(
            "page_size",
            {"type": "integer", "minimum": 1, "maximum": MAX_CURSOR_PAGE_SIZE},
            f"50 por defecto; máximo {MAX_PAGE_SIZE} con `page`, {MAX_CURSOR_PAGE_SIZE} con `cursor`",
        ),
        _query(
            "cursor",
            {"type": "string", "maxLength": 40},
            "paginación por clave (keyset): vacío para la primera página, luego el `next_cursor` recibido; "
            "sin `count`, estable ante inserciones",
        ),
    ]
    idem = (
        [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[\x20-\x7e]+$"},
            }
        ]
        if res.idempotent_create
        else []
    )
    created = _json(_ref(name), "Creado")
    if res.name == "pagos":
        created = _json(
            {
                "oneOf": [
                    _ref(name),
                    object_schema(
                        [
                            Field("id", "integer"),
                            Field("tipo", enum=("descuento",)),
                            Field("venta_reserva", "integer"),
                            Field("monto", "integer"),
                            Field("motivo"),
                        ]
                    ),
                ]
            },
            "Pago registrado o descuento aplicado",
        )
    collection = {
        "get": {
            "tags": [tag],
            "summary": f"Listar {res.summary or res.name} (lectura: {roles})",
            "operationId": f"{res.endpoint}_list",
            "security": read_security,
            "parameters": filters + paging,
            "responses": {
                "200": _json(
                    {"oneOf": [_ref(f"{name}Page"), _ref(f"{name}CursorPage")]},
                    "Página (`count`, `next`, `previous`) o, con `cursor`, página por clave (`next_cursor`)",
                ),
                **_errors("400", "401", "403", "429"),
            },
        },
        "post": {
            "tags": [tag],
            "summary": f"Crear ({write_roles})",
            "operationId": f"{res.endpoint}_create",
            "security": AUTH,
            "parameters": idem,
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(f"{name}Create")}}},
            "responses": {"201": created, **_errors("400", "401", "403", "409", "422", "429")},
        },
    }
    id_param = {
        "name": "obj_id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    }
    delete_roles = ", ".join(sorted(res.delete_roles or res.write_roles))
    item = {
        "parameters": [id_param],
        "get": {
            "tags": [tag],
            "summary": "Detalle",
            "operationId": f"{res.endpoint}_retrieve",
            "security": read_security,
            "responses": {"200": _json(_ref(name)), **_errors("401", "403", "404", "429")},
        },
        "delete": {
            "tags": [tag],
            "summary": f"Eliminar / anular ({delete_roles})",
            "operationId": f"{res.endpoint}_delete",
            "security": AUTH,
            "parameters": [_query(n, {"type": "string", "maxLength": 255}, d) for n, d in res.delete_params],
            "responses": {
                "200": _json({"type": "object"}, "Anulado; representación final"),
                "204": {"description": "Eliminado"},
                **_errors("401", "403", "404", "409", "422", "429"),
            },
        },
    }
    for method, partial in (("put", False), ("patch", True)):
        if res.not_modifiable:
            item[method] = {
                "tags": [tag],
                "summary": res.not_modifiable,
                "operationId": f"{res.endpoint}_{method}",
                "security": AUTH,
                "responses": _errors("401", "403", "404", "405", "429"),
            }
            continue
        item[method] = {
            "tags": [tag],
            "summary": f"{'Actualizar parcialmente' if partial else 'Actualizar'} ({write_roles})",
            "operationId": f"{res.endpoint}_{'partial_update' if partial else 'update'}",
            "security": AUTH,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref(f"{name}{'Patch' if partial else 'Update'}")}},
            },
            "responses": {"200": _json(_ref(name)), **_errors("400", "401", "403", "404", "409", "422", "429")},
        }
    paths = {f"/ventas/api/{res.name}/": collection, f"/ventas/api/{res.name}/{{obj_id}}/": item}
    if res.changed_since is not None:
        paths[f"/ventas/api/{res.name}/export.ndjson"] = {
            "get": {
                "tags": [tag],
                "summary": f"Exportar todas las filas como NDJSON, en orden de id (lectura: {roles})",
                "description": "Un objeto JSON por línea (`application/x-ndjson`), la misma representación que los "
                "elementos de la lista; acepta los mismos filtros y `updated_since`. Memoria constante.",
                "operationId": f"{res.endpoint}_export",
                "security": read_security,
                "parameters": [
                    *filters,
                    _query(
                        "updated_since",
                        {"type": "string", "format": "date-time"},
                        "solo filas cambiadas desde esta fecha y hora ISO 8601 (sin zona: America/Santiago)",
                    ),
                ],
                "responses": {
                    "200": {
                        "description": "Una línea JSON por fila",
                        "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                    },
                    **_errors("400", "401", "403", "429"),
                },
            }
        }
    return paths


@dataclass
class Operation:
    """A hand-written endpoint's documentation, declared next to the code (see `document`)."""

    path: str
    method: str
    summary: str
    tag: str
    security: list = field(default_factory=lambda: AUTH)
    params: list[Field] = field(default_factory=list)  # query parameters
    path_params: list[Field] = field(default_factory=list)
    body: list[Field] | None = None
    body_required: list[str] | None = None
    responses: dict[str, dict] = field(default_factory=dict)  # status -> JSON schema
    headers: list[dict] = field(default_factory=list)


OPERATIONS: list[Operation] = []


def document(op: Operation) -> Operation:
    """Add a hand-written endpoint to the OpenAPI document (other packages call this for their endpoints)."""
    OPERATIONS.append(op)
    return op


def operation_paths() -> dict:
    paths: dict = {}
    for op in OPERATIONS:
        entry = {
            "tags": [op.tag],
            "summary": op.summary,
            "security": op.security,
            "operationId": f"{op.method}_{op.path.strip('/').replace('/', '_').replace('-', '_')}",
            "parameters": [_query(f.name, field_schema(f), f.description, f.required) for f in op.params]
            + [{"name": f.name, "in": "path", "required": True, "schema": field_schema(f)} for f in op.path_params]
            + op.headers,
            "responses": {status: _json(schema, "Respuesta") for status, schema in op.responses.items()},
        }
        if op.body is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": object_schema(op.body, required=op.body_required or [])}},
            }
        paths.setdefault(op.path, {})[op.method] = entry
    return paths


def build_document() -> dict:
    from app.api import views  # noqa: F401  (every declaration registered)

    schemas = {"Error": object_schema([Field("error"), Field("code"), Field("detail", "object")], required=["error"])}
    paths: dict = {}
    for res in RESOURCES:
        paths.update(resource_paths(res, schemas))
    for path, ops in operation_paths().items():
        paths.setdefault(path, {}).update(ops)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Aremko Booking & CRM API",
            "version": "1.0",
            "description": "API JSON de Aremko (rutas y campos del sistema original, montos en CLP enteros, "
            'fechas ISO 8601). Errores: {"error", "code", "detail"}.',
        },
        "servers": [{"url": current_app.config.get("PUBLIC_BASE_URL", "")}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "description": "Token personal (ark_…)"},
                "apiKeyAuth": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-API-KEY",
                    "description": "Clave de automatización (solo endpoints de automatización)",
                },
                "cookieAuth": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "session",
                    "description": "Sesión de personal; escrituras con encabezado X-CSRFToken",
                },
            },
        },
    }


@bp.get("/ventas/api/openapi.json")
@limiter.exempt
@api_roles(public=True)
def openapi_json():
    doc = build_document()
    doc["servers"] = [{"url": "/"}]
    return jsonify(doc)


@bp.get("/ventas/api/docs/")
@limiter.exempt
@api_roles(public=True)
def api_docs():
    from flask import make_response

    response = make_response(render_template("api/docs.html"))
    # Swagger UI sets inline styles on its widgets; scripts stay 'self' only.
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
    )
    return response
