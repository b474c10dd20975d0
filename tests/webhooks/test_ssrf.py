"""Webhook URLs may not target internal addresses (security review L7): refused when saved (form) and at every
delivery after resolving the name (DNS is the outside world: `socket.getaddrinfo` is faked), unless
WEBHOOK_ALLOWED_HOSTS names the host or its network. The sender connects to the address it checked."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from app.core.errors import ValidationError
from app.webhooks import dispatch_services as dispatcher
from app.webhooks.event_services import emit_event
from app.webhooks.models import WebhookEndpoint
from app.webhooks.sender import HttpSender

INTERNAL = [
    "127.0.0.1",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.10",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "::1",
    "fd00:ec2::254",
    "fe80::1",
    "::ffff:127.0.0.1",
    "ff02::1",
]
PUBLIC_IP = "93.184.216.34"


@pytest.fixture
def dns(monkeypatch):
    """dns[name] = [addresses]: what getaddrinfo answers; unknown names fail like a real NXDOMAIN."""
    table: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host in table:
            return [
                (
                    (socket.AF_INET6 if ":" in a else socket.AF_INET),
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (a, port) if ":" not in a else (a, port, 0, 0),
                )
                for a in table[host]
            ]
        if host in ("127.0.0.1", "localhost"):
            return real(host, port, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return table


@pytest.mark.parametrize("address", INTERNAL)
def test_form_refuses_internal_literals_and_names_resolving_inside(login, db_session, dns, address):
    c = login("admin")
    host = f"[{address}]" if ":" in address else address
    resp = c.post(
        "/ventas/webhooks/nuevo/", data={"url": f"https://{host}/hook", "eventos": ["order.paid"], "activo": "1"}
    )
    assert resp.status_code == 422 and "dirección interna o reservada" in resp.text
    dns["hooks.interno.example"] = [PUBLIC_IP, address]  # one internal answer is enough
    resp = c.post(
        "/ventas/webhooks/nuevo/",
        data={"url": "https://hooks.interno.example/h", "eventos": ["order.paid"], "activo": "1"},
    )
    assert resp.status_code == 422 and "dirección interna o reservada" in resp.text
    assert db_session.query(WebhookEndpoint).count() == 0


def test_localhost_names_are_refused_and_public_or_unresolved_names_accepted(app, dns, db_session):
    from app.webhooks.services import clean_url

    for url in ("https://localhost/x", "https://api.localhost/x", "https://LOCALHOST./x"):
        with pytest.raises(ValidationError, match="dirección interna"):
            clean_url(url)
    dns["n8n.publico.example"] = [PUBLIC_IP]
    assert clean_url("https://n8n.publico.example/webhook") == "https://n8n.publico.example/webhook"
    assert clean_url("https://no-resuelve.example/webhook")  # checked again when delivering


def test_allow_list_names_hosts_or_networks(app, dns, db_session, monkeypatch):
    from app.webhooks.services import clean_url

    dns["n8n.cluster.local"] = ["10.1.2.3"]
    with pytest.raises(ValidationError):
        clean_url("https://n8n.cluster.local/h")
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_HOSTS", "n8n.cluster.local")
    assert clean_url("https://n8n.cluster.local/h")
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_HOSTS", ["10.1.0.0/16"])
    assert clean_url("https://n8n.cluster.local/h")
    with pytest.raises(ValidationError):
        clean_url("https://169.254.169.254/latest/meta-data/")


def test_delivery_rechecks_after_resolution_and_never_connects_inside(app, dns, make_endpoint, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_BACKEND", "http")
    dns["hooks.rebind.example"] = [PUBLIC_IP]
    make_endpoint(events=["message.failed"], url="https://hooks.rebind.example/h")  # public when saved
    dns["hooks.rebind.example"] = ["169.254.169.254"]  # DNS rebinding before delivery
    connects = []
    monkeypatch.setattr(
        socket,
        "create_connection",
        lambda *a, **k: connects.append(a) or (_ for _ in ()).throw(OSError("no network in tests")),
    )
    [delivery] = emit_event("message.failed", {"comunicacion": {"id": 1}})
    dispatcher.dispatch()
    assert delivery.status == "PENDING" and delivery.last_status_code is None
    assert "dirección interna o reservada (169.254.169.254)" in delivery.last_error
    assert connects == []
    dns.clear()  # NXDOMAIN at delivery: refused too, no connection
    result = HttpSender().post("https://hooks.rebind.example/h", b"{}", {})
    assert result.status_code is None and "No se pudo resolver" in result.error and connects == []


@pytest.fixture
def local_server():
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            seen.append((self.path, self.headers.get("Host"), self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"x" * 100_000)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port, seen
    server.shutdown()
    server.server_close()


def test_sender_connects_to_the_checked_address_with_the_url_host(app, db_session, dns, local_server, monkeypatch):
    port, seen = local_server
    dns["n8n.interno.example"] = ["127.0.0.1"]  # only this fake DNS knows the name: the connection used its answer
    result = HttpSender().post(f"http://n8n.interno.example:{port}/hook?x=1", b'{"a":1}', {"X-Test": "1"})
    assert result.status_code is None and "dirección interna" in result.error and seen == []
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_HOSTS", "127.0.0.0/8")
    result = HttpSender().post(f"http://n8n.interno.example:{port}/hook?x=1", b'{"a":1}', {"X-Test": "1"})
    assert result.status_code == 200 and len(result.text) == 500
    assert seen == [("/hook?x=1", f"n8n.interno.example:{port}", b'{"a":1}')]
