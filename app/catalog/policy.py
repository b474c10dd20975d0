"""Pure catalogue rules: slot grids, service types, pricing (spec catalog.md §1.3, §2)."""

from __future__ import annotations

from app.core.clock import is_hhmm
from app.core.errors import ValidationError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY_LABELS = {
    "monday": "Lunes",
    "tuesday": "Martes",
    "wednesday": "Miércoles",
    "thursday": "Jueves",
    "friday": "Viernes",
    "saturday": "Sábado",
    "sunday": "Domingo",
}
SERVICE_TYPES = ("tina", "masaje", "cabana", "otro")
SERVICE_TYPE_LABELS = {"tina": "Tina", "masaje": "Masaje", "cabana": "Cabaña", "otro": "Otro"}
PRICING_RULE_BY_TYPE = {"tina": "por_persona", "masaje": "por_persona", "cabana": "por_reserva", "otro": "por_persona"}


def empty_grid() -> dict[str, list[str]]:
    return {day: [] for day in WEEKDAYS}


def validate_slot_grid(grid: object) -> dict[str, list[str]]:
    """Return the canonical grid (all seven keys, times de-duplicated and sorted) or raise ValidationError."""
    if grid is None:
        return empty_grid()
    if not isinstance(grid, dict):
        raise ValidationError("La grilla de horarios debe ser un objeto con los días de la semana.", field="slot_grid")
    out = empty_grid()
    for key, times in grid.items():
        if key not in WEEKDAYS:
            raise ValidationError(f"Día desconocido: {key}", field="slot_grid")
        if times is None:
            times = []
        if not isinstance(times, list):
            raise ValidationError(f"Los horarios de {key} deben ser una lista.", field="slot_grid")
        for value in times:
            if not is_hhmm(value):
                raise ValidationError(f"Hora inválida «{value}» en {key}", field="slot_grid")
        out[key] = sorted(set(times))
    return out


def parse_grid_inputs(inputs: dict[str, str]) -> dict[str, list[str]]:
    """The form's seven comma-separated inputs (keyed by weekday) -> validated grid."""
    grid = {}
    for day in WEEKDAYS:
        raw = inputs.get(day) or ""
        grid[day] = [part.strip() for part in raw.split(",") if part.strip()]
    return validate_slot_grid(grid)


def grid_to_inputs(grid: dict | None) -> dict[str, str]:
    grid = grid or {}
    return {day: ", ".join(grid.get(day) or []) for day in WEEKDAYS}


def line_price(unit_price: int, rule: str, people: int) -> int:
    """Price of one booking line: flat per booking (cabins) or unit price × people."""
    if rule == "por_reserva":
        return unit_price
    if rule == "por_persona":
        return unit_price * people
    raise ValueError(f"unknown pricing rule {rule}")


def price_label(service_type: str, base_price: int, max_people: int) -> str:
    """Card label: "$90.000 precio por cabaña, máx 2 personas" / "$25.000 precio por persona"."""
    from app.core.money import format_clp

    if PRICING_RULE_BY_TYPE.get(service_type) == "por_reserva":
        people = "persona" if max_people == 1 else "personas"
        return f"{format_clp(base_price)} precio por cabaña, máx {max_people} {people}"
    return f"{format_clp(base_price)} precio por persona"
