"""The dispatcher: signature, retries 1 min → 12 h then FAILED after attempt 6, leases, replay, the HTTP adapter."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from app.scheduler import job_list
from app.webhooks import dispatch_services as dispatcher
from app.webhooks import sender
from app.webhooks.event_services import emit_event
from app.webhooks.sender import HttpSender, SendResult, signature, signed_headers
from app.webhooks.services import replay_delivery

T0 = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)


def test_signature_vector():
    secret, timestamp, body = "whsec-test", 1767225600, b'{"id":"e1","evento":"ping"}'
    expected = hmac.new(b"whsec-test", b'1767225600.{"id":"e1","evento":"ping"}', hashlib.sha256).hexdigest()
    assert expected == "4e7e1292c9e2c9d5b38725a84336b081ec2cb04c774815e57068980585e7b05d"  # also in docs/WEBHOOKS.md
    assert signature(secret, timestamp, body) == expected
    headers = signed_headers(secret=secret, event="ping", event_id="e1", timestamp=timestamp, body=body)
    assert headers["X-Aremko-Signature"] == "sha256=" + expected
    assert headers["X-Aremko-Timestamp"] == "1767225600" and headers["X-Aremko-Delivery"] == "e1"
    assert headers["User-Agent"] == "Aremko-Webhooks/1" and headers["Content-Type"] == "application/json"
    assert signature("otro", timestamp, body) != expected


def test_sent_request_is_signed_over_the_raw_body(make_endpoint, fake_sender, freeze_clock):
    freeze_clock(T0)
    endpoint = make_endpoint(events=["message.failed"])
    [delivery] = emit_event("message.failed", {"comunicacion": {"id": 1, "motivo": "Señal débil"}})
    assert dispatcher.dispatch() == {"DELIVERED": 1, "PENDING": 0, "FAILED": 0}
    [req] = fake_sender.requests
    ts = req.headers["X-Aremko-Timestamp"]
    assert ts == str(int(T0.timestamp()))
    expected = hmac.new(endpoint.secret.encode(), ts.encode() + b"." + req.body, hashlib.sha256).hexdigest()
    assert req.headers["X-Aremko-Signature"] == f"sha256={expected}"
    assert req.headers["X-Aremko-Event"] == "message.failed"
    assert req.headers["X-Aremko-Delivery"] == delivery.event_id == json.loads(req.body)["id"]
    assert json.loads(req.body)["datos"]["comunicacion"]["motivo"] == "Señal débil"
    assert req.url == endpoint.url
    assert delivery.status == "DELIVERED" and delivery.delivered_at == T0 and delivery.last_status_code == 200


def test_retry_schedule_then_failed_after_attempt_six(make_endpoint, fake_sender, freeze_clock):
    freeze_clock(T0)
    make_endpoint(events=["message.failed"])
    [delivery] = emit_event("message.failed", {"comunicacion": {"id": 1}})
    fake_sender.status_code = 500
    now, waits = T0, []
    for attempt in range(1, 7):
        freeze_clock(now)
        dispatcher.dispatch()
        assert delivery.attempts == attempt and delivery.last_status_code == 500
        if attempt < 6:
            assert delivery.status == "PENDING"
            waits.append(delivery.next_attempt_at - now)
            freeze_clock(delivery.next_attempt_at - timedelta(seconds=1))
            assert dispatcher.dispatch() == {"DELIVERED": 0, "PENDING": 0, "FAILED": 0}  # not due yet
            now = delivery.next_attempt_at
    assert waits == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=12),
    ]
    assert delivery.status == "FAILED" and len(fake_sender.requests) == 6
    freeze_clock(now + timedelta(days=2))
    assert dispatcher.dispatch() == {"DELIVERED": 0, "PENDING": 0, "FAILED": 0}


def test_no_answer_is_retried_with_the_error(make_endpoint, fake_sender, freeze_clock):
    freeze_clock(T0)
    make_endpoint(events=["message.failed"])
    [delivery] = emit_event("message.failed", {"comunicacion": {"id": 1}})
    fake_sender.responder = lambda url: SendResult(None, error="ReadTimeout: 10 s")
    dispatcher.dispatch()
    assert delivery.status == "PENDING" and delivery.last_status_code is None
    assert delivery.last_error == "ReadTimeout: 10 s" and delivery.next_attempt_at == T0 + timedelta(minutes=1)


def test_a_crashed_senders_row_comes_back_after_the_lease(make_endpoint, fake_sender, freeze_clock):
    freeze_clock(T0)
    make_endpoint(events=["message.failed"])
    [delivery] = emit_event("message.failed", {"comunicacion": {"id": 1}})
    assert dispatcher.claim() == [delivery.id]  # claimed, then the process died before sending
    assert dispatcher.dispatch() == {"DELIVERED": 0, "PENDING": 0, "FAILED": 0}
    freeze_clock(T0 + dispatcher.LEASE)
    assert dispatcher.dispatch()["DELIVERED"] == 1
    assert delivery.attempts == 2 and len(fake_sender.requests) == 1


def test_replay_keeps_payload_and_event_id(make_endpoint, fake_sender, freeze_clock):
    freeze_clock(T0)
    make_endpoint(events=["message.failed"])
    [delivery] = emit_event("message.failed", {"comunicacion": {"id": 9}})
    fake_sender.status_code = 500
    for _ in range(6):
        freeze_clock(delivery.next_attempt_at)
        dispatcher.dispatch()
    assert delivery.status == "FAILED"
    fake_sender.status_code = 204
    replay_delivery(delivery)
    dispatcher.dispatch()
    first, last = fake_sender.requests[0], fake_sender.requests[-1]
    assert delivery.status == "DELIVERED" and delivery.attempts == 1
    assert last.body == first.body and last.headers["X-Aremko-Delivery"] == first.headers["X-Aremko-Delivery"]


def test_job_is_in_the_one_list_every_minute(app, make_endpoint, fake_sender, freeze_clock):
    jobs = {j.id: j for j in job_list()}
    assert jobs["dispatch_webhooks"].trigger_args == {"minutes": 1}
    freeze_clock(T0)
    make_endpoint(events=["message.failed"])
    emit_event("message.failed", {"comunicacion": {"id": 1}})
    assert jobs["dispatch_webhooks"].func() == "1 webhooks entregados, 0 reprogramados, 0 fallidos"


@pytest.fixture
def local_server():
    """A real HTTP server on 127.0.0.1 that records requests and answers with the status the test sets."""
    received, answer = [], {"status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, dict(self.headers), body))
            self.send_response(answer["status"])
            self.end_headers()
            self.wfile.write(b"recibido " * 100)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", received, answer
    server.shutdown()
    server.server_close()


def test_http_adapter_against_a_local_server(app, local_server, make_endpoint, monkeypatch, freeze_clock):
    base, received, answer = local_server
    monkeypatch.setitem(app.config, "WEBHOOK_BACKEND", "http")
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_HTTP", True)
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_HOSTS", "127.0.0.1")  # internal targets need the allow-list
    assert isinstance(sender.get_sender(), HttpSender)
    freeze_clock(T0)
    endpoint = make_endpoint(events=["message.failed"], url=f"{base}/hook")
    [delivery] = emit_event("message.failed", {"comunicacion": {"id": 1}})
    dispatcher.dispatch()
    [(path, headers, body)] = received
    assert path == "/hook" and headers["X-Aremko-Event"] == "message.failed"
    ts = headers["X-Aremko-Timestamp"]
    assert headers["X-Aremko-Signature"] == "sha256=" + signature(endpoint.secret, ts, body)
    assert delivery.status == "DELIVERED" and len(delivery.response_excerpt) == 500
    answer["status"] = 503
    [second] = emit_event("message.failed", {"comunicacion": {"id": 2}})
    dispatcher.dispatch()
    assert second.status == "PENDING" and second.last_status_code == 503
    closed = HttpSender().post("http://127.0.0.1:9/", b"{}", {})
    assert closed.status_code is None and closed.error


def test_n8n_workflow_checks_the_headers_we_send():
    from pathlib import Path

    workflow = json.loads((Path(__file__).resolve().parents[2] / "docs/n8n/aremko-webhooks.json").read_text())
    nodes = {n["name"]: n for n in workflow["nodes"]}
    code = nodes["Verificar firma"]["parameters"]["jsCode"]
    for header in signed_headers(secret="s", event="ping", event_id="e", timestamp=1, body=b"{}"):
        if header.startswith("X-Aremko-") and header not in ("X-Aremko-Event", "X-Aremko-Delivery"):
            assert header.lower() in code
    assert "'sha256='" in code and "ts + '.'" in code
    assert nodes["Aremko webhook"]["parameters"]["options"]["rawBody"] is True
    assert "/ventas/api/ventasreservas/" in nodes["Venta actual (API)"]["parameters"]["url"]
