"""Clients over JSON: the `clientes` resource (api.md §4), phone lookups (§5.2) and the client mini-API (§5.3)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request
from flask_login import current_user

from app.api.auth import api_roles
from app.api.blueprint import bp
from app.api.catalog_views import search
from app.api.resource_views import (
    ApiValidationError,
    Bound,
    Field,
    Filter,
    Resource,
    non_blank,
    register,
    register_export,
    validate,
)
from app.clients.models import Client
from app.clients.representation import client_representation
from app.clients.services import create_client, delete_client, update_client
from app.core.errors import ConflictError, ValidationError
from app.core.identity import normalize_email
from app.core.pagination import paginate
from app.core.phone import InvalidPhone, normalize_phone
from app.core.uow import unit_of_work
from app.extensions import db, limiter
from app.sales.client_queries import SEGMENT_KEYS
from app.shop.booking_views import RATE_MESSAGE

CLIENT_READ = frozenset({"recepcion", "marketing", "gerente", "admin"})
CLIENT_WRITE = frozenset({"recepcion", "gerente", "admin"})
DUPLICATE_PHONE = "Ya existe un cliente con este teléfono."
ATTRS = {
    "nombre": "name",
    "telefono": "phone",
    "email": "email",
    "documento_identidad": "document_id",
    "pais": "country",
    "ciudad": "city",
    "fecha_nacimiento": "birth_date",
}
PHONE_REQUIRED = 'Parámetro "telefono" es requerido.'

CLIENT_FIELDS = [
    Field("id", "integer", attr="id", write=False),
    Field("nombre", attr="name", required=True, max_length=100, check=non_blank),
    Field("telefono", attr="phone", required=True, max_length=30),
    Field("email", attr="email", nullable=True, max_length=254),
    Field("documento_identidad", attr="document_id", nullable=True, max_length=30),
    Field("pais", attr="country", nullable=True, max_length=60),
    Field("ciudad", attr="city", nullable=True, max_length=100),
    Field("fecha_nacimiento", "date", attr="birth_date", nullable=True),
]


def save_client(values: dict, by, client: Client | None = None) -> Client:
    """Create or update through the client services; field problems become 400 `{"campo": [...]}`."""
    data = {ATTRS[k]: v for k, v in values.items() if k in ATTRS}
    try:
        if client is None:
            return create_client(data=data, origin="api", by=by)
        update_client(client, data=data, by=by)
        return client
    except ConflictError:
        raise ApiValidationError({"telefono": [DUPLICATE_PHONE]}) from None
    except ValidationError as exc:
        raise ApiValidationError({exc.field or "non_field_errors": [exc.message]}) from None


def phone_or_none(raw: str | None) -> str | None:
    try:
        return normalize_phone(raw)
    except InvalidPhone:
        return None


def _phone_or_empty(value: str) -> str:
    return phone_or_none(value) or ""


_phone_filter = Bound(lambda phone: Client.phone == phone, _phone_or_empty)


def _segment_filter(stmt, value):
    from app.sales.client_queries import stats_select

    stats = stats_select().subquery()
    return stmt.where(Client.id.in_(sa.select(stats.c.client_id).where(stats.c.segment == value)))


def _email_or_empty(value: str) -> str:
    try:
        email = normalize_email(value)
    except ValidationError:
        email = None
    return email or ""


_email_filter = Bound(lambda email: Client.email == email, _email_or_empty)


class ClientResource(Resource):
    def create(self, values, by):
        return save_client(values, by)

    def update(self, obj, values, by, *, partial):
        return save_client(values, by, obj)

    def delete(self, obj, by):
        delete_client(obj, by=by)
        return None


CLIENTS = register(
    bp,
    ClientResource(
        name="clientes",
        model=Client,
        summary="Clientes",
        read_roles=CLIENT_READ,
        write_roles=CLIENT_WRITE,
        delete_roles=frozenset({"admin"}),
        fields=[*CLIENT_FIELDS, Field("fecha_creacion", "datetime", attr="created_at", write=False)],
        filters=[
            Filter("telefono", "string", _phone_filter, "teléfono (se normaliza a E.164), exacto"),
            Filter("email", "string", _email_filter, "e-mail exacto"),
            Filter("q", "string", search(Client.name, Client.phone, Client.email), "texto en nombre/teléfono/e-mail"),
            Filter("segmento", "string", _segment_filter, "segmento (crm.md §6)", enum=SEGMENT_KEYS),
        ],
    ),
)


register_export(bp, CLIENTS, lambda stmt, since: stmt.where(Client.updated_at >= since))


# --- §5.2 lookups ----------------------------------------------------------------------------------------------


def _client_by_phone(raw: str) -> Client | None:
    phone = phone_or_none(raw)
    return db.session.scalar(sa.select(Client).where(Client.phone == phone)) if phone else None


@bp.get("/ventas/api/get-client-details/")
@limiter.limit("10 per minute", exempt_when=lambda: current_user.is_authenticated, error_message=RATE_MESSAGE)
@api_roles(public=True)
def get_client_details():
    raw = request.args.get("telefono", "").strip()
    if not raw:
        return jsonify(error=PHONE_REQUIRED), 400
    client = _client_by_phone(raw)
    if client is None:
        return jsonify(found=False)
    if current_user.is_authenticated and current_user.role in CLIENT_READ:
        return jsonify(
            found=True, nombre=client.name, email=client.email or "", documento_identidad=client.document_id or ""
        )
    return jsonify(found=True, nombre=client.first_name)


@bp.get("/ventas/api/get-client-by-phone/")
@api_roles(*CLIENT_READ)
def get_client_by_phone():
    raw = request.args.get("telefono", "").strip()
    if not raw:
        return jsonify(error=PHONE_REQUIRED), 400
    client = _client_by_phone(raw)
    if client is None:
        return jsonify(cliente=None), 404
    return jsonify(cliente=client_representation(client))


# --- §5.3 client mini-API ---------------------------------------------------------------------------------------

NOT_FOUND_PHONE = "No se encontró ningún cliente con ese teléfono"
MINI_UPDATE_FIELDS = [
    f
    for f in CLIENT_FIELDS
    if f.name in ("nombre", "email", "ciudad", "pais", "fecha_nacimiento", "documento_identidad")
]


def _mini_error(message, status: int):
    return jsonify(status="error", message=message), status


@bp.get("/ventas/api/cliente/")
@api_roles(*CLIENT_READ)
def cliente_list():
    from app.api.resource_views import parse_paging

    try:
        page_number, per_page = parse_paging(default=100, maximum=500)
    except ApiValidationError as exc:
        return _mini_error(exc.detail, 400)
    page = paginate(db.session, sa.select(Client).order_by(Client.id), page_number, per_page)
    return jsonify(
        status="success",
        count=page.total,
        page=page.page,
        pages=page.pages,
        data=[client_representation(c) for c in page.items],
    )


@bp.get("/ventas/api/cliente/<telefono>/")
@api_roles(*CLIENT_READ)
def cliente_detail(telefono: str):
    client = _client_by_phone(telefono)
    if client is None:
        return _mini_error(NOT_FOUND_PHONE, 404)
    return jsonify(status="success", count=1, data=[client_representation(client)])


def _mini_body():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiValidationError({"body": ["Se esperaba un objeto JSON."]})
    return body


@bp.post("/ventas/api/cliente/create/")
@api_roles(*CLIENT_WRITE)
def cliente_create():
    try:
        with unit_of_work():
            client = save_client(validate(CLIENT_FIELDS, _mini_body(), partial=False), current_user)
            data = client_representation(client)
    except ApiValidationError as exc:
        return _mini_error(exc.detail, 400)
    return jsonify(status="success", message="Cliente creado exitosamente", data=data), 201


@bp.route("/ventas/api/cliente/update/<telefono>/", methods=["PUT", "PATCH"])
@api_roles(*CLIENT_WRITE)
def cliente_update(telefono: str):
    client = _client_by_phone(telefono)
    if client is None:
        return jsonify(
            status="error", message="Cliente no encontrado", telefono_buscado=phone_or_none(telefono) or telefono[:30]
        ), 404
    try:
        with unit_of_work():
            save_client(validate(MINI_UPDATE_FIELDS, _mini_body(), partial=True), current_user, client)
            data = client_representation(client)
    except ApiValidationError as exc:
        return _mini_error(exc.detail, 400)
    return jsonify(status="success", message="Cliente actualizado exitosamente", data=data)
