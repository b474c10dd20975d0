"""The single phone normaliser (spec crm.md §2.1): any input -> E.164, or a Spanish error."""

from __future__ import annotations

import re

import phonenumbers

from app.core.errors import ValidationError

_STRIP = re.compile(r"[\s\-.()/]")
_CL_NATIONAL = re.compile(r"^[2-9]\d{8}$")
_CL_MOBILE = re.compile(r"^\+569\d{8}$")


class InvalidPhone(ValidationError):
    pass


def normalize_phone(raw: str | None) -> str:
    """Return the E.164 form of `raw` or raise InvalidPhone with a message for the user."""
    original = (raw or "").strip()
    text = _STRIP.sub("", original)
    if not text:
        raise InvalidPhone("El teléfono es obligatorio.", field="telefono")
    if text.startswith("00"):
        text = "+" + text[2:]
    invalid = InvalidPhone(f"Teléfono inválido: «{original}»", field="telefono")
    if text.startswith("+"):
        if not text[1:].isdigit():
            raise invalid
        candidate = text
    else:
        if not text.isdigit():
            raise invalid
        if len(text) == 8:
            candidate = "+569" + text
        elif len(text) == 9 and text[0] in "2345679":
            candidate = "+56" + text
        elif len(text) == 11 and text.startswith("56"):
            candidate = "+" + text
        else:
            candidate = None
    try:
        number = phonenumbers.parse(candidate or text, None if candidate else "CL")
    except phonenumbers.NumberParseException:
        raise invalid from None
    if number.country_code == 56:
        national = str(number.national_number)
        if not _CL_NATIONAL.match(national):
            raise invalid
        return "+56" + national
    if not phonenumbers.is_valid_number(number):
        raise invalid
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_mobile(e164: str) -> bool:
    """True when SMS can reach the number."""
    if e164.startswith("+56"):
        return bool(_CL_MOBILE.match(e164))
    try:
        kind = phonenumbers.number_type(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return False
    return kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def format_phone(e164: str | None) -> str:
    """International display form: `+56 9 8765 4321`."""
    if not e164:
        return ""
    if _CL_MOBILE.match(e164):
        d = e164[4:]
        return f"+56 9 {d[:4]} {d[4:]}"
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def mask_phone(e164: str | None) -> str:
    """For logs: `+56 9 **** 4321`."""
    if not e164:
        return ""
    if _CL_MOBILE.match(e164):
        return f"+56 9 **** {e164[-4:]}"
    return e164[:3] + " **** " + e164[-4:]
