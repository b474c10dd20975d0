"""Pure rules of the AI module: cost in thousandths of a peso (ai.md §1 "Cost control"), and the privacy scrubbing
of free text (no phone, e-mail, RUT or birth date leaves the server)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

LIMIT_MESSAGE = "Se alcanzó el límite diario de uso de IA."
UNCOVERED_MESSAGE = "No tengo una consulta aprobada para eso."
EXAMPLE_QUESTIONS = (
    "top 10 clientes de 2025 por monto pagado",
    "ocupación de cabañas el próximo fin de semana",
    "servicios más vendidos del trimestre",
    "ventas por mes de 2026",
    "ingresos por método de pago",
    "clientes inactivos hace 120 días",
    "análisis rfm de clientes",
    "afinidad de servicios",
    "no shows por servicio",
    "saldo de gift cards por vencimiento",
)


def price_milli(value: str) -> int:
    """A decimal price string ("0.3") → integer thousandths of a peso (300); bad input → 0."""
    try:
        return int((Decimal(str(value).replace(",", ".")) * 1000).to_integral_value())
    except (InvalidOperation, ValueError):
        return 0


def cost_milli_clp(input_tokens: int, output_tokens: int, price_in: str, price_out: str) -> int:
    """input × price_in/1000 + output × price_out/1000 pesos, in thousandths of a peso (rounded half up)."""
    total = input_tokens * price_milli(price_in) + output_tokens * price_milli(price_out)
    return (total + 500) // 1000


EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE_RE = re.compile(r"(?<!\w)\+?\d[\d\s().-]{7,}\d(?!\w)")
RUT_RE = re.compile(r"\b\d{1,2}\.?\d{3}\.?\d{3}-?[\dkK]\b")
DATE_RE = re.compile(r"\b\d{1,2}[/-]\d{1,2}[/-]\d{2,4}\b|\b(?:19|20)\d\d-\d{2}-\d{2}\b")


def scrub(text: str) -> str:
    """Free text with e-mails, RUTs, phones and dates replaced by placeholders (before any prompt)."""
    text = EMAIL_RE.sub("[correo]", text)
    text = RUT_RE.sub("[rut]", text)
    text = DATE_RE.sub("[fecha]", text)
    return PHONE_RE.sub("[telefono]", text)


def gsm7_trim(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."
