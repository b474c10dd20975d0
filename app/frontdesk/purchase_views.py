"""Purchases create and edit (spec catalog.md §1.6): `/ventas/compras/nueva/`, `/ventas/compras/<id>/editar/`, line
rows added and removed with HTMX (`/ventas/compras/linea/`); gerente and admin (README §6). The lists and the detail
are the reports' (`reports/sales_views.py`). One call to `catalog.services.save_purchase` per save, in one unit of
work: a refused line (stock would go negative…) leaves the purchase as it was."""

from __future__ import annotations

import itertools
import time

import sqlalchemy as sa
from flask import abort, flash, render_template, request, url_for
from flask_login import current_user

from app.auth.decorators import role_required
from app.catalog.models import Product, Provider, Purchase
from app.catalog.services import save_purchase
from app.core import clock
from app.core.money import format_clp
from app.extensions import db
from app.frontdesk.blueprint import bp
from app.frontdesk.purchase_forms import PurchaseForm, PurchaseLineForm
from app.frontdesk.queries import active_methods
from app.web.forms import submit
from app.web.htmx import render_page, see_other
from app.web.params import MAX_ID, parse_int

MANAGERS = ("gerente", "admin")
_row_seq = itertools.count()


def _choices() -> dict:
    products = db.session.scalars(sa.select(Product).where(Product.is_active.is_(True)).order_by(Product.name)).all()
    providers = db.session.scalars(sa.select(Provider).order_by(Provider.name)).all()
    return {"products": products, "providers": providers, "methods": active_methods(exclude=("flow", "giftcard"))}


def _form(choices: dict, purchase: Purchase | None = None) -> PurchaseForm:
    data = {"fecha_compra": clock.today()}  # catalog.md §1.6: today by default
    if purchase is not None:
        data = {
            "fecha_compra": purchase.purchase_date,
            "proveedor_id": purchase.provider_id,
            "metodo_pago": purchase.payment_method or "",
            "numero_documento": purchase.document_number or "",
            "notas": purchase.notes or "",
            "lineas": [
                {
                    "id": line.id,
                    "producto_id": line.product_id,
                    "descripcion": line.description,
                    "cantidad": line.quantity,
                    "precio_unitario": line.unit_price,
                }
                for line in purchase.lines
            ],
        }
    product_ids = {p.id for p in choices["products"]}
    if purchase is not None:  # a line keeps its product even if the product was deactivated since
        product_ids |= {line.product_id for line in purchase.lines if line.product_id}
    form = PurchaseForm(data=data, product_ids=product_ids, method_codes={m.code for m in choices["methods"]} | {""})
    if request.method == "GET" and purchase is None:
        form.add_row()
    return form


def _page(form: PurchaseForm, choices: dict, purchase: Purchase | None):
    if form.errors or form.form_errors:
        form.renew_key()
    return render_page(
        "frontdesk/purchase_form.html",
        "purchase_form",
        status=form.status,
        form=form,
        purchase=purchase,
        lines_by_id={line.id: line for line in purchase.lines} if purchase else {},
        **choices,
    )


def _save(form: PurchaseForm, choices: dict, purchase: Purchase | None):
    if "agregar_linea" in request.form:  # without JavaScript: one more row, nothing saved
        form.add_row()
        return _page(form, choices, purchase)
    if submit(form, lambda: save_purchase(purchase, header=form.header(), lines=form.line_values(), by=current_user)):
        saved = form.result
        flash(f"Compra #{saved.id} guardada: total {format_clp(saved.total)}.", "success")
        return see_other(url_for("reports.purchase_detail", purchase_id=saved.id))
    return _page(form, choices, purchase)


@bp.route("/compras/nueva/", methods=["GET", "POST"])
@role_required(*MANAGERS)
def purchase_new():
    choices = _choices()
    form = _form(choices)
    if request.method == "POST":
        return _save(form, choices, None)
    return _page(form, choices, None)


@bp.route("/compras/<int:purchase_id>/editar/", methods=["GET", "POST"])
@role_required(*MANAGERS)
def purchase_edit(purchase_id: int):
    purchase = db.session.get(Purchase, purchase_id) if purchase_id <= MAX_ID else None
    if purchase is None:
        abort(404)
    choices = _choices()
    form = _form(choices, purchase)
    if request.method == "POST":
        return _save(form, choices, purchase)
    return _page(form, choices, purchase)


@bp.get("/compras/linea/")
@role_required(*MANAGERS)
def purchase_line_row():
    """A new empty line row (HTMX "Agregar línea"), with an index no row on the page has; `quitar=1`: nothing (the
    "Quitar" button swaps its row away with it)."""
    if request.args.get("quitar"):
        return ""
    index = parse_int(request.args.get("i")) or (int(time.time() * 1000) % 10**9) * 100 + next(_row_seq) % 100
    row = PurchaseLineForm(prefix=f"lineas-{index}-")
    return render_template("frontdesk/_purchase_line.html", row=row, products=_choices()["products"], existing=None)
