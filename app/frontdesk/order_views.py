"""Order detail dialogs (spec booking.md §9): add a service or product line, change a product's quantity, void a
product line, edit the order's own fields. Same dialog shape and single commit as the other order dialogs."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import abort, request
from flask_login import current_user

from app.auth.decorators import role_required
from app.catalog.models import Product, Provider
from app.core import clock
from app.core.errors import ValidationError
from app.extensions import db
from app.frontdesk import walk_in_queries as walk_in
from app.frontdesk.blueprint import DESK, bp
from app.frontdesk.queries import bookable_services
from app.frontdesk.views import _order_dialog, _row_post, _walk_in_choice, parse_int
from app.sales import edit_services as edit
from app.sales.models import ProductLine
from app.sales.services import LineRequest
from app.web.htmx import render_page, wants_fragment
from app.web.params import parse_day, parse_hhmm


def _product_line_or_404(order_id: int, line_id: int) -> ProductLine:
    line = db.session.get(ProductLine, line_id)
    if line is None or line.order_id != order_id:
        abort(404)
    return line


def _sellable_products() -> list[Product]:
    return list(
        db.session.scalars(
            sa.select(Product)
            .where(Product.is_active.is_(True), Product.is_gift_card.is_(False))
            .order_by(Product.name)
        )
    )


def _massage_providers() -> list[Provider]:
    return list(db.session.scalars(sa.select(Provider).where(Provider.is_active.is_(True)).order_by(Provider.name)))


@bp.route("/venta_reservas/<int:order_id>/servicios/", methods=["GET", "POST"])
@role_required(*DESK)
def order_add_service(order_id: int):
    def apply(order, form):
        day, bad = parse_day(form.get("fecha"))
        if bad:
            raise ValidationError("Fecha inválida.", field="fecha")
        provider = form.get("proveedor") or None
        req = LineRequest(
            service_id=parse_int(form.get("servicio"), field="servicio", label="Servicio"),
            day=day,
            hhmm=parse_hhmm(form.get("hora")),
            people=parse_int(form.get("personas") or "1", field="personas", label="Personas"),
            provider_id=parse_int(provider, field="proveedor", label="Terapeuta") if provider else None,
        )
        line = edit.add_service_line(order, req, by=current_user)
        return f"Servicio agregado: {line.service.name} {line.service_date:%d/%m/%Y} {line.start_time}."

    services = bookable_services()
    form = request.form if request.method == "POST" else request.args
    service, day, people = _walk_in_choice(form, services)
    grid = walk_in.hour_grid(service, day, people)
    if request.method == "GET" and request.args.get("bloque") == "horas" and wants_fragment():
        return render_page("frontdesk/_hour_grid_alone.html", grid=grid, selected=None, show_price=True)
    return _order_dialog(
        order_id,
        "frontdesk/order_add_service.html",
        apply,
        services=services,
        providers=_massage_providers(),
        today=clock.today(),
        grid=grid,
    )


@bp.route("/venta_reservas/<int:order_id>/productos/", methods=["GET", "POST"])
@role_required(*DESK)
def order_add_product(order_id: int):
    def apply(order, form):
        line = edit.add_product_line(
            order,
            product_id=parse_int(form.get("producto"), field="producto", label="Producto"),
            quantity=parse_int(form.get("cantidad") or "1", field="cantidad", label="Cantidad"),
            by=current_user,
        )
        return f"Producto agregado: {line.product.name} × {line.quantity}."

    return _order_dialog(order_id, "frontdesk/order_add_product.html", apply, products=_sellable_products())


@bp.route("/venta_reservas/<int:order_id>/productos/<int:line_id>/cantidad/", methods=["GET", "POST"])
@role_required(*DESK)
def order_product_quantity(order_id: int, line_id: int):
    line = _product_line_or_404(order_id, line_id)

    def apply(order, form):
        edit.change_product_quantity(
            line, quantity=parse_int(form.get("cantidad"), field="cantidad", label="Cantidad"), by=current_user
        )
        return f"Cantidad actualizada: {line.product.name} × {line.quantity}."

    return _order_dialog(
        order_id,
        "frontdesk/order_product_quantity.html",
        apply,
        line=lambda order: _product_line_or_404(order.id, line_id),
    )


@bp.post("/venta_reservas/<int:order_id>/productos/<int:line_id>/quitar/")
@role_required(*DESK)
def order_product_void(order_id: int, line_id: int):
    line = _product_line_or_404(order_id, line_id)
    restock = request.form.get("reponer_stock", "1") == "1"
    return _row_post(
        order_id,
        f"Producto quitado: {line.product.name}.",
        "order-changed",
        lambda: edit.void_product_line(line, by=current_user, restock=restock),
    )


def _local_datetime(raw: str | None) -> datetime | None:
    """`YYYY-MM-DDTHH:MM` from a datetime-local input, read in America/Santiago."""
    if not (raw or "").strip():
        return None
    try:
        naive = datetime.strptime(raw.strip(), "%Y-%m-%dT%H:%M")
    except ValueError:
        raise ValidationError("Fecha de venta inválida.", field="fecha_reserva") from None
    return naive.replace(tzinfo=clock.LOCAL_TZ)


@bp.route("/venta_reservas/<int:order_id>/editar/", methods=["GET", "POST"])
@role_required(*DESK)
def order_edit(order_id: int):
    def apply(order, form):
        edit.edit_order(
            order,
            comments=form.get("comentarios"),
            fiscal_document_number=form.get("documento_fiscal"),
            charged=form.get("cobrado") == "1",
            sold_at=_local_datetime(form.get("fecha_reserva")),
            by=current_user,
        )
        return f"Venta #{order.id} actualizada."

    return _order_dialog(
        order_id,
        "frontdesk/order_edit.html",
        apply,
        can_change_date=current_user.role in ("gerente", "admin"),
        sold_local=lambda order: clock.to_local(order.sold_at).strftime("%Y-%m-%dT%H:%M"),
    )
