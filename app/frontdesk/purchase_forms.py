"""The purchase screens' form (spec catalog.md §1.6): a header and its line rows (`lineas-<n>-…`, rows added and
removed with HTMX). Shape and format here; the purchase's rules (a line at least, stock never negative, a known
provider) are app.catalog.services.save_purchase's."""

from __future__ import annotations

from wtforms import FieldList, Form, FormField, StringField, TextAreaField
from wtforms.validators import ValidationError

from app.web.forms import ClpField, DayField, IdField, IntField, OneTimeForm, Required
from app.web.params import MAX_INT32

QUANTITY_MESSAGE = "Cantidad: ingrese un número entero mayor que 0."
PRICE_MESSAGE = "Precio unitario: ingrese un monto en pesos, sin decimales (ej. 12.345)."


class PriceField(ClpField):
    """A unit price shown as people write it (`10.000`)."""

    def format(self, value) -> str:
        return f"{value:,}".replace(",", ".")


class PurchaseLineForm(Form):
    """One row; `id` is the existing line's (empty for a new row)."""

    class Meta:
        locales = ("es_CL", "es")

    id = IdField()
    producto_id = IdField("Producto")
    descripcion = StringField("Descripción")
    cantidad = IntField(
        "Cantidad", validators=[Required(QUANTITY_MESSAGE)], minimum=1, maximum=MAX_INT32, message=QUANTITY_MESSAGE
    )
    precio_unitario = PriceField("Precio unitario", validators=[Required(PRICE_MESSAGE)], message=PRICE_MESSAGE)

    def validate_producto_id(self, field):
        known = getattr(self.meta, "product_ids", None)
        if field.data is not None and known is not None and field.data not in known:
            raise ValidationError("Elija un producto de la lista.")

    def validate_descripcion(self, field):
        text = (field.data or "").strip()
        if not text and self.producto_id.data is None:
            raise ValidationError("Elija un producto o escriba la descripción.")
        if len(text) > 255:
            raise ValidationError("La descripción admite hasta 255 caracteres.")

    def validate_precio_unitario(self, field):
        if field.data is not None and field.data > MAX_INT32:
            raise ValidationError("El monto es demasiado grande.")

    def values(self) -> dict:
        return {
            "id": self.id.data,
            "product_id": self.producto_id.data,
            "description": self.descripcion.data,
            "quantity": self.cantidad.data,
            "unit_price": self.precio_unitario.data,
        }


class PurchaseForm(OneTimeForm):
    fecha_compra = DayField("Fecha de compra", validators=[Required("Indique la fecha de compra.")])
    proveedor_id = IdField("Proveedor")
    metodo_pago = StringField("Método de pago")
    numero_documento = StringField("N° de documento")
    notas = TextAreaField("Notas")
    lineas = FieldList(FormField(PurchaseLineForm))

    def __init__(self, *args, product_ids=None, method_codes=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.method_codes = method_codes
        self.product_ids = product_ids
        for entry in self.lineas:
            entry.form.meta.product_ids = product_ids

    def add_row(self) -> None:
        """One more empty row (a new purchase's first row; "Agregar línea" without JavaScript)."""
        entry = self.lineas.append_entry()
        entry.form.meta.product_ids = self.product_ids

    def validate_metodo_pago(self, field):
        if field.data and self.method_codes is not None and field.data not in self.method_codes:
            raise ValidationError("Elija un método de pago de la lista.")

    def validate_lineas(self, field):
        if not field.entries:
            raise ValidationError("La compra debe tener al menos una línea.")

    def header(self) -> dict:
        return {
            "purchase_date": self.fecha_compra.data,
            "provider_id": self.proveedor_id.data,
            "payment_method": self.metodo_pago.data,
            "document_number": self.numero_documento.data,
            "notes": self.notas.data,
        }

    def line_values(self) -> list[dict]:
        return [entry.form.values() for entry in self.lineas]
