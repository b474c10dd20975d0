import pytest

from app.catalog.policy import (
    WEEKDAYS,
    grid_to_inputs,
    line_price,
    parse_grid_inputs,
    price_label,
    validate_slot_grid,
)
from app.core.errors import ValidationError


def test_grid_is_completed_sorted_and_deduplicated():
    grid = validate_slot_grid({"monday": ["17:00", "14:00", "14:00"], "wednesday": ["14:00"]})
    assert list(grid) == list(WEEKDAYS)
    assert grid["monday"] == ["14:00", "17:00"]
    assert grid["tuesday"] == []
    assert grid["wednesday"] == ["14:00"]


@pytest.mark.parametrize(
    "grid, message",
    [
        ({"lunes": ["14:00"]}, "Día desconocido: lunes"),
        ({"monday": ["24:00"]}, "Hora inválida «24:00» en monday"),
        ({"monday": ["9:00"]}, "Hora inválida «9:00» en monday"),
        ({"friday": ["14:60"]}, "Hora inválida «14:60» en friday"),
        ({"sunday": [1400]}, "Hora inválida «1400» en sunday"),
        ({"monday": "14:00"}, "Los horarios de monday deben ser una lista."),
        (["14:00"], "La grilla de horarios debe ser un objeto con los días de la semana."),
    ],
)
def test_invalid_grids_get_spanish_errors(grid, message):
    with pytest.raises(ValidationError) as exc:
        validate_slot_grid(grid)
    assert exc.value.message == message


@pytest.mark.parametrize("edge", ["00:00", "23:59", "09:05", "19:30"])
def test_valid_edge_times(edge):
    assert validate_slot_grid({"monday": [edge]})["monday"] == [edge]


def test_form_inputs_round_trip():
    grid = parse_grid_inputs({"monday": "17:00, 14:00", "tuesday": "", "sunday": " 19:30 "})
    assert grid["monday"] == ["14:00", "17:00"]
    assert grid["sunday"] == ["19:30"]
    assert grid_to_inputs(grid)["monday"] == "14:00, 17:00"
    with pytest.raises(ValidationError, match="Hora inválida «25:00» en saturday"):
        parse_grid_inputs({"saturday": "14:00, 25:00"})


@pytest.mark.parametrize(
    "unit, rule, people, total",
    [
        (25000, "por_persona", 2, 50000),
        (90000, "por_reserva", 2, 90000),
        (90000, "por_reserva", 1, 90000),
        (45000, "por_persona", 1, 45000),
    ],
)
def test_line_price(unit, rule, people, total):
    assert line_price(unit, rule, people) == total


def test_price_labels():
    assert price_label("cabana", 90000, 2) == "$90.000 precio por cabaña, máx 2 personas"
    assert price_label("tina", 25000, 4) == "$25.000 precio por persona"
    assert price_label("masaje", 45000, 1) == "$45.000 precio por persona"
