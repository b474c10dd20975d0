from datetime import UTC, date, datetime

import pytest

from app.core import clock
from app.core.errors import ValidationError
from app.core.identity import normalize_document, normalize_email, rut_check_digit
from app.core.money import format_clp, parse_clp, percent_of, round_half_up_div


@pytest.mark.parametrize(
    "amount, text", [(0, "$0"), (12345, "$12.345"), (1250000, "$1.250.000"), (-35000, "-$35.000"), (999, "$999")]
)
def test_format_clp(amount, text):
    assert format_clp(amount) == text


def test_format_clp_refuses_floats():
    with pytest.raises(TypeError):
        format_clp(12.5)


def test_percent_rounds_half_up():
    assert percent_of(60000, 15) == 9000
    assert percent_of(63000, 15) == 9450
    assert percent_of(10, 15) == 2  # 1.5 -> 2
    assert round_half_up_div(-3, 2) == -2


@pytest.mark.parametrize("text, value", [("$12.345", 12345), ("12345", 12345), (" 1.000 ", 1000)])
def test_parse_clp(text, value):
    assert parse_clp(text) == value


@pytest.mark.parametrize("text", ["", "12,5", "abc"])
def test_parse_clp_errors(text):
    with pytest.raises(ValueError):
        parse_clp(text)


@pytest.mark.parametrize("body, dv", [("12345678", "5"), ("11111111", "1"), ("6", "K"), ("7", "8"), ("0", "0")])
def test_rut_check_digit(body, dv):
    assert rut_check_digit(body) == dv


def test_rut_is_normalised_and_checked():
    assert normalize_document("12.345.678-5") == "12345678-5"
    assert normalize_document("123456785") == "12345678-5"
    assert normalize_document("6-k") == "6-K"
    with pytest.raises(ValidationError, match="RUT inválido."):
        normalize_document("12.345.678-9")
    assert normalize_document("ab123456") == "AB123456"  # passport, unchecked
    assert normalize_document("  ") is None


def test_email_normalised():
    assert normalize_email("  Maria@Example.COM ") == "maria@example.com"
    assert normalize_email("") is None
    with pytest.raises(ValidationError, match="Ingrese un e-mail válido."):
        normalize_email("maria@")


def test_clock_freeze_and_local_day():
    try:
        clock.freeze(datetime(2026, 3, 3, 2, 30, tzinfo=UTC))  # 23:30 on the 2nd in Santiago (UTC-3)
        assert clock.today() == date(2026, 3, 2)
        assert clock.now().tzinfo is not None
    finally:
        clock.freeze(None)
