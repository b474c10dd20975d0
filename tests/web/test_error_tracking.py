"""Sentry (docs/OPERATIONS.md "Error tracking"): on with SENTRY_DSN, and the envelope a local stub server receives
for an unexpected error carries the exception but no e-mail, phone, RUT, cookie or token."""

from __future__ import annotations

import gzip
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk

from app import create_app
from app.web.error_tracking import scrub, scrub_text
from tests.conftest import make_test_config

SECRETS = ("maria.perez@example.com", "+56987654321", "9 8765 4321", "12.345.678-5", "12345678-5", "galleta-secreta")


class _Stub(BaseHTTPRequestHandler):
    bodies: list[bytes] = []

    def do_POST(self):  # noqa: N802  (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            import brotli

            body = brotli.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        self.bodies.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def stub_sentry():
    _Stub.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://publickey@127.0.0.1:{server.server_address[1]}/42", _Stub.bodies
    sentry_sdk.init()  # off again: no DSN
    server.shutdown()
    server.server_close()


def test_unexpected_error_reaches_sentry_without_personal_data(stub_sentry, tmp_path):
    dsn, bodies = stub_sentry
    app = create_app(make_test_config(SENTRY_DSN=dsn, MEDIA_ROOT=str(tmp_path)))

    @app.get("/boom")
    def boom():
        raise RuntimeError("cliente maria.perez@example.com tel +56987654321 / 9 8765 4321 RUT 12.345.678-5 12345678-5")

    boom._public = True
    client = app.test_client()
    client.set_cookie("session", "galleta-" + "secreta")  # split: the frames' source context quotes this line
    resp = client.get("/boom?email=maria.perez@example.com&telefono=%2B56987654321")
    assert resp.status_code == 500
    sentry_sdk.flush(timeout=5)
    assert bodies, "no envelope reached the stub"
    text = b"\n".join(bodies).decode("utf-8", "replace")
    assert "RuntimeError" in text and "/boom" in text
    for secret in SECRETS:
        assert secret not in text, secret
    assert "%2B56987654321" not in text


def test_no_dsn_no_sentry(tmp_path):
    create_app(make_test_config(MEDIA_ROOT=str(tmp_path)))
    assert not sentry_sdk.get_client().options.get("dsn")


def test_scrub_keeps_ordinary_text_and_masks_each_kind():
    assert scrub_text("pedido 340 del 02/03/2026 a las 14:00, total $25.000") == (
        "pedido 340 del 02/03/2026 a las 14:00, total $25.000"
    )
    for secret in SECRETS[:5]:
        assert secret not in scrub_text(f"dato {secret} fin"), secret
    event = scrub({"request": {"headers": {"Authorization": "Bearer abc", "Cookie": "s=1"}}, "n": 3})
    assert event == {"request": {"headers": {"Authorization": "***", "Cookie": "***"}}, "n": 3}
