"""Gift cards at the desk (spec booking.md §8): list, issue, detail with ledger, print, lookup, void/adjust."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from app.auth.decorators import role_required
from app.clients.models import Client
from app.core import clock
from app.core.errors import DomainError, ValidationError
from app.core.pagination import paginate, parse_page
from app.extensions import db
from app.frontdesk import queries
from app.frontdesk.views import DESK, bp, parse_int
from app.payments import giftcards
from app.payments.models import GiftCard
from app.web.htmx import render_page


@bp.get("/giftcards/")
@role_required(*DESK)
def gift_card_list():
    from sqlalchemy.orm import selectinload

    stmt = queries.gift_card_list_statement(request.args).options(selectinload(GiftCard.buyer),
                                                          selectinload(GiftCard.recipient))
    page = paginate(db.session, stmt, parse_page(request.args.get("page")), 50)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_page("frontdesk/giftcards.html", "giftcard_list", page=page, args=args,
                       statuses=queries.GIFT_CARD_STATUS_FILTERS, today=clock.today())


@bp.route("/giftcards/nueva/", methods=["GET", "POST"])
@role_required(*DESK)
def gift_card_new():
    form = request.form
    error, status = None, 200
    if request.method == "POST":
        try:
            amount = parse_int(form.get("monto"), field="monto", label="Monto")
            expires = None
            if form.get("fecha_vencimiento"):
                try:
                    expires = date.fromisoformat(form["fecha_vencimiento"])
                except ValueError:
                    raise ValidationError("Fecha de vencimiento inválida.", field="fecha_vencimiento") from None
            buyer_id = _client_id_by_phone(form.get("comprador_telefono"))
            card = giftcards.issue_gift_card(
                amount=amount, expires_on=expires, by=current_user, origin="manual", buyer_client_id=buyer_id,
                recipient_name=form.get("destinatario_nombre"), recipient_email=form.get("destinatario_email"),
                recipient_phone=form.get("destinatario_telefono"), message=form.get("mensaje"))
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            error, status = exc.message, exc.status
        else:
            flash(f"Gift card {card.code} emitida.", "success")
            return redirect(url_for("frontdesk.gift_card_detail", card_id=card.id), 303)
    return render_page("frontdesk/giftcard_new.html", "giftcard_form", status=status, form=form, error=error,
                       default_expiry=clock.today().replace(year=clock.today().year + 1))


def _client_id_by_phone(raw: str | None) -> int | None:
    from app.core.phone import normalize_phone

    if not (raw or "").strip():
        return None
    phone = normalize_phone(raw)
    client_id = db.session.scalar(sa.select(Client.id).where(Client.phone == phone))
    if client_id is None:
        raise ValidationError("No hay un cliente con ese teléfono.", field="comprador_telefono")
    return client_id


def _card_or_404(card_id: int) -> GiftCard:
    card = db.session.get(GiftCard, card_id)
    if card is None:
        abort(404)
    return card


@bp.get("/giftcards/<int:card_id>/")
@role_required(*DESK)
def gift_card_detail(card_id: int):
    card = _card_or_404(card_id)
    return render_page("frontdesk/giftcard_detail.html", None, card=card, today=clock.today(),
                       public_token=giftcards.public_token(card))


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
    try:
        giftcards.void_gift_card(card, reason=request.form.get("motivo", ""), by=current_user)
        db.session.commit()
        flash(f"Gift card {card.code} anulada.", "success")
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    return redirect(url_for("frontdesk.gift_card_detail", card_id=card_id), 303)


@bp.post("/giftcards/<int:card_id>/ajustar/")
@role_required("gerente", "admin")
def gift_card_adjust(card_id: int):
    card = _card_or_404(card_id)
    try:
        amount = parse_int(request.form.get("monto"), field="monto", label="Ajuste")
        giftcards.adjust_gift_card(card, amount=amount, reason=request.form.get("motivo", ""), by=current_user)
        db.session.commit()
        flash("Ajuste registrado.", "success")
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    return redirect(url_for("frontdesk.gift_card_detail", card_id=card_id), 303)
