"""Servicios vendidos, productos vendidos and auditoría de movimientos (spec reports.md §3, §4, §8)."""

from __future__ import annotations

from functools import partial

import sqlalchemy as sa
from flask import request

from app.auth.decorators import role_required
from app.auth.models import User
from app.clients.models import EVENT_TYPES
from app.core.pagination import page_of_select, parse_page
from app.core.xlsx import export_filename, xlsx_download
from app.extensions import db
from app.reports import audit_queries as aq
from app.reports import sold_exports as exports
from app.reports import sold_queries as q
from app.reports.blueprint import bp
from app.reports.filters import parse_date_range
from app.reports.sales_queries import LINE_STATUS_LABELS
from app.reports.sales_views import MANAGERS, PER_PAGE, _page, _wants_export
from app.sales.models import BOOKING_STATUSES
from app.web.htmx import render_page, wants_fragment
from app.web.params import parse_choice, parse_flag, parse_id

AUDIT_PER_PAGE = 100


def _choices(stmt: sa.Select, parts: int = 3) -> list[dict]:
    """The (part, id, name) rows of `q.*_filter_choices()` as one {id: name} dict per part, in order."""
    lists: list[dict] = [{} for _ in range(parts)]
    for part, entity_id, name in db.session.execute(stmt):
        lists[part][entity_id] = name
    return lists


def _labelled(labels: list, key: str, value, names: dict) -> None:
    if value is not None:
        labels.append((key, names.get(value, f"#{value}")))


# --- servicios vendidos ----------------------------------------------------------------------------------------


def parse_service_filters(args) -> q.ServiceSoldFilters:
    return q.ServiceSoldFilters(
        dates=parse_date_range(args),
        categoria=parse_id(args.get("categoria")),
        servicio=parse_id(args.get("servicio")),
        proveedor=parse_id(args.get("proveedor")),
        estado=parse_choice(args.get("estado"), BOOKING_STATUSES),
        incluir_canceladas=parse_flag(args.get("incluir_canceladas")),
        venta_reserva_id=parse_id(args.get("venta_reserva_id")),
    )


def _service_labels(f: q.ServiceSoldFilters, categories: dict, services: dict, providers: dict) -> list:
    labels: list = [("Desde", f.dates.start), ("Hasta", f.dates.end), ("Fechas según", "Fecha de servicio")]
    _labelled(labels, "Categoría", f.categoria, categories)
    _labelled(labels, "Servicio", f.servicio, services)
    _labelled(labels, "Proveedor", f.proveedor, providers)
    if f.estado:
        labels.append(("Estado", LINE_STATUS_LABELS[f.estado]))
    labels.append(("Incluye canceladas", "Sí" if f.incluir_canceladas or f.estado == "cancelada" else "No"))
    if f.venta_reserva_id is not None:
        labels.append(("Venta/Reserva", f.venta_reserva_id))
    return labels


@bp.get("/servicios-vendidos/")
@role_required(*MANAGERS)
def services_sold():
    f = parse_service_filters(request.args)
    summary = q.services_sold_summary(db.session, f)
    totals = summary.totals
    if _wants_export():
        categories, services, providers = _choices(q.service_filter_choices())
        sheets = exports.service_sheets(
            db.session, f, totals=totals, filter_labels=_service_labels(f, categories, services, providers)
        )
        return xlsx_download(export_filename("Servicios_Vendidos"), sheets)
    page = page_of_select(
        db.session,
        partial(q.services_sold_page_select, f),
        totals.n,
        parse_page(request.args.get("page")),
        PER_PAGE,
        scalars=False,
    )
    chart = summary.chart(f.dates)
    categories, services, providers = ({}, {}, {}) if wants_fragment() else _choices(q.service_filter_choices())
    return render_page(
        "reports/services_sold.html",
        "services_sold",
        filters=f,
        page=page,
        totals=totals,
        chart=chart,
        rows=[exports.service_row(r) for r in page.items],
        categories=categories,
        services=services,
        providers=providers,
        statuses=LINE_STATUS_LABELS,
        headers=exports.SERVICE_HEADERS,
    )


# --- productos vendidos ----------------------------------------------------------------------------------------


def parse_product_filters(args) -> q.ProductSoldFilters:
    return q.ProductSoldFilters(
        dates=parse_date_range(args),
        proveedor=parse_id(args.get("proveedor")),
        producto=parse_id(args.get("producto")),
        categoria=parse_id(args.get("categoria")),
        incluir_anuladas=parse_flag(args.get("incluir_anuladas")),
    )


def _product_labels(f: q.ProductSoldFilters, providers: dict, products: dict, categories: dict) -> list:
    labels: list = [("Desde", f.dates.start), ("Hasta", f.dates.end), ("Fechas según", "Fecha de venta")]
    _labelled(labels, "Proveedor", f.proveedor, providers)
    _labelled(labels, "Producto", f.producto, products)
    _labelled(labels, "Categoría", f.categoria, categories)
    labels.append(("Incluye anuladas", "Sí" if f.incluir_anuladas else "No"))
    return labels


@bp.get("/productos-vendidos/")
@role_required(*MANAGERS)
def products_sold():
    f = parse_product_filters(request.args)
    totals = db.session.execute(q.products_sold_totals_select(f)).one()
    if _wants_export():
        providers, products, categories = _choices(q.product_filter_choices())
        sheets = exports.product_sheets(
            db.session, f, totals=totals, filter_labels=_product_labels(f, providers, products, categories)
        )
        return xlsx_download(export_filename("Productos_Vendidos"), sheets)
    page = _page(q.products_sold_select(f), totals.n, scalars=False)
    by_product = db.session.execute(q.products_sold_by_product_select(f)).all()
    providers, products, categories = ({}, {}, {}) if wants_fragment() else _choices(q.product_filter_choices())
    return render_page(
        "reports/products_sold.html",
        "products_sold",
        filters=f,
        page=page,
        totals=totals,
        by_product=by_product,
        providers=providers,
        products=products,
        categories=categories,
    )


# --- auditoría de movimientos ----------------------------------------------------------------------------------


def parse_audit_filters(args) -> aq.AuditFilters:
    return aq.AuditFilters(
        dates=parse_date_range(args),
        tipo_movimiento=(args.get("tipo_movimiento") or "").strip()[:60],
        usuario=(args.get("usuario") or "").strip()[:150],
        cliente=(args.get("cliente") or "").strip()[:40],
        venta_reserva_id=parse_id(args.get("venta_reserva_id")),
    )


def _audit_labels(f: aq.AuditFilters) -> list:
    labels: list = [("Desde", f.dates.start), ("Hasta", f.dates.end)]
    for label, value in (
        ("Tipo de movimiento", f.tipo_movimiento),
        ("Usuario", f.usuario),
        ("Cliente", f.cliente),
        ("Venta/Reserva", f.venta_reserva_id),
    ):
        if value:
            labels.append((label, value))
    return labels


@bp.get("/auditoria-movimientos/")
@role_required(*MANAGERS)
def audit_log():
    f = parse_audit_filters(request.args)
    total = db.session.execute(aq.audit_count_select(f)).scalar_one()
    if _wants_export():
        sheets = exports.audit_sheets(db.session, f, filter_labels=_audit_labels(f), total=total)
        return xlsx_download(export_filename("Auditoria_Movimientos"), sheets)
    page = _page(aq.audit_select(f), total, scalars=False, per_page=AUDIT_PER_PAGE)
    usernames = [] if wants_fragment() else list(db.session.scalars(sa.select(User.username).order_by(User.username)))
    return render_page(
        "reports/audit_log.html",
        "audit_log",
        filters=f,
        page=page,
        event_types=EVENT_TYPES,
        usernames=usernames,
        system_user=aq.SYSTEM_USER,
    )
