import pytest

from app.core.phone import InvalidPhone, format_phone, is_mobile, mask_phone, normalize_phone


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("9 8765 4321", "+56987654321"),
        ("987654321", "+56987654321"),
        ("87654321", "+56987654321"),
        ("+56 9 8765 4321", "+56987654321"),
        ("56987654321", "+56987654321"),
        ("0056987654321", "+56987654321"),
        ("(+56) 9-8765-4321", "+56987654321"),
        ("2 2123 4567", "+56221234567"),
        ("+1 (415) 555-2671", "+14155552671"),
        ("0044 7911 123456", "+447911123456"),
        ("+56.9.8765.4321", "+56987654321"),
    ],
)
def test_normalises_to_e164(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "+56 1 2345 6789", "abc", "+44 12", "9876543210123"])
def test_rejects_invalid_numbers_with_spanish_message(raw):
    with pytest.raises(InvalidPhone) as exc:
        normalize_phone(raw)
    assert exc.value.message == f"Teléfono inválido: «{raw}»"


@pytest.mark.parametrize("raw", ["", "   ", None, "( ) -"])
def test_empty_phone_is_required(raw):
    with pytest.raises(InvalidPhone, match="El teléfono es obligatorio."):
        normalize_phone(raw)


def test_mobile_detection_and_display():
    assert is_mobile("+56987654321")
    assert not is_mobile("+56221234567")
    assert is_mobile("+447911123456")
    assert format_phone("+56987654321") == "+56 9 8765 4321"
    assert mask_phone("+56987654321") == "+56 9 **** 4321"
    assert format_phone("+14155552671") == "+1 415-555-2671"
