"""Run-time settings (spec README §4): the business constants marked ✎ are environment variables an admin may
override on `/ventas/configuracion/`. An override is a `Setting` row (key, JSON value, updated_by, updated_at) and
**the database value wins** over the environment/config value; removing the row goes back to the environment's.

Readers call `setting(key)` instead of `current_app.config[key]`. The overrides are read once per application
context (one small query per request, or per job run outside a request), so a change reaches every worker and the
scheduler on their next request or run, with no restart and no cache to invalidate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app, g, has_app_context, has_request_context, request
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import UTCDateTime, _now
from app.core.errors import ValidationError
from app.extensions import db

_CACHE = "_setting_overrides"


class Setting(db.Model):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    value: Mapped[object] = mapped_column(sa.JSON)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now, onupdate=_now)


@dataclass(frozen=True)
class SettingSpec:
    """One editable key: its kind (`int`, `bool`, `hhmm`, `text`), bounds for numbers, and how the page shows it."""

    key: str
    label: str
    section: str
    kind: str = "int"
    minimum: int = 0
    maximum: int = 1_000_000_000
    help: str = ""


# The keys README §4 marks ✎ and communications.md §5's messages on/off, in the order the page shows them.
EDITABLE: tuple[SettingSpec, ...] = (
    SettingSpec(
        "COMMUNICATION_SMS_ENABLED",
        "Enviar SMS",
        "Mensajes",
        "bool",
        help="Apagado: ningún SMS sale (quedan bloqueados con motivo «canal desactivado»).",
    ),
    SettingSpec(
        "COMMUNICATION_EMAIL_ENABLED", "Enviar e-mails", "Mensajes", "bool", help="Apagado: ningún e-mail sale."
    ),
    SettingSpec(
        "QUIET_HOURS_START",
        "Horario de marketing: desde",
        "Mensajes",
        "hhmm",
        help="Los mensajes de marketing sólo salen dentro de esta ventana [desde, hasta).",
    ),
    SettingSpec("QUIET_HOURS_END", "Horario de marketing: hasta", "Mensajes", "hhmm"),
    SettingSpec("SMS_DAILY_LIMIT_PER_CLIENT", "SMS de marketing por cliente al día", "Topes anti-spam", maximum=100),
    SettingSpec("SMS_MONTHLY_LIMIT_PER_CLIENT", "SMS de marketing por cliente al mes", "Topes anti-spam", maximum=1000),
    SettingSpec(
        "EMAIL_WEEKLY_LIMIT_PER_CLIENT", "E-mails de marketing por cliente a la semana", "Topes anti-spam", maximum=100
    ),
    SettingSpec(
        "EMAIL_MONTHLY_LIMIT_PER_CLIENT", "E-mails de marketing por cliente al mes", "Topes anti-spam", maximum=1000
    ),
    SettingSpec("SMS_MONTHLY_BUDGET_CLP", "Presupuesto mensual de SMS ($, 0 = sin tope)", "Topes anti-spam"),
    SettingSpec(
        "CART_HOLD_MINUTES", "Minutos que el carrito reserva el cupo", "Reservas y pagos", minimum=1, maximum=1440
    ),
    SettingSpec("FLOW_PAYMENT_TTL_MINUTES", "Minutos para pagar con Flow", "Reservas y pagos", minimum=5, maximum=1440),
    SettingSpec(
        "TRANSFER_PAYMENT_TTL_HOURS",
        "Horas para pagar por transferencia (0 = sin plazo)",
        "Reservas y pagos",
        maximum=720,
    ),
    SettingSpec(
        "BOOKING_MIN_LEAD_MINUTES",
        "Anticipación mínima de una reserva web (minutos)",
        "Reservas y pagos",
        maximum=10080,
    ),
    SettingSpec(
        "BOOKING_HORIZON_DAYS", "Días hacia adelante que se puede reservar", "Reservas y pagos", minimum=1, maximum=1095
    ),
    SettingSpec("RECEPTION_MAX_DISCOUNT_PERCENT", "Descuento máximo de recepción (%)", "Reservas y pagos", maximum=100),
    SettingSpec(
        "SEGMENT_VISITS_REGULAR",
        "Visitas para ser cliente regular",
        "Segmentos y reactivación",
        minimum=1,
        maximum=1000,
    ),
    SettingSpec(
        "SEGMENT_VISITS_VIP", "Visitas para ser cliente VIP", "Segmentos y reactivación", minimum=1, maximum=1000
    ),
    SettingSpec("SEGMENT_SPEND_MEDIUM", "Gasto medio desde ($)", "Segmentos y reactivación", minimum=1),
    SettingSpec("SEGMENT_SPEND_HIGH", "Gasto alto desde ($)", "Segmentos y reactivación", minimum=1),
    SettingSpec(
        "REACTIVATION_DAYS", "Días sin visita para reactivar", "Segmentos y reactivación", minimum=1, maximum=3650
    ),
    SettingSpec(
        "REACTIVATION_MAX_PER_RUN",
        "Clientes por corrida de reactivación",
        "Segmentos y reactivación",
        minimum=1,
        maximum=10000,
    ),
    SettingSpec(
        "REACTIVATION_GIFTCARD_AMOUNT", "Monto de la gift card de reactivación ($)", "Segmentos y reactivación"
    ),
    SettingSpec(
        "REACTIVATION_GIFTCARD_VALID_DAYS",
        "Validez de la gift card de reactivación (días)",
        "Segmentos y reactivación",
        minimum=1,
        maximum=3650,
    ),
    SettingSpec(
        "GIFTCARD_VALIDITY_DAYS", "Validez de una gift card (días)", "Gift cards y campañas", minimum=1, maximum=3650
    ),
    SettingSpec(
        "CAMPAIGN_ATTRIBUTION_DAYS",
        "Días de atribución de una campaña",
        "Gift cards y campañas",
        minimum=1,
        maximum=365,
    ),
    SettingSpec(
        "BIRTHDAY_DISCOUNT_PERCENT",
        "Descuento de cumpleaños (%, 0 = sólo saludo)",
        "Gift cards y campañas",
        maximum=100,
    ),
    SettingSpec(
        "BIRTHDAY_DISCOUNT_VALID_DAYS",
        "Validez del código de cumpleaños (días)",
        "Gift cards y campañas",
        minimum=1,
        maximum=365,
    ),
    SettingSpec(
        "BANK_TRANSFER_INSTRUCTIONS", "Datos para transferencia bancaria", "Gift cards y campañas", "text", maximum=2000
    ),
)
SPECS = {spec.key: spec for spec in EDITABLE}


def _store() -> dict:
    """Where this request's (or, outside a request, this application context's: a job run) overrides are kept."""
    if has_request_context():
        return request.environ
    return g.__dict__


def _overrides() -> dict:
    store = _store()
    cached = store.get(_CACHE)
    if cached is None:
        cached = dict(db.session.execute(settings_select()).tuples().all())
        store[_CACHE] = cached
    return cached


def reread() -> None:
    """Drop this context's copy of the settings rows: the next reader selects them again (after a write to them)."""
    if has_app_context():
        _store().pop(_CACHE, None)


def settings_select() -> sa.Select:
    """(key, value) of every override row: what a request's first settings read selects."""
    return sa.select(Setting.key, Setting.value)


def primed() -> bool:
    """Whether this request (or application context) has its overrides already."""
    return _CACHE in _store()


def prime(rows) -> None:
    """This request's overrides, read by a hot path's own statement that carried the settings rows along (issue 20:
    one round trip less); the next read sends none. Ignored when they were read already."""
    _store().setdefault(_CACHE, dict(rows))


def stored(key: str, default=None):
    """A row of the settings table that is not an editable setting (e.g. the catalogue version), read with the
    request's one settings statement."""
    return _overrides().get(key, default)


# The version of the slow-changing rows that hot paths read once per version (the catalogue, the booking policies,
# the webhook endpoints): a token that app.catalog.version rewrites in the same transaction as any change to them.
VERSION_KEY = "_catalog_version"


def data_version() -> str:
    """The version in force ("0" before the first change), read with the request's settings statement."""
    return str(stored(VERSION_KEY, "0"))


def setting(key: str, default=None):
    """The value in force: the database override if there is one, else the app's config (environment), else
    `default`."""
    if has_app_context() and key in SPECS:
        overrides = _overrides()
        if key in overrides:
            return overrides[key]
    return current_app.config.get(key, default)


class _InForce:
    """`current_app.config` as read by the code that honours overrides: `in_force()["KEY"]`, `.get("KEY", d)`."""

    def __getitem__(self, key: str):
        if key in SPECS:
            overrides = _overrides()
            if key in overrides:
                return overrides[key]
        return current_app.config[key]

    def get(self, key: str, default=None):
        return setting(key, default)


def in_force() -> _InForce:
    return _InForce()


def env_value(key: str):
    return current_app.config.get(key)


def clean_value(spec: SettingSpec, value):
    """A value as the setting's kind stores it, or ValidationError (Spanish, on the key's field)."""
    if spec.kind == "bool":
        return bool(value)
    if spec.kind == "hhmm":
        from app.core.clock import is_hhmm

        if not is_hhmm(value):
            raise ValidationError("Indique la hora (HH:MM).", field=spec.key)
        return value
    if spec.kind == "text":
        text = (value or "").strip()
        if len(text) > spec.maximum:
            raise ValidationError(f"Admite hasta {spec.maximum} caracteres.", field=spec.key)
        return text
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError("Ingrese un número entero.", field=spec.key)
    if not spec.minimum <= value <= spec.maximum:
        raise ValidationError(f"Debe estar entre {spec.minimum} y {spec.maximum}.", field=spec.key)
    return value


def save_settings(values: dict, *, by=None) -> list[str]:
    """Store the values that differ from what is in force; a value equal to the environment's removes the override
    (back to the environment). Checks every value first (all or nothing); flushes; returns the keys changed."""
    cleaned = {key: clean_value(SPECS[key], value) for key, value in values.items() if key in SPECS}
    if cleaned.get("QUIET_HOURS_START", setting("QUIET_HOURS_START")) >= cleaned.get(
        "QUIET_HOURS_END", setting("QUIET_HOURS_END")
    ):
        raise ValidationError("El horario de marketing debe terminar después de empezar.", field="QUIET_HOURS_END")
    rows = {row.key: row for row in db.session.scalars(sa.select(Setting).where(Setting.key.in_(list(cleaned))))}
    changed = []
    for key, value in cleaned.items():
        row = rows.get(key)
        current = row.value if row is not None else env_value(key)
        if value == current:
            continue
        changed.append(key)
        if value == env_value(key):
            db.session.delete(row)
        elif row is None:
            db.session.add(Setting(key=key, value=value, updated_by_id=getattr(by, "id", None)))
        else:
            row.value = value
            row.updated_by_id = getattr(by, "id", None)
    db.session.flush()
    reread()
    return changed


def overrides_detail() -> dict[str, Setting]:
    """The override rows (who changed what and when), by key."""
    return {row.key: row for row in db.session.scalars(sa.select(Setting))}
