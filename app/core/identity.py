"""RUT (Chilean tax id) and e-mail rules (spec crm.md §2.2)."""

from __future__ import annotations

import re

from app.core.errors import ValidationError

_RUT_SHAPE = re.compile(r"^[0-9.\s]{1,12}-?[0-9kK]$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def rut_check_digit(body: str) -> str:
    """Mod-11 check digit with weights 2..7 repeating from the right; 11 -> 0, 10 -> K."""
    total, weight = 0, 2
    for ch in reversed(body):
        total += int(ch) * weight
        weight = 2 if weight == 7 else weight + 1
    value = 11 - total % 11
    return {11: "0", 10: "K"}.get(value, str(value))


def looks_like_rut(value: str) -> bool:
    return bool(_RUT_SHAPE.match(value.strip()))


def normalize_document(raw: str | None) -> str | None:
    """A RUT-shaped value is validated and stored `12345678-5`; anything else (passport) upper-case."""
    value = (raw or "").strip()
    if not value:
        return None
    if not looks_like_rut(value):
        return value.upper()
    compact = re.sub(r"[.\s-]", "", value).upper()
    body, dv = compact[:-1], compact[-1]
    if not body.isdigit() or rut_check_digit(body) != dv:
        raise ValidationError("RUT inválido.", field="documento_identidad")
    return f"{int(body)}-{dv}"


def normalize_email(raw: str | None) -> str | None:
    value = (raw or "").strip().lower()
    if not value:
        return None
    if len(value) > 254 or not _EMAIL.match(value):  # 254: the longest address SMTP carries (and our columns)
        raise ValidationError("Ingrese un e-mail válido.", field="email")
    return value
