"""Domain errors carry a Spanish message that is safe to show to the user."""

from __future__ import annotations


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
