"""The visitor-facing words the shop builds from data — long dates, month titles, durations, prices, states — in
the visitor's language (self-service.md §5, app/web/i18n.py). Numeric dates stay DD/MM/YYYY and money `$12.345` in
both languages (app/web/filters.py)."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date
from flask_babel import get_locale, gettext, lazy_gettext, ngettext

from app.catalog.policy import PRICING_RULE_BY_TYPE
from app.core.money import format_clp
from app.shop.blueprint import bp


def N_(text: str) -> str:
    """Marks a text for the catalogue (pybabel's N_ keyword) without translating it here."""
    return text


# The refusals of the sales services a visitor may read (in Spanish, as the services and the audit write them):
# BaseForm.attach (app/web/forms.py) shows a refusal through `gettext`, so these read in English on English pages.
SALES_REFUSALS = (
    N_("Este servicio no está disponible."),
    N_("La fecha ya pasó."),
    N_("Aún no se puede reservar esa fecha."),
    N_("No hay horarios para este día."),
    N_("Horario no válido para este servicio."),
    N_("Ese horario ya pasó."),
    N_("Horario agotado."),
    N_("No hay terapeuta disponible en ese horario."),
    N_("El carrito admite hasta 10 líneas."),
    # the availability reasons with values or not listed above (app/sales/availability.py MESSAGES)
    N_("La cantidad de personas debe estar entre %(min)s y %(max)s."),
    N_("No disponible"),
    N_("Código de descuento inválido o vencido."),
    N_("La venta ya tiene un código de descuento."),
)

SERVICE_TYPE_TEXT = {
    "tina": lazy_gettext("Tina"),
    "masaje": lazy_gettext("Masaje"),
    "cabana": lazy_gettext("Cabaña"),
    "otro": lazy_gettext("Otro"),
}
PAYMENT_STATUS_TEXT = {
    "pendiente": lazy_gettext("Pendiente de pago"),
    "parcial": lazy_gettext("Pago parcial"),
    "pagado": lazy_gettext("Pagada"),
    "cancelado": lazy_gettext("Cancelada"),
    "reembolsado": lazy_gettext("Reembolsada"),
}
CALENDAR_STATE_TEXT = {
    "disponible": lazy_gettext("con horarios"),
    "agotado": lazy_gettext("sin cupos"),
    "cerrado": lazy_gettext("cerrado"),
    "pasado": lazy_gettext("pasado"),
    "fuera": lazy_gettext("fuera de plazo"),
}


def _locale():
    return get_locale() or "es_CL"


def long_date(day: date) -> str:
    """ "lunes 2 de marzo de 2026" / "Monday 2 March 2026" (screen readers read every hour in full)."""
    # Translators: a Unicode CLDR date pattern (EEEE weekday, d day, MMMM month, y year; quoted text is literal)
    return format_date(day, gettext("EEEE d 'de' MMMM 'de' y"), locale=_locale())


def weekday_name(day: date) -> str:
    """ "lunes" / "Monday"."""
    return format_date(day, "EEEE", locale=_locale())


def weekday_initials() -> list[str]:
    """The month calendar's column heads, Monday first: L M M J V S D / M T W T F S S."""
    return [weekday_name(date(2024, 1, 1 + i))[:1].upper() for i in range(7)]  # 2024-01-01 was a Monday


def people_text(people: int) -> str:
    return ngettext("%(num)d persona", "%(num)d personas", people)


def day_and_month(day: date) -> str:
    """ "lunes 2 de marzo" / "Monday 2 March"."""
    # Translators: a Unicode CLDR date pattern, as above without the year
    return format_date(day, gettext("EEEE d 'de' MMMM"), locale=_locale())


def month_title(first: date) -> str:
    """ "Marzo 2026" / "March 2026"."""
    text = format_date(first, "LLLL y", locale=_locale())
    return text[:1].upper() + text[1:]


def calendar_day_label(day: date, state: str) -> str:
    return f"{day_and_month(day)}: {CALENDAR_STATE_TEXT.get(state, state)}"


def duration_label(minutes: int, service_type: str | None = None) -> str:
    """ "1 noche" for a cabin's day, "1 h 30 min" for a massage, "45 min": never "1440 min"."""
    minutes = int(minutes or 0)
    if service_type == "cabana" or (minutes >= 1440 and minutes % 1440 == 0):
        nights = max(round(minutes / 1440), 1)
        return ngettext("%(num)d noche", "%(num)d noches", nights)
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def price_text(service) -> str:
    """ "$90.000 precio por cabaña, máx 2 personas" / "$25.000 precio por persona" (the service card's label)."""
    price = format_clp(service.base_price)
    if PRICING_RULE_BY_TYPE.get(service.service_type) == "por_reserva":
        return ngettext(
            "%(price)s precio por cabaña, máx %(num)d persona",
            "%(price)s precio por cabaña, máx %(num)d personas",
            service.max_people,
            price=price,
        )
    return gettext("%(price)s precio por persona", price=price)


@bp.app_template_filter("duracion")
def _duration_filter(service) -> str:
    return duration_label(service.duration_minutes, service.service_type)


@bp.app_template_filter("precio")
def _price_filter(service) -> str:
    return price_text(service)


@bp.app_template_filter("tipo_servicio")
def _type_filter(service) -> str:
    return str(SERVICE_TYPE_TEXT.get(service.service_type, service.type_label))


@bp.app_template_filter("estado_pago")
def _payment_status_filter(order) -> str:
    return str(PAYMENT_STATUS_TEXT.get(order.payment_status, order.payment_status_label))
