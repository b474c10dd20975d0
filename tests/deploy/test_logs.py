"""Log lines (spec deployment.md §2, §6): JSON that parses, the request id on every line written in a request."""

from __future__ import annotations

import io
import json
import logging

from app.core.logs import TEXT_FORMAT, JsonFormatter, RequestIdFilter


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
