"""What the sales core announces (blinker, as Flask and pretix do): a higher package reacts to a sale without the
sales services importing it. Receivers are connected in the reacting package's `init_app` (the automation rules in
`app.automations`) and run synchronously, inside the sender's transaction: an outbox row they write is committed or
rolled back with the change that caused it, never sent for a change that did not happen.

Each signal's sender is the changed object; keyword arguments are listed beside it. `by` is the acting user or None.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

order_placed = _signals.signal("order-placed", doc="sender: Order just written by place_order; by")
order_paid = _signals.signal("order-paid", doc="sender: Order whose payment status just became pagado; by")
order_reinstated = _signals.signal(
    "order-reinstated", doc="sender: Order given back its lines by a late Flow payment; by"
)
order_cancelled = _signals.signal("order-cancelled", doc="sender: Order cancelled by staff (whole order); by")
line_added = _signals.signal("line-added", doc="sender: ServiceLine added to an existing order by staff; by")
line_cancelled = _signals.signal(
    "line-cancelled", doc="sender: ServiceLine cancelled by staff; by, order_cancelled (it was the last line)"
)
line_moved = _signals.signal(
    "line-moved", doc="sender: ServiceLine moved to another day/time; by, event_id, from_day (the day it left)"
)
deposit_paid = _signals.signal(
    "deposit-paid", doc="sender: Order whose payments just reached the deposit its policies ask (parcial); by"
)
giftcard_issued = _signals.signal("giftcard-issued", doc="sender: GiftCard just issued; by")
# Capacity freed without a staff cancellation (the waitlist offers it, self-service.md §4):
holds_expired = _signals.signal(
    "holds-expired", doc="sender: None; slots: sorted (service id, day) pairs whose cart holds were just released"
)
order_expired = _signals.signal("order-expired", doc="sender: Order cancelled by the unpaid-order expiry job; by")
block_removed = _signals.signal(
    "block-removed",
    doc="sender: ServiceBlock or SlotBlock deleted or deactivated; slots: (service id or None, first, last day)",
)
