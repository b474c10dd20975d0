"""A customer changes their own booking (self-service.md §2): the staff actions with `by=None` (or the API's staff
user) and origin `cliente` — same locks, availability, audit vocabulary, signals, outbox and webhooks. Flush, never
commit."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _

from app.core import clock
from app.core.errors import ConflictError, ValidationError
from app.sales import signals
from app.sales.line_services import move_service_line
from app.sales.locks import lock_order
from app.sales.models import Order, ServiceLine
from app.sales.payment_services import refund_to_gift_card
from app.sales.selfservice_queries import manage_state
from app.sales.services import cancel_order

CUSTOMER_CANCEL_REASON = "Cancelada por el cliente"
REFUND_TO = ("giftcard", "dinero")
REFUND_CARD_MONTHS = 12
POLICY_FREE_ROLES = ("gerente", "admin")


def _months_later(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(d, day.day))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def ignores_policy(by) -> bool:
    return getattr(by, "role", None) in POLICY_FREE_ROLES


def customer_cancel(order: Order, *, refund_to: str = "giftcard", by=None, origin: str = "cliente") -> Order:
    """Cancel every line (capacity freed at once). What was paid minus the late fees of lines past their cut-off
    is returned as a gift card (origin `reembolso`, 12 months), or left as credit for the desk (`requiere_reembolso`)
    when the customer prefers the money back. Sends `order_cancelled` and `line_cancelled` per line."""
    if refund_to not in REFUND_TO:
        raise ValidationError(_("Elija cómo quiere recibir la devolución."), field="devolucion")
    order = lock_order(order)
    if order.is_cancelled:
        raise ConflictError(_("La reserva ya está cancelada."))
    state = manage_state(order, ignore_policy=ignores_policy(by))
    if not state.can_cancel:
        raise ValidationError(
            _(
                "Esta reserva ya no se puede cancelar en línea. "
                "Para cambios, escríbenos por WhatsApp al +56 9 5790 2525."
            )
        )
    lines = [ls.line for ls in state.lines]
    cancel_order(order, reason=CUSTOMER_CANCEL_REASON, by=by, origin=origin, fee=state.fees)
    if refund_to == "giftcard" and order.credit > 0:
        expires = _months_later(clock.today(), REFUND_CARD_MONTHS)
        refund_to_gift_card(order, amount=order.credit, reason=CUSTOMER_CANCEL_REASON, by=by, expires_on=expires)
    signals.order_cancelled.send(order, by=by)
    for line in lines:
        signals.line_cancelled.send(line, by=by, order_cancelled=True)
    return order


def customer_reschedule(line: ServiceLine, *, day: date, hhmm: str, by=None, origin: str = "cliente") -> ServiceLine:
    """Move one line to another free slot of its service for the same people, before the reschedule cut-off and at
    most twice (gerente/admin through the API: policy ignored). The price is read again."""
    order = lock_order(line.order_id, line)
    free = ignores_policy(by)
    state = manage_state(order, ignore_policy=free)
    ls = next((x for x in state.lines if x.line.id == line.id), None)
    if ls is None or not ls.can_reschedule:
        if ls is not None and ls.reschedules_left == 0 and not free:
            raise ValidationError(
                _("Esta reserva ya se cambió dos veces. Para cambios, escríbenos por WhatsApp al +56 9 5790 2525.")
            )
        raise ValidationError(
            _("Esta reserva ya no se puede cambiar en línea. Para cambios, escríbenos por WhatsApp al +56 9 5790 2525.")
        )
    if (day, hhmm) == (line.service_date, line.start_time):
        raise ValidationError(_("Elija una fecha u hora distinta de la actual."), field="hora")
    move_service_line(line, day=day, hhmm=hhmm, by=by, reprice=True, staff=free, origin=origin)
    line.reschedule_count = (line.reschedule_count or 0) + 1
    return line
