"""The visitor-facing words of the unsubscribe and preference pages in the visitor's language (self-service.md §5).
The Spanish source texts are the ones of clients.models.CONSENT_LABELS and comms.policy.TYPE_PLURALS (staff screens
keep reading those)."""

from __future__ import annotations

from flask_babel import gettext, lazy_gettext

CONSENT_TEXT = {
    "accepts_sms": lazy_gettext("SMS"),
    "accepts_email": lazy_gettext("E-mail"),
    "accepts_whatsapp": lazy_gettext("WhatsApp"),
    "accepts_booking_confirmations": lazy_gettext("Confirmaciones de reserva"),
    "accepts_booking_reminders": lazy_gettext("Recordatorios de reserva"),
    "accepts_surveys": lazy_gettext("Encuestas"),
    "accepts_birthday_messages": lazy_gettext("Saludos de cumpleaños"),
    "accepts_promotional": lazy_gettext("Promociones"),
    "accepts_newsletters": lazy_gettext("Novedades"),
    "accepts_reactivation": lazy_gettext("Regalos de reactivación"),
}
TYPE_PLURAL_TEXT = {
    "BOOKING_CONFIRMATION": lazy_gettext("confirmaciones de reserva"),
    "BOOKING_REMINDER": lazy_gettext("recordatorios de reserva"),
    "PAYMENT_CONFIRMATION": lazy_gettext("confirmaciones de reserva"),
    "BOOKING_RESCHEDULED": lazy_gettext("confirmaciones de reserva"),
    "BOOKING_CANCELLED": lazy_gettext("confirmaciones de reserva"),
    "SATISFACTION_SURVEY": lazy_gettext("encuestas"),
    "BIRTHDAY": lazy_gettext("saludos de cumpleaños"),
    "REACTIVATION": lazy_gettext("regalos de reactivación"),
    "NEWSLETTER": lazy_gettext("novedades"),
    "PROMOTIONAL": lazy_gettext("promociones"),
}


def type_plural(message_type: str) -> str:
    return str(TYPE_PLURAL_TEXT.get(message_type) or gettext("este tipo de mensajes"))


def unsubscribe_question(message_type: str, everything: bool) -> str:
    what = gettext("todos los mensajes de Aremko") if everything else type_plural(message_type)
    return gettext("¿Dejar de recibir %(what)s?", what=what)


def unsubscribe_done(spanish_result: str, message_type: str, everything: bool) -> str:
    """The confirmation of `consent.unsubscribe` (which answers in Spanish, for the audit) in the visitor's
    language."""
    if everything:
        return gettext("Listo. Ya no recibirás mensajes de Aremko.")
    if spanish_result.endswith("en este destino."):
        return gettext("Listo. Ya no recibirás mensajes en este destino.")
    return gettext("Listo. Ya no recibirás %(what)s.", what=type_plural(message_type))
