"""Redvoiss and SMTP adapters against local fake servers (never the internet); `flask test-redvoiss`."""

from __future__ import annotations

import base64
import email
import json
import socketserver
import threading
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.comms.providers import ProviderError, RedvoissSms, SmtpEmail


class RedvoissHandler(BaseHTTPRequestHandler):
    requests: list = []

    def log_message(self, *args):
        pass

    def _reply(self, status, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.requests.append(("GET", self.path, self.headers.get("Authorization"), None))
        if self.path.endswith("/greet"):
            return self._reply(200, "Hola desde Redvoiss", "text/plain")
        if self.path.endswith("/batch/B1/status"):
            return self._reply(200, [{"destination": "+56987654321", "message": "RECIBIDO", "msgCod": 7}])
        if self.path.endswith("/batch/B1/replies"):
            return self._reply(200, {"messageReplyList": [{"destination": "+56987654321", "message": "STOP"}]})
        return self._reply(404, {"error": "no"})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append(("POST", self.path, self.headers.get("Authorization"), body))
        destination = body["message_details"][0]["destination"]
        if destination.endswith("0000"):
            return self._reply(400, {"error": "numero invalido"})
        if destination.endswith("5555"):
            return self._reply(503, "mantención", "text/plain")
        return self._reply(200, {"batchId": "B1"})


@pytest.fixture
def redvoiss():
    RedvoissHandler.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), RedvoissHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/services/rest", RedvoissHandler.requests
    server.shutdown()
    server.server_close()


def test_redvoiss_contract(redvoiss):
    url, seen = redvoiss
    adapter = RedvoissSms(url, "usuario", "clave", timeout=5)
    assert adapter.greet() == "Hola desde Redvoiss"
    answer = adapter.send_sms("+56987654321", "Hola", label="OTHER:1", commercial=True, client_id=7)
    assert answer["provider_id"] == "B1"
    method, path, auth, body = seen[-1]
    assert (method, path) == ("POST", "/services/rest/sendWithReply")
    assert auth == "Basic " + base64.b64encode(b"usuario:clave").decode()
    assert body == {
        "bulkName": "OTHER:1",
        "message": "Hola",
        "isCommercial": True,
        "message_details": [{"destination": "+56987654321", "field": "", "idCliente": "7"}],
    }
    assert adapter.batch_status("B1") == [{"destination": "+56987654321", "message": "RECIBIDO", "msgCod": 7}]
    assert adapter.replies("B1") == [{"destination": "+56987654321", "message": "STOP"}]


def test_redvoiss_errors(redvoiss):
    url, _ = redvoiss
    adapter = RedvoissSms(url, "u", "p", timeout=5)
    with pytest.raises(ProviderError) as permanent:
        adapter.send_sms("+56987650000", "x", label="l", commercial=False)
    assert permanent.value.permanent and "400" in permanent.value.message
    with pytest.raises(ProviderError) as temporary:
        adapter.send_sms("+56987655555", "x", label="l", commercial=False)
    assert not temporary.value.permanent
    with pytest.raises(ProviderError) as down:
        RedvoissSms("http://127.0.0.1:9", "u", "p", timeout=2).greet()
    assert not down.value.permanent and "no responde" in down.value.message


class SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP: EHLO, MAIL, RCPT (550 for addresses containing 'rebota', 451 for 'lento'), DATA, QUIT."""

    messages: list = []

    def send(self, line):
        self.wfile.write((line + "\r\n").encode())

    def handle(self):
        self.send("220 localhost ESMTP prueba")
        while True:
            line = self.rfile.readline().decode().strip()
            if not line:
                return
            verb = line.split()[0].upper()
            if verb in ("EHLO", "HELO"):
                self.send("250 localhost")
            elif verb == "MAIL":
                self.send("250 OK")
            elif verb == "RCPT":
                if "rebota" in line:
                    self.send("550 5.1.1 No such user")
                elif "lento" in line:
                    self.send("451 4.3.0 Try again later")
                else:
                    self.send("250 OK")
            elif verb == "DATA":
                self.send("354 End data with <CR><LF>.<CR><LF>")
                data = []
                while True:
                    chunk = self.rfile.readline()
                    if chunk in (b".\r\n", b""):
                        break
                    data.append(chunk)
                self.messages.append(b"".join(data))
                self.send("250 OK queued")
            elif verb == "RSET" or verb == "NOOP":
                self.send("250 OK")
            elif verb == "QUIT":
                self.send("221 Bye")
                return
            else:
                self.send("502 Not implemented")


@pytest.fixture
def smtp_server():
    SmtpHandler.messages = []
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SmtpHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], SmtpHandler.messages
    server.shutdown()
    server.server_close()


def test_smtp_multipart_with_headers_and_attachment(smtp_server):
    port, messages = smtp_server
    adapter = SmtpEmail("127.0.0.1", port, False, "", "", timeout=5)
    answer = adapter.send_email(
        "cliente@example.com",
        "Reserva confirmada - Tina",
        "Texto plano",
        "<p>HTML</p>",
        {"List-Unsubscribe": "<https://x/ventas/baja/1.abc/>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        [("reserva-1.ics", "text/calendar", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")],
        from_addr="ventas@aremko.cl",
        reply_to="ventas@aremko.cl",
        message_id="<abc@aremko.cl>",
    )
    assert answer == {"provider_id": "<abc@aremko.cl>"}
    msg = email.message_from_bytes(messages[0], policy=policy.default)
    assert msg["Subject"] == "Reserva confirmada - Tina" and msg["Message-ID"] == "<abc@aremko.cl>"
    assert msg["Reply-To"] == "ventas@aremko.cl" and msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg.get_body(("plain",)).get_content().strip() == "Texto plano"
    assert msg.get_body(("html",)).get_content().strip() == "<p>HTML</p>"
    [att] = list(msg.iter_attachments())
    assert att.get_filename() == "reserva-1.ics" and att.get_content_type() == "text/calendar"


def test_smtp_errors(smtp_server):
    port, _ = smtp_server
    adapter = SmtpEmail("127.0.0.1", port, False, "", "", timeout=5)
    args = ("s", "t", None, {}, [], "ventas@aremko.cl")
    with pytest.raises(ProviderError) as bounce:
        adapter.send_email("rebota@example.com", *args)
    assert bounce.value.permanent and bounce.value.bounce and "550" in bounce.value.message
    with pytest.raises(ProviderError) as later:
        adapter.send_email("lento@example.com", *args)
    assert not later.value.permanent and not later.value.bounce
    with pytest.raises(ProviderError) as down:
        SmtpEmail("127.0.0.1", 9, False, "", "", timeout=2).send_email("a@example.com", *args)
    assert not down.value.permanent


def test_cli_test_redvoiss(app, db_session, redvoiss):
    url, seen = redvoiss
    app.config.update(SMS_BACKEND="redvoiss", REDVOISS_API_URL=url, REDVOISS_USERNAME="u", REDVOISS_PASSWORD="secreta")
    try:
        out = app.test_cli_runner().invoke(
            args=["test-redvoiss", "--send-test-sms", "--phone", "987654321", "--wait", "0"]
        )
    finally:
        app.config.update(SMS_BACKEND="fake", REDVOISS_PASSWORD="")
    assert out.exit_code == 0, out.output
    assert "secreta" not in out.output and "Contraseña: ********" in out.output
    assert "Greet: Hola desde Redvoiss" in out.output and "batch B1" in out.output
    assert "Estado: RECIBIDO (+56 9 **** 4321)" in out.output
    assert seen[-2][3]["message_details"][0]["destination"] == "+56987654321"
    app.config.update(SMS_BACKEND="redvoiss", REDVOISS_API_URL="http://127.0.0.1:9")
    try:
        failed = app.test_cli_runner().invoke(args=["test-redvoiss"])
    finally:
        app.config.update(SMS_BACKEND="fake")
    assert failed.exit_code == 1 and "Redvoiss no responde" in failed.output
