"""What the dispatcher asks the automations at send time (registered on `app.comms.hooks`):

- relevance (§5 row 0): a reminder whose day no longer has an active line, or a reschedule notice of a line since
  cancelled, is BLOCKED `stale` (cancelled orders and unpaid receipts are the dispatcher's built-in checks);
- pre-send (§4.5, §4.6): the birthday discount code and the reactivation gift card, created only when the row is
  really sent (blocked or deferred rows never create them) and reused on a retry.
"""

from __future__ import annotations

import secrets
import string
from datetime import date, timedelta

import sqlalchemy as sa

from app.comms.hooks import register_pre_send, register_relevance
from app.core import clock
from app.core.settings import in_force
from app.extensions import db
from app.sales.models import DiscountCode, ServiceLine

CODE_ALPHABET = string.ascii_uppercase + string.digits


def key_part(log, index: int) -> str:
    """A field of the row's idempotency key (`order:<id>:BOOKING_REMINDER:<YYYY-MM-DD>:<ch>` → index 3 = date)."""
    return log.idempotency_key.split(":")[index]


def is_automation_key(log) -> bool:
    """The row's key has the shape the automations give it (§3): `<scope>:<id>:<MESSAGE_TYPE>:…`. Rows of the same
    type queued by hand with a free-form key get no code, card or relevance check of ours."""
    parts = log.idempotency_key.split(":")
    return len(parts) >= 4 and parts[1].isascii() and parts[1].isdigit() and parts[2] == log.message_type


@register_relevance("BOOKING_REMINDER")
def reminder_stale(log) -> str | None:
    """The day's lines were moved or cancelled since the reminder was queued."""
    if not is_automation_key(log):
        return None
    day = date.fromisoformat(key_part(log, 3))
    still = db.session.scalar(
        sa.select(
            sa.exists().where(
                ServiceLine.order_id == log.order_id, ServiceLine.service_date == day, ServiceLine.status == "pendiente"
            )
        )
    )
    return None if still else "stale"


@register_relevance("BOOKING_RESCHEDULED")
def reschedule_stale(log) -> str | None:
    if not is_automation_key(log):
        return None
    line = db.session.get(ServiceLine, int(key_part(log, 1)))
    return None if line is not None and line.status != "cancelada" else "stale"


# --- pre-send: birthday discount code (§4.5) --------------------------------------------------------------------


def birthday_code_key(log) -> str:
    """DiscountCode.description that identifies the client's code of that year (reused on a retry)."""
    return f"BIRTHDAY:{log.client_id}:{key_part(log, 3)}"


def birthday_code(log) -> DiscountCode | None:
    if not is_automation_key(log):
        return None
    return db.session.scalar(
        sa.select(DiscountCode).where(
            DiscountCode.client_id == log.client_id, DiscountCode.description == birthday_code_key(log)
        )
    )


@register_pre_send("BIRTHDAY")
def create_birthday_code(log) -> None:
    """BIRTHDAY_DISCOUNT_PERCENT > 0: a personal code `CUMPLE` + 6 random A–Z0–9, that %, max_uses 1, valid until
    today + BIRTHDAY_DISCOUNT_VALID_DAYS; flushes. 0 % → nothing (plain greeting)."""
    percent = int(in_force()["BIRTHDAY_DISCOUNT_PERCENT"])
    if percent <= 0 or not is_automation_key(log) or birthday_code(log) is not None:
        return
    code = _new_code()
    while db.session.scalar(sa.select(sa.exists().where(DiscountCode.code == code))):
        code = _new_code()
    db.session.add(
        DiscountCode(
            code=code,
            kind="porcentaje",
            value=percent,
            max_uses=1,
            client_id=log.client_id,
            valid_from=clock.today(),
            valid_until=clock.today() + timedelta(days=int(in_force()["BIRTHDAY_DISCOUNT_VALID_DAYS"])),
            description=birthday_code_key(log),
        )
    )
    db.session.flush()


def _new_code() -> str:
    return "CUMPLE" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


# --- pre-send: reactivation gift card (§4.6) ----------------------------------------------------------------


def reactivation_source_key(log) -> str:
    return f"REACTIVATION:{log.client_id}:{key_part(log, 3)}"


@register_pre_send("REACTIVATION")
def issue_reactivation_card(log) -> None:
    """A real gift card (origin `reactivacion`, REACTIVATION_GIFTCARD_AMOUNT, valid REACTIVATION_GIFTCARD_VALID_DAYS,
    recipient = the client), reused on a retry through its source_key; linked to the row; flushes."""
    from app.auth.services import ensure_system_user
    from app.sales.giftcard_services import issue_gift_card

    if not is_automation_key(log):
        return
    cfg = in_force()
    card = issue_gift_card(
        amount=int(cfg["REACTIVATION_GIFTCARD_AMOUNT"]),
        by=ensure_system_user(),
        origin="reactivacion",
        expires_on=clock.today() + timedelta(days=int(cfg["REACTIVATION_GIFTCARD_VALID_DAYS"])),
        recipient_client_id=log.client_id,
        recipient_name=log.client.name if log.client else None,
        source_key=reactivation_source_key(log),
    )
    log.gift_card_id = card.id
    db.session.flush()
