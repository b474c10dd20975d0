"""Pure send policy (communications.md §3, §5, §6): message classes, reasons, gatekeeper, SMS encoding, backoff.

No database, no clock: callers pass `now` and the facts.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from app.core import clock

LOCAL_TZ = clock.LOCAL_TZ

SMS = "SMS"
EMAIL = "EMAIL"
WHATSAPP = "WHATSAPP"  # through ManyChat (integrations.md §6), dispatched only when MANYCHAT_API_TOKEN is set
CHANNELS = (SMS, EMAIL)
COMMUNICATION_TYPES = (SMS, EMAIL, WHATSAPP, "CALL")
CHANNEL_LABELS = {SMS: "SMS", EMAIL: "E-mail", WHATSAPP: "WhatsApp", "CALL": "Llamada"}

STATUSES = ("PENDING", "SENDING", "SENT", "DELIVERED", "READ", "REPLIED", "FAILED", "BLOCKED")
STATUS_LABELS = {
    "PENDING": "Pendiente",
    "SENDING": "Enviando",
    "SENT": "Enviado",
    "DELIVERED": "Entregado",
    "READ": "Leído",
    "REPLIED": "Respondido",
    "FAILED": "Fallido",
    "BLOCKED": "Bloqueado",
}
SENT_STATUSES = ("SENDING", "SENT", "DELIVERED", "READ", "REPLIED")

TRANSACTIONAL = "T"
MARKETING = "M"
INTERNAL = "I"
# message_type -> (class, consent switch or None, label)
MESSAGE_TYPES: dict[str, tuple[str, str | None, str]] = {
    "BOOKING_CONFIRMATION": (TRANSACTIONAL, "accepts_booking_confirmations", "Confirmación de reserva"),
    "BOOKING_REMINDER": (TRANSACTIONAL, "accepts_booking_reminders", "Recordatorio de reserva"),
    "PAYMENT_CONFIRMATION": (TRANSACTIONAL, "accepts_booking_confirmations", "Confirmación de pago"),
    "BOOKING_RESCHEDULED": (TRANSACTIONAL, "accepts_booking_confirmations", "Reserva reprogramada"),
    "BOOKING_CANCELLED": (TRANSACTIONAL, "accepts_booking_confirmations", "Reserva cancelada"),
    "SATISFACTION_SURVEY": (TRANSACTIONAL, "accepts_surveys", "Encuesta de satisfacción"),
    "GIFT_CARD": (TRANSACTIONAL, None, "Gift card"),
    # the waitlist entry's own consent (self-service.md §4): queued without a client, suppression applies
    "WAITLIST_OFFER": (TRANSACTIONAL, None, "Oferta de lista de espera"),
    "BIRTHDAY": (MARKETING, "accepts_birthday_messages", "Saludo de cumpleaños"),
    "REACTIVATION": (MARKETING, "accepts_reactivation", "Reactivación"),
    "NEWSLETTER": (MARKETING, "accepts_newsletters", "Newsletter"),
    "PROMOTIONAL": (MARKETING, "accepts_promotional", "Promoción"),
    "FOLLOW_UP": (TRANSACTIONAL, None, "Seguimiento"),
    "OTHER": (TRANSACTIONAL, None, "Otro"),
    "STAFF_REPORT": (INTERNAL, None, "Reporte interno"),
}
MARKETING_TYPES = tuple(t for t, (cls, _, _) in MESSAGE_TYPES.items() if cls == MARKETING)
# SMS types with an editable template (WAITLIST_OFFER is an SMS with the spec's fixed text, app/waitlist/renderers.py)
SMS_CAPABLE_TYPES = tuple(
    t for t in MESSAGE_TYPES if t not in ("GIFT_CARD", "NEWSLETTER", "STAFF_REPORT", "WAITLIST_OFFER")
)
# Spanish plural used in "Listo. Ya no recibirás <tipo>."
TYPE_PLURALS = {
    "BOOKING_CONFIRMATION": "confirmaciones de reserva",
    "BOOKING_REMINDER": "recordatorios de reserva",
    "PAYMENT_CONFIRMATION": "confirmaciones de reserva",
    "BOOKING_RESCHEDULED": "confirmaciones de reserva",
    "BOOKING_CANCELLED": "confirmaciones de reserva",
    "SATISFACTION_SURVEY": "encuestas",
    "BIRTHDAY": "saludos de cumpleaños",
    "REACTIVATION": "regalos de reactivación",
    "NEWSLETTER": "novedades",
    "PROMOTIONAL": "promociones",
    "WAITLIST_OFFER": "avisos de lista de espera",
}

REASONS = {
    "no_destination": "sin destino",
    "not_mobile": "no es celular",
    "channel_disabled": "canal desactivado",
    "no_channel_consent": "sin consentimiento del canal",
    "no_type_consent": "sin consentimiento para este tipo",
    "suppressed": "destino suprimido",
    "quiet_hours": "fuera de horario",
    "cap_sms_daily": "tope diario SMS",
    "cap_sms_monthly": "tope mensual SMS",
    "cap_email_weekly": "tope semanal e-mail",
    "cap_email_monthly": "tope mensual e-mail",
    "order_cancelled": "venta cancelada",
    "stale": "ya no corresponde",
    "expired": "vencido",
    "campaign_cancelled": "campaña cancelada",
}
DEFER_REASONS = ("quiet_hours", "cap_sms_daily", "cap_sms_monthly", "cap_email_weekly", "cap_email_monthly")
CHANNEL_CONSENT = {SMS: "accepts_sms", EMAIL: "accepts_email", WHATSAPP: "accepts_whatsapp"}
SUPPRESSION_CHANNEL = {SMS: "sms", EMAIL: "email", WHATSAPP: "sms"}  # a STOP on the phone covers WhatsApp too

RETRY_DELAYS_MINUTES = (1, 5, 15, 60)
MAX_ATTEMPTS = 5


def message_class(message_type: str) -> str:
    return MESSAGE_TYPES[message_type][0]


def is_marketing(message_type: str) -> bool:
    return message_class(message_type) == MARKETING


def consent_switch(message_type: str) -> str | None:
    return MESSAGE_TYPES[message_type][1]


def type_label(message_type: str) -> str:
    entry = MESSAGE_TYPES.get(message_type)
    return entry[2] if entry else message_type


def reason_label(reason: str | None) -> str:
    return REASONS.get(reason or "", reason or "")


@dataclass(frozen=True)
class Limits:
    """The configurable numbers of §5 (settings, admin-overridable later)."""

    sms_enabled: bool = True
    email_enabled: bool = True
    quiet_start: str = "09:00"
    quiet_end: str = "20:00"
    sms_daily: int = 2
    sms_monthly: int = 8
    email_weekly: int = 1
    email_monthly: int = 4
    whatsapp_enabled: bool = True


@dataclass(frozen=True)
class Facts:
    """What the gatekeeper needs to know about one outbox row at dispatch."""

    message_type: str
    channel: str
    destination: str | None
    has_client: bool
    prefs: dict | None = None  # consent switches + preferred_contact_hour_start/_end; None without client
    suppressed: bool = False
    is_mobile: bool = True
    expires_at: datetime | None = None
    relevance: str | None = None  # order_cancelled / stale / campaign_cancelled, computed by the caller
    force: bool = False  # "enviar ahora": skips quiet hours and caps, never consent
    # marketing rows already sent to this client on this channel: sent_at instants (for the caps)
    sent_marketing: tuple[datetime, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Decision:
    action: str  # "send" | "block" | "defer"
    reason: str | None = None
    not_before: datetime | None = None
    last_error: str | None = None


SEND = Decision("send")


def static_reason(
    *,
    message_type: str,
    channel: str,
    destination: str | None,
    has_client: bool,
    prefs: dict | None,
    suppressed: bool,
    is_mobile: bool,
    limits: Limits,
) -> str | None:
    """Rows 1–5 of §5 (first hit decides): the one definition shared by dispatch, previews and SQL selections."""
    if (
        (channel == SMS and not limits.sms_enabled)
        or (channel == EMAIL and not limits.email_enabled)
        or (channel == WHATSAPP and not limits.whatsapp_enabled)
    ):
        return "channel_disabled"
    if not destination:
        return "no_destination"
    if channel == SMS and not is_mobile:
        return "not_mobile"
    if has_client:
        prefs = prefs or {}
        if not prefs.get(CHANNEL_CONSENT[channel], False):
            return "no_channel_consent"
        switch = consent_switch(message_type)
        if switch and not prefs.get(switch, False):
            return "no_type_consent"
    if suppressed:
        return "suppressed"
    return None


def _hhmm(text: str) -> time:
    hh, mm = (text or "00:00").split(":")
    return time(int(hh), int(mm))


def window_of(prefs: dict | None, limits: Limits) -> tuple[time, time]:
    prefs = prefs or {}
    start = _hhmm(prefs.get("preferred_contact_hour_start") or limits.quiet_start)
    end = _hhmm(prefs.get("preferred_contact_hour_end") or limits.quiet_end)
    if end <= start:  # a broken window falls back to the default
        start, end = _hhmm(limits.quiet_start), _hhmm(limits.quiet_end)
    return start, end


def quiet_hours_deferral(now: datetime, start: time, end: time) -> datetime | None:
    """None inside [start, end) local; else the next window start (aware)."""
    local = now.astimezone(LOCAL_TZ)
    if start <= local.time() < end:
        return None
    day = local.date() if local.time() < start else local.date() + timedelta(days=1)
    return clock.local_instant(day, start)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def cap_deferral(
    now: datetime, channel: str, sent: tuple[datetime, ...], start: time, limits: Limits
) -> tuple[str, datetime] | None:
    """(reason, next window start) when a cap is reached in local day/week (Mon–Sun)/month; else None."""
    local_today = now.astimezone(LOCAL_TZ).date()
    days = [s.astimezone(LOCAL_TZ).date() for s in sent]
    month = sum(1 for d in days if _month_start(d) == _month_start(local_today))
    if channel in (SMS, WHATSAPP):  # WhatsApp marketing: the SMS caps, counted on its own rows
        today_count = sum(1 for d in days if d == local_today)
        if today_count >= limits.sms_daily:
            return "cap_sms_daily", clock.local_instant(local_today + timedelta(days=1), start)
        if month >= limits.sms_monthly:
            return "cap_sms_monthly", clock.local_instant(clock.next_month(local_today), start)
    elif channel == EMAIL:
        monday = local_today - timedelta(days=local_today.weekday())
        week = sum(1 for d in days if monday <= d < monday + timedelta(days=7))
        if week >= limits.email_weekly:
            return "cap_email_weekly", clock.local_instant(monday + timedelta(days=7), start)
        if month >= limits.email_monthly:
            return "cap_email_monthly", clock.local_instant(clock.next_month(local_today), start)
    return None


def decide(facts: Facts, now: datetime, limits: Limits) -> Decision:
    """The gatekeeper (§5): relevance/expiry, static checks, then quiet hours and caps for marketing."""
    if facts.relevance:
        return Decision("block", facts.relevance)
    if facts.expires_at is not None and facts.expires_at <= now:
        return Decision("block", "expired")
    reason = static_reason(
        message_type=facts.message_type,
        channel=facts.channel,
        destination=facts.destination,
        has_client=facts.has_client,
        prefs=facts.prefs,
        suppressed=facts.suppressed,
        is_mobile=facts.is_mobile,
        limits=limits,
    )
    if reason:
        return Decision("block", reason)
    if not is_marketing(facts.message_type) or facts.force:
        return SEND
    start, end = window_of(facts.prefs, limits)
    deferral: tuple[str, datetime] | None = None
    later = quiet_hours_deferral(now, start, end)
    if later is not None:
        deferral = ("quiet_hours", later)
    elif facts.has_client:
        deferral = cap_deferral(now, facts.channel, facts.sent_marketing, start, limits)
    if deferral is None:
        return SEND
    reason, until = deferral
    if facts.expires_at is not None and until >= facts.expires_at:
        return Decision("block", "expired", last_error=reason_label(reason))
    return Decision("defer", reason, not_before=until)


def retry_delay(attempts: int) -> timedelta | None:
    """Backoff after a temporary error on attempt `attempts` (1-based); None = give up (FAILED)."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return timedelta(minutes=RETRY_DELAYS_MINUTES[min(attempts, len(RETRY_DELAYS_MINUTES)) - 1])


# --- SMS text ------------------------------------------------------------------------------------------------

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")
_STRIP = str.maketrans("áíóúÁÍÓÚ", "aiouAIOU")


def strip_sms_accents(text: str) -> str:
    """á í ó ú (and capitals) → plain letters; é ñ ü ¿ ¡ are GSM-7 and kept (§6)."""
    return text.translate(_STRIP)


def non_gsm_chars(text: str) -> list[str]:
    """Characters that force UCS-2, in order of appearance, without repeats."""
    seen: list[str] = []
    for ch in text:
        if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION and ch not in seen:
            seen.append(ch)
    return seen


@dataclass(frozen=True)
class SmsInfo:
    encoding: str  # "GSM-7" | "UCS-2"
    length: int
    segments: int
    offending: tuple[str, ...]


def sms_info(text: str) -> SmsInfo:
    """Encoding, length in code units and segments: GSM-7 160 (153 per part), UCS-2 70 (67)."""
    offending = non_gsm_chars(text)
    if offending:
        units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
        single, multi, encoding = 70, 67, "UCS-2"
    else:
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    segments = 1 if units <= single else -(-units // multi)
    return SmsInfo(encoding, units, segments if units else 0, tuple(offending))


def normalise_reply(text: str) -> str:
    """Trim, upper case, no accents or punctuation: the form STOP/START keywords are matched on (§7)."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    cleaned = "".join(ch if ch.isalnum() or ch.isspace() else " " for ch in plain)
    return " ".join(cleaned.upper().split())


STOP_WORDS = ("STOP", "BAJA", "SALIR", "NO", "CANCELAR")
START_WORDS = ("START", "ALTA", "SI")


def reply_keyword(text: str) -> str | None:
    """ "stop", "start" or None, from the first word of the normalised reply."""
    words = normalise_reply(text).split()
    if not words:
        return None
    if words[0] in STOP_WORDS:
        return "stop"
    if words[0] in START_WORDS:
        return "start"
    return None
