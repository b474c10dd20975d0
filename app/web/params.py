"""Query-string and form values every screen reads the same way."""

from __future__ import annotations

import re
from datetime import date

from app.core import clock

INVALID_DATE_NOTICE = "Fecha inválida, se usó hoy"


def parse_day(raw: str | None, default: date | None = None) -> tuple[date, str | None]:
    """`YYYY-MM-DD` -> (date, None); empty -> (default or today, None); unparsable -> (default or today, notice)."""
    fallback = default or clock.today()
    if not (raw or "").strip():
        return fallback, None
    try:
        return date.fromisoformat(raw.strip()), None
    except ValueError:
        return fallback, INVALID_DATE_NOTICE


def parse_hhmm(raw: str | None, *, field: str = "hora") -> str:
    """A form's `HH:MM` or a Spanish ValidationError naming the field."""
    from app.core.errors import ValidationError

    hhmm = (raw or "").strip()
    if not clock.is_hhmm(hhmm):
        raise ValidationError("Indique la hora (HH:MM).", field=field)
    return hhmm


MAX_ID = 2**31 - 1  # ids beyond the INTEGER columns: treated as unknown (PostgreSQL would refuse the comparison)
MAX_INT32 = MAX_ID
MAX_BIGINT = 2**63 - 1
MAX_PAGE = 10**6
TRUE_VALUES = frozenset({"1", "on", "true", "si", "sí", "yes"})
_INTEGER = re.compile(r"-?[0-9]{1,19}")  # ASCII digits only: "²" and other Unicode digits pass str.isdigit()


def parse_int(raw, *, minimum: int = -MAX_BIGINT - 1, maximum: int = MAX_BIGINT) -> int | None:
    """THE integer parser for request data: optional minus, ASCII digits, within [minimum, maximum], else None.

    Refuses what `int()` or `str.isdigit()` let through: Unicode digits (`²`, `٣`), `1_000`, inner spaces, NUL,
    and numbers beyond the column range (int32 ids, bigint amounts) that the database would reject."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw).strip()
        if not _INTEGER.fullmatch(text):
            return None
        value = int(text)
    if not minimum <= value <= maximum:
        return None
    return value


def parse_id(raw: str | None) -> int | None:
    """A positive id from a query string or form; anything else is ignored (never a 500)."""
    return parse_int(raw, minimum=1, maximum=MAX_ID)


def parse_choice(raw: str | None, allowed) -> str | None:
    """One of `allowed`, else None."""
    text = (raw or "").strip()
    return text if text in allowed else None


def parse_flag(raw: str | None) -> bool:
    """A checkbox or yes/no value: 1, on, true, si, sí, yes."""
    return (raw or "").strip().lower() in TRUE_VALUES


# --- request guards ------------------------------------------------------------------------------------------------

JSON_MAX_BYTES = 1024 * 1024
JSON_MAX_DEPTH = 32
JSON_TOO_BIG = "El cuerpo JSON es demasiado grande."


def _too_deep(value) -> bool:
    """Nesting beyond JSON_MAX_DEPTH, checked without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > JSON_MAX_DEPTH:
                return True
            stack.extend((inner, depth + 1) for inner in (item.values() if isinstance(item, dict) else item))
    return False


def _strip_nul(value):
    """The JSON value with NUL removed from every string and key (depth already bounded)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_strip_nul(v) for v in value]
    if isinstance(value, dict):
        return {k.replace("\x00", ""): _strip_nul(v) for k, v in value.items()}
    return value


def _has_nul(pairs) -> bool:
    return any("\x00" in k or "\x00" in v for k, v in pairs)


def _without_nul(multidict):
    from werkzeug.datastructures import ImmutableMultiDict

    return ImmutableMultiDict([(k.replace("\x00", ""), v.replace("\x00", "")) for k, v in multidict.items(multi=True)])


class _GuardedJSON:
    """The `json_module` guard_request gives JSON requests: the body is parsed only when a view asks for it
    (never before authentication, so an unread body still closes the connection, security review H2), and a body
    nested deeper than JSON_MAX_DEPTH, or too deep for the parser, reads as invalid JSON (ValueError:
    `get_json(silent=True)` gives None, `get_json()` a 400). Outside the JSON API, NUL is removed from every string
    and key."""

    @staticmethod
    def loads(data, **kwargs):
        from flask import current_app

        try:
            value = current_app.json.loads(data, **kwargs)
        except RecursionError as exc:
            raise ValueError("JSON demasiado anidado") from exc
        if _too_deep(value):
            raise ValueError("JSON demasiado anidado")
        from flask import has_request_context

        from app.web.errors import is_api_path

        if has_request_context() and not is_api_path():
            value = _strip_nul(value)
        return value

    @staticmethod
    def dumps(obj, **kwargs):
        from flask import current_app

        return current_app.json.dumps(obj, **kwargs)


def guard_request():
    """Before every request, so malformed input never becomes a 500 further down (PostgreSQL refuses NUL in
    strings; `get_json(silent=True)` lets RecursionError through):

    * NUL bytes are removed from form keys and values, and outside the JSON API from query strings and JSON
      strings (the API's own validation answers them with its documented 400 instead);
    * a JSON body announced larger than JSON_MAX_BYTES answers 413; a chunked one is cut at JSON_MAX_BYTES by the
      request's `max_content_length` (413 when the view reads it);
    * a JSON body nested deeper than JSON_MAX_DEPTH (or too deep to parse) reads as invalid JSON (`_GuardedJSON`):
      the view's `get_json(silent=True)` gets None and answers its own 400, in the error shape its endpoint
      documents.
    A JSON body is never read here: it is parsed when (and only if) the view reads it, so a request refused before
    that (401/403/404/429) leaves it unread and its connection is closed (app/web/security.py).
    The cleaned form values replace the request's cached ones, so every view reads them through the usual
    accessors."""
    from flask import current_app, request

    from app.web.errors import is_api_path

    api = is_api_path()
    if not api and _has_nul(request.args.items(multi=True)):
        request.args = _without_nul(request.args)
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return None
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if _has_nul(request.form.items(multi=True)):
            request.form = _without_nul(request.form)
    elif request.is_json:
        request.json_module = _GuardedJSON  # parses lazily, when the view reads the body
        limit = current_app.config.get("JSON_MAX_BYTES", JSON_MAX_BYTES)
        if (request.content_length or 0) > limit:
            from app.web.errors import error_response

            return error_response(413, JSON_TOO_BIG)
        current = request.max_content_length
        if current is None or current > limit:
            request.max_content_length = limit
    return None


def init_request_guards(app) -> None:
    app.before_request(guard_request)
