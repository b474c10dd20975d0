"""The desk's gift-card forms (spec booking.md §8): sell, courtesy, adjust, void.

Shape and format live here (a card amount, a date, a phone); the card's rules (bounds, payment method, recipient,
reason) stay in app.sales.giftcard_services, whose refusals land on the field they name.
"""

from __future__ import annotations

from wtforms import StringField, TextAreaField
from wtforms.validators import StopValidation

from app.core.errors import DomainError
from app.sales import giftcard_services as giftcards
from app.web.forms import BaseForm, ClpField, DayField, OneTimeForm, Required, TextValueField

EXPIRY_INVALID = "Fecha de vencimiento inválida."
PHONE_INVALID = "Ingrese un teléfono válido."


class CardAmountField(ClpField):
    """A card amount or adjustment as typed at the desk (`50.000`, `-5.000`): an int. A number beyond any amount
    stands for "just beyond GIFTCARD_MAX_AMOUNT", so the card's bound answers (giftcards.parse_card_amount)."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, message=f"{label}: ingrese un número entero.", **kwargs)

    def parse(self, text: str) -> int:
        try:
            return giftcards.parse_card_amount(text)
        except ValueError:
            raise ValueError(self.invalid_message) from None


class PhoneField(TextValueField):
    """A phone number as typed: its E.164 form."""

    invalid_message = PHONE_INVALID

    def parse(self, text: str) -> str:
        from app.core.phone import InvalidPhone, normalize_phone

        try:
            return normalize_phone(text)
        except InvalidPhone:
            raise ValueError(self.invalid_message) from None


def _card_amount_in_bounds(form, field) -> None:
    """The card's own bounds (giftcards.check_amount), shown with the other field errors."""
    if field.data is None:
        return
    try:
        giftcards.check_amount(field.data)
    except DomainError as exc:
        raise StopValidation(exc.message) from None


def _amount_field(label: str = "Monto") -> CardAmountField:
    return CardAmountField(label, [Required(f"{label}: ingrese un número entero."), _card_amount_in_bounds])


class _RecipientForm(OneTimeForm):
    """The card's amount, expiry and recipient, shared by the sale and the courtesy card."""

    monto = _amount_field()
    fecha_vencimiento = DayField("Vence el", message=EXPIRY_INVALID)
    destinatario_nombre = StringField("Nombre")
    destinatario_email = StringField("E-mail")
    destinatario_telefono = StringField("Teléfono")
    mensaje = TextAreaField("Mensaje")


class GiftCardSaleForm(_RecipientForm):
    """Desk sale: the card, its payment (method validated by the service) and the buyer."""

    metodo_pago = StringField("Método de pago")
    referencia = StringField("Referencia (opcional)")
    comprador_telefono = PhoneField("Teléfono", [Required("Ingrese el teléfono del comprador.")])
    comprador_nombre = StringField("Nombre (si es cliente nuevo)")
    comprador_email = StringField("E-mail (opcional)")


class GiftCardCourtesyForm(_RecipientForm):
    """A card without payment for an existing client: gerente/admin, reason required (checked by the service)."""

    cliente_telefono = PhoneField("Teléfono del cliente", [Required("Ingrese el teléfono del cliente.")])
    motivo = StringField("Motivo (obligatorio)")


class GiftCardAdjustForm(BaseForm):
    """A signed adjustment of the balance (bounds and reason checked by the service)."""

    monto = CardAmountField("Ajuste", [Required("Ajuste: ingrese un número entero.")])
    motivo = StringField("Motivo")


class GiftCardVoidForm(BaseForm):
    motivo = StringField("Motivo")
