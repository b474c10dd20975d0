"""Log lines on stdout (spec deployment.md §2, §6): `text` or `json`, each with the request id of the request that
wrote it ("-" outside requests). JSON lines are real JSON (quotes, newlines and tracebacks escaped)."""

from __future__ import annotations

import json
import logging
import re
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
        body = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False)


def make_handler(log_format: str) -> logging.Handler:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RequestIdFilter())
    handler.addFilter(MaskingFilter())
    return handler


def configure(level: int, log_format: str) -> None:
    """Root handler on stdout, unless the host process (e.g. pytest) already configured logging."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(make_handler(log_format))
        root.setLevel(level)


# --- Masking (security review L4): no phone, e-mail, gift-card code, signed token or secret in any log line ---------

MASK = "***"
# Routes whose path carries a secret or personal datum (from `flask routes`): the segment is replaced by ***.
_TOKEN_PATHS = [
    re.compile(r"(/ventas/(?:reserva|baja|preferencias|giftcard)/)[^/?#\s\"]+"),  # order, unsubscribe, preferences,
    re.compile(r"(/ventas/api/cliente/(?:update/)?)[^/?#\s\"]+"),  # gift-card tokens; the API's phone
    re.compile(r"(/ventas/calendario/[^/?#\s\"]+/\d+/)[^/?#\s\"]+(?=\.ics)"),  # .ics feed token
]
_QUERY = re.compile(r"\?[^\s\"#]*")  # any query string (telefono=, codigo=, token=, email=, …)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![\w/.-])(?:\+|%2[Bb])?(?:56)?9\d{8}\b|(?<![\w/.-])\+\d{8,15}\b")
_LONG_TOKEN = re.compile(r"(?<=/)[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_.-]{8,}(?=[/\s\"?]|$)")  # itsdangerous-looking


def mask_path(path: str) -> str:
    """A request path (or request line, or URL) fit for a log: query string dropped, token segments masked."""
    if not path:
        return path
    text = _QUERY.sub(lambda m: "?" + MASK if len(m.group(0)) > 1 else "", path)
    for pattern in _TOKEN_PATHS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return _LONG_TOKEN.sub(MASK, text)


def mask_text(text: str) -> str:
    """A free-text log message: URLs as in mask_path, and e-mail addresses and phone numbers masked."""
    text = mask_path(text)
    text = _EMAIL.sub(MASK + "@" + MASK, text)
    return _PHONE.sub(lambda m: MASK + m.group(0)[-2:], text)


class MaskingFilter(logging.Filter):
    """On the app's log handler: the rendered message goes through mask_text (werkzeug's request lines in
    `make run`, and any message that quotes a URL, a phone or an e-mail by mistake)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s" rid=%({x-request-id}o)s'
_ACCESS_ATOMS = ("h", "l", "u", "t", "r", "s", "m", "U", "q", "H", "b", "B", "f", "a", "T", "D", "M", "L", "p")

try:
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover - gunicorn is only in the production requirements
    _GunicornLogger = object  # type: ignore[assignment,misc]


class GunicornLogger(_GunicornLogger):  # type: ignore[misc,valid-type]
    """gunicorn `--logger-class`: the access log gets the path without query string and with token segments
    masked, a masked referer, and only the request id among the headers (never Authorization, Cookie, …)."""

    def setup(self, cfg):
        if cfg.access_log_format == cfg.settings["access_log_format"].default:  # --access-logformat wins
            cfg.set("access_log_format", ACCESS_LOG_FORMAT)
        super().setup(cfg)

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        safe = {key: atoms[key] for key in _ACCESS_ATOMS if key in atoms}
        safe["r"] = mask_path(atoms.get("r") or "-")
        safe["U"] = mask_path(atoms.get("U") or "-")
        safe["q"] = MASK if atoms.get("q") else "-"
        safe["f"] = mask_path(atoms.get("f") or "-")
        safe["u"] = "-"
        safe["{x-request-id}o"] = atoms.get("{x-request-id}o", "-")
        return safe
