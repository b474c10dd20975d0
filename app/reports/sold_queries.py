"""Read side of servicios vendidos and productos vendidos (spec reports.md §3–4).

Each report builds its rows, totals footer, chart and Excel from one list of WHERE clauses, so every figure covers
exactly the filtered rows. Nothing here mutates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace

import sqlalchemy as sa

from app.catalog.models import Product, ProductCategory, Provider, Service, ServiceCategory
from app.clients.models import Client
from app.reports.filters import DateRange
from app.reports.sales_queries import LINE_STATUS_LABELS, _clp_sum
from app.sales.models import Order, ProductLine, ServiceLine

NO_CATEGORY = "Sin categoría"
MONTHLY_AFTER_DAYS = 92  # the chart groups by month beyond this many days


# --- servicios vendidos ----------------------------------------------------------------------------------------


@dataclass
class ServiceSoldFilters:
    dates: DateRange
    categoria: int | None = None
    servicio: int | None = None
    proveedor: int | None = None
    estado: str | None = None
    incluir_canceladas: bool = False
    venta_reserva_id: int | None = None

    def as_args(self) -> dict[str, str]:
        args = self.dates.as_args()
        for key in ("categoria", "servicio", "proveedor", "estado", "venta_reserva_id"):
            value = getattr(self, key)
            if value is not None:
                args[key] = str(value)
        if self.incluir_canceladas:
            args["incluir_canceladas"] = "1"
        return args


def service_sold_conditions(f: ServiceSoldFilters) -> list[sa.ColumnElement]:
    """WHERE clauses over ServiceLine joined with Service (the line's date is the service date)."""
    conds: list[sa.ColumnElement] = [ServiceLine.service_date >= f.dates.start, ServiceLine.service_date <= f.dates.end]
    if f.categoria is not None:
        conds.append(Service.category_id == f.categoria)
    if f.servicio is not None:
        conds.append(ServiceLine.service_id == f.servicio)
    if f.proveedor is not None:
        conds.append(ServiceLine.provider_id == f.proveedor)
    if f.estado is not None:
        conds.append(ServiceLine.status == f.estado)
    if not f.incluir_canceladas and f.estado != "cancelada":
        conds.append(ServiceLine.status != "cancelada")
    if f.venta_reserva_id is not None:
        conds.append(ServiceLine.order_id == f.venta_reserva_id)
    return conds


SERVICE_SOLD_ORDER = (ServiceLine.service_date.desc(), ServiceLine.start_time, ServiceLine.id)


def _service_rows() -> sa.Select:
    return (
        sa.select(
            ServiceLine.id,
            ServiceLine.order_id,
            Client.name.label("client_name"),
            ServiceCategory.name.label("category_name"),
            Service.name.label("service_name"),
            ServiceLine.service_date,
            ServiceLine.start_time,
            ServiceLine.people,
            ServiceLine.subtotal,
            Provider.name.label("provider_name"),
            ServiceLine.status,
        )
        .select_from(ServiceLine)
        .join(Service, Service.id == ServiceLine.service_id)
        .join(Order, Order.id == ServiceLine.order_id)
        .join(Client, Client.id == Order.client_id)
        .outerjoin(ServiceCategory, ServiceCategory.id == Service.category_id)
        .outerjoin(Provider, Provider.id == ServiceLine.provider_id)
        .order_by(*SERVICE_SOLD_ORDER)
    )


def services_sold_select(f: ServiceSoldFilters) -> sa.Select:
    """One row per service line with the columns of the page and the Excel; service date desc, time asc, id.
    `sold_exports.service_row` unpacks these columns by position."""
    return _service_rows().where(*service_sold_conditions(f))


def services_sold_page_select(f: ServiceSoldFilters, page: int, per_page: int) -> sa.Select:
    """One page of `services_sold_select(f)`: the page's ids are chosen on the lines alone (an index-only scan of
    ix_order_service_lines_sold; services only joined for the category filter), then the 50 rows are joined."""
    ids = sa.select(ServiceLine.id)
    if f.categoria is not None:
        ids = ids.join(Service, Service.id == ServiceLine.service_id)
    ids = (
        ids.where(*service_sold_conditions(f))
        .order_by(*SERVICE_SOLD_ORDER)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return _service_rows().where(ServiceLine.id.in_(ids))


def services_sold_by_day_select(f: ServiceSoldFilters) -> sa.Select:
    """Per (service date, category): lines, Σ people, Σ amount — the chart's data and, summed, the footer; one
    statement over the filtered lines (at most days × categories rows)."""
    category = sa.func.coalesce(ServiceCategory.name, NO_CATEGORY).label("category")
    return (
        sa.select(
            ServiceLine.service_date.label("day"),
            category,
            sa.func.count(ServiceLine.id).label("n"),
            _clp_sum(ServiceLine.people).label("people"),
            _clp_sum(ServiceLine.subtotal).label("amount"),
        )
        .select_from(ServiceLine)
        .join(Service, Service.id == ServiceLine.service_id)
        .outerjoin(ServiceCategory, ServiceCategory.id == Service.category_id)
        .where(*service_sold_conditions(f))
        .group_by(ServiceLine.service_date, category)
        .order_by(ServiceLine.service_date, category)
    )


@dataclass
class ServiceSoldSummary:
    groups: list  # rows of services_sold_by_day_select

    @property
    def totals(self) -> SimpleNamespace:
        """Footer over every filtered line: n lines, Σ people, Σ amount."""
        return SimpleNamespace(
            n=sum(int(g.n) for g in self.groups),
            people=sum(int(g.people) for g in self.groups),
            amount=sum(int(g.amount) for g in self.groups),
        )

    def chart(self, dates: DateRange) -> dict:
        return chart_config([(g.day, g.category, g.amount) for g in self.groups], dates)


def services_sold_summary(session, f: ServiceSoldFilters) -> ServiceSoldSummary:
    return ServiceSoldSummary(list(session.execute(services_sold_by_day_select(f))))


def chart_config(rows, dates: DateRange) -> dict:
    """Chart.js stacked bars: amount per day (per month beyond 92 days) by category."""
    monthly = (dates.end - dates.start).days + 1 > MONTHLY_AFTER_DAYS
    buckets: dict[str, dict[str, int]] = {}
    labels: list[str] = []
    for day, category, amount in rows:
        day = day if isinstance(day, date) else date.fromisoformat(str(day))
        label = f"{day:%m/%Y}" if monthly else f"{day:%d/%m}"
        if label not in labels:
            labels.append(label)
        per_cat = buckets.setdefault(category, {})
        per_cat[label] = per_cat.get(label, 0) + int(amount)
    datasets = [
        {"label": cat, "data": [values.get(label, 0) for label in labels], "stack": "monto"}
        for cat, values in sorted(buckets.items())
    ]
    return {
        "type": "bar",
        "data": {"labels": labels, "datasets": datasets},
        "options": {
            "responsive": True,
            "scales": {"x": {"stacked": True}, "y": {"stacked": True, "beginAtZero": True, "format": "clp"}},
        },
    }


def service_line_status_label(status: str) -> str:
    return LINE_STATUS_LABELS.get(status, status)


# --- productos vendidos ----------------------------------------------------------------------------------------


@dataclass
class ProductSoldFilters:
    dates: DateRange
    proveedor: int | None = None
    producto: int | None = None
    categoria: int | None = None
    incluir_anuladas: bool = False

    def as_args(self) -> dict[str, str]:
        args = self.dates.as_args()
        for key in ("proveedor", "producto", "categoria"):
            value = getattr(self, key)
            if value is not None:
                args[key] = str(value)
        if self.incluir_anuladas:
            args["incluir_anuladas"] = "1"
        return args


def product_sold_conditions(f: ProductSoldFilters) -> list[sa.ColumnElement]:
    """WHERE clauses over ProductLine joined with Order and Product (the sale date is the order's)."""
    conds: list[sa.ColumnElement] = [Order.sold_at >= f.dates.start_utc, Order.sold_at < f.dates.end_utc]
    if f.proveedor is not None:
        conds.append(Product.provider_id == f.proveedor)
    if f.producto is not None:
        conds.append(ProductLine.product_id == f.producto)
    if f.categoria is not None:
        conds.append(Product.category_id == f.categoria)
    if not f.incluir_anuladas:
        conds += [ProductLine.status == "activa", Order.cancelled_at.is_(None)]
    return conds


def _product_from(stmt: sa.Select) -> sa.Select:
    return (
        stmt.select_from(ProductLine)
        .join(Order, Order.id == ProductLine.order_id)
        .join(Product, Product.id == ProductLine.product_id)
    )


def products_sold_select(f: ProductSoldFilters) -> sa.Select:
    """One row per product line; sale date desc, then line id."""
    return (
        _product_from(
            sa.select(
                ProductLine.id,
                ProductLine.order_id,
                Client.name.label("client_name"),
                Order.sold_at,
                Provider.name.label("provider_name"),
                Product.name.label("product_name"),
                ProductLine.quantity,
                ProductLine.unit_price,
                ProductLine.subtotal,
                ProductLine.status,
            )
        )
        .join(Client, Client.id == Order.client_id)
        .outerjoin(Provider, Provider.id == Product.provider_id)
        .where(*product_sold_conditions(f))
        .order_by(Order.sold_at.desc(), ProductLine.id.desc())
    )


def products_sold_totals_select(f: ProductSoldFilters) -> sa.Select:
    """n lines, Σ units, Σ amount over every filtered line."""
    return _product_from(
        sa.select(
            sa.func.count(ProductLine.id).label("n"),
            _clp_sum(ProductLine.quantity).label("units"),
            _clp_sum(ProductLine.subtotal).label("amount"),
        )
    ).where(*product_sold_conditions(f))


def products_sold_by_product_select(f: ProductSoldFilters) -> sa.Select:
    """ "Por producto": Producto, Proveedor, Σ units, Σ amount; biggest amount first."""
    amount = _clp_sum(ProductLine.subtotal).label("amount")
    return (
        _product_from(
            sa.select(
                Product.id,
                Product.name.label("product_name"),
                Provider.name.label("provider_name"),
                _clp_sum(ProductLine.quantity).label("units"),
                amount,
            )
        )
        .outerjoin(Provider, Provider.id == Product.provider_id)
        .where(*product_sold_conditions(f))
        .group_by(Product.id, Product.name, Provider.name)
        .order_by(amount.desc(), Product.name)
    )


# --- filter choices --------------------------------------------------------------------------------------------


def _options(part: int, entity_id, name, *order_by) -> sa.Select:
    return sa.select(
        sa.literal(part).label("part"),
        entity_id.label("id"),
        name.label("name"),
        sa.func.row_number().over(order_by=order_by).label("pos"),
    )


def _option_lists(*parts: sa.Select) -> sa.Select:
    """Several (id, name) option lists in one statement: rows (part, id, name, pos), by part then position."""
    u = sa.union_all(*parts).subquery()
    return sa.select(u.c.part, u.c.id, u.c.name).order_by(u.c.part, u.c.pos)


def service_filter_choices() -> sa.Select:
    """Service categories (part 0), services (1) and providers (2) for the servicios vendidos form."""
    return _option_lists(
        _options(0, ServiceCategory.id, ServiceCategory.name, ServiceCategory.sort_order, ServiceCategory.name),
        _options(1, Service.id, Service.name, Service.name, Service.id),
        _options(2, Provider.id, Provider.name, Provider.name, Provider.id),
    )


def product_filter_choices() -> sa.Select:
    """Providers (part 0), products (1) and product categories (2) for the productos vendidos form."""
    return _option_lists(
        _options(0, Provider.id, Provider.name, Provider.name, Provider.id),
        _options(1, Product.id, Product.name, Product.name, Product.id),
        _options(2, ProductCategory.id, ProductCategory.name, ProductCategory.name),
    )
