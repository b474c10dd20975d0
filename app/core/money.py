"""Money is integer CLP everywhere. One formatter (`$12.345`) and one rounding rule."""

from __future__ import annotations

import re


def round_half_up_div(numerator: int, denominator: int) -> int:
    """Integer division rounded half away from zero, without floats."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    q, r = divmod(abs(numerator), denominator)
    if 2 * r >= denominator:
        q += 1
    return sign * q


def percent_of(amount: int, pct: int) -> int:
    """round_half_up(amount × pct / 100)."""
    return round_half_up_div(amount * pct, 100)


def format_clp(amount: int | None) -> str:
    """Format integer CLP as `$12.345` (negative `-$12.345`)."""
    if amount is None:
        return ""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("CLP amounts are integers")
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,}".replace(",", ".")


class AmountTooLarge(ValueError):
    """A well-formed integer with more digits than any amount (`parse_clp`'s bound); `negative` keeps its sign so
    a caller with its own bound can answer with that bound's message instead of "not a number"."""

    def __init__(self, negative: bool):
        super().__init__("Monto inválido.")
        self.negative = negative


def parse_clp(text: str) -> int:
    """Parse what a person types (`12.345`, `$12.345`, `12345`) into integer CLP.

    ValueError when it is not an integer; AmountTooLarge (a ValueError) when it has more than 15 digits."""
    cleaned = (text or "").strip().replace("$", "").replace(".", "").replace(" ", "")
    # ASCII digits only (str.isdigit() accepts "²"), at most 15 of them: sums stay far inside BIGINT
    if not re.fullmatch(r"-?[0-9]{1,15}", cleaned):
        if re.fullmatch(r"-?[0-9]{16,}", cleaned):
            raise AmountTooLarge(cleaned.startswith("-"))
        raise ValueError("Monto inválido.")
    return int(cleaned)


def require_positive(amount, *, field: str = "monto") -> int:
    """The amount of a payment, refund, discount or card: an integer CLP > 0, else a Spanish ValidationError."""
    from app.core.errors import ValidationError

    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValidationError("El monto debe ser un número entero mayor que cero.", field=field)
    return amount
