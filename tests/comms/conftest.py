from __future__ import annotations

import pytest

from app.comms import hooks, render


class RecordingSms:
    """A stand-in for Redvoiss through the adapter interface: records, or raises what the test asks."""

    def __init__(self, error=None):
        self.sent = []
        self.error = error
        self.statuses = {}
        self.reply_map = {}

    def greet(self):
        return "hola"

    def send_sms(self, phone, text, label, commercial, client_id=None, with_reply=True):
        if self.error is not None:
            raise self.error
        self.sent.append({"phone": phone, "text": text, "label": label, "commercial": commercial})
        return {"provider_id": f"batch-{len(self.sent)}", "response": {"batchId": f"batch-{len(self.sent)}"}}

    def batch_status(self, provider_id):
        return [{"destination": "", "message": self.statuses.get(provider_id, "ENVIADO"), "msgCod": 1}]

    def replies(self, provider_id):
        return self.reply_map.get(provider_id, [])


class RecordingEmail:
    def __init__(self, error=None):
        self.sent = []
        self.error = error

    def send_email(self, to, subject, text, html, headers, attachments, from_addr, reply_to=None, message_id=None):
        if self.error is not None:
            raise self.error
        self.sent.append(
            dict(
                to=to,
                subject=subject,
                text=text,
                html=html,
                headers=headers,
                attachments=attachments,
                from_addr=from_addr,
                reply_to=reply_to,
                message_id=message_id,
            )
        )
        return {"provider_id": message_id}


@pytest.fixture
def sms():
    return RecordingSms()


@pytest.fixture
def email():
    return RecordingEmail()


@pytest.fixture
def registries():
    """Renderers/hooks registered by a test are removed afterwards."""
    saved = (
        dict(render._renderers),
        {k: list(v) for k, v in hooks._relevance.items()},
        {k: list(v) for k, v in hooks._pre_send.items()},
        list(hooks.message_failed_listeners),
    )
    yield
    render._renderers.clear()
    render._renderers.update(saved[0])
    hooks._relevance.clear()
    hooks._relevance.update(saved[1])
    hooks._pre_send.clear()
    hooks._pre_send.update(saved[2])
    hooks.message_failed_listeners[:] = saved[3]
