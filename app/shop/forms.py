"""The public site's forms (ARCHITECTURE.md §3): shape and format here, business rules in the services.

Field names are the spec's (`servicio_id`, `fecha`, `metodo_pago`…), so templates, e2e tests and API clients that
post them do not change. Messages are the ones the views gave before these forms existed."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.validators import Optional
from wtforms.validators import ValidationError as FieldError

from app.core.errors import ValidationError as DomainValidationError
from app.core.identity import normalize_document, normalize_email
from app.core.phone import InvalidPhone, normalize_phone
from app.sales.giftcard_services import clean_recipient, parse_card_amount
from app.web.forms import BaseForm, ClpField, DayField, HhmmField, IdField, IntField, OneTimeForm, Required
from app.web.i18n import translated
from app.web.params import MAX_INT32

PICK_SLOT = _l("Elija una fecha, un horario y la cantidad de personas.")
INVALID_INDEX = _l("Índice inválido")
PRODUCT_UNAVAILABLE = _l("Producto no disponible.")
QUANTITY_RANGE = _l("La cantidad debe estar entre 1 y 99.")
PHONE_INVALID = _l("Ingrese un teléfono válido.")
NAME_REQUIRED = _l("El nombre es obligatorio.")
EMAIL_INVALID = _l("Ingrese un e-mail válido.")
RUT_INVALID = _l("RUT inválido.")
TERMS_REQUIRED = _l("Debe aceptar los términos y condiciones.")
METHOD_UNAVAILABLE = _l("Método de pago no disponible.")
CARD_REQUIRED = _l("Elige una gift card.")
CARD_AMOUNT_REQUIRED = _l("Ingresa el monto de la gift card.")
RECIPIENT_EMAIL_INVALID = _l("Ingresa un e-mail válido para quien recibe la gift card.")
BUYER_NAME_TOO_LONG = _l("El nombre no puede superar los 100 caracteres.")


# --- cart ---------------------------------------------------------------------------------------------------


class AddToCartForm(OneTimeForm):
    """The service page's "Agregar al carrito": the slot to hold. The view looks the service up (an unknown one is
    "Servicio no encontrado."); the day, the hour and the people share one message, shown once in the panel."""

    servicio_id = IdField(_l("Servicio"))
    fecha = DayField(_l("Fecha"), validators=[Required(PICK_SLOT)], message=PICK_SLOT)
    hora = HhmmField(_l("Horario"), validators=[Required(PICK_SLOT)], message=PICK_SLOT)
    # empty = the service's minimum party; the service checks the range ("9 personas" is its refusal, not ours)
    cantidad_personas = IntField(_l("Personas"), minimum=-MAX_INT32, maximum=MAX_INT32, message=PICK_SLOT)


class AddProductToCartForm(BaseForm):
    """The other shape of POST /ventas/add-to-cart/ (spec booking.md §3): a product, and a gift card's fields."""

    producto_id = IdField(_l("Producto"), message=PRODUCT_UNAVAILABLE)
    cantidad = IntField(_l("Cantidad"), minimum=-MAX_INT32, maximum=MAX_INT32, message=QUANTITY_RANGE)
    monto = ClpField(_l("Monto"))
    destinatario_nombre = StringField(_l("Nombre de quien la recibe"))
    destinatario_email = StringField(_l("E-mail de quien la recibe"))
    mensaje = TextAreaField(_l("Mensaje"))


class RemoveFromCartForm(BaseForm):
    """The cart's "Quitar": the line's display position (`index`, as the original site) or its id (`linea_id`)."""

    index = IntField(_l("Línea"), maximum=MAX_INT32, message=INVALID_INDEX)
    linea_id = IdField(_l("Línea"), message=INVALID_INDEX)


class CartCodeForm(BaseForm):
    codigo = StringField(_l("Código de descuento"))


# --- checkout -------------------------------------------------------------------------------------------------


def _valid_phone(form, field):
    try:
        normalize_phone(field.data)
    except InvalidPhone:
        raise FieldError(PHONE_INVALID) from None


def _valid_email(form, field):
    try:
        email = normalize_email(field.data)
    except DomainValidationError:
        email = None
    if not email:
        raise FieldError(EMAIL_INVALID)


def _valid_document(form, field):
    try:
        normalize_document(field.data)
    except DomainValidationError:
        raise FieldError(RUT_INVALID) from None


def _offered_method(form, field):
    """One of the methods the view offers (`choices`: transfer, and Flow when it is on)."""
    if field.data not in dict(field.choices or ()):
        raise FieldError(METHOD_UNAVAILABLE)


class _GiftCardFields:
    """The gift-card purchase's own fields, declared before CheckoutForm's: WTForms orders fields by declaration,
    so the card and its recipient come first in `errors`, as on the page (the alert names the first problem)."""

    producto_id = RadioField(_l("Gift card"), choices=[], validate_choice=False)
    monto = StringField(_l("Monto (si eliges monto libre)"))
    destinatario_nombre = StringField(_l("Nombre de quien la recibe"), validators=[Optional()])
    destinatario_email = StringField(
        _l("E-mail de quien la recibe (si lo dejas vacío, te la enviamos a ti)"), validators=[Optional()]
    )
    mensaje = TextAreaField(_l("Mensaje (opcional)"), validators=[Optional()])


class CheckoutForm(OneTimeForm):
    """The buyer's part of a web order (the cart's checkout and the public gift-card purchase)."""

    telefono = StringField(_l("Teléfono"), validators=[_valid_phone])
    nombre = StringField(_l("Nombre y apellido"), validators=[Required(NAME_REQUIRED)])
    email = StringField(_l("E-mail"), validators=[_valid_email])
    documento_identidad = StringField(_l("RUT o pasaporte (opcional)"), validators=[Optional(), _valid_document])
    acepta_terminos = BooleanField(_l("Acepto los términos y condiciones"), validators=[Required(TERMS_REQUIRED)])
    metodo_pago = RadioField(_l("Forma de pago"), choices=[], validate_choice=False, validators=[_offered_method])
    acepta_marketing = BooleanField(
        _l("Quiero recibir saludos de cumpleaños, promociones y novedades de Aremko por SMS y e-mail")
    )
    comentarios = TextAreaField(_l("Comentarios (opcional)"), validators=[Optional()])
    # self-service.md §3: offered only when the cart's policies ask a deposit ("Pagar abono de $X" / "Pagar total")
    pago = RadioField(_l("Monto a pagar"), choices=[("abono", "abono"), ("total", "total")], validators=[Optional()])


class GiftCardPurchaseForm(_GiftCardFields, CheckoutForm):
    """Buying a gift card online (spec booking.md §8.2): one of `products` (the published gift cards), its amount
    when it is the free-amount card, the recipient, and the buyer. `product` and `amount` are read here."""

    def __init__(self, products, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.products = list(products)
        self.producto_id.choices = [(str(p.id), p.name) for p in self.products]
        self.amount: int | None = None

    @property
    def product(self):
        return next((p for p in self.products if str(p.id) == (self.producto_id.data or "")), None)

    def validate_producto_id(self, field):
        if self.product is None:
            raise FieldError(CARD_REQUIRED)

    def validate_monto(self, field):
        product = self.product
        if product is None or product.base_price != 0:
            return
        try:
            self.amount = parse_card_amount(field.data)
        except ValueError:
            raise FieldError(CARD_AMOUNT_REQUIRED) from None

    def validate_nombre(self, field):
        if len(" ".join((field.data or "").split())) > 100:
            raise FieldError(BUYER_NAME_TOO_LONG)

    def validate(self, extra_validators=None) -> bool:
        """The fields, then the recipient as the desk checks it (`clean_recipient`: lengths, e-mail)."""
        valid = super().validate(extra_validators)
        try:
            clean_recipient(self.destinatario_nombre.data, self.destinatario_email.data, None, self.mensaje.data)
        except DomainValidationError as exc:
            field = getattr(self, exc.field or "", None)
            message = RECIPIENT_EMAIL_INVALID if exc.field == "destinatario_email" else translated(exc.message)
            if field is None:
                self.form_errors.append(message)
            elif message not in field.errors:
                field.errors.append(message)
            valid = False
        return valid


# --- the public order page --------------------------------------------------------------------------------------


class OrderPayForm(OneTimeForm):
    """The unpaid order's "Pagar con Flow" / "Reintentar pago" / "Pagar por transferencia": no fields, a one-time
    key (each render of each button has its own)."""


# --- the manage-booking page (self-service.md §2) ---------------------------------------------------------------


class CancelBookingForm(OneTimeForm):
    """*Cancelar reserva* confirmed: the refund as a gift card unless the customer prefers the money back."""

    devolucion_dinero = BooleanField("Prefiero devolución del dinero")


class RescheduleForm(OneTimeForm):
    """*Cambiar fecha u hora* of one line: the new day and hour (same people)."""

    fecha = DayField("Nueva fecha", validators=[Required("Elija una fecha.")])
    hora = HhmmField("Nueva hora", validators=[Required("Elija un horario.")])
