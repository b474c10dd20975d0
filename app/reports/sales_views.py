"""Sales list/detail/print and purchases lists (spec reports.md §5–6): parse -> query -> render."""

from __future__ import annotations

import re

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.decorators import role_required
from app.core import clock
from app.core.errors import DomainError
from app.core.pagination import Page, page_of, parse_page
from app.core.signing import order_token
from app.core.uow import unit_of_work
from app.core.xlsx import export_filename, xlsx_download
from app.extensions import db
from app.reports import sales_exports as exports
from app.reports import sales_queries as q
from app.reports.blueprint import bp
from app.reports.filters import parse_date_range
from app.sales.models import BOOKING_STATUSES, ORDER_ORIGINS, PAYMENT_STATUS_LABELS, PAYMENT_STATUSES
from app.web.htmx import render_page, wants_fragment
from app.web.params import MAX_ID, parse_choice, parse_id

DESK = ("recepcion", "gerente", "admin")
MANAGERS = ("gerente", "admin")
PER_PAGE = 50
EXPORT_VALUES = ("excel", "xlsx")
YES = ("si", "sí", "1", "true", "on")
NO = ("no", "0", "false", "off")


def _wants_export() -> bool:
    return request.args.get("export") in EXPORT_VALUES


def _page(stmt, total: int, *, scalars: bool, per_page: int = PER_PAGE) -> Page:
    """One page of `stmt`; the row count comes from the totals statement (no separate COUNT)."""
    return page_of(db.session, stmt, total, parse_page(request.args.get("page")), per_page, scalars=scalars)


def _get_or_404(entity_id: int, loader):
    if entity_id > MAX_ID:
        abort(404)
    found = loader(entity_id)
    if found is None:
        abort(404)
    return found


# --- orders --------------------------------------------------------------------------------------------------


def parse_order_filters(args) -> q.OrderFilters:
    refund = (args.get("requiere_reembolso") or "").strip().lower()
    return q.OrderFilters(
        dates=parse_date_range(args),
        base=parse_choice(args.get("base"), q.BASES) or "venta",
        categoria=parse_id(args.get("categoria")),
        servicio=parse_id(args.get("servicio")),
        estado_pago=parse_choice(args.get("estado_pago"), PAYMENT_STATUSES),
        estado_reserva=parse_choice(args.get("estado_reserva"), BOOKING_STATUSES),
        origen=parse_choice(args.get("origen"), ORDER_ORIGINS),
        requiere_reembolso=True if refund in YES else False if refund in NO else None,
        q=(args.get("q") or "").strip()[:100],
    )


def _order_filter_labels(f: q.OrderFilters, categories: dict, services: dict) -> list[tuple[str, object]]:
    labels: list[tuple[str, object]] = [
        ("Desde", f.dates.start),
        ("Hasta", f.dates.end),
        ("Fechas según", "Fecha de servicio" if f.base == "servicio" else "Fecha de venta"),
    ]
    if f.categoria is not None:
        labels.append(("Categoría", categories.get(f.categoria, f"#{f.categoria}")))
    if f.servicio is not None:
        labels.append(("Servicio", services.get(f.servicio, f"#{f.servicio}")))
    if f.estado_pago:
        labels.append(("Estado pago", PAYMENT_STATUS_LABELS[f.estado_pago]))
    if f.estado_reserva:
        labels.append(("Estado reserva", q.BOOKING_STATUS_LABELS[f.estado_reserva]))
    if f.origen:
        labels.append(("Origen", q.ORIGIN_LABELS[f.origen]))
    if f.requiere_reembolso is not None:
        labels.append(("Requiere reembolso", "Sí" if f.requiere_reembolso else "No"))
    if f.q:
        labels.append(("Búsqueda", f.q))
    return labels


def _order_choices() -> tuple[dict[int, str], dict[int, str]]:
    cat_stmt, svc_stmt = q.filter_choices_select()
    return dict(db.session.execute(cat_stmt).all()), dict(db.session.execute(svc_stmt).all())


@bp.get("/venta_reservas/")
@role_required(*DESK)
def order_list():
    f = parse_order_filters(request.args)
    totals = db.session.execute(q.order_totals_select(f)).one()
    if _wants_export():
        categories, services = _order_choices()
        sheets = exports.order_sheets(
            db.session, f, filter_labels=_order_filter_labels(f, categories, services), totals=totals
        )
        return xlsx_download(export_filename("Ventas_Reservas"), sheets)
    page = _page(q.orders_select(f), totals.n, scalars=True)
    summaries = q.line_summaries(db.session, [o.id for o in page.items])
    categories, services = ({}, {}) if wants_fragment() else _order_choices()
    return render_page(
        "reports/sales_orders.html",
        "order_list",
        filters=f,
        page=page,
        totals=totals,
        summaries=summaries,
        empty_summary=q.LineSummary(),
        categories=categories,
        services=services,
        payment_statuses=PAYMENT_STATUS_LABELS,
        booking_statuses=q.BOOKING_STATUS_LABELS,
        origins=q.ORIGIN_LABELS,
        now=clock.now(),
        payment_label=q.payment_label,
    )


def _order_context(order_id: int) -> dict:
    detail = _get_or_404(order_id, lambda oid: q.load_order_detail(db.session, oid))
    order = detail.order
    return {
        "detail": detail,
        "order": order,
        "today": clock.today(),
        "payment_status_label": order.payment_status_label,
        "booking_status_label": q.BOOKING_STATUS_LABELS.get(order.booking_status, order.booking_status),
        "origin_label": q.ORIGIN_LABELS.get(order.origin, order.origin),
        "line_status_labels": q.LINE_STATUS_LABELS,
        "product_status_labels": q.PRODUCT_LINE_STATUS_LABELS,
    }


@bp.get("/venta_reservas/<int:order_id>/")
@role_required(*DESK)
def order_detail(order_id: int):
    ctx = _order_context(order_id)
    block = parse_choice(request.args.get("bloque"), q.DETAIL_BLOCKS)
    public_url = url_for("shop.order_page", token=order_token(order_id))
    return render_page("reports/sales_order_detail.html", block, public_url=public_url, **ctx)


@bp.post("/venta_reservas/<int:order_id>/reenviar-confirmacion/")
@role_required(*DESK)
def order_resend_confirmation(order_id: int):
    """ "Reenviar confirmación": queue a new confirmation (SMS + e-mail) rendered from the order's current data; a
    refusal (a cancelled order) is answered in place, in the actions bar."""
    from app.automations.services import resend_confirmation
    from app.sales.models import Order

    order = _get_or_404(order_id, lambda oid: db.session.get(Order, oid))
    try:
        with unit_of_work():
            resend_confirmation(order, by=current_user)
        message, status, category = "Confirmación en cola de envío (SMS y correo electrónico).", 200, "success"
    except DomainError as exc:
        message, status, category = exc.message, exc.status, "danger"
    if not wants_fragment():
        flash(message, category)
        return redirect(url_for("reports.order_detail", order_id=order_id), 303)
    return render_page(
        "reports/sales_order_detail.html",
        "order_actions",
        status=status,
        resend_message=message,
        resend_ok=status == 200,
        **_order_context(order_id),
    )


@bp.get("/venta_reservas/<int:order_id>/imprimir/")
@role_required(*DESK)
def order_print(order_id: int):
    return render_template("reports/sales_order_print.html", printed_at=clock.now(), **_order_context(order_id))


# --- purchases -----------------------------------------------------------------------------------------------


def parse_purchase_filters(args) -> q.PurchaseFilters:
    return q.PurchaseFilters(
        dates=parse_date_range(args), proveedor=parse_id(args.get("proveedor")), producto=parse_id(args.get("producto"))
    )


def _purchase_choices() -> tuple[dict[int, str], dict[int, str]]:
    prov_stmt, prod_stmt = q.purchase_filter_choices_select()
    return dict(db.session.execute(prov_stmt).all()), dict(db.session.execute(prod_stmt).all())


def _purchase_export(f: q.PurchaseFilters):
    providers, products = _purchase_choices()
    labels: list[tuple[str, object]] = [("Desde", f.dates.start), ("Hasta", f.dates.end)]
    if f.proveedor is not None:
        labels.append(("Proveedor", providers.get(f.proveedor, f"#{f.proveedor}")))
    if f.producto is not None:
        labels.append(("Producto", products.get(f.producto, f"#{f.producto}")))
    totals = db.session.execute(q.purchase_totals_select(f)).one()
    line_totals = db.session.execute(q.purchase_line_totals_select(f)).one()
    sheets = exports.purchase_sheets(db.session, f, filter_labels=labels, totals=totals, line_totals=line_totals)
    return xlsx_download(export_filename("Compras"), sheets)


def _purchase_page(template: str, block: str, select, totals_select, **extra):
    f = parse_purchase_filters(request.args)
    if _wants_export():
        return _purchase_export(f)
    totals = db.session.execute(totals_select(f)).one()
    page = _page(select(f), totals.n, scalars=False)
    providers, products = ({}, {}) if wants_fragment() else _purchase_choices()
    return render_page(
        template, block, filters=f, page=page, totals=totals, providers=providers, products=products, **extra
    )


@bp.get("/compras/")
@role_required(*MANAGERS)
def purchase_list():
    return _purchase_page("reports/purchase_list.html", "purchase_list", q.purchases_select, q.purchase_totals_select)


@bp.get("/detalles-compras/")
@role_required(*MANAGERS)
def purchase_line_list():
    return _purchase_page(
        "reports/purchase_lines.html", "purchase_line_list", q.purchase_lines_select, q.purchase_line_totals_select
    )


_EDIT_RULE = re.compile(r"/ventas/compras/<(?:int:)?(\w+)>/editar/")


def purchase_edit_url(purchase_id: int) -> str | None:
    """The purchase edit screen (`/ventas/compras/<id>/editar/`, catalog.md §1.6) when one is installed; else the
    back-office edit view when the user may edit there; else None (no link)."""
    for rule in current_app.url_map.iter_rules():
        m = _EDIT_RULE.fullmatch(rule.rule)
        if m and "GET" in (rule.methods or ()):
            roles = getattr(current_app.view_functions[rule.endpoint], "_roles", None)
            if roles is None or getattr(current_user, "role", None) in roles:
                return url_for(rule.endpoint, **{m.group(1): purchase_id})
    for admin in current_app.extensions.get("admin", []):
        for view in admin._views:
            if view.endpoint == "purchase" and getattr(view, "can_edit", False):
                return url_for("purchase.edit_view", id=purchase_id)
    return None


@bp.get("/compras/<int:purchase_id>/")
@role_required(*MANAGERS)
def purchase_detail(purchase_id: int):
    purchase, method_label = _get_or_404(
        purchase_id, lambda pid: db.session.execute(q.purchase_detail_select(pid)).unique().one_or_none()
    )
    return render_template(
        "reports/purchase_detail.html",
        purchase=purchase,
        method_label=method_label,
        edit_url=purchase_edit_url(purchase_id),
    )


@bp.get("/detalles-compras/<int:line_id>/")
@role_required(*MANAGERS)
def purchase_line_detail(line_id: int):
    line = _get_or_404(line_id, lambda lid: db.session.scalars(q.purchase_line_detail_select(lid)).one_or_none())
    return render_template("reports/purchase_line_detail.html", line=line)
