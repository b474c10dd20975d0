"""Read side of auditoría de movimientos (spec reports.md §8): ClientEvents with client and acting user."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.auth.models import User
from app.clients.models import EVENT_TYPES, Client, ClientEvent
from app.clients.queries import fold
from app.core.errors import ValidationError
from app.core.phone import normalize_phone
from app.reports.filters import DateRange
from app.web.params import parse_id

SYSTEM_USER = "sistema"


def matching_event_types(text: str) -> list[str]:
    """Event codes whose code or Spanish label contains `text` (case- and accent-insensitive)."""
    needle = fold(text.strip())
    return [code for code, label in EVENT_TYPES.items() if needle in fold(code) or needle in fold(label)]


@dataclass
class AuditFilters:
    dates: DateRange
    tipo_movimiento: str = ""
    usuario: str = ""
    cliente: str = ""
    venta_reserva_id: int | None = None

    def as_args(self) -> dict[str, str]:
        args = self.dates.as_args()
        for key in ("tipo_movimiento", "usuario", "cliente"):
            if getattr(self, key):
                args[key] = getattr(self, key)
        if self.venta_reserva_id is not None:
            args["venta_reserva_id"] = str(self.venta_reserva_id)
        return args


def _client_condition(raw: str) -> sa.ColumnElement:
    """`cliente` = a client id or a phone (any format the normaliser accepts)."""
    clauses = []
    text = raw.strip().lstrip("#")
    if parse_id(text):
        clauses.append(ClientEvent.client_id == parse_id(text))
    try:
        phone = normalize_phone(raw)
    except ValidationError:
        phone = None
    if phone:
        clauses.append(ClientEvent.client_id.in_(sa.select(Client.id).where(Client.phone == phone)))
    return sa.or_(*clauses) if clauses else sa.false()


def audit_conditions(f: AuditFilters) -> list[sa.ColumnElement]:
    conds: list[sa.ColumnElement] = [
        ClientEvent.created_at >= f.dates.start_utc,
        ClientEvent.created_at < f.dates.end_utc,
    ]
    if f.tipo_movimiento:
        codes = matching_event_types(f.tipo_movimiento)
        conds.append(ClientEvent.event_type.in_(codes) if codes else sa.false())
    if f.usuario:
        if f.usuario.casefold() == SYSTEM_USER:
            conds.append(ClientEvent.user_id.is_(None))
        else:
            conds.append(ClientEvent.user_id.in_(sa.select(User.id).where(User.username == f.usuario)))
    if f.cliente:
        conds.append(_client_condition(f.cliente))
    if f.venta_reserva_id is not None:
        conds.append(ClientEvent.order_id == f.venta_reserva_id)
    return conds


def audit_select(f: AuditFilters) -> sa.Select:
    """Newest first: created_at, client id/name, type, description, username (None = sistema), order id."""
    return (
        sa.select(
            ClientEvent.id,
            ClientEvent.created_at,
            ClientEvent.client_id,
            Client.name.label("client_name"),
            ClientEvent.event_type,
            ClientEvent.description,
            User.username,
            ClientEvent.order_id,
        )
        .select_from(ClientEvent)
        .join(Client, Client.id == ClientEvent.client_id)
        .outerjoin(User, User.id == ClientEvent.user_id)
        .where(*audit_conditions(f))
        .order_by(ClientEvent.created_at.desc(), ClientEvent.id.desc())
    )


def audit_count_select(f: AuditFilters) -> sa.Select:
    return sa.select(sa.func.count(ClientEvent.id).label("n")).where(*audit_conditions(f))
