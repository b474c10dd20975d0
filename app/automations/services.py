"""Event messages (communications.md §4.1, §4.3, §4.8): queued by the business services in the same transaction as
the change, through the outbox (never a provider call). Each function is the ONE call placed at its hook point;
they flush (via the outbox statements) and never commit.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.comms.models import CommunicationLog
from app.comms.outbox_services import debounce_upsert, debounce_upsert_many, enqueue
from app.comms.policy import SENT_STATUSES
from app.core import clock
from app.extensions import db
from app.sales.availability import slot_start

SMS, EMAIL = "SMS", "EMAIL"
CHANNELS = (SMS, EMAIL)
SUFFIX = {SMS: "sms", EMAIL: "email"}
CONFIRMATION = "BOOKING_CONFIRMATION"
# rows that count as "the confirmation was sent" on a channel (§4.3, §4.8)
DELIVERED = tuple(s for s in SENT_STATUSES if s != "SENDING")


def order_key(order_id: int, message_type: str, channel: str) -> str:
    return f"order:{order_id}:{message_type}:{SUFFIX[channel]}"


def trigger_of(by, default: str = "checkout") -> str:
    """`staff:<username>` for a logged-in staff action, else `default` (checkout, payment, job id)."""
    username = getattr(by, "username", None)
    if username and not getattr(by, "is_system", False):
        return f"staff:{username}"
    return default


def first_start(order):
    """First start of the order's active service lines (the confirmation's expiry); None for product-only."""
    starts = [slot_start(ln.service_date, ln.start_time) for ln in order.service_lines if ln.status != "cancelada"]
    return min(starts) if starts else None


def _sent_channels(order_id: int) -> set[str]:
    """Channels whose booking confirmation went out (one query)."""
    keys = [order_key(order_id, CONFIRMATION, ch) for ch in CHANNELS]
    rows = db.session.execute(
        sa.select(CommunicationLog.communication_type).where(
            CommunicationLog.idempotency_key.in_(keys), CommunicationLog.status.in_(DELIVERED)
        )
    ).scalars()
    return set(rows)


def _confirmation(order, channel: str, *, by, trigger: str, expires_at) -> dict:
    """debounce_upsert's arguments for the order's confirmation on `channel`."""
    return {
        "message_type": CONFIRMATION,
        "channel": channel,
        "idempotency_key": order_key(order.id, CONFIRMATION, channel),
        "debounce_seconds": int(current_app.config["CONFIRMATION_DEBOUNCE_SECONDS"]),
        "client_id": order.client_id,
        "order_id": order.id,
        "expires_at": expires_at,
        "triggered_by": trigger,
        "created_by": by,
    }


def _confirm(order, channel: str, *, by, trigger: str) -> None:
    debounce_upsert(**_confirmation(order, channel, by=by, trigger=trigger, expires_at=first_start(order)))


def queue_booking_confirmation(order, *, by=None, trigger: str | None = None) -> None:
    """§4.1 debounce upsert of the order's confirmation on SMS and e-mail (one statement for both): a multi-line
    order gets one message; an already sent confirmation is left alone (staff use "Reenviar confirmación")."""
    trigger = trigger or trigger_of(by)
    expires_at = first_start(order)
    debounce_upsert_many(
        [_confirmation(order, channel, by=by, trigger=trigger, expires_at=expires_at) for channel in CHANNELS]
    )


def on_order_placed(order, *, by=None) -> None:
    """`place_order`: transfer and staff orders are confirmed now; Flow web orders when their payment arrives."""
    if order.checkout_method != "flow":
        queue_booking_confirmation(order, by=by)


def on_order_paid(order, *, by=None) -> None:
    """§4.3 transition to `pagado`: per channel, a receipt if that channel's confirmation was sent, else the
    (pending or new) confirmation, which renders as paid — one message, not two."""
    sent = _sent_channels(order.id)
    trigger = trigger_of(by, "payment")
    for channel in CHANNELS:
        if channel in sent:
            enqueue(
                message_type="PAYMENT_CONFIRMATION",
                channel=channel,
                idempotency_key=order_key(order.id, "PAYMENT_CONFIRMATION", channel),
                client_id=order.client_id,
                order_id=order.id,
                expires_at=clock.now() + timedelta(days=7),
                triggered_by=trigger,
                created_by=by,
            )
        else:
            _confirm(order, channel, by=by, trigger=trigger)


def on_line_moved(line, *, event_id: int, by=None) -> None:
    """`move_service_line`: BOOKING_RESCHEDULED on the channels whose confirmation was sent; where it was not sent
    yet the pending confirmation is pushed instead (it renders the new date)."""
    order = line.order
    sent = _sent_channels(order.id)
    trigger = trigger_of(by)
    for channel in CHANNELS:
        if channel in sent:
            enqueue(
                message_type="BOOKING_RESCHEDULED",
                channel=channel,
                idempotency_key=f"line:{line.id}:BOOKING_RESCHEDULED:{event_id}:{SUFFIX[channel]}",
                client_id=order.client_id,
                order_id=order.id,
                expires_at=slot_start(line.service_date, line.start_time),
                triggered_by=trigger,
                created_by=by,
            )
        else:
            _confirm(order, channel, by=by, trigger=trigger)


def on_order_cancelled_by_staff(order, *, by=None) -> None:
    """Staff cancellation of a whole order: BOOKING_CANCELLED on the channels whose confirmation was sent (a
    pending confirmation is blocked `order_cancelled` by the gatekeeper). Flow-expiry cancellations never call this."""
    if not order.is_cancelled:
        return
    for channel in _sent_channels(order.id):
        enqueue(
            message_type="BOOKING_CANCELLED",
            channel=channel,
            idempotency_key=order_key(order.id, "BOOKING_CANCELLED", channel),
            client_id=order.client_id,
            order_id=order.id,
            expires_at=clock.now() + timedelta(days=2),
            triggered_by=trigger_of(by),
            created_by=by,
        )


def on_gift_card_issued(card, *, by=None) -> None:
    """A card issued with a recipient e-mail: GIFT_CARD e-mail to that address (suppression is the only check)."""
    if not card.recipient_email or card.origin == "reactivacion":
        return
    enqueue(
        message_type="GIFT_CARD",
        channel=EMAIL,
        idempotency_key=f"giftcard:{card.id}:GIFT_CARD",
        client_id=card.recipient_client_id,
        gift_card_id=card.id,
        destination=card.recipient_email,
        triggered_by=trigger_of(by, "giftcard"),
        created_by=by,
    )


def resend_confirmation(order, *, by) -> int:
    """ "Reenviar confirmación": a new PENDING confirmation row per channel, key `<key>:resend:<n>`; returns how
    many rows were queued. The order's current data is rendered at dispatch. ConflictError on a cancelled order."""
    from app.core.errors import ConflictError

    if order.is_cancelled:
        raise ConflictError("La venta está cancelada: no se puede reenviar la confirmación.")
    queued = 0
    for channel in CHANNELS:
        base = order_key(order.id, CONFIRMATION, channel)
        n = (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(CommunicationLog)
                .where(CommunicationLog.idempotency_key.like(base + ":resend:%"))
            )
            + 1
        )
        queued += enqueue(
            message_type=CONFIRMATION,
            channel=channel,
            idempotency_key=f"{base}:resend:{n}",
            client_id=order.client_id,
            order_id=order.id,
            triggered_by=trigger_of(by),
            created_by=by,
        )
    return queued
