"""Order detail dialogs (spec booking.md §9): add a service or product line, change a product's quantity, void a
product line, edit the order's own fields. Same dialog shape and single commit as the other order dialogs."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, request
from flask_login import current_user

from app.auth.decorators import role_required
from app.catalog.models import Product, Provider
from app.core import clock
from app.extensions import db
from app.frontdesk import walk_in_queries as walk_in
from app.frontdesk.blueprint import DESK, bp
from app.frontdesk.dialogs import new_form, order_dialog, row_post, walk_in_choice
from app.frontdesk.forms import AddProductForm, AddServiceForm, OrderEditForm, ProductQuantityForm
from app.frontdesk.queries import bookable_services
from app.sales import edit_services as edit
from app.sales.models import ProductLine
from app.sales.services import LineRequest
from app.web.htmx import render_page, wants_fragment


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
        req = LineRequest(
            service_id=form.servicio.data,
            day=form.fecha.data or clock.today(),
            hhmm=form.hora.data,
            people=1 if form.personas.data is None else form.personas.data,
            provider_id=form.proveedor.data,
        )
        line = edit.add_service_line(order, req, by=current_user)
        return f"Servicio agregado: {line.service.name} {line.service_date:%d/%m/%Y} {line.start_time}."

    services = bookable_services()
    form = AddServiceForm() if request.method == "POST" else AddServiceForm(formdata=request.args or None)
    service, day, people = walk_in_choice(form, services)
    grid = walk_in.hour_grid(service, day, people)
    if request.method == "GET" and request.args.get("bloque") == "horas" and wants_fragment():
        return render_page("frontdesk/_hour_grid_alone.html", grid=grid, selected=None, show_price=True)
    return order_dialog(
        order_id,
        "frontdesk/order_add_service.html",
        lambda order: form,
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
            product_id=form.producto.data,
            quantity=1 if form.cantidad.data is None else form.cantidad.data,
            by=current_user,
        )
        return f"Producto agregado: {line.product.name} × {line.quantity}."

    return order_dialog(
        order_id,
        "frontdesk/order_add_product.html",
        lambda order: new_form(AddProductForm, cantidad=1),
        apply,
        products=_sellable_products(),
    )


@bp.route("/venta_reservas/<int:order_id>/productos/<int:line_id>/cantidad/", methods=["GET", "POST"])
@role_required(*DESK)
def order_product_quantity(order_id: int, line_id: int):
    line = _product_line_or_404(order_id, line_id)

    def apply(order, form):
        edit.change_product_quantity(line, quantity=form.cantidad.data, by=current_user)
        return f"Cantidad actualizada: {line.product.name} × {line.quantity}."

    return order_dialog(
        order_id,
        "frontdesk/order_product_quantity.html",
        lambda order: new_form(ProductQuantityForm, cantidad=line.quantity),
        apply,
        line=lambda order: _product_line_or_404(order.id, line_id),
    )


@bp.post("/venta_reservas/<int:order_id>/productos/<int:line_id>/quitar/")
@role_required(*DESK)
def order_product_void(order_id: int, line_id: int):
    line = _product_line_or_404(order_id, line_id)
    restock = request.form.get("reponer_stock", "1") == "1"
    return row_post(
        order_id,
        f"Producto quitado: {line.product.name}.",
        "order-changed",
        lambda: edit.void_product_line(line, by=current_user, restock=restock),
    )


@bp.route("/venta_reservas/<int:order_id>/editar/", methods=["GET", "POST"])
@role_required(*DESK)
def order_edit(order_id: int):
    def apply(order, form):
        edit.edit_order(
            order,
            comments=form.comentarios.data,
            fiscal_document_number=form.documento_fiscal.data,
            charged=form.cobrado.data,
            sold_at=form.fecha_reserva.data,
            by=current_user,
        )
        return f"Venta #{order.id} actualizada."

    def make_form(order):
        return new_form(
            OrderEditForm,
            comentarios=order.comments or "",
            documento_fiscal=order.fiscal_document_number or "",
            cobrado=order.charged,
            fecha_reserva=order.sold_at,
        )

    return order_dialog(
        order_id,
        "frontdesk/order_edit.html",
        make_form,
        apply,
        can_change_date=current_user.role in ("gerente", "admin"),
    )
