"""The waitlist's reactions to the sales core's signals (`app.sales.signals`): freed capacity is offered, a placed
order accepts the offer whose cart it converted. Connected once by `init_app`; blinker calls them synchronously in
the sender's transaction, so an offer (its hold, message and webhook) commits or rolls back with the change that
freed the place."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.sales import signals
from app.waitlist import services
from app.waitlist.models import WaitlistEntry


def _line_cancelled(line, *, by=None, **_) -> None:
    services.offer_freed(line.service_id, line.service_date, by=by)


def _order_gone(order, *, by=None, **_) -> None:
    """A whole order cancelled (staff, customer) or expired unpaid: each of its days."""
    for service_id, day in sorted({(ln.service_id, ln.service_date) for ln in order.service_lines}):
        services.offer_freed(service_id, day, by=by)


def _line_moved(line, *, from_day=None, by=None, **_) -> None:
    """The day the line left (the same day when only the hour changed: its old hour is free)."""
    services.offer_freed(line.service_id, from_day or line.service_date, by=by)


def _holds_expired(_sender, *, slots=(), **__) -> None:
    for service_id, day in slots:
        services.offer_freed(service_id, day)


def _block_removed(_block, *, slots=(), **__) -> None:
    """(service id or None = every service, first day, last day): the days of that range someone waits for."""
    for service_id, first, last in slots:
        waiting = sa.select(WaitlistEntry.service_id, WaitlistEntry.date).where(
            WaitlistEntry.status == "esperando", WaitlistEntry.date.between(first, last)
        )
        if service_id is not None:
            waiting = waiting.where(WaitlistEntry.service_id == service_id)
        for sid, day in sorted(set(db.session.execute(waiting.distinct()).tuples())):
            services.offer_freed(sid, day)


def _order_placed(order, **_) -> None:
    services.accept_offers_of(order)


CONNECTIONS = (
    (signals.line_cancelled, _line_cancelled),
    (signals.order_cancelled, _order_gone),
    (signals.order_expired, _order_gone),
    (signals.line_moved, _line_moved),
    (signals.holds_expired, _holds_expired),
    (signals.block_removed, _block_removed),
    (signals.order_placed, _order_placed),
)


def connect() -> None:
    """Idempotent: blinker keeps one connection per receiver, however many apps the tests create."""
    for signal, receiver in CONNECTIONS:
        signal.connect(receiver, weak=False)
