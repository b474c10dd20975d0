"""Log lines (spec deployment.md §2, §6): JSON that parses, the request id on every line written in a request."""

from __future__ import annotations

import io
import json
import logging

import pytest

from app.core.logs import (
    TEXT_FORMAT,
    GunicornLogger,
    JsonFormatter,
    RequestIdFilter,
    make_handler,
    mask_path,
    mask_text,
)


def capture(app, log_format: str, headers=None):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RequestIdFilter())
    log = logging.getLogger("aremko.test.logs")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        with app.test_request_context("/", headers=headers or {}):
            app.preprocess_request()  # sets g.request_id like a real request
            log.info('reserva "Tina Calipso"\nlínea 2')
            try:
                raise ValueError("falla")
            except ValueError:
                log.exception("con traza")
        log.info("fuera de una petición")
    finally:
        log.removeHandler(handler)
    return stream.getvalue()


def test_json_lines_parse_and_carry_the_request_id(app):
    lines = [json.loads(line) for line in capture(app, "json", {"X-Request-ID": "req-123"}).splitlines()]
    assert [entry["request_id"] for entry in lines] == ["req-123", "req-123", "-"]
    assert lines[0]["message"] == 'reserva "Tina Calipso"\nlínea 2' and lines[0]["level"] == "INFO"
    assert set(lines[0]) == {"time", "level", "logger", "request_id", "message"}
    assert "ValueError: falla" in lines[1]["exception"]


def test_text_lines_carry_the_generated_request_id(app):
    text = capture(app, "text")
    first = text.splitlines()[0]
    assert " INFO aremko.test.logs [" in first and "[-]" not in first
    assert "[-] fuera de una petición" in text


# --- masking (security review L4) ------------------------------------------------------------------------------------

TOKEN = "eyJvIjozNDB9.Zx1-Ab_cdEfGh2iJkLmNoPq"  # itsdangerous-looking signed token
SECRETS = (
    "+56987654321",
    "56987654321",
    "987654321",
    "lola@example.com",
    "GC-7H3K-9QXZ",
    TOKEN,
    "3f9a1c2b7d8e4f6a0b1c2d3e4f5a6b7c8d9e0f1a",
)


@pytest.mark.parametrize(
    "path",
    [
        "/ventas/get-client-details/?telefono=%2B56987654321",  # phone in the query string
        "/ventas/checkout/cliente?telefono=987654321&email=lola@example.com",
        "/ventas/giftcard/saldo/?codigo=GC-7H3K-9QXZ",  # redeemable gift-card code
        f"/ventas/reserva/{TOKEN}/",  # order token
        f"/ventas/reserva/{TOKEN}/pagar-flow/",
        f"/ventas/baja/{TOKEN}/",  # unsubscribe token
        f"/ventas/preferencias/{TOKEN}/",  # preferences token
        f"/ventas/giftcard/{TOKEN}/",  # gift-card token
        "/ventas/calendario/proveedor/4/3f9a1c2b7d8e4f6a0b1c2d3e4f5a6b7c8d9e0f1a.ics",  # .ics feed token
        f"/ventas/fake-flow/pay?token={TOKEN}&accion=pagar",  # fake-flow token
        "/ventas/api/cliente/+56987654321/",  # the API's phone in the path
        "/ventas/api/cliente/update/56987654321/",
    ],
)
def test_mask_path_hides_every_token_and_personal_datum(path):
    masked = mask_path(f"GET {path} HTTP/1.1")
    assert not any(secret in masked for secret in SECRETS), masked
    assert masked.startswith("GET /ventas/") and masked.endswith(" HTTP/1.1")


def test_mask_path_keeps_ordinary_paths_readable():
    for path in ("/ventas/venta_reservas/340/", "/ventas/servicio/12/horas/", "/healthz", "/static/css/app.css"):
        assert mask_path(path) == path
    assert mask_path("/ventas/cart/?x=1") == "/ventas/cart/?***"


def test_mask_text_hides_phones_and_emails_in_app_messages():
    text = mask_text("cliente lola@example.com tel +56987654321 visitó /ventas/baja/abc.def/?t=1 (pedido 340)")
    assert "lola@example.com" not in text and "+56987654321" not in text and "abc.def" not in text
    assert "pedido 340" in text and "***21" in text


def test_the_app_handler_masks_werkzeug_request_lines(app):
    stream = io.StringIO()
    handler = make_handler("text")
    handler.setStream(stream)
    log = logging.getLogger("werkzeug.test-mask")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        log.info('127.0.0.1 - - "%s" %s -', f"GET /ventas/reserva/{TOKEN}/?telefono=%2B56987654321 HTTP/1.1", 200)
    finally:
        log.removeHandler(handler)
    line = stream.getvalue()
    assert TOKEN not in line and "56987654321" not in line and "/ventas/reserva/***/" in line


def gunicorn_access_line(path: str, query: str, referer: str) -> str:
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config as GunicornConfig

    cfg = GunicornConfig()
    cfg.set("accesslog", "-")
    logger = GunicornLogger(cfg)
    stream = io.StringIO()
    for h in logger.access_log.handlers:
        h.setStream(stream)
    uri = path + ("?" + query if query else "")
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": uri,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.7",
        "HTTP_REFERER": referer,
        "HTTP_USER_AGENT": "pytest",
        "HTTP_AUTHORIZATION": "Bearer sekret-token-value",
    }
    resp = SimpleNamespace(status="200 OK", sent=512, headers=[("X-Request-ID", "rid-123")])
    req = SimpleNamespace(headers=[("AUTHORIZATION", "Bearer sekret-token-value"), ("COOKIE", "session=abc")])
    logger.access(resp, req, environ, timedelta(milliseconds=42))
    return stream.getvalue()


def test_gunicorn_access_log_has_no_query_nor_token_and_keeps_the_request_id():
    line = gunicorn_access_line(
        f"/ventas/reserva/{TOKEN}/",
        "telefono=%2B56987654321",
        f"https://reservas.example.cl/ventas/giftcard/{TOKEN}/?codigo=GC-7H3K-9QXZ",
    )
    assert not any(secret in line for secret in SECRETS), line
    assert "sekret-token-value" not in line and "session=abc" not in line
    assert '"GET /ventas/reserva/***/?*** HTTP/1.1" 200 512 42ms' in line
    assert "rid=rid-123" in line and line.startswith("10.0.0.7 ")
