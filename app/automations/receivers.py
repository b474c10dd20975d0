"""The automation rules connected to what the sales core announces (`app.sales.signals`).

Connected once by `init_app`; blinker calls them synchronously in the sender's transaction, so the outbox rows they
write are committed or rolled back with the sale that caused them."""

from __future__ import annotations

from app.automations import services as events
from app.sales import signals


def _order_placed(order, *, by=None, **_) -> None:
    events.on_order_placed(order, by=by)


def _order_paid(order, *, by=None, **_) -> None:
    events.on_order_paid(order, by=by)


def _confirm_again(order, *, by=None, **_) -> None:
    """A late Flow payment gave the order back its lines: one confirmation listing them (communications.md §4.1)."""
    events.queue_booking_confirmation(order, by=by)


def _line_added(line, *, by=None, **_) -> None:
    """A line added by staff: the debounced confirmation now lists every line of the order (§4.1)."""
    events.queue_booking_confirmation(line.order, by=by)


def _order_cancelled(order, *, by=None, **_) -> None:
    events.on_order_cancelled_by_staff(order, by=by)


def _line_moved(line, *, event_id: int, by=None, **_) -> None:
    events.on_line_moved(line, event_id=event_id, by=by)


def _giftcard_issued(card, *, by=None, **_) -> None:
    events.on_gift_card_issued(card, by=by)


CONNECTIONS = (
    (signals.order_placed, _order_placed),
    (signals.order_paid, _order_paid),
    (signals.order_reinstated, _confirm_again),
    (signals.line_added, _line_added),
    (signals.order_cancelled, _order_cancelled),
    (signals.line_moved, _line_moved),
    (signals.giftcard_issued, _giftcard_issued),
    (signals.deposit_paid, _confirm_again),
)


def connect() -> None:
    """Idempotent: blinker keeps one connection per receiver, however many apps the tests create."""
    for signal, receiver in CONNECTIONS:
        signal.connect(receiver, weak=False)
