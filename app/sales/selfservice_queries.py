"""What a customer may do with an order from the manage-booking page (self-service.md §2): the terms of each line,
whether the order may still be cancelled or a line moved, and what a cancellation would return. Reads only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.core import clock
from app.sales import policy
from app.sales.models import Order, ServiceLine
from app.sales.policy_queries import line_terms


@dataclass
class LineState:
    line: ServiceLine
    terms: policy.LineTerms
    late_fee: int
    can_reschedule: bool
    reschedules_left: int


@dataclass
class ManageState:
    order: Order
    read_only: bool
    can_cancel: bool
    lines: list[LineState] = field(default_factory=list)
    fees: int = 0
    refund: int = 0

    @property
    def any_action(self) -> bool:
        return self.can_cancel or any(ls.can_reschedule for ls in self.lines)


def active_service_lines(order: Order) -> list[ServiceLine]:
    return [ln for ln in order.service_lines if ln.status != "cancelada"]


def is_read_only(order: Order, *, today=None) -> bool:
    """No changes after the last line's day (or for a cancelled order, or one without bookings)."""
    today = today or clock.today()
    lines = active_service_lines(order)
    return order.is_cancelled or not lines or max(ln.service_date for ln in lines) < today


def manage_state(order: Order, *, now: datetime | None = None, ignore_policy: bool = False) -> ManageState:
    """The manage page's facts at `now` (default: the clock). `ignore_policy`: gerente/admin through the API."""
    now = now or clock.now()
    read_only = is_read_only(order, today=clock.to_local(now).date())
    state = ManageState(order=order, read_only=read_only, can_cancel=False)
    lines = active_service_lines(order)
    for ln in sorted(lines, key=lambda x: (x.service_date, x.start_time, x.id)):
        terms = line_terms(order, ln)
        fee = 0 if ignore_policy else policy.late_fee(ln.subtotal, terms, now)
        left = max(policy.MAX_CUSTOMER_RESCHEDULES - (ln.reschedule_count or 0), 0)
        can_move = (
            not read_only
            and ln.status == "pendiente"
            and (ignore_policy or (terms.may_reschedule(now) and left > 0))
            and terms.start > now
        )
        state.lines.append(LineState(ln, terms, fee, can_move, left))
    state.can_cancel = (
        not read_only
        and bool(lines)
        and all(ls.line.status == "pendiente" and ls.terms.start > now for ls in state.lines)
    )
    state.fees = min(sum(ls.late_fee for ls in state.lines), order.paid)
    state.refund = policy.refund_amount(order.paid, state.fees)
    return state
