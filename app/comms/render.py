"""Rendering at send time (communications.md §1, §7, §8): a registry of renderers per message type plus the shared
pieces — SMS template filling and footer, unsubscribe tokens and links, the branded e-mail layout.

A renderer is `fn(log) -> Rendered`; register it with `@register_renderer("BOOKING_REMINDER")`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app, render_template
from flask_babel import force_locale, gettext

from app.comms.policy import EMAIL, SMS, is_marketing
from app.comms.sms_template_services import active_text, fill

Attachment = tuple[str, str, bytes]  # (filename, mime type, content)


@dataclass
class Rendered:
    subject: str | None = None
    text: str = ""
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)


class NoRenderer(LookupError):
    """No renderer (or no row to render from) for a message: the dispatcher retries it later."""


_renderers: dict[str, Callable[[object], Rendered]] = {}


def register_renderer(*message_types: str):
    """Decorator: `fn(log) -> Rendered` renders rows of these message types (one renderer per type)."""

    def decorator(fn):
        for message_type in message_types:
            _renderers[message_type] = fn
        return fn

    return decorator


def message_language(log) -> str:
    """The language of a message: its client's (`clients.language`, stored at web checkout), else Spanish."""
    client = log.client
    return "en" if client is not None and getattr(client, "language", "es") == "en" else "es"


def render(log) -> Rendered:
    """The message in its client's language (self-service.md §5): templates, subjects and SMS texts translated
    through the catalogue; money and dates keep the house format."""
    try:
        renderer = _renderers[log.message_type]
    except KeyError:
        raise NoRenderer(f"no renderer for {log.message_type}") from None
    with force_locale("en" if message_language(log) == "en" else "es_CL"):
        return renderer(log)


# --- unsubscribe tokens and links (§7) -------------------------------------------------------------------------


def _sig(log_id: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"unsub:{log_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:12]


def unsubscribe_token(log_id: int) -> str:
    """`<log_id>.<sig>`: sig = first 12 chars of base64url(HMAC-SHA256(SECRET_KEY, "unsub:" + log_id))."""
    return f"{log_id}.{_sig(log_id)}"


def log_id_from_token(token: str) -> int | None:
    """The row id of a valid token, None for a tampered one (constant-time compare)."""
    head, _, sig = (token or "").partition(".")
    if not (head.isascii() and head.isdigit()) or len(head) > 12 or not sig:
        return None
    log_id = int(head)
    return log_id if hmac.compare_digest(sig.encode(), _sig(log_id).encode()) else None


def unsubscribe_url(log_id: int, *, everything: bool = False) -> str:
    from app.web.urls import public_url

    url = public_url("comms_public.unsubscribe", token=unsubscribe_token(log_id))
    return url + ("?todo=1" if everything else "")


def preferences_url(log_id: int) -> str:
    from app.web.urls import public_url

    return public_url("comms_public.preferences", token=unsubscribe_token(log_id))


def list_unsubscribe_headers(log) -> dict[str, str]:
    """RFC 2369 / 8058 headers (marketing e-mail)."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(log.id)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


# --- SMS ------------------------------------------------------------------------------------------------------


def sms_footer(log) -> str:
    """Every SMS ends " Baja: <url>"; marketing adds " o responde STOP"."""
    footer = gettext(" Baja: %(url)s", url=unsubscribe_url(log.id))
    if is_marketing(log.message_type):
        footer += gettext(" o responde STOP")
    return footer


def base_variables(log) -> dict[str, str]:
    """The variables every SMS can use: client names/phone, order number, default link (booking site)."""
    from app.core.phone import format_phone

    client = log.client
    variables = {name: "" for name in ("servicio", "fecha", "hora", "descuento", "fecha_limite", "codigo")}
    variables.update(
        {
            "nombre": client.first_name if client else "",
            "apellido": client.last_name if client else "",
            "telefono": format_phone(client.phone) if client else "",
            "reserva": str(log.order_id or ""),
            "link": current_app.config["PUBLIC_BASE_URL"] + "/",
        }
    )
    return variables


def render_sms_template(log, variables: dict | None = None) -> str:
    """The active template (else the default text) of the row's type, filled, with the unsubscribe footer."""
    content = active_text(log.message_type, message_language(log))
    if content is None:
        raise NoRenderer(f"no SMS template for {log.message_type}")
    merged = base_variables(log)
    merged.update(variables or {})
    return fill(content, merged) + sms_footer(log)


# --- e-mail ---------------------------------------------------------------------------------------------------


def email_context(log, **extra) -> dict:
    """What every e-mail template gets: the row, client, unsubscribe links (not for staff reports)."""
    ctx = {
        "log": log,
        "client": log.client,
        "unsubscribe_type_url": None,
        "unsubscribe_all_url": None,
        "preferences_url": None,
    }
    if log.message_type != "STAFF_REPORT":
        ctx.update(
            unsubscribe_type_url=unsubscribe_url(log.id),
            unsubscribe_all_url=unsubscribe_url(log.id, everything=True),
            preferences_url=preferences_url(log.id),
        )
    ctx.update(extra)
    return ctx


def render_email(log, template: str, *, subject: str, attachments: list[Attachment] | None = None, **ctx) -> Rendered:
    """`templates/emails/<template>.html` + `.txt` (both extend the branded layouts)."""
    context = email_context(log, subject=subject, **ctx)
    return Rendered(
        subject=subject,
        text=render_template(f"emails/{template}.txt", **context),
        html=render_template(f"emails/{template}.html", **context),
        attachments=list(attachments or []),
    )


@register_renderer("OTHER", "FOLLOW_UP")
def render_staff_message(log) -> Rendered:
    """Staff-written messages: the text given when queued (`payload` {"subject", "text"})."""
    payload = log.payload or {}
    body = payload.get("text") or ""
    if log.communication_type == SMS:
        return Rendered(text=body + sms_footer(log))
    if log.communication_type == "WHATSAPP":
        return Rendered(text=body)
    if log.communication_type == EMAIL:
        return render_email(log, "message", subject=payload.get("subject") or gettext("Mensaje de Aremko"), body=body)
    raise NoRenderer(f"{log.communication_type} is not sent by the dispatcher")
