"""The declarative router-resource layer (spec api.md §4).

A `Resource` declares its fields, filters, roles and (where the business needs it) the service calls for create,
update and delete; one generic implementation serves list (paginated, filtered), retrieve, create, update,
partial update and delete for all of them, and `app.api.openapi_views` documents them from the same declarations.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Blueprint, Response, g, jsonify, make_response, request, stream_with_context
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import ColumnProperty

from app.api.auth import STAFF, check_access
from app.api.idempotency import commit_with
from app.core.clock import LOCAL_TZ, UTC, is_hhmm
from app.core.db import UTCDateTime
from app.core.errors import DomainError, HasHistory
from app.core.pagination import Page, count_rows, page_of, paginate
from app.extensions import db
from app.sales.representation import columns, iso_datetime
from app.web.errors import api_error, domain_error_response
from app.web.params import MAX_INT32, MAX_PAGE, parse_int

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_CURSOR_PAGE_SIZE = 1000  # keyset pages (`?cursor=`): no COUNT, no OFFSET, so larger pages cost the same per row
EXPORT_BATCH = 1000  # rows per keyset statement of an NDJSON export
INVALID_CURSOR = "Cursor inválido."
_NDJSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# _NDJSON.encode(item) without building the C encoder anew for each line (JSONEncoder.iterencode does)
_NDJSON_C = (
    json.encoder.c_make_encoder(
        None, _NDJSON.default, json.encoder.encode_basestring, None, ":", ",", False, False, True
    )
    if json.encoder.c_make_encoder is not None
    else None
)


def _ndjson_line(item: dict) -> str:
    return "".join(_NDJSON_C(item, 0)) if _NDJSON_C is not None else _NDJSON.encode(item)


INVALID_SINCE = "Fecha y hora inválida. Use ISO 8601 (p. ej. 2026-01-31T00:00:00-03:00)."
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INVALID_JSON = "Se esperaba un objeto JSON."


class ApiForbidden(Exception):
    """403 permission_denied for one field or action the caller's role may not use."""


class ApiValidationError(Exception):
    """400 validation_error with `detail` = {"campo": ["mensaje"]}."""

    def __init__(self, detail: dict[str, list[str]], message: str = "Datos inválidos."):
        super().__init__(message)
        self.detail = detail
        self.message = message

    def response(self):
        return api_error(400, self.message, detail=self.detail)


@dataclass
class Field:
    """One JSON field: its Spanish name, JSON type and how it maps to the model."""

    name: str
    type: str = "string"  # integer | string | boolean | date | time | datetime | array | object
    attr: str | None = None  # model attribute read and written (default: none, use `get`)
    get: Callable[[Any], Any] | None = None  # computed output
    read: bool = True
    write: bool = True
    required: bool = False
    nullable: bool = False
    max_length: int | None = None
    minimum: int | None = None
    enum: tuple | None = None
    items: str = "integer"  # array item type
    ref: Any = None  # model a written id must exist in
    check: Callable[[Any], Any] | None = None  # extra validation/conversion; raises ValueError
    of: list[Field] | None = None  # properties of an object / of the items of an array of objects
    description: str = ""

    def output(self, obj) -> Any:
        if self.get is None and self.attr is None:
            return None  # documented only: the resource's serializer fills it
        value = self.get(obj) if self.get else getattr(obj, self.attr)
        return to_json(value)

    def parse(self, value) -> Any:
        """Validate one input value; returns the Python value or raises ValueError with a Spanish message."""
        if value is None:
            if self.nullable:
                return None
            raise ValueError("Este campo no puede ser nulo.")
        kind = self.type
        if kind == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError("Se esperaba un número entero.")
            if self.minimum is not None and value < self.minimum:
                raise ValueError(f"Debe ser mayor o igual a {self.minimum}.")
            if abs(value) > 2**31 - 1:
                raise ValueError("Número fuera de rango.")
        elif kind == "boolean":
            if not isinstance(value, bool):
                raise ValueError("Se esperaba true o false.")
        elif kind == "string":
            if not isinstance(value, str):
                raise ValueError("Se esperaba un texto.")
            if "\x00" in value:
                raise ValueError("Texto inválido.")
            if self.max_length is not None and len(value) > self.max_length:
                raise ValueError(f"Máximo {self.max_length} caracteres.")
            if self.enum is not None and value not in self.enum:
                raise ValueError(f"Valor inválido. Use uno de: {', '.join(self.enum)}.")
        elif kind == "date":
            value = parse_date(value)
            if value is None:
                raise ValueError("Fecha inválida. Use YYYY-MM-DD.")
        elif kind == "time":
            if not is_hhmm(value):
                raise ValueError("Hora inválida. Use HH:MM.")
        elif kind == "datetime":
            value = parse_datetime(value)
            if value is None:
                raise ValueError("Fecha y hora inválida. Use ISO 8601 con zona horaria.")
        elif kind == "array" and self.items == "object":
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value) or len(value) > 50:
                raise ValueError("Se esperaba una lista de objetos (máximo 50).")
        elif kind == "array":
            if not isinstance(value, list) or not all(
                isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**31 for v in value
            ):
                raise ValueError("Se esperaba una lista de ids.")
        elif kind == "object":
            if not isinstance(value, dict):
                raise ValueError("Se esperaba un objeto.")
        if self.ref is not None:
            row = db.session.get(self.ref, value)
            if row is None:
                raise ValueError("No existe.")
            # the identity map holds rows weakly: keep this one for the request, the service reads it again
            g.setdefault("api_refs", []).append(row)
        return self.check(value) if self.check else value


@dataclass
class Filter:
    name: str
    type: str  # integer | string | boolean | date
    apply: Callable[[sa.Select, Any], sa.Select]
    description: str = ""
    enum: tuple | None = None

    def parse(self, raw: str):
        if "\x00" in raw:
            raise ValueError
        if self.type == "integer":
            value = parse_int(raw, maximum=MAX_INT32)
            if value is None:
                raise ValueError
            return value
        if self.type == "boolean":
            lowered = raw.lower()
            if lowered not in ("true", "false", "1", "0"):
                raise ValueError
            return lowered in ("true", "1")
        if self.type == "date":
            day = parse_date(raw)
            if day is None:
                raise ValueError
            return day
        if self.enum is not None and raw not in self.enum:
            raise ValueError
        return raw


def _same(value):
    return value


@dataclass(frozen=True)
class Bound:
    """A filter's `apply` whose WHERE clause takes the value as a bind parameter: `condition(param)` is the clause,
    `value(parsed)` the value bound. Lists with only such filters run statements built once per filter set."""

    condition: Callable[[Any], Any]
    value: Callable[[Any], Any] = _same

    def __call__(self, stmt: sa.Select, parsed) -> sa.Select:
        return stmt.where(self.condition(self.value(parsed)))


def equals(column) -> Bound:
    return Bound(lambda param: column == param)


def parse_date(value) -> date | None:
    if not isinstance(value, str) or not _DATE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def parse_datetime(value) -> datetime | None:
    """An ISO 8601 date-time with offset (naive values are America/Santiago)."""
    from app.core import clock

    if not isinstance(value, str) or not _DATE.match(value[:10]) or len(value) < 16:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=clock.LOCAL_TZ)
    if not 1900 <= parsed.year <= 2999:
        return None
    return parsed


_AS_IS = frozenset({str, int, bool, float, type(None)})


def to_json(value):
    if type(value) in _AS_IS:  # most values: no isinstance chain (exports serialize millions of them)
        return value
    if isinstance(value, datetime):
        return iso_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return value


_RAW_TIMESTAMP = sa.DateTime(timezone=True)


def _value_expression(column_type, ref: str) -> str:
    """The Python expression giving to_json(`ref`) for values of `column_type` (see Resource._row_dict)."""
    if isinstance(column_type, sa.Integer | sa.String | sa.Boolean):
        return ref  # int, str, bool or None: to_json returns them as they are
    if isinstance(column_type, UTCDateTime):  # read raw (Resource._row_columns): naive = UTC, as UTCDateTime reads it
        local = f"({ref} if {ref}.tzinfo is not None else {ref}.replace(tzinfo=UTC)).astimezone(TZ)"
        return f'(None if {ref} is None else {local}.isoformat(timespec="seconds"))'
    try:
        python_type = column_type.python_type
    except NotImplementedError:  # e.g. a TypeDecorator: to_json decides per value
        python_type = None
    if python_type is datetime:  # iso_datetime: America/Santiago offset, seconds
        return f'(None if {ref} is None else {ref}.astimezone(TZ).isoformat(timespec="seconds"))'
    if python_type is date:
        return f"(None if {ref} is None else {ref}.isoformat())"
    return f"to_json({ref})"


def non_blank(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("Este campo no puede estar vacío.")
    return value


def validate(fields: list[Field], body: dict, *, partial: bool) -> dict:
    """Parse the writable fields present in `body`; raises ApiValidationError listing every bad field."""
    values, errors = {}, {}
    for f in fields:
        if not f.write:
            continue
        if f.name not in body:
            if f.required and not partial:
                errors[f.name] = ["Este campo es requerido."]
            continue
        try:
            values[f.name] = f.parse(body[f.name])
        except ValueError as exc:
            errors[f.name] = [str(exc)]
    if errors:
        raise ApiValidationError(errors)
    return values


def json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiValidationError({"body": [INVALID_JSON]}, "JSON inválido.")
    return body


@dataclass
class Resource:
    """Declaration of one router resource; override the hooks where the business needs a service."""

    name: str
    model: Any
    fields: list[Field]
    filters: list[Filter] = field(default_factory=list)
    read_roles: frozenset | None = STAFF  # None = anonymous may read (see `visible`)
    write_roles: frozenset = frozenset({"gerente", "admin"})
    delete_roles: frozenset | None = None  # default: write_roles
    create_fields: list[Field] | None = None  # input when it differs from the representation
    update_fields: list[Field] | None = None
    idempotent_create: bool = False
    not_modifiable: str | None = None  # PUT/PATCH answer 405 with this message
    summary: str = ""
    delete_params: list[tuple[str, str]] = field(default_factory=list)  # documented query params of DELETE

    # --- declarations used by the generic views and the OpenAPI document
    @property
    def endpoint(self) -> str:
        return self.name.replace("-", "_")

    @property
    def schema_name(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("-"))

    def input_fields(self, *, create: bool) -> list[Field]:
        if create and self.create_fields is not None:
            return self.create_fields
        if not create and self.update_fields is not None:
            return self.update_fields
        return [f for f in self.fields if f.write]

    # --- hooks
    def base_query(self) -> sa.Select:
        return sa.select(self.model).order_by(self.model.id)

    def visible(self, stmt: sa.Select, staff: bool) -> sa.Select:
        """Restrict what anonymous callers see (resources readable by anonymous only)."""
        return stmt

    def load_options(self) -> list:
        return []

    def keyset_descending(self) -> bool:
        """True when the list is newest first (`base_query` ordered by id descending): the cursor walks down."""
        return False

    changed_since: Callable[[sa.Select, datetime], sa.Select] | None = None  # `updated_since` of the export

    def serialize(self, obj) -> dict:
        return {f.name: f.output(obj) for f in self.fields if f.read}

    def rows_query(self, stmt: sa.Select) -> sa.Select | None:
        """The list page (`stmt`, limited) as plain rows that `serialize_rows` reads; None = load ORM objects.

        By default, resources whose representation is only mapped columns (`Field.attr`) list from rows labelled
        with the attribute names, so `serialize` reads them like the objects.
        """
        cols = self._row_columns
        return stmt.with_only_columns(*cols) if cols else None

    def serialize_rows(self, rows) -> list[dict]:
        row_dict = self._row_dict
        if row_dict is None:
            return [self.serialize(row) for row in rows]
        return [row_dict(row) for row in rows]

    @cached_property
    def _row_dict(self) -> Callable[[Any], dict] | None:
        """row -> representation for the rows of the default `rows_query`, else None: the fields read by position,
        as `serialize` reads them by name, in one function generated from the declarations (exports serialize
        millions of rows: no per-value plan loop, no to_json dispatch for columns whose type fixes the value)."""
        cols = self._row_columns
        if cols is None or type(self).rows_query is not Resource.rows_query:
            return None
        keys = [c.key for c in cols]
        items = []
        for f in self.fields:
            if not f.read:
                continue
            i = keys.index(f.attr)
            items.append(f"{f.name!r}: {_value_expression(getattr(self.model, f.attr).type, f'r[{i}]')}")
        return eval(f"lambda r: {{{', '.join(items)}}}", {"to_json": to_json, "TZ": LOCAL_TZ, "UTC": UTC})  # noqa: S307

    @property
    def custom_rows_order(self) -> bool:
        """True when `rows_query` is the resource's own (it may order the rows its way)."""
        return type(self).rows_query is not Resource.rows_query

    @property
    def lists_rows(self) -> bool:
        return type(self).rows_query is not Resource.rows_query or self._row_columns is not None

    @cached_property
    def _row_columns(self) -> list | None:
        if type(self).serialize is not Resource.serialize or self.load_options():
            return None
        mapper = sa.inspect(self.model)
        names = []
        for f in self.fields:
            if not f.read:
                continue
            if f.get is not None or f.attr is None or not isinstance(mapper.attrs.get(f.attr), ColumnProperty):
                return None
            if f.attr not in names:
                names.append(f.attr)
        # UTCDateTime columns as the driver reads them (PostgreSQL: aware; SQLite: naive UTC), without the
        # TypeDecorator's per-row conversion: _row_dict's expression converts them once, to America/Santiago
        return [
            sa.type_coerce(col, _RAW_TIMESTAMP).label(col.key) if isinstance(col.type, UTCDateTime) else col
            for col in columns(self.model, names)
        ]

    def assign(self, obj, values: dict, by) -> None:
        by_name = {f.name: f for f in self.fields}
        for name, value in values.items():
            f = by_name.get(name)
            if f is not None and f.attr:
                setattr(obj, f.attr, value)

    def create(self, values: dict, by):
        obj = self.model()
        self.assign(obj, values, by)
        db.session.add(obj)
        flush_unique()
        return obj

    def update(self, obj, values: dict, by, *, partial: bool):
        self.assign(obj, values, by)
        flush_unique()
        return obj

    def delete(self, obj, by):
        """Default: refuse rows with history (409 has_history), else delete; returns a body or None (204)."""
        if getattr(obj, "has_history", None) and obj.has_history():
            raise HasHistory()
        try:
            db.session.delete(obj)
            db.session.flush()
        except IntegrityError:  # still referenced by rows the model does not list
            raise HasHistory() from None
        return None


RESOURCES: list[Resource] = []


def flush_unique() -> None:
    """Flush; a unique constraint that a concurrent or case-variant write hit becomes a 400, not a 500."""
    try:
        db.session.flush()
    except IntegrityError:
        raise ApiValidationError({"nombre": ["Ya existe un registro con este nombre."]}) from None


def _staff() -> bool:
    from flask_login import current_user

    return current_user.is_authenticated and current_user.role in STAFF


def _get_object(res: Resource, obj_id: int):
    if not 0 < obj_id <= MAX_INT32:  # beyond the INTEGER id column: unknown (SQLite would overflow)
        return None
    stmt = res.visible(res.base_query().where(res.model.id == obj_id), _staff())
    if res.load_options():
        stmt = stmt.options(*res.load_options())
    return db.session.scalars(stmt).first()


def page_links(page, per_page: int) -> tuple[str | None, str | None]:
    def link(number: int) -> str:
        args = request.args.to_dict()
        args.update(page=str(number), page_size=str(per_page))
        return f"{request.base_url}?{urlencode(args)}"

    return (link(page.page + 1) if page.has_next else None, link(page.page - 1) if page.has_prev else None)


def parse_paging(default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE) -> tuple[int, int]:
    raw_page, raw_size = request.args.get("page", "1"), request.args.get("page_size", str(default))
    errors = {}
    page, size = parse_int(raw_page, minimum=1, maximum=MAX_PAGE), parse_int(raw_size, minimum=1, maximum=maximum)
    if page is None:
        errors["page"] = ["Página inválida."]
    if size is None:
        errors["page_size"] = [f"Debe ser un entero entre 1 y {maximum}."]
    if errors:
        raise ApiValidationError(errors)
    return page, size


def filtered_select(res: Resource) -> sa.Select:
    """The resource's select for this caller with the request's filters applied (400 on a bad filter value)."""
    stmt = res.visible(res.base_query(), _staff())
    errors = {}
    for flt in res.filters:
        raw = request.args.get(flt.name)
        if raw is None or raw == "":
            continue
        try:
            stmt = flt.apply(stmt, flt.parse(raw))
        except ValueError:
            errors[flt.name] = ["Valor de filtro inválido."]
    if errors:
        raise ApiValidationError(errors)
    return stmt


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> int | None:
    """The last id of the previous keyset page; None for the first page (empty cursor); ValueError if forged."""
    if raw == "":
        return None
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        raise ValueError from None
    value = parse_int(text[3:], minimum=0, maximum=MAX_INT32) if text.startswith("id:") else None
    if value is None:
        raise ValueError
    return value


# Bind parameters of the statements built once per resource (`Resource.plain`): a request only binds values.
_LIMIT = sa.bindparam("_limit", type_=sa.Integer)
_OFFSET = sa.bindparam("_offset", type_=sa.Integer)
_AFTER = sa.bindparam("_after", type_=sa.Integer)


@dataclass(frozen=True)
class PlainStatements:
    """A rows resource's list statements without request filters, built once (SQLAlchemy then reuses their cache
    key and compiled form): building them anew cost more CPU per request than running them."""

    count: sa.Select  # the rows of the resource's select
    page: sa.Select  # rows_query of one OFFSET page (`_limit`, `_offset`), the count in a last column
    # rows_query of a keyset page (`_limit`) by (descending, first page): the first, or after the id `_after`
    keyset: dict[tuple[bool, bool], sa.Select]


def _build_plain(res: Resource, staff: bool, names: tuple[str, ...]) -> PlainStatements:
    stmt = res.visible(res.base_query(), staff)
    for name in names:
        stmt = stmt.where(_bound_condition(res, name)(sa.bindparam(f"_f_{name}")))
    key = res.model.id
    keyset = {}
    for descending in (False, True):
        ordered = stmt.order_by(None).order_by(key.desc() if descending else key)
        keyset[descending, True] = res.rows_query(ordered.limit(_LIMIT))
        after = ordered.where(key < _AFTER if descending else key > _AFTER)
        keyset[descending, False] = res.rows_query(after.limit(_LIMIT))
    count = sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
    page = res.rows_query(stmt.limit(_LIMIT).offset(_OFFSET))
    return PlainStatements(
        count=count,
        # the serializers read rows by position: a last column is not seen
        page=page.add_columns(count.scalar_subquery().label("_total")),
        keyset=keyset,
    )


_SINCE = "updated_since"  # the export's filter (Resource.changed_since)


def _bound_condition(res: Resource, name: str) -> Callable[[Any], Any]:
    if name == _SINCE:
        return lambda param: res.changed_since(sa.select(res.model), param).whereclause
    return next(flt.apply for flt in res.filters if flt.name == name).condition


def plain_statements(res: Resource, staff: bool, names: tuple[str, ...] = ()) -> PlainStatements:
    """The resource's statements for this caller and this set of bound filters, built on first use."""
    cache = res.__dict__.setdefault("_plain_cache", {})
    plain = cache.get((staff, names))
    if plain is None:
        plain = cache[staff, names] = _build_plain(res, staff, names)
    return plain


@dataclass
class BoundRequest:
    """A list request whose filters are all `Bound`: the statements built once, and the values to bind."""

    plain: PlainStatements
    params: dict[str, Any]


def bound_request(res: Resource, staff: bool, since: str | None = None) -> BoundRequest | None:
    """The request's filters as bind parameters when the resource lists plain rows and every filter given is
    `Bound`, else None (filtered_select builds the statement). Filter values are validated as filtered_select
    does (400 listing each bad one), then the export's `updated_since` (`since`, raw)."""
    if not res.lists_rows:
        return None
    names, params, errors = [], {}, {}
    for flt in res.filters:
        raw = request.args.get(flt.name)
        if raw is None or raw == "":
            continue
        if not isinstance(flt.apply, Bound):
            return None
        try:
            value = flt.parse(raw)
        except ValueError:
            errors[flt.name] = ["Valor de filtro inválido."]
            continue
        names.append(flt.name)
        params[f"_f_{flt.name}"] = flt.apply.value(value)
    if errors:
        raise ApiValidationError(errors)
    if since is not None:
        names.append(_SINCE)
        params[f"_f_{_SINCE}"] = parse_since(since)
    return BoundRequest(plain_statements(res, staff, tuple(names)), params)


def keyset_rows(
    res: Resource, stmt: sa.Select | BoundRequest, after: int | None, size: int, *, descending: bool
) -> list[dict]:
    """Up to `size` rows of `stmt` after the id `after` in id order (descending or not), serialized like the list
    items: one statement on the primary key index (plus what the representation loads), no COUNT, no OFFSET.
    `stmt` may be a BoundRequest: the statements built once, with the request's values."""
    if isinstance(stmt, BoundRequest):
        run = stmt.plain.keyset[descending, after is None]
        rows = db.session.connection().execute(run, {**stmt.params, "_limit": size, "_after": after}).all()
        items = res.serialize_rows(rows)
        if res.custom_rows_order:
            items.sort(key=_ID, reverse=descending)  # a rows_query may fix its own order (orders)
        return items
    key = res.model.id
    stmt = stmt.order_by(None).order_by(key.desc() if descending else key)
    if after is not None:
        stmt = stmt.where(key < after if descending else key > after)
    stmt = stmt.limit(size)
    if res.lists_rows:
        # Core rows on the session's connection: the ORM's per-row result processing is not needed for plain columns
        items = res.serialize_rows(list(db.session.connection().execute(res.rows_query(stmt))))
    else:
        if res.load_options():
            stmt = stmt.options(*res.load_options())
        items = [res.serialize(obj) for obj in db.session.scalars(stmt)]
    items.sort(key=_ID, reverse=descending)  # a rows_query may fix its own order (orders)
    return items


def _ID(item: dict) -> int:
    return item["id"]


def list_by_cursor(res: Resource, stmt: sa.Select | BoundRequest):
    """`?cursor=` (empty for the first page): `{"next_cursor", "next", "results"}`, stable under inserts."""
    errors = {}
    size = parse_int(request.args.get("page_size", str(DEFAULT_PAGE_SIZE)), minimum=1, maximum=MAX_CURSOR_PAGE_SIZE)
    if size is None:
        errors["page_size"] = [f"Debe ser un entero entre 1 y {MAX_CURSOR_PAGE_SIZE}."]
    try:
        after = decode_cursor(request.args.get("cursor", ""))
    except ValueError:
        errors["cursor"] = [INVALID_CURSOR]
    if errors:
        raise ApiValidationError(errors)
    results = keyset_rows(res, stmt, after, size + 1, descending=res.keyset_descending())
    next_cursor = encode_cursor(results[size - 1]["id"]) if len(results) > size else None
    next_url = None
    if next_cursor is not None:
        args = request.args.to_dict()
        args.update(cursor=next_cursor, page_size=str(size))
        next_url = f"{request.base_url}?{urlencode(args)}"
    return jsonify(next_cursor=next_cursor, next=next_url, results=results[:size])


def _bound_page(res: Resource, bound: BoundRequest, page_number: int, per_page: int) -> Page:
    """One OFFSET page from the statements built once: the page and the COUNT in one statement; a separate COUNT
    only when the page is empty (no rows, or beyond the last page: clamped)."""
    conn = db.session.connection()
    plain, params = bound.plain, bound.params
    rows = conn.execute(plain.page, {**params, "_limit": per_page, "_offset": (page_number - 1) * per_page}).all()
    if rows:
        total = rows[0][-1]
    else:
        total = conn.execute(plain.count, params).scalar_one()
        last = max((total + per_page - 1) // per_page, 1)
        if page_number > last:
            page_number = last
            if total:
                offset = (last - 1) * per_page
                rows = conn.execute(plain.page, {**params, "_limit": per_page, "_offset": offset}).all()
    return Page(items=rows, page=page_number, per_page=per_page, total=total)


def list_objects(res: Resource):
    bound = bound_request(res, _staff())
    if "cursor" in request.args:
        return list_by_cursor(res, bound or filtered_select(res))
    page_number, per_page = parse_paging()
    if bound is not None:
        page = _bound_page(res, bound, page_number, per_page)
        results = res.serialize_rows(page.items)
    elif res.lists_rows:  # the rows' joins apply to the page only; the count to the resource's select
        stmt = filtered_select(res)
        page = page_of(
            db.session, stmt, count_rows(db.session, stmt), page_number, per_page, scalars=False, wrap=res.rows_query
        )
        results = res.serialize_rows(page.items)
    else:
        stmt = filtered_select(res)
        if res.load_options():
            stmt = stmt.options(*res.load_options())
        page = paginate(db.session, stmt, page_number, per_page)
        results = [res.serialize(obj) for obj in page.items]
    next_url, previous_url = page_links(page, per_page)
    return jsonify(count=page.total, next=next_url, previous=previous_url, results=results)


def _run_write(fn):
    """Run a write, commit once; domain and validation errors become JSON answers (rolled back)."""
    try:
        body, status = fn()
    except ApiValidationError as exc:
        db.session.rollback()
        return exc.response()
    except ApiForbidden as exc:
        db.session.rollback()
        return api_error(403, str(exc) or None)
    except DomainError as exc:
        return domain_error_response(exc)
    response = make_response(("", 204) if body is None else (jsonify(body), status))
    commit_with(response)
    return response


def make_views(res: Resource):
    from flask_login import current_user

    from app.api.idempotency import idempotent

    read_roles = res.read_roles
    delete_roles = res.delete_roles or res.write_roles

    def create():
        def work():
            values = validate(res.input_fields(create=True), json_body(), partial=False)
            obj = res.create(values, current_user)
            return (obj if isinstance(obj, dict) else res.serialize(obj)), 201

        return _run_write(work)

    if res.idempotent_create:
        create = idempotent(create)

    def collection():
        if request.method == "POST":
            denied = check_access(res.write_roles)
            return denied or create()
        denied = check_access(read_roles)
        if denied:
            return denied
        try:
            return list_objects(res)
        except ApiValidationError as exc:
            return exc.response()

    def item(obj_id: int):
        method = request.method
        roles = read_roles if method == "GET" else delete_roles if method == "DELETE" else res.write_roles
        denied = check_access(roles)
        if denied:
            return denied
        if method in ("PUT", "PATCH") and res.not_modifiable:
            response = api_error(405, res.not_modifiable)
            response.headers["Allow"] = "GET, DELETE"
            return response
        obj = _get_object(res, obj_id)
        if obj is None:
            return api_error(404)
        if method == "GET":
            return jsonify(res.serialize(obj))
        if method == "DELETE":
            return _run_write(lambda: (res.delete(obj, current_user), 200))

        def work():
            partial = method == "PATCH"
            values = validate(res.input_fields(create=False), json_body(), partial=partial)
            updated = res.update(obj, values, current_user, partial=partial)
            return (updated if isinstance(updated, dict) else res.serialize(updated)), 200

        return _run_write(work)

    for view in (collection, item):
        if read_roles is None:
            view._public = True
        else:
            view._roles = read_roles
    collection.__name__ = f"{res.endpoint}_collection"
    item.__name__ = f"{res.endpoint}_item"
    return collection, item


def export_lines(res: Resource, stmt: sa.Select | BoundRequest) -> Iterator[str]:
    """Every row of `stmt` as NDJSON lines, in id order, EXPORT_BATCH rows per keyset statement: memory stays
    constant whatever the number of rows, and a row inserted meanwhile never shifts or repeats the walk."""
    after = None
    while True:
        batch = keyset_rows(res, stmt, after, EXPORT_BATCH, descending=False)
        if not batch:
            return
        yield "\n".join(map(_ndjson_line, batch)) + "\n"
        if len(batch) < EXPORT_BATCH:
            return
        after = batch[-1]["id"]


def parse_since(raw: str) -> datetime:
    since = parse_datetime(raw)
    if since is None:
        raise ApiValidationError({"updated_since": [INVALID_SINCE]})
    return since


def make_export_view(res: Resource):
    def export():
        denied = check_access(res.read_roles)
        if denied:
            return denied
        try:
            raw = request.args.get("updated_since") or None
            stmt = bound_request(res, _staff(), raw)
            if stmt is None:
                stmt = filtered_select(res)
                if raw is not None:
                    stmt = res.changed_since(stmt, parse_since(raw))
        except ApiValidationError as exc:
            return exc.response()
        response = Response(stream_with_context(export_lines(res, stmt)), mimetype="application/x-ndjson")
        response.headers["Content-Disposition"] = f'inline; filename="{res.name}.ndjson"'
        return response

    export._roles = res.read_roles
    export.__name__ = f"{res.endpoint}_export"
    return export


def register_export(bp: Blueprint, res: Resource, changed_since: Callable[[sa.Select, datetime], sa.Select]) -> None:
    """`GET /ventas/api/<name>/export.ndjson[?updated_since=][&filters]`: every row, one JSON object per line."""
    res.changed_since = changed_since
    view = make_export_view(res)
    bp.add_url_rule(f"/ventas/api/{res.name}/export.ndjson", endpoint=view.__name__, view_func=view, methods=["GET"])


def register(bp: Blueprint, res: Resource) -> Resource:
    collection, item = make_views(res)
    bp.add_url_rule(
        f"/ventas/api/{res.name}/", endpoint=collection.__name__, view_func=collection, methods=["GET", "POST"]
    )
    bp.add_url_rule(
        f"/ventas/api/{res.name}/<int:obj_id>/",
        endpoint=item.__name__,
        view_func=item,
        methods=["GET", "PUT", "PATCH", "DELETE"],
    )
    RESOURCES.append(res)
    return res
