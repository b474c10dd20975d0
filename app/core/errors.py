"""Domain errors carry a Spanish message that is safe to show to the user."""

from __future__ import annotations


class Msg(str):
    """A Spanish text built from a catalogue msgid with `%(name)s` placeholders and values: it *is* the Spanish
    text (audit rows, the JSON API and staff pages read it as any string), and it remembers its msgid and values so
    a visitor page can show it in the visitor's language (`app.web.i18n.translated`, docs/I18N.md). A value may be
    a Msg itself (translated too). `make translations` extracts `Msg("…")` like `gettext("…")`."""

    msgid: str
    params: dict

    def __new__(cls, msgid: str, **params):
        self = super().__new__(cls, msgid % params if params else msgid)
        self.msgid = msgid
        self.params = params
        return self

    def __reduce__(self):  # pickles (caches) as itself, with its msgid and values
        return (_msg, (self.msgid, self.params))


def _msg(msgid: str, params: dict) -> Msg:
    return Msg(msgid, **params)


class DomainError(Exception):
    """A business rule refused the action. `status` is the HTTP status views should use."""

    status = 422

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationError(DomainError):
    status = 422


class ConflictError(DomainError):
    status = 409


class HasHistory(ConflictError):
    code = "has_history"

    def __init__(self) -> None:
        super().__init__("No se puede eliminar: tiene historial asociado. Desactívelo en su lugar.")


class InsufficientStock(ConflictError):
    code = "insufficient_stock"
