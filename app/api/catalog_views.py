"""Catalogue resources: proveedores, categorias, productos, servicios, categorias-servicio (spec api.md §4)."""

from __future__ import annotations

from datetime import time

import sqlalchemy as sa

from app.api.blueprint import bp
from app.api.resource_views import ApiValidationError, Bound, Field, Filter, Resource, equals, non_blank, register
from app.catalog.models import Product, ProductCategory, Provider, Service, ServiceCategory, SlotBlock
from app.catalog.policy import SERVICE_TYPES, validate_slot_grid
from app.catalog.services import adjust_stock
from app.core.errors import HasHistory, ValidationError
from app.extensions import db

MANAGERS = frozenset({"gerente", "admin"})


def _contains_pattern(value: str) -> str:
    return f"%{value.replace('%', '').replace('_', '')}%"


def search(*columns) -> Bound:
    return Bound(lambda pattern: sa.or_(*(col.ilike(pattern) for col in columns)), _contains_pattern)


def media_url(filename: str | None) -> str | None:
    from app.web.urls import public_url

    return public_url("media.media", filename=filename) if filename else None


def _unique_name(model, value: str, obj_id: int | None) -> None:
    stmt = sa.select(model.id).where(sa.func.lower(model.name) == value.lower())
    if obj_id is not None:
        stmt = stmt.where(model.id != obj_id)
    if db.session.scalar(stmt) is not None:
        raise ApiValidationError({"nombre": ["Ya existe un registro con este nombre."]})


register(
    bp,
    Resource(
        name="proveedores",
        model=Provider,
        summary="Proveedores y terapeutas",
        fields=[
            Field("id", "integer", attr="id", write=False),
            Field("nombre", attr="name", required=True, max_length=100, check=non_blank),
            Field("direccion", attr="address", nullable=True, max_length=255),
            Field("telefono", attr="phone", nullable=True, max_length=20),
            Field("email", attr="email", nullable=True, max_length=254),
            Field("activo", "boolean", attr="is_active"),
        ],
        filters=[
            Filter("activo", "boolean", equals(Provider.is_active)),
            Filter("q", "string", search(Provider.name, Provider.email, Provider.phone), "texto en nombre/e-mail"),
        ],
    ),
)


class NamedResource(Resource):
    """Categories: the name is unique (400 on a duplicate)."""

    def create(self, values, by):
        _unique_name(self.model, values["nombre"], None)
        return super().create(values, by)

    def update(self, obj, values, by, *, partial):
        if "nombre" in values:
            _unique_name(self.model, values["nombre"], obj.id)
        return super().update(obj, values, by, partial=partial)


register(
    bp,
    NamedResource(
        name="categorias",
        model=ProductCategory,
        summary="Categorías de productos",
        fields=[
            Field("id", "integer", attr="id", write=False),
            Field("nombre", attr="name", required=True, max_length=100, check=non_blank),
        ],
        filters=[Filter("q", "string", search(ProductCategory.name))],
    ),
)


class ProductResource(Resource):
    """`cantidad_disponible` changes are stock adjustments (reason `ajuste`, note "API")."""

    def assign(self, obj, values, by):
        super().assign(obj, {k: v for k, v in values.items() if k != "cantidad_disponible"}, by)

    def _set_stock(self, product, values, by):
        if "cantidad_disponible" in values and not product.is_gift_card:
            adjust_stock(product, values["cantidad_disponible"] - product.stock, note="API", by=by)

    @staticmethod
    def _check_gift_card(product):
        from app.sales.giftcard_services import check_gift_card_product

        try:
            check_gift_card_product(product)
        except ValidationError as exc:
            raise ApiValidationError({"precio_base": [exc.message]}) from None

    def create(self, values, by):
        product = super().create(values, by)
        self._check_gift_card(product)
        self._set_stock(product, values, by)
        return product

    def update(self, obj, values, by, *, partial):
        super().update(obj, values, by, partial=partial)
        self._check_gift_card(obj)
        self._set_stock(obj, values, by)
        return obj

    def delete(self, obj, by):
        from app.sales.models import CartProductLine, ProductLine

        if any(
            db.session.scalar(sa.select(sa.exists().where(col == obj.id)))
            for col in (ProductLine.product_id, CartProductLine.product_id)
        ):
            raise HasHistory()
        return super().delete(obj, by)


register(
    bp,
    ProductResource(
        name="productos",
        model=Product,
        summary="Productos",
        fields=[
            Field("id", "integer", attr="id", write=False),
            Field("nombre", attr="name", required=True, max_length=100, check=non_blank),
            Field("precio_base", "integer", attr="base_price", required=True, minimum=0),
            Field("cantidad_disponible", "integer", attr="stock", minimum=0),
            Field("proveedor", "integer", attr="provider_id", nullable=True, ref=Provider),
            Field("categoria", "integer", attr="category_id", nullable=True, ref=ProductCategory),
            Field("activo", "boolean", attr="is_active"),
            Field("publicado_web", "boolean", attr="is_published"),
            Field("es_giftcard", "boolean", attr="is_gift_card"),
        ],
        filters=[
            Filter("categoria", "integer", equals(Product.category_id)),
            Filter("proveedor", "integer", equals(Product.provider_id)),
            Filter("activo", "boolean", equals(Product.is_active)),
            Filter("q", "string", search(Product.name)),
        ],
    ),
)


def _grid(value):
    try:
        return validate_slot_grid(value)
    except ValidationError as exc:
        raise ValueError(exc.message) from None


class ServiceResource(Resource):
    """Anonymous callers see active, published services only."""

    def visible(self, stmt, staff):
        return stmt if staff else stmt.where(Service.is_active.is_(True), Service.is_published.is_(True))

    def load_options(self):
        from sqlalchemy.orm import selectinload

        return [selectinload(Service.providers)]

    def assign(self, obj, values, by):
        values = dict(values)
        for name, attr in (("horario_apertura", "opening_time"), ("horario_cierre", "closing_time")):
            if name in values:
                setattr(obj, attr, time.fromisoformat(values.pop(name)))
        if "proveedores" in values:
            ids = sorted(set(values.pop("proveedores")))
            found = list(db.session.scalars(sa.select(Provider).where(Provider.id.in_(ids)))) if ids else []
            if len(found) != len(ids):
                raise ApiValidationError({"proveedores": ["Algún proveedor no existe."]})
            obj.providers = found
        super().assign(obj, values, by)
        if obj.max_people is not None and obj.min_people is not None and obj.min_people > obj.max_people:
            raise ApiValidationError({"capacidad_maxima": ["Debe ser mayor o igual a capacidad_minima."]})

    def delete(self, obj, by):
        from app.sales.models import CartHold, ServiceLine

        if any(
            db.session.scalar(sa.select(sa.exists().where(col == obj.id)))
            for col in (ServiceLine.service_id, CartHold.service_id, SlotBlock.service_id)
        ):
            raise HasHistory()
        return super().delete(obj, by)


register(
    bp,
    ServiceResource(
        name="servicios",
        model=Service,
        read_roles=None,
        summary="Servicios (anónimos: activos y publicados)",
        fields=[
            Field("id", "integer", attr="id", write=False),
            Field("nombre", attr="name", required=True, max_length=100, check=non_blank),
            Field("precio_base", "integer", attr="base_price", required=True, minimum=0),
            Field("duracion", "integer", attr="duration_minutes", minimum=1, description="minutos"),
            Field("categoria", "integer", attr="category_id", nullable=True, ref=ServiceCategory),
            Field("proveedores", "array", get=lambda s: [p.id for p in s.providers]),
            Field("capacidad_minima", "integer", attr="min_people", minimum=1),
            Field("capacidad_maxima", "integer", attr="max_people", minimum=1),
            Field("max_reservas_simultaneas", "integer", attr="max_concurrent_bookings", minimum=1),
            Field("horario_apertura", "time", attr="opening_time"),
            Field("horario_cierre", "time", attr="closing_time"),
            Field(
                "slots_disponibles",
                "object",
                attr="slot_grid",
                check=_grid,
                description="grilla semanal: monday…sunday → lista de HH:MM",
            ),
            Field("activo", "boolean", attr="is_active"),
            Field("publicado_web", "boolean", attr="is_published"),
            Field("tipo_servicio", attr="service_type", enum=SERVICE_TYPES),
            Field("imagen", get=lambda s: media_url(s.image), write=False, nullable=True),
            Field("descripcion_web", attr="web_description", nullable=True, max_length=5000),
            Field("regla_precio", get=lambda s: s.pricing_rule, write=False),
            Field("etiqueta_precio", get=lambda s: s.price_label, write=False),
        ],
        filters=[
            Filter("categoria", "integer", equals(Service.category_id)),
            Filter("tipo_servicio", "string", equals(Service.service_type), enum=SERVICE_TYPES),
            Filter("activo", "boolean", equals(Service.is_active)),
            Filter("publicado_web", "boolean", equals(Service.is_published)),
        ],
    ),
)


register(
    bp,
    NamedResource(
        name="categorias-servicio",
        model=ServiceCategory,
        read_roles=None,
        summary="Categorías de servicios",
        fields=[
            Field("id", "integer", attr="id", write=False),
            Field("nombre", attr="name", required=True, max_length=100, check=non_blank),
            Field("horarios", attr="schedule_note", nullable=True, max_length=2000),
            Field("imagen", get=lambda c: media_url(c.image), write=False, nullable=True),
            Field("descripcion", attr="description", nullable=True, max_length=5000),
            Field("orden", "integer", attr="sort_order", minimum=0),
        ],
    ),
)
