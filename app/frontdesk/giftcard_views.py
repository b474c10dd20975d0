"""Gift cards at the desk (spec booking.md §8): list, issue, detail with ledger, print, lookup, void/adjust."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from app.auth.decorators import role_required
from app.clients.models import Client
from app.core import clock
from app.core.errors import ValidationError
from app.core.money import format_clp
from app.core.pagination import paginate, parse_page
from app.core.settings import in_force
from app.extensions import db
from app.frontdesk import queries
from app.frontdesk.blueprint import DESK, bp
from app.frontdesk.giftcard_forms import (
    GiftCardAdjustForm,
    GiftCardCourtesyForm,
    GiftCardSaleForm,
    GiftCardVoidForm,
)
from app.frontdesk.queries import active_methods
from app.sales import giftcard_sale_services as giftcard_sales
from app.sales import giftcard_services as giftcards
from app.sales.models import GiftCard
from app.web.forms import submit
from app.web.htmx import render_page, see_other

COURTESY = ("gerente", "admin")


@bp.get("/giftcards/")
@role_required(*DESK)
def gift_card_list():
    from sqlalchemy.orm import selectinload

    stmt = queries.gift_card_list_statement(request.args).options(
        selectinload(GiftCard.buyer), selectinload(GiftCard.recipient)
    )
    page = paginate(db.session, stmt, parse_page(request.args.get("page")), 50)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_page(
        "frontdesk/giftcards.html",
        "giftcard_list",
        page=page,
        args=args,
        statuses=queries.GIFT_CARD_STATUS_FILTERS,
        today=clock.today(),
        origin_labels=ORIGIN_LABELS,
    )


@bp.route("/giftcards/nueva/", methods=["GET", "POST"])
@role_required(*DESK)
def gift_card_new():
    """Desk sale (spec booking.md §8.2): the card, its sale order and the payment in one transaction."""
    form = GiftCardSaleForm(fecha_vencimiento=_default_expiry())
    if submit(form, lambda: _sell(form)):
        code, card_id, amount = form.result
        flash(f"Gift card {code} vendida: pago de {format_clp(amount)} registrado.", "success")
        return see_other(url_for("frontdesk.gift_card_detail", card_id=card_id))
    form.renew_key()
    return render_page(
        "frontdesk/giftcard_new.html",
        "giftcard_form",
        status=form.status,
        form=form,
        error=_form_error(form),
        methods=sale_methods(),
        max_amount=giftcards.max_amount(),
    )


def _sell(form: GiftCardSaleForm) -> tuple[str, int, int]:
    card = giftcard_sales.sell_gift_card(
        amount=form.monto.data,
        method=form.metodo_pago.data or "",
        reference=form.referencia.data,
        by=current_user,
        buyer=_buyer(form),
        expires_on=form.fecha_vencimiento.data,
        recipient_name=form.destinatario_nombre.data,
        recipient_email=form.destinatario_email.data,
        recipient_phone=form.destinatario_telefono.data,
        message=form.mensaje.data,
    )
    return card.code, card.id, card.initial_amount


@bp.route("/giftcards/cortesia/", methods=["GET", "POST"])
@role_required(*COURTESY)
def gift_card_courtesy():
    """A card without payment (compensation, campaign): gerente/admin, reason required, audited."""
    form = GiftCardCourtesyForm(fecha_vencimiento=_default_expiry())
    if submit(form, lambda: _issue_courtesy(form)):
        code, card_id = form.result
        flash(f"Gift card de cortesía {code} emitida.", "success")
        return see_other(url_for("frontdesk.gift_card_detail", card_id=card_id))
    form.renew_key()
    return render_page(
        "frontdesk/giftcard_courtesy.html",
        "giftcard_form",
        status=form.status,
        form=form,
        error=_form_error(form),
        max_amount=giftcards.max_amount(),
    )


def _issue_courtesy(form: GiftCardCourtesyForm) -> tuple[str, int]:
    client = db.session.scalar(sa.select(Client).where(Client.phone == form.cliente_telefono.data))
    if client is None:
        raise ValidationError("No hay un cliente con ese teléfono.", field="cliente_telefono")
    card = giftcard_sales.issue_courtesy_card(
        amount=form.monto.data,
        reason=form.motivo.data or "",
        by=current_user,
        client=client,
        expires_on=form.fecha_vencimiento.data,
        recipient_name=form.destinatario_nombre.data,
        recipient_email=form.destinatario_email.data,
        recipient_phone=form.destinatario_telefono.data,
        message=form.mensaje.data,
    )
    return card.code, card.id


def sale_methods():
    """Real-money methods a card can be sold with at the desk (not Flow, not a gift card)."""
    return [m for m in active_methods(exclude=("flow", "giftcard")) if m.counts_as_cash]


def _form_error(form) -> str | None:
    """The refusal that names no field, for the dialog's alert (field errors are shown under their input)."""
    return " ".join(form.form_errors) or None


def _default_expiry() -> date:
    return clock.today() + timedelta(days=int(in_force()["GIFTCARD_VALIDITY_DAYS"]))


def _buyer(form: GiftCardSaleForm) -> Client:
    """The buyer by phone: the existing client, or a new one (name required) created like a walk-in's."""
    from app.core.identity import normalize_email
    from app.sales.checkout_services import CheckoutData, match_or_create_client

    phone = form.comprador_telefono.data
    existing = db.session.scalar(sa.select(Client).where(Client.phone == phone))
    if existing is not None:
        return existing
    name = " ".join((form.comprador_nombre.data or "").split())
    if not name:
        raise ValidationError("Cliente nuevo: ingrese el nombre del comprador.", field="comprador_nombre")
    if len(name) > 100:
        raise ValidationError("El nombre no puede superar los 100 caracteres.", field="comprador_nombre")
    email = (form.comprador_email.data or "").strip() or None
    try:
        if email is not None and (len(email) > 254 or not normalize_email(email)):
            raise ValidationError("")
    except ValidationError:
        raise ValidationError("Ingrese un e-mail válido para el comprador.", field="comprador_email") from None
    data = CheckoutData(telefono=phone, nombre=name, email=email)
    client, _ = match_or_create_client(data, origin="recepcion", by=current_user, ip=request.remote_addr)
    return client


def _card_or_404(card_id: int) -> GiftCard:
    card = db.session.get(GiftCard, card_id)
    if card is None:
        abort(404)
    return card


ORIGIN_LABELS = {
    "venta": "Venta",
    "manual": "Cortesía / manual",
    "reactivacion": "Reactivación",
    "reembolso": "Reembolso",
}


@bp.get("/giftcards/<int:card_id>/")
@role_required(*DESK)
def gift_card_detail(card_id: int):
    return _detail_page(_card_or_404(card_id))


def _detail_page(
    card: GiftCard, *, adjust_form: GiftCardAdjustForm | None = None, void_form: GiftCardVoidForm | None = None
):
    """The card and its ledger; after a refused adjustment or void, that form with its errors (422/409)."""
    from app.sales.models import Payment, PaymentMethod, ProductLine

    sale_order, sale_payments = None, []
    if card.order_line_id is not None:
        line = db.session.get(ProductLine, card.order_line_id)
        sale_order = line.order if line is not None else None
    if sale_order is not None:
        sale_payments = db.session.execute(
            sa.select(PaymentMethod.label, Payment.amount)
            .join(PaymentMethod, PaymentMethod.code == Payment.method)
            .where(Payment.order_id == sale_order.id, Payment.status == "valido")
            .order_by(Payment.id)
        ).all()
    courtesy = None
    if giftcard_sales.is_courtesy(card) and card.recipient_client_id is not None:
        from app.clients.models import ClientEvent

        courtesy = db.session.scalar(
            sa.select(ClientEvent).where(
                ClientEvent.client_id == card.recipient_client_id,
                ClientEvent.event_type == "giftcard_issued",
                ClientEvent.description.startswith(f"Gift card {card.code} ", autoescape=True),
            )
        )
    failed = adjust_form or void_form
    return render_page(
        "frontdesk/giftcard_detail.html",
        None,
        status=failed.status if failed is not None else 200,
        card=card,
        today=clock.today(),
        public_token=giftcards.public_token(card),
        origin_labels=ORIGIN_LABELS,
        sale_order=sale_order,
        sale_payments=sale_payments,
        courtesy=courtesy,
        adjust_form=adjust_form or GiftCardAdjustForm(formdata=None),
        void_form=void_form or GiftCardVoidForm(formdata=None),
        error=_form_error(failed) if failed is not None else None,
    )


@bp.get("/giftcards/<int:card_id>/imprimir/")
@role_required(*DESK)
def gift_card_print(card_id: int):
    card = _card_or_404(card_id)
    return render_page("payments/giftcard_print.html", None, card=card, today=clock.today(), staff=True)


@bp.get("/giftcards/consultar/")
@role_required(*DESK)
def gift_card_lookup():
    code = giftcards.normalize_code(request.args.get("codigo"))
    card = giftcards.find_card(code) if len(code) >= 4 else None
    return render_page("frontdesk/giftcard_lookup.html", "lookup", card=card, code=code, today=clock.today())


@bp.post("/giftcards/<int:card_id>/anular/")
@role_required("gerente", "admin")
def gift_card_void(card_id: int):
    card = _card_or_404(card_id)
    form = GiftCardVoidForm()
    if not submit(form, lambda: giftcards.void_gift_card(card, reason=form.motivo.data or "", by=current_user)):
        return _detail_page(_card_or_404(card_id), void_form=form)
    flash(f"Gift card {card.code} anulada.", "success")
    return redirect(url_for("frontdesk.gift_card_detail", card_id=card_id), 303)


@bp.post("/giftcards/<int:card_id>/ajustar/")
@role_required("gerente", "admin")
def gift_card_adjust(card_id: int):
    card = _card_or_404(card_id)
    form = GiftCardAdjustForm()
    if not submit(
        form,
        lambda: giftcards.adjust_gift_card(
            card, amount=form.monto.data, reason=form.motivo.data or "", by=current_user
        ),
    ):
        return _detail_page(_card_or_404(card_id), adjust_form=form)
    flash("Ajuste registrado.", "success")
    return redirect(url_for("frontdesk.gift_card_detail", card_id=card_id), 303)
