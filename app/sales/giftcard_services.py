"""Gift cards (spec booking.md §8): issue, redeem under a row lock, reverse, void, adjust. Balance = ledger.

Services flush, never commit. Redemption itself is a payment (method `giftcard`), recorded by
`payment_services.record_payment`, which calls `redeem` below in the same transaction.
"""

from __future__ import annotations

import secrets
import string
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app

from app.clients.models import Client
from app.clients.services import record_event
from app.core import clock
from app.core.errors import ConflictError, Msg, ValidationError
from app.core.identity import normalize_email
from app.core.money import AmountTooLarge, format_clp, parse_clp, require_positive
from app.core.phone import InvalidPhone, normalize_phone
from app.core.settings import in_force
from app.core.signing import sign_value, unsign_value
from app.extensions import db
from app.sales import (
    signals,
)
from app.sales.models import GiftCard, GiftCardEntry

CODE_ALPHABET = string.ascii_uppercase + string.digits
MIN_AMOUNT = 1000  # spec booking.md §8.2: desk and courtesy cards 1.000 … GIFTCARD_MAX_AMOUNT
DEFAULT_MAX_AMOUNT = 1_000_000
# Bounded when issued: manual cards. Sold cards are bounded where their amount enters (desk sale, cart, gift-card
# product price), so issuing a paid line's card never fails after the money arrived; reactivation amounts come from
# config, refund cards from money already paid.
BOUNDED_ORIGINS = ("manual",)
COURTESY_ROLES = ("gerente", "admin")
CODE_LENGTH = 12
PUBLIC_SALT = "giftcard-public"
NOT_FOUND = "Gift card no encontrada."
# Tests switch this off to show that without the row lock concurrent redemptions overdraw (negative control).
LOCKING_ENABLED = True


class InsufficientGiftCardBalance(ConflictError):
    """The card's balance is below the amount asked for (409, "Saldo insuficiente: disponible $X.")."""

    code = "giftcard_unavailable"  # api.md §2


def max_amount() -> int:
    """GIFTCARD_MAX_AMOUNT (CLP): the most a card may be issued for or hold after an adjustment."""
    return int(current_app.config.get("GIFTCARD_MAX_AMOUNT") or DEFAULT_MAX_AMOUNT)


def max_amount_message() -> str:
    return Msg("El monto máximo de una gift card es %(amount)s.", amount=format_clp(max_amount()))


def parse_card_amount(text: str | None) -> int:
    """`parse_clp` for a card amount typed in a form: a number too long for `parse_clp` stands for "just beyond
    GIFTCARD_MAX_AMOUNT" (same sign), so the card's own bound answers ("El monto máximo …") rather than "not a
    number". ValueError when it is not an integer."""
    try:
        return parse_clp(text or "")
    except AmountTooLarge as exc:
        return -(max_amount() + 1) if exc.negative else max_amount() + 1


def check_amount(amount, *, minimum: int = MIN_AMOUNT, field: str = "monto") -> int:
    """A card amount: an integer CLP in [minimum, GIFTCARD_MAX_AMOUNT] (so it always fits the BIGINT column);
    else a Spanish ValidationError (422)."""
    require_positive(amount, field=field)
    if amount > max_amount():
        raise ValidationError(max_amount_message(), field=field)
    if amount < minimum:
        raise ValidationError(
            Msg("El monto mínimo de una gift card es %(amount)s.", amount=format_clp(minimum)), field=field
        )
    return amount


def check_gift_card_product(product) -> None:
    """A gift-card product's face value (0 = amount typed at sale) may not exceed GIFTCARD_MAX_AMOUNT: selling it
    would issue a card beyond the bound. ValidationError on `precio_base`."""
    if product.is_gift_card and (product.base_price or 0) > max_amount():
        raise ValidationError(max_amount_message(), field="precio_base")


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(raw: str | None) -> str:
    return "".join((raw or "").split()).upper().replace("-", "")


def public_token(card: GiftCard) -> str:
    return sign_value(card.code, PUBLIC_SALT)


def card_from_token(token: str) -> GiftCard | None:
    code = unsign_value(token, PUBLIC_SALT)
    return find_card(code) if isinstance(code, str) else None


def find_card(code: str | None, *, lock: bool = False) -> GiftCard | None:
    stmt = sa.select(GiftCard).where(GiftCard.code == normalize_code(code))
    if lock and LOCKING_ENABLED:  # lock 6 of the global lock order (sales.locks); re-read every column (the
        # status too: a card voided meanwhile), and NO KEY UPDATE so rows that reference the card never wait on it
        stmt = stmt.with_for_update(key_share=True).execution_options(populate_existing=True)
    return db.session.scalar(stmt)


def refresh_balance(card: GiftCard) -> int:
    """Re-read the ledger balance after entries were added in this transaction; sets the status; flushes."""
    db.session.flush()
    db.session.expire(card, ["balance"])
    if card.status != "anulada":
        card.status = "cobrado" if card.balance <= 0 else "por_cobrar"
    db.session.flush()
    return card.balance


def issue_gift_card(
    *,
    amount: int,
    by=None,
    expires_on: date | None = None,
    origin: str = "manual",
    buyer_client_id: int | None = None,
    recipient_client_id: int | None = None,
    recipient_name: str | None = None,
    recipient_email: str | None = None,
    recipient_phone: str | None = None,
    message: str | None = None,
    order_line_id: int | None = None,
    source_key: str | None = None,
    order_id: int | None = None,
    audit: bool = True,
) -> GiftCard:
    """Create a card with a fresh random code (retried on collision); audit `giftcard_issued` (unless the caller
    writes its own entry); flushes."""

    if origin in BOUNDED_ORIGINS:
        check_amount(amount, minimum=1)
    else:
        require_positive(amount)
    today = clock.today()
    expires_on = expires_on or today + timedelta(days=int(in_force()["GIFTCARD_VALIDITY_DAYS"]))
    if expires_on < today:
        raise ValidationError("La fecha de vencimiento no puede ser anterior a hoy.", field="fecha_vencimiento")
    if source_key:
        existing = db.session.scalar(sa.select(GiftCard).where(GiftCard.source_key == source_key))
        if existing is not None:
            return existing
    code = new_code()
    while db.session.scalar(sa.select(sa.exists().where(GiftCard.code == code))):
        code = new_code()
    card = GiftCard(
        code=code,
        initial_amount=amount,
        issued_on=today,
        expires_on=expires_on,
        origin=origin,
        buyer_client_id=buyer_client_id,
        recipient_client_id=recipient_client_id,
        recipient_name=" ".join((recipient_name or "").split()) or None,
        recipient_email=normalize_email(recipient_email),
        recipient_phone=normalize_phone(recipient_phone) if (recipient_phone or "").strip() else None,
        message=(message or "").strip() or None,
        order_line_id=order_line_id,
        source_key=source_key,
        created_by_id=getattr(by, "id", None),
    )
    db.session.add(card)
    db.session.flush()
    audit_client_id = recipient_client_id if origin == "reactivacion" else (buyer_client_id or recipient_client_id)
    if audit and audit_client_id:
        record_event(
            db.session.get(Client, audit_client_id),
            "giftcard_issued",
            f"Gift card {card.code} {format_clp(amount)}",
            by=by,
            order_id=order_id,
        )
    signals.giftcard_issued.send(card, by=by)
    return card


def check_redeemable(card: GiftCard | None, amount: int) -> GiftCard:
    """The spec's checks in order; raises with the spec's Spanish messages."""
    if card is None:
        raise ValidationError(NOT_FOUND, field="codigo")
    if card.status == "anulada":
        raise ValidationError("Gift card anulada.", field="codigo")
    if card.is_expired(clock.today()):
        raise ValidationError(f"Gift card vencida el {card.expires_on:%d/%m/%Y}.", field="codigo")
    if card.balance < amount:
        raise InsufficientGiftCardBalance(f"Saldo insuficiente: disponible {format_clp(card.balance)}.", field="monto")
    return card


def lock_card(code: str | None) -> GiftCard | None:
    """SELECT … FOR UPDATE the card, then read its balance (after the lock, so it is current)."""
    card = find_card(code, lock=True)
    if card is not None:
        db.session.expire(card, ["balance"])
    return card


def add_entry(
    card: GiftCard, *, amount: int, kind: str, by=None, payment_id: int | None = None, reason: str | None = None
) -> GiftCardEntry:
    entry = GiftCardEntry(
        gift_card_id=card.id,
        amount=amount,
        kind=kind,
        payment_id=payment_id,
        reason=reason,
        created_by_id=getattr(by, "id", None),
    )
    db.session.add(entry)
    refresh_balance(card)
    return entry


def _audit_client(card: GiftCard):
    return card.buyer or card.recipient


def reverse_redemption(
    card: GiftCard, *, amount: int, by=None, payment_id: int | None = None, reason: str | None = None, order=None
) -> GiftCardEntry:
    """Give `amount` back to the card (voided payment or refund to the card used); audit; flushes."""
    locked = lock_card(card.code)
    entry = add_entry(locked, amount=amount, kind="reverso", by=by, payment_id=payment_id, reason=reason)
    client = order.client if order is not None else _audit_client(locked)
    if client is not None:
        record_event(
            client,
            "giftcard_reversed",
            f"Gift card {locked.code} {format_clp(amount)}",
            by=by,
            order_id=getattr(order, "id", None),
        )
    return entry


def void_gift_card(card: GiftCard, *, reason: str, by) -> GiftCard:
    """gerente/admin: the card can no longer be used (its ledger stays); flushes."""
    if getattr(by, "role", None) not in ("gerente", "admin"):
        raise ValidationError("Solo un gerente puede anular una gift card.")
    if not (reason or "").strip():
        raise ValidationError("Indique el motivo.", field="motivo")
    if len(reason.strip()) > 255:
        raise ValidationError("El motivo admite hasta 255 caracteres.", field="motivo")
    card = lock_card(card.code)
    if card.status == "anulada":
        return card
    card.status = "anulada"
    card.voided_at = clock.now()
    card.voided_by_id = by.id
    card.void_reason = reason.strip()
    db.session.flush()
    client = _audit_client(card)
    if client is not None:
        record_event(
            client, "giftcard_voided", f"Gift card {card.code} {format_clp(card.balance)}: {reason.strip()}", by=by
        )
    return card


def adjust_gift_card(card: GiftCard, *, amount: int, reason: str, by) -> GiftCardEntry:
    """gerente/admin: signed `ajuste` entry; the balance may not go below zero; flushes."""
    if getattr(by, "role", None) not in ("gerente", "admin"):
        raise ValidationError("Solo un gerente puede ajustar una gift card.")
    if not (reason or "").strip():
        raise ValidationError("Indique el motivo.", field="motivo")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        raise ValidationError("El ajuste debe ser un número entero distinto de cero.", field="monto")
    if abs(amount) > max_amount():
        raise ValidationError(max_amount_message(), field="monto")
    card = lock_card(card.code)
    if card.status == "anulada":
        raise ValidationError("Gift card anulada.")
    if card.balance + amount < 0:
        raise ValidationError(f"Saldo insuficiente: disponible {format_clp(card.balance)}.", field="monto")
    if amount > 0 and card.balance + amount > max_amount():
        raise ValidationError(
            f"El saldo de una gift card no puede superar {format_clp(max_amount())} "
            f"(disponible {format_clp(card.balance)}).",
            field="monto",
        )
    return add_entry(card, amount=amount, kind="ajuste", by=by, reason=reason.strip())


def issue_cards_for_paid_order(order, *, by=None) -> list[GiftCard]:
    """Each unit of the order's active gift-card lines issues one card (idempotent: never more than quantity)."""
    issued = []
    for line in order.product_lines:
        if line.status != "activa" or not line.product.is_gift_card:
            continue
        have = db.session.scalar(
            sa.select(sa.func.count()).select_from(GiftCard).where(GiftCard.order_line_id == line.id)
        )
        for _ in range(line.quantity - have):
            issued.append(
                issue_gift_card(
                    amount=line.unit_price,
                    by=by,
                    origin="venta",
                    buyer_client_id=order.client_id,
                    recipient_name=line.recipient_name,
                    recipient_email=line.recipient_email,
                    recipient_phone=line.recipient_phone,
                    message=line.message,
                    order_line_id=line.id,
                    order_id=order.id,
                )
            )
    return issued


def gift_card_lines_total(order) -> int:
    return sum(pl.subtotal for pl in order.product_lines if pl.status == "activa" and pl.product.is_gift_card)


MAX_MESSAGE_LENGTH = 1000


def clean_recipient(name=None, email=None, phone=None, message=None) -> dict:
    """Recipient fields as typed at the desk or online, normalised and within their columns; ValidationError with
    the form field's name otherwise (so a long or malformed value is a 422, never a database error)."""

    name = " ".join((name or "").split()) or None
    if name is not None and len(name) > 100:
        raise ValidationError(
            Msg("El nombre del destinatario no puede superar los %(num)s caracteres.", num=100),
            field="destinatario_nombre",
        )
    try:
        email = normalize_email(email)
    except ValidationError:
        raise ValidationError("Ingrese un e-mail válido para el destinatario.", field="destinatario_email") from None
    if email is not None and len(email) > 254:
        raise ValidationError("Ingrese un e-mail válido para el destinatario.", field="destinatario_email")
    try:
        phone = normalize_phone(phone) if (phone or "").strip() else None
    except InvalidPhone:
        raise ValidationError(
            "Ingrese un teléfono válido para el destinatario.", field="destinatario_telefono"
        ) from None
    message = (message or "").strip() or None
    if message is not None and len(message) > MAX_MESSAGE_LENGTH:
        raise ValidationError(
            Msg("El mensaje no puede superar los %(num)s caracteres.", num=MAX_MESSAGE_LENGTH), field="mensaje"
        )
    return {"recipient_name": name, "recipient_email": email, "recipient_phone": phone, "message": message}
