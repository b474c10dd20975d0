"""WAITLIST_OFFER (communications.md §3, self-service.md §4): the renderer and the relevance check registered with
the comms registries. The row's `payload` names the entry and the offer number. The message is written in the
entry's `language` (the page's language when the visitor joined, self-service.md §5), not its client's: the visitor
may not have booked on the web yet."""

from __future__ import annotations

from flask_babel import force_locale, gettext

from app.comms.hooks import register_relevance
from app.comms.policy import EMAIL, SMS
from app.comms.render import NoRenderer, Rendered, register_renderer, render_email, sms_footer
from app.core import clock
from app.extensions import db
from app.waitlist.models import WaitlistEntry


def sms_text(**values) -> str:
    """The spec's fixed SMS text (communications.md §3), in the current locale."""
    return gettext(
        "Hola %(nombre)s, se liberó un cupo: %(servicio)s el %(fecha)s a las %(hora)s. "
        "Resérvalo antes de las %(vence)s: %(link)s - Aremko",
        **values,
    )


def _entry(log) -> WaitlistEntry:
    entry = db.session.get(WaitlistEntry, (log.payload or {}).get("entry_id") or 0)
    if entry is None:
        raise NoRenderer(f"waitlist entry of outbox row {log.id} not found")
    return entry


def offer_url(entry: WaitlistEntry) -> str:
    from app.web.urls import public_url

    # an English offer opens the checkout in English (`?lang=en` is remembered for the next pages)
    if entry.language == "en":
        return public_url("waitlist.offer", token=entry.token, lang="en")
    return public_url("waitlist.offer", token=entry.token)


@register_renderer("WAITLIST_OFFER")
def waitlist_offer(log) -> Rendered:
    entry = _entry(log)
    with force_locale("en" if entry.language == "en" else "es_CL"):
        return _render_offer(log, entry)


def _render_offer(log, entry: WaitlistEntry) -> Rendered:
    expires = f"{clock.to_local(entry.offer_expires_at):%H:%M}" if entry.offer_expires_at else ""
    if log.communication_type == SMS:
        text = sms_text(
            nombre=entry.name.split()[0],
            servicio=entry.service.name,
            fecha=f"{entry.date:%d/%m/%Y}",
            hora=entry.offered_time or "",
            vence=expires,
            link=offer_url(entry),
        )
        return Rendered(text=text + sms_footer(log))
    if log.communication_type == EMAIL:
        return render_email(
            log,
            "WAITLIST_OFFER",
            subject=gettext(
                "Se liberó un cupo: %(servicio)s el %(fecha)s",
                servicio=entry.service.name,
                fecha=f"{entry.date:%d/%m/%Y}",
            ),
            entry=entry,
            expires=expires,
            offer_url=offer_url(entry),
        )
    raise NoRenderer(f"{log.communication_type} is not sent by the dispatcher")


@register_relevance("WAITLIST_OFFER")
def offer_still_open(log) -> str | None:
    """An offer already accepted, cancelled or replaced by a later one is not sent."""
    entry = db.session.get(WaitlistEntry, (log.payload or {}).get("entry_id") or 0)
    if entry is None or entry.status != "ofrecida" or entry.offer_count != (log.payload or {}).get("offer_no"):
        return "stale"
    return None
