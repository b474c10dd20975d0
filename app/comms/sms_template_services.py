"""SMS templates (communications.md §8): validation, one active per type, the seeded defaults. Flush, never commit."""

from __future__ import annotations

import string
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import sqlalchemy as sa

from app.comms.models import SmsTemplate
from app.comms.policy import SMS_CAPABLE_TYPES, SmsInfo, sms_info, strip_sms_accents
from app.core.errors import ConflictError, ValidationError
from app.extensions import db

VARIABLES = (
    "nombre",
    "apellido",
    "telefono",
    "servicio",
    "fecha",
    "hora",
    "link",
    "descuento",
    "fecha_limite",
    "codigo",
    "reserva",
)
SAMPLE = {
    "nombre": "Camila",
    "apellido": "Rojas Pérez",
    "telefono": "+56 9 8765 4321",
    "servicio": "Tina Calipso y 1 más",
    "fecha": "02/03/2026",
    "hora": "17:00",
    "link": "https://www.aremko.cl/ventas/pedido/abc123/",
    "descuento": "20 %",
    "fecha_limite": "01/04/2026",
    "codigo": "CUMPLEAB12CD",
    "reserva": "1234",
}

# (name, message_type, text, active) — the spec's ten texts.
DEFAULTS: tuple[tuple[str, str, str, bool], ...] = (
    (
        "Confirmación Reserva Estándar",
        "BOOKING_CONFIRMATION",
        "Hola {nombre}, recibimos tu reserva #{reserva}: {servicio} el {fecha} a las {hora}. Detalle y pago: {link} "
        "- Aremko",
        True,
    ),
    (
        "Recordatorio Cita 24h",
        "BOOKING_REMINDER",
        "{nombre}, te esperamos el {fecha} a las {hora} para {servicio}. Llega 10 minutos antes. Detalle: {link} "
        "- Aremko",
        True,
    ),
    (
        "Cumpleaños Especial",
        "BIRTHDAY",
        "¡Feliz cumpleaños, {nombre}! Te regalamos {descuento} en tu próxima visita con el código {codigo}, válido "
        "hasta el {fecha_limite}. - Aremko",
        True,
    ),
    (
        "Cumpleaños VIP",
        "BIRTHDAY",
        "{nombre}, en tu día queremos consentirte: {descuento} con el código {codigo} hasta el {fecha_limite}. "
        "Gracias por ser cliente VIP. - Aremko",
        False,
    ),
    (
        "Encuesta Satisfacción",
        "SATISFACTION_SURVEY",
        "Gracias por visitarnos, {nombre}. ¿Cómo estuvo {servicio}? Cuéntanos en un minuto: {link} - Aremko",
        True,
    ),
    (
        "Promoción Especial",
        "PROMOTIONAL",
        "{nombre}: {descuento} en {servicio} hasta el {fecha_limite}. Reserva en {link} - Aremko",
        True,
    ),
    (
        "Reactivación Cliente",
        "REACTIVATION",
        "{nombre}, te echamos de menos. Te regalamos {descuento}: usa el código {codigo} antes del {fecha_limite}. "
        "Reserva en {link} - Aremko",
        True,
    ),
    (
        "Pago Recibido",
        "PAYMENT_CONFIRMATION",
        "Pago recibido: tu reserva #{reserva} quedó pagada al 100%. ¡Gracias, {nombre}! - Aremko",
        True,
    ),
    (
        "Reserva Reprogramada",
        "BOOKING_RESCHEDULED",
        "{nombre}, tu reserva #{reserva} cambió: {servicio} el {fecha} a las {hora}. - Aremko",
        True,
    ),
    (
        "Reserva Cancelada",
        "BOOKING_CANCELLED",
        "{nombre}, tu reserva #{reserva} fue cancelada. Consultas por WhatsApp al +56 9 5790 2525. - Aremko",
        True,
    ),
)
DEFAULT_TEXT = {t: text for _, t, text, active in DEFAULTS if active}
# The English variant of each active default (self-service.md §5): clients whose `language` is "en" get these.
# Not editable on the templates screen yet: the staff-edited templates are the Spanish ones.
DEFAULT_TEXT_EN: dict[str, str] = {
    "BOOKING_CONFIRMATION": "Hi {nombre}, we received your booking #{reserva}: {servicio} on {fecha} at {hora}. "
    "Details and payment: {link} - Aremko",
    "BOOKING_REMINDER": "{nombre}, we look forward to seeing you on {fecha} at {hora} for {servicio}. Please arrive "
    "10 minutes early. Details: {link} - Aremko",
    "BIRTHDAY": "Happy birthday, {nombre}! Enjoy {descuento} off your next visit with the code {codigo}, valid "
    "until {fecha_limite}. - Aremko",
    "SATISFACTION_SURVEY": "Thank you for visiting us, {nombre}. How was {servicio}? Tell us in one minute: {link} "
    "- Aremko",
    "PROMOTIONAL": "{nombre}: {descuento} off {servicio} until {fecha_limite}. Book at {link} - Aremko",
    "REACTIVATION": "{nombre}, we miss you. Here is {descuento}: use the code {codigo} before {fecha_limite}. "
    "Book at {link} - Aremko",
    "PAYMENT_CONFIRMATION": "Payment received: your booking #{reserva} is paid in full. Thank you, {nombre}! - Aremko",
    "BOOKING_RESCHEDULED": "{nombre}, your booking #{reserva} changed: {servicio} on {fecha} at {hora}. - Aremko",
    "BOOKING_CANCELLED": "{nombre}, your booking #{reserva} was cancelled. Questions on WhatsApp at "
    "+56 9 5790 2525. - Aremko",
}


def validate_content(content: str) -> list[str]:
    """Placeholders used, or ValidationError with the §8 messages (unknown variable, unbalanced braces)."""
    text = (content or "").strip()
    if not text:
        raise ValidationError("El texto es obligatorio.", field="content")
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        raise ValidationError("Llaves sin cerrar.", field="content") from None
    used = []
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in VARIABLES or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            allowed = ", ".join("{" + v + "}" for v in VARIABLES)
            raise ValidationError(f"Variable desconocida: {shown}. Variables permitidas: {allowed}", field="content")
        used.append(name)
    return used


class _Blank(dict):
    def __missing__(self, key):
        return ""


def fill(content: str, variables: dict) -> str:
    """Fill {variables}; unknown or missing values become empty text."""
    return string.Formatter().vformat(
        content, (), _Blank({k: "" if v is None else str(v) for k, v in variables.items()})
    )


@dataclass(frozen=True)
class Preview:
    text: str
    info: SmsInfo


def preview(content: str, *, strip_accents: bool = True) -> Preview:
    """The text with sample data as it would be sent, with length, encoding and segments (unbalanced braces are
    shown as typed)."""
    try:
        text = fill(content, SAMPLE)
    except ValueError:
        text = content
    if strip_accents:
        text = strip_sms_accents(text)
    return Preview(text, sms_info(text))


_batch_cache: ContextVar[dict | None] = ContextVar("sms_template_cache", default=None)


@contextmanager
def cached_texts():
    """Within a dispatcher batch, read each type's active template once."""
    token = _batch_cache.set({})
    try:
        yield
    finally:
        _batch_cache.reset(token)


def active_text(message_type: str, language: str = "es") -> str | None:
    """The active template's text for a type, else the seeded default (None if the type has neither). For an
    English-speaking client (`language` "en"), the type's English text, else the Spanish one."""
    if language == "en" and message_type in DEFAULT_TEXT_EN:
        return DEFAULT_TEXT_EN[message_type]
    cache = _batch_cache.get()
    if cache is not None and message_type in cache:
        return cache[message_type]
    content = db.session.scalar(
        sa.select(SmsTemplate.content).where(SmsTemplate.message_type == message_type, SmsTemplate.is_active)
    )
    text = content or DEFAULT_TEXT.get(message_type)
    if cache is not None:
        cache[message_type] = text
    return text


def _deactivate_others(template: SmsTemplate) -> None:
    db.session.execute(
        sa.update(SmsTemplate)
        .where(SmsTemplate.message_type == template.message_type, SmsTemplate.id != template.id, SmsTemplate.is_active)
        .values(is_active=False)
    )


def save_template(
    template: SmsTemplate | None, *, name: str, message_type: str, content: str, is_active: bool, by=None
) -> SmsTemplate:
    """Create or edit a template after validation; activating it deactivates the type's other one; flushes.

    Raises ValidationError (bad text/type/name) or ConflictError (name taken for the type).
    """
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError("El nombre es obligatorio.", field="name")
    if len(name) > 100:
        raise ValidationError("El nombre admite hasta 100 caracteres.", field="name")
    if message_type not in SMS_CAPABLE_TYPES:
        raise ValidationError("Tipo de mensaje inválido.", field="message_type")
    validate_content(content)
    clash = sa.select(SmsTemplate.id).where(SmsTemplate.name == name, SmsTemplate.message_type == message_type)
    if template is not None:
        clash = clash.where(SmsTemplate.id != template.id)
    if db.session.scalar(clash) is not None:
        raise ConflictError("Ya existe una plantilla con ese nombre para este tipo.")
    if template is None:
        template = SmsTemplate(created_by_id=getattr(by, "id", None), is_active=False)
        db.session.add(template)
    template.name, template.message_type, template.content = name, message_type, content.strip()
    if is_active:
        template.is_active = False
        db.session.flush()
        _deactivate_others(template)  # before activating: the partial unique index allows one active per type
    template.is_active = bool(is_active)
    db.session.flush()
    return template


def create_default_templates() -> dict[str, list[str]]:
    """Get-or-create the ten defaults by (name, type); differing text is overwritten; `is_active` of existing rows
    untouched; new ones active unless a type already has an active template. Flushes; idempotent."""
    result: dict[str, list[str]] = {"created": [], "updated": [], "unchanged": []}
    for name, message_type, text, active in DEFAULTS:
        row = db.session.scalar(
            sa.select(SmsTemplate).where(SmsTemplate.name == name, SmsTemplate.message_type == message_type)
        )
        if row is None:
            has_active = db.session.scalar(
                sa.select(SmsTemplate.id).where(SmsTemplate.message_type == message_type, SmsTemplate.is_active)
            )
            db.session.add(
                SmsTemplate(name=name, message_type=message_type, content=text, is_active=active and has_active is None)
            )
            db.session.flush()
            result["created"].append(name)
        elif row.content != text:
            row.content = text
            result["updated"].append(name)
        else:
            result["unchanged"].append(name)
    db.session.flush()
    return result
