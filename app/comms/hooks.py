"""Extension points other packages register on (dependency direction: comms never imports them).

- `register_relevance(message_type)(fn)`: fn(log) -> reason code (`order_cancelled`, `stale`,
  `campaign_cancelled`) or None; run by the dispatcher before the static checks (§5 row 0).
- `register_pre_send(message_type)(fn)`: fn(log) called only when the row will really be sent, in the dispatch
  transaction, before rendering (birthday discount code, reactivation gift card: §4.5, §4.6).
- `message_failed_listeners`: callables fn(log) run when a row becomes FAILED (after the `message.failed` webhook).
- `reply_listeners`: fn(inbound_sms, log) for a non-keyword SMS reply to a known batch (campaign interactions).
"""

from __future__ import annotations

from collections.abc import Callable

from app.webhooks.event_services import message_failed_from_log

RelevanceCheck = Callable[[object], "str | None"]

_relevance: dict[str, list[RelevanceCheck]] = {}
_pre_send: dict[str, list[Callable[[object], None]]] = {}
message_failed_listeners: list[Callable[[object], None]] = []
reply_listeners: list[Callable[[object, object], None]] = []  # fn(inbound_sms, communication_log)


def register_relevance(*message_types: str):
    def decorator(fn):
        for message_type in message_types:
            _relevance.setdefault(message_type, []).append(fn)
        return fn

    return decorator


def register_pre_send(*message_types: str):
    def decorator(fn):
        for message_type in message_types:
            _pre_send.setdefault(message_type, []).append(fn)
        return fn

    return decorator


def relevance_checks(message_type: str) -> list[RelevanceCheck]:
    return list(_relevance.get(message_type, ()))


def pre_send_hooks(message_type: str) -> list[Callable[[object], None]]:
    return list(_pre_send.get(message_type, ()))


def on_message_failed(log) -> None:
    """Called by the dispatcher and the status poller for every row that becomes FAILED: the `message.failed`
    webhook (api.md §8; webhooks sit below comms), then the registered listeners."""
    message_failed_from_log(log)
    for listener in list(message_failed_listeners):
        listener(log)
