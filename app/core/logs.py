"""Log lines on stdout (spec deployment.md §2, §6): `text` or `json`, each with the request id of the request that
wrote it ("-" outside requests). JSON lines are real JSON (quotes, newlines and tracebacks escaped)."""

from __future__ import annotations

import json
import logging
import sys

from flask import g, has_request_context

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    """Adds `record.request_id` (set by app.web.security for every request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = (g.get("request_id") or "-") if has_request_context() else "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, request_id, message (+ exception)."""

    def format(self, record: logging.LogRecord) -> str:
        body = {"time": self.formatTime(record), "level": record.levelname, "logger": record.name,
                "request_id": getattr(record, "request_id", "-"), "message": record.getMessage()}
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False)


def make_handler(log_format: str) -> logging.Handler:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RequestIdFilter())
    return handler


def configure(level: int, log_format: str) -> None:
    """Root handler on stdout, unless the host process (e.g. pytest) already configured logging."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(make_handler(log_format))
        root.setLevel(level)
