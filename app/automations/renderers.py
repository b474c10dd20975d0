"""Renderers of the automatic and event messages (communications.md §4, §8), registered with the core's registry.

Rendered at send time from current data: SMS through the active SMS template of the type, e-mail through
`templates/emails/<MESSAGE_TYPE>.html` + `.txt` (extending the branded layout).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext

from app.automations.hooks import birthday_code, key_part
from app.calendars.feeds import order_ics_attachment
from app.comms.render import NoRenderer, Rendered, register_renderer, render_email, render_sms_template
from app.core import clock
from app.core.money import format_clp
from app.core.settings import in_force
from app.extensions import db
from app.sales.models import GiftCard, Order, ServiceLine
from app.sales.policy_queries import deposit_info

SMS = "SMS"
DEFAULT_VIP_BODY = (
    "Como cliente VIP de Aremko este mes tienes:\n"
    "- Prioridad para reservar tus horarios favoritos.\n"
    "- 15 % de descuento en nuestros paquetes.\n"
    "- Acceso a nuestros tratamientos premium.\n"
    "- Una sorpresa especial en tu próxima visita."
)


@dataclass(frozen=True)
class Line:
    service: str
    day: date
    start: str
    people: int
    subtotal: int


def active_lines(order: Order, day: date | None = None) -> list[Line]:
    lines = [ln for ln in order.service_lines if ln.status != "cancelada" and (day is None or ln.service_date == day)]
    lines.sort(key=lambda ln: (ln.service_date, ln.start_time, ln.id))
    return [Line(ln.service.name, ln.service_date, ln.start_time, ln.people, ln.subtotal) for ln in lines]


def service_summary(lines: list[Line], joiner: str) -> str:
    """First service + "<joiner>N más" (subject: " + 1 más"; SMS {servicio}: " y 1 más")."""
    if not lines:
        return gettext("tu compra")
    extra = len(lines) - 1
    if not extra:
        return lines[0].service
    more = gettext(" y %(num)d más", num=extra) if joiner == " y " else gettext(" + %(num)d más", num=extra)
    return lines[0].service + more


def order_url(order_id: int) -> str:
    from app.core.signing import order_token
    from app.web.urls import public_url

    return public_url("shop.order_page", token=order_token(order_id))


def booking_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"] + "/"


def _line_vars(lines: list[Line]) -> dict[str, str]:
    first = lines[0] if lines else None
    return {
        "servicio": service_summary(lines, " y "),
        "fecha": f"{first.day:%d/%m/%Y}" if first else "",
        "hora": first.start if first else "",
    }


def _required(model, row_id, log):
    """The row this message is about; NoRenderer (retried, then FAILED) for a row queued without it."""
    found = db.session.get(model, row_id) if row_id is not None else None
    if found is None:
        raise NoRenderer(f"{log.message_type} #{log.id}: {model.__name__} {row_id} not found")
    return found


def _order(log) -> Order:
    return _required(Order, log.order_id, log)


def _sms(log, **variables) -> Rendered:
    return Rendered(text=render_sms_template(log, variables))


# --- booking confirmation (§4.1) and payment receipt (§4.3) ------------------------------------------------------


@register_renderer("BOOKING_CONFIRMATION")
def booking_confirmation(log) -> Rendered:
    order = _order(log)
    lines = active_lines(order)
    if log.communication_type == SMS:
        return _sms(log, link=order_url(order.id), **_line_vars(lines))
    deposit = deposit_info(order)  # self-service.md §3: a paid deposit confirms, the balance is due at arrival
    due = order.balance_due > 0 and not (deposit and deposit["paid"])
    status = gettext("Reserva por confirmar") if due else gettext("Reserva confirmada")
    subject = f"{status} - {service_summary(lines, ' + ')}"
    attachments = [order_ics_attachment(order)] if lines else []  # integrations.md §3: the bookings as .ics
    return render_email(
        log,
        "BOOKING_CONFIRMATION",
        subject=subject,
        attachments=attachments,
        order=order,
        lines=lines,
        due=due,
        deposit=deposit,
        order_url=order_url(order.id),
        transfer_instructions=in_force().get("BANK_TRANSFER_INSTRUCTIONS") or "",
    )


@register_renderer("PAYMENT_CONFIRMATION")
def payment_confirmation(log) -> Rendered:
    order = _order(log)
    if log.communication_type == SMS:
        return _sms(log, link=order_url(order.id), **_line_vars(active_lines(order)))
    return render_email(
        log,
        "PAYMENT_CONFIRMATION",
        subject=gettext("Pago recibido - Reserva #%(id)s pagada 100%%", id=order.id),
        order=order,
        lines=active_lines(order),
        order_url=order_url(order.id),
    )


# --- reminder (§4.2) -----------------------------------------------------------------------------------------


@register_renderer("BOOKING_REMINDER")
def booking_reminder(log) -> Rendered:
    order = _order(log)
    day = date.fromisoformat(key_part(log, 3))
    lines = active_lines(order, day)
    if log.communication_type == SMS:
        return _sms(log, link=order_url(order.id), **_line_vars(lines))
    when = gettext("hoy") if day == clock.today() else gettext("mañana")
    subject = gettext("Recordatorio: tu reserva es %(when)s", when=when) + f" - {service_summary(lines, ' + ')}"
    return render_email(
        log,
        "BOOKING_REMINDER",
        subject=subject,
        order=order,
        lines=lines,
        day=day,
        when=when,
        order_url=order_url(order.id),
    )


# --- rescheduled / cancelled (§4.8) --------------------------------------------------------------------------


@register_renderer("BOOKING_RESCHEDULED")
def booking_rescheduled(log) -> Rendered:
    order = _order(log)
    line = _required(ServiceLine, int(key_part(log, 1)), log)
    moved = Line(line.service.name, line.service_date, line.start_time, line.people, line.subtotal)
    if log.communication_type == SMS:
        return _sms(log, link=order_url(order.id), **_line_vars([moved]))
    return render_email(
        log,
        "BOOKING_RESCHEDULED",
        subject=gettext("Tu reserva #%(id)s cambió", id=order.id),
        order=order,
        line=moved,
        lines=active_lines(order),
        order_url=order_url(order.id),
    )


@register_renderer("BOOKING_CANCELLED")
def booking_cancelled(log) -> Rendered:
    order = _order(log)
    if log.communication_type == SMS:
        return _sms(log, link=booking_url())
    lines = [
        Line(ln.service.name, ln.service_date, ln.start_time, ln.people, ln.subtotal)
        for ln in sorted(order.service_lines, key=lambda ln: (ln.service_date, ln.start_time))
    ]
    refund = next(
        (p for p in order.payments if p.is_refund and p.status == "valido" and p.gift_card_id is not None), None
    )
    return render_email(
        log,
        "BOOKING_CANCELLED",
        subject=gettext("Reserva cancelada - #%(id)s", id=order.id),
        order=order,
        lines=lines,
        refund_card=refund.gift_card if refund else None,
        refund_amount=-refund.amount if refund else 0,
        booking_url=booking_url(),
    )


# --- survey (§4.4) -------------------------------------------------------------------------------------------


def survey_url(log) -> str:
    base = current_app.config["SURVEY_PUBLIC_BASE_URL"].strip()
    return f"{base}{'&' if '?' in base else '?'}cliente={log.client_id}&reserva={log.order_id}"


@register_renderer("SATISFACTION_SURVEY")
def satisfaction_survey(log) -> Rendered:
    order = _order(log)
    lines = [ln for ln in order.service_lines if ln.status not in ("cancelada", "no_show")]
    lines.sort(key=lambda ln: (ln.service_date, ln.start_time))
    summary = [Line(ln.service.name, ln.service_date, ln.start_time, ln.people, ln.subtotal) for ln in lines]
    if log.communication_type == SMS:
        return _sms(log, link=survey_url(log), **_line_vars(summary))
    visit_day = summary[-1].day if summary else None
    return render_email(
        log,
        "SATISFACTION_SURVEY",
        subject=gettext("¿Cómo estuvo tu experiencia en Aremko?"),
        order=order,
        visit_day=visit_day,
        survey_url=survey_url(log),
        tripadvisor_url=(current_app.config.get("TRIPADVISOR_URL") or "").strip(),
    )


# --- gift card (§4.8) ----------------------------------------------------------------------------------------


@register_renderer("GIFT_CARD")
def gift_card(log) -> Rendered:
    from app.sales.giftcard_services import public_token
    from app.web.urls import public_url

    card = _required(GiftCard, log.gift_card_id, log)
    return render_email(
        log,
        "GIFT_CARD",
        subject=gettext("Recibiste una Gift Card de Aremko"),
        card=card,
        print_url=public_url("payments.gift_card_public", token=public_token(card)),
        booking_url=booking_url(),
    )


# --- birthday (§4.5) -----------------------------------------------------------------------------------------


@register_renderer("BIRTHDAY")
def birthday(log) -> Rendered:
    code = birthday_code(log)
    benefit = (
        {"descuento": f"{code.value} %", "codigo": code.code, "fecha_limite": f"{code.valid_until:%d/%m/%Y}"}
        if code is not None
        else None
    )
    if log.communication_type == SMS:
        if benefit is None:  # 0 %: a plain greeting
            from app.comms.render import sms_footer

            text = gettext(
                "¡Feliz cumpleaños, %(name)s! Te saluda todo el equipo de Aremko.", name=log.client.first_name
            )
            return Rendered(text=text + sms_footer(log))
        return _sms(log, link=booking_url(), **benefit)
    return render_email(
        log,
        "BIRTHDAY",
        subject=gettext("¡Feliz cumpleaños, %(name)s!", name=log.client.first_name),
        code=code,
        benefit=benefit,
        booking_url=booking_url(),
    )


# --- reactivation (§4.6) -------------------------------------------------------------------------------------


def last_visit(client_id: int) -> date | None:
    from app.sales.client_queries import stats_select

    stats = stats_select().subquery()
    return db.session.scalar(sa.select(stats.c.last_visit).where(stats.c.client_id == client_id))


@register_renderer("REACTIVATION")
def reactivation(log) -> Rendered:
    card = _required(GiftCard, log.gift_card_id, log)
    amount = format_clp(card.initial_amount)
    if log.communication_type == SMS:
        return _sms(
            log,
            link=booking_url(),
            descuento=gettext("una Gift Card de %(amount)s", amount=amount),
            codigo=card.code,
            fecha_limite=f"{card.expires_on:%d/%m/%Y}",
        )
    return render_email(
        log,
        "REACTIVATION",
        subject=gettext("Regalo para tu próxima visita - Gift Card %(amount)s", amount=amount),
        card=card,
        last_visit=last_visit(log.client_id),
        booking_url=booking_url(),
    )


# --- VIP newsletter (§4.7) -----------------------------------------------------------------------------------


def month_label(day: date) -> str:
    """ "Marzo 2026" / "March 2026": the message's language (comms.render forces the client's locale)."""
    from babel.dates import format_date
    from flask_babel import get_locale

    text = format_date(day, "LLLL y", locale=get_locale() or "es_CL")
    return text[:1].upper() + text[1:]


@register_renderer("NEWSLETTER")
def vip_newsletter(log) -> Rendered:
    year, month = (int(p) for p in key_part(log, 3).split("-"))
    body = (current_app.config.get("NEWSLETTER_VIP_BODY") or "").strip() or DEFAULT_VIP_BODY
    return render_email(
        log,
        "NEWSLETTER",
        subject=gettext("Newsletter Exclusivo VIP - %(month)s", month=month_label(date(year, month, 1))),
        body=body,
        booking_url=booking_url(),
    )
