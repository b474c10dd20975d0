"""The approved SQL templates and KPIs (ai.md §1): the model never writes SQL, it names a template and gives
parameters; the parameters are checked against the template's schema before any query, and the template builds a
parameterised SELECT (SQLAlchemy Core: bound parameters only, the same statement on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from app.catalog.models import Service
from app.clients.models import Client
from app.comms.models import CommunicationLog
from app.core import clock
from app.sales.client_queries import NOT_A_VISIT, stats_select
from app.sales.models import GiftCard, Order, Payment, ServiceLine

ACTIVE_LINE = ServiceLine.status != "cancelada"


class TemplateError(ValueError):
    """Unknown template/KPI or invalid parameters (Spanish message); raised before any query."""


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # int | date | choice
    description: str
    min: int | None = None
    max: int | None = None
    default: Callable[[], object] | None = None
    choices: tuple[str, ...] = ()

    def schema(self) -> dict:
        out: dict = {"type": "integer" if self.type == "int" else "string", "description": self.description}
        if self.type == "date":
            out["format"] = "date"
        if self.min is not None:
            out["minimum"] = self.min
        if self.max is not None:
            out["maximum"] = self.max
        if self.choices:
            out["enum"] = list(self.choices)
        return out


@dataclass(frozen=True)
class Template:
    name: str
    description: str
    params: tuple[Param, ...]
    build: Callable[[dict], sa.Select]
    columns: tuple[str, ...]
    chart: str | None = None  # "line" (a series over time) or "bar" (categories)
    label_column: str | None = None
    value_column: str | None = None
    pseudonym_columns: tuple[str, ...] = ()  # client names: pseudonyms in prompts
    hidden_columns: tuple[str, ...] = field(default=("cliente_id",))  # never shown to the model


def _this_year() -> int:
    return clock.today().year


def _today() -> date:
    return clock.today()


def _month_start() -> date:
    return clock.today().replace(day=1)


def _year_bounds(year: int):
    return clock.local_midnight(date(year, 1, 1)), clock.local_midnight(date(year + 1, 1, 1))


def _day_bounds(desde: date, hasta: date):
    return clock.local_midnight(desde), clock.local_midnight(hasta + timedelta(days=1))


def _check_range(p: dict) -> None:
    if p["hasta"] < p["desde"]:
        raise TemplateError("«hasta» debe ser igual o posterior a «desde».")
    if (p["hasta"] - p["desde"]).days > 366 * 3:
        raise TemplateError("El rango de fechas no puede superar tres años.")


# --- the ten templates ----------------------------------------------------------------------------------------


def _top_clientes(p: dict) -> sa.Select:
    start, end = _year_bounds(p["anio"])
    paid = sa.func.sum(Payment.amount)
    return (
        sa.select(
            Client.id.label("cliente_id"),
            Client.name.label("cliente"),
            sa.func.count(Payment.id).label("pagos"),
            paid.label("monto_pagado"),
        )
        .select_from(Payment)
        .join(Order, Order.id == Payment.order_id)
        .join(Client, Client.id == Order.client_id)
        .where(Payment.status == "valido", Payment.paid_at >= start, Payment.paid_at < end)
        .group_by(Client.id, Client.name)
        .having(paid > 0)
        .order_by(paid.desc(), Client.id)
        .limit(p["limite"])
    )


def _ocupacion(p: dict) -> sa.Select:
    end = p["desde"] + timedelta(days=p["dias"] - 1)
    stmt = (
        sa.select(
            ServiceLine.service_date.label("fecha"),
            Service.name.label("servicio"),
            sa.func.count(ServiceLine.id).label("reservas"),
            sa.func.sum(ServiceLine.people).label("personas"),
            Service.max_concurrent_bookings.label("capacidad_por_horario"),
        )
        .select_from(ServiceLine)
        .join(Service, Service.id == ServiceLine.service_id)
        .join(Order, Order.id == ServiceLine.order_id)
        .where(
            ACTIVE_LINE,
            Order.cancelled_at.is_(None),
            ServiceLine.service_date >= p["desde"],
            ServiceLine.service_date <= end,
        )
        .group_by(ServiceLine.service_date, Service.id, Service.name, Service.max_concurrent_bookings)
        .order_by(ServiceLine.service_date, Service.name)
    )
    if p.get("tipo"):
        stmt = stmt.where(Service.service_type == p["tipo"])
    return stmt


def _mas_vendidos(p: dict) -> sa.Select:
    _check_range(p)
    revenue = sa.func.sum(ServiceLine.subtotal)
    return (
        sa.select(
            Service.name.label("servicio"),
            sa.func.count(ServiceLine.id).label("lineas"),
            sa.func.sum(ServiceLine.people).label("personas"),
            revenue.label("ingresos"),
        )
        .select_from(ServiceLine)
        .join(Service, Service.id == ServiceLine.service_id)
        .join(Order, Order.id == ServiceLine.order_id)
        .where(
            ACTIVE_LINE,
            Order.cancelled_at.is_(None),
            ServiceLine.service_date >= p["desde"],
            ServiceLine.service_date <= p["hasta"],
        )
        .group_by(Service.id, Service.name)
        .order_by(revenue.desc(), Service.name)
    )


def _ventas_por_mes(p: dict) -> sa.Select:
    year = p["anio"]
    bounds = [clock.local_midnight(date(year, m, 1)) for m in range(1, 13)] + [
        clock.local_midnight(date(year + 1, 1, 1))
    ]
    month = sa.case(
        *[(sa.and_(Order.sold_at >= bounds[m], Order.sold_at < bounds[m + 1]), m + 1) for m in range(12)],
        else_=0,
    )
    return (
        sa.select(
            month.label("mes"),
            sa.func.count(Order.id).label("ordenes"),
            sa.func.sum(Order.total).label("total"),
            sa.func.sum(Order.paid).label("pagado"),
        )
        .where(Order.cancelled_at.is_(None), Order.sold_at >= bounds[0], Order.sold_at < bounds[12])
        .group_by(month)
        .order_by(month)
    )


def _ingresos_por_metodo(p: dict) -> sa.Select:
    _check_range(p)
    start, end = _day_bounds(p["desde"], p["hasta"])
    kind = sa.case((Payment.method == "giftcard", "canje gift card"), else_="dinero")
    amount = sa.func.sum(Payment.amount)
    return (
        sa.select(
            kind.label("tipo"),
            Payment.method.label("metodo"),
            sa.func.count(Payment.id).label("pagos"),
            amount.label("monto"),
        )
        .where(Payment.status == "valido", Payment.paid_at >= start, Payment.paid_at < end)
        .group_by(kind, Payment.method)
        .order_by(kind.desc(), amount.desc())
    )


def _inactivos(p: dict) -> sa.Select:
    today = clock.today()
    stats = stats_select(today).subquery("stats")
    return (
        sa.select(
            Client.id.label("cliente_id"),
            Client.name.label("cliente"),
            stats.c.last_visit.label("ultima_visita"),
            stats.c.visits.label("visitas"),
            stats.c.spend.label("gasto"),
        )
        .select_from(stats)
        .join(Client, Client.id == stats.c.client_id)
        .where(stats.c.last_visit.is_not(None), stats.c.last_visit <= today - timedelta(days=p["dias"]))
        .order_by(stats.c.last_visit.desc(), Client.id)
        .limit(p["limite"])
    )


def _rfm(p: dict) -> sa.Select:
    today = clock.today()
    since = today - timedelta(days=int(p["meses"] * 30.44))
    visit_days = (
        sa.select(ServiceLine.order_id, sa.func.max(ServiceLine.service_date).label("day"))
        .where(ServiceLine.status.not_in(NOT_A_VISIT), ServiceLine.service_date <= today)
        .group_by(ServiceLine.order_id)
        .subquery("visit_days")
    )
    spend = sa.func.sum(Order.paid)
    return (
        sa.select(
            Client.id.label("cliente_id"),
            Client.name.label("cliente"),
            sa.func.max(visit_days.c.day).label("ultima_visita"),
            sa.func.count(visit_days.c.day).label("frecuencia"),
            spend.label("monetario"),
        )
        .select_from(Order)
        .join(visit_days, visit_days.c.order_id == Order.id)
        .join(Client, Client.id == Order.client_id)
        .where(Order.cancelled_at.is_(None), visit_days.c.day >= since)
        .group_by(Client.id, Client.name)
        .order_by(spend.desc(), sa.func.count(visit_days.c.day).desc(), Client.id)
        .limit(p["limite"])
    )


def _afinidad(p: dict) -> sa.Select:
    today = clock.today()
    since = today - timedelta(days=int(p["meses"] * 30.44))
    a, b = sa.orm.aliased(ServiceLine), sa.orm.aliased(ServiceLine)
    sa_, sb = sa.orm.aliased(Service), sa.orm.aliased(Service)
    n = sa.func.count(sa.distinct(a.order_id))
    return (
        sa.select(sa_.name.label("servicio_a"), sb.name.label("servicio_b"), n.label("ordenes"))
        .select_from(a)
        .join(b, sa.and_(b.order_id == a.order_id, b.service_id > a.service_id))
        .join(sa_, sa_.id == a.service_id)
        .join(sb, sb.id == b.service_id)
        .where(a.status != "cancelada", b.status != "cancelada", a.service_date >= since, b.service_date >= since)
        .group_by(sa_.id, sa_.name, sb.id, sb.name)
        .order_by(n.desc(), sa_.name, sb.name)
    )


def _no_shows(p: dict) -> sa.Select:
    _check_range(p)
    lines = sa.func.count(ServiceLine.id)
    no_shows = sa.func.sum(sa.case((ServiceLine.status == "no_show", 1), else_=0))
    return (
        sa.select(
            Service.name.label("servicio"),
            lines.label("lineas"),
            no_shows.label("no_shows"),
            sa.func.round(100.0 * no_shows / sa.func.nullif(lines, 0), 1).label("tasa_pct"),
        )
        .select_from(ServiceLine)
        .join(Service, Service.id == ServiceLine.service_id)
        .where(ACTIVE_LINE, ServiceLine.service_date >= p["desde"], ServiceLine.service_date <= p["hasta"])
        .group_by(Service.id, Service.name)
        .order_by(no_shows.desc(), Service.name)
    )


def _giftcards_saldo(p: dict) -> sa.Select:
    year = sa.extract("year", GiftCard.expires_on)
    month = sa.extract("month", GiftCard.expires_on)
    balance = sa.func.sum(GiftCard.balance)
    return (
        sa.select(
            sa.cast(year, sa.Integer).label("anio"),
            sa.cast(month, sa.Integer).label("mes"),
            sa.func.count(GiftCard.id).label("tarjetas"),
            balance.label("saldo"),
        )
        .where(GiftCard.status == "por_cobrar", GiftCard.expires_on >= clock.today())
        .group_by(year, month)
        .order_by(year, month)
    )


_ANIO = Param("anio", "int", "Año (AAAA)", 2000, 2100, _this_year)
_DESDE_MES = Param("desde", "date", "Fecha inicial AAAA-MM-DD", default=_month_start)
_HASTA_HOY = Param("hasta", "date", "Fecha final AAAA-MM-DD", default=_today)

TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        Template(
            "top_clientes_por_pago",
            "Clientes ordenados por monto pagado en un año",
            (_ANIO, Param("limite", "int", "Cantidad de clientes", 1, 100, lambda: 10)),
            _top_clientes,
            ("cliente_id", "cliente", "pagos", "monto_pagado"),
            chart="bar",
            label_column="cliente",
            value_column="monto_pagado",
            pseudonym_columns=("cliente",),
        ),
        Template(
            "ocupacion_servicios",
            "Reservas y personas por servicio y día frente a la capacidad por horario",
            (
                Param("desde", "date", "Primer día AAAA-MM-DD", default=_today),
                Param("dias", "int", "Cantidad de días", 1, 31, lambda: 7),
                Param("tipo", "choice", "Tipo de servicio (opcional)", choices=("tina", "masaje", "cabana", "otro")),
            ),
            _ocupacion,
            ("fecha", "servicio", "reservas", "personas", "capacidad_por_horario"),
            chart="bar",
            label_column="servicio",
            value_column="reservas",
        ),
        Template(
            "servicios_mas_vendidos",
            "Líneas, personas e ingresos por servicio en un rango de fechas",
            (_DESDE_MES, _HASTA_HOY),
            _mas_vendidos,
            ("servicio", "lineas", "personas", "ingresos"),
            chart="bar",
            label_column="servicio",
            value_column="ingresos",
        ),
        Template(
            "ventas_por_mes",
            "Órdenes, total vendido y pagado por mes de un año",
            (_ANIO,),
            _ventas_por_mes,
            ("mes", "ordenes", "total", "pagado"),
            chart="line",
            label_column="mes",
            value_column="total",
        ),
        Template(
            "ingresos_por_metodo",
            "Dinero recibido por método de pago; los canjes de gift card aparte",
            (_DESDE_MES, _HASTA_HOY),
            _ingresos_por_metodo,
            ("tipo", "metodo", "pagos", "monto"),
            chart="bar",
            label_column="metodo",
            value_column="monto",
        ),
        Template(
            "clientes_inactivos",
            "Clientes cuya última visita fue hace N días o más",
            (
                Param("dias", "int", "Días sin visita (mínimo 30)", 30, 3650, lambda: 90),
                Param("limite", "int", "Cantidad de clientes", 1, 1000, lambda: 100),
            ),
            _inactivos,
            ("cliente_id", "cliente", "ultima_visita", "visitas", "gasto"),
            pseudonym_columns=("cliente",),
        ),
        Template(
            "rfm_clientes",
            "Recencia (última visita), frecuencia (visitas) y monto (gasto) por cliente",
            (
                Param("meses", "int", "Meses hacia atrás", 1, 24, lambda: 12),
                Param("limite", "int", "Cantidad de clientes", 1, 1000, lambda: 50),
            ),
            _rfm,
            ("cliente_id", "cliente", "ultima_visita", "frecuencia", "monetario"),
            pseudonym_columns=("cliente",),
        ),
        Template(
            "afinidad_servicios",
            "Pares de servicios reservados en la misma orden",
            (Param("meses", "int", "Meses hacia atrás", 1, 24, lambda: 12),),
            _afinidad,
            ("servicio_a", "servicio_b", "ordenes"),
        ),
        Template(
            "no_shows_por_servicio",
            "No-shows y tasa por servicio en un rango de fechas",
            (_DESDE_MES, _HASTA_HOY),
            _no_shows,
            ("servicio", "lineas", "no_shows", "tasa_pct"),
            chart="bar",
            label_column="servicio",
            value_column="no_shows",
        ),
        Template(
            "giftcards_saldo_pendiente",
            "Saldo vigente de gift cards por mes de vencimiento",
            (),
            _giftcards_saldo,
            ("anio", "mes", "tarjetas", "saldo"),
            chart="bar",
            label_column="mes",
            value_column="saldo",
        ),
    )
}


def validate_params(template: Template, raw: object) -> dict:
    """The template's parameters, typed and checked (unknown names, types, ranges); defaults filled in. Raises
    TemplateError before any query."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise TemplateError("Los parámetros deben ser un objeto.")
    known = {p.name: p for p in template.params}
    unknown = set(raw) - set(known)
    if unknown:
        raise TemplateError(f"Parámetro desconocido: {', '.join(sorted(unknown))}.")
    out: dict = {}
    for p in template.params:
        value = raw.get(p.name)
        if value is None or value == "":
            out[p.name] = p.default() if p.default else None
            continue
        if p.type == "int":
            if isinstance(value, bool) or not (
                isinstance(value, int) or (isinstance(value, str) and value.isascii() and value.strip().isdigit())
            ):
                raise TemplateError(f"«{p.name}» debe ser un número entero.")
            value = int(value)
            if (p.min is not None and value < p.min) or (p.max is not None and value > p.max):
                raise TemplateError(f"«{p.name}» debe estar entre {p.min} y {p.max}.")
        elif p.type == "date":
            try:
                value = date.fromisoformat(str(value))
            except ValueError as exc:
                raise TemplateError(f"«{p.name}» debe ser una fecha AAAA-MM-DD.") from exc
        elif p.type == "choice":
            if value not in p.choices:
                raise TemplateError(f"«{p.name}» debe ser uno de: {', '.join(p.choices)}.")
        out[p.name] = value
    return out


def get_template(name: object) -> Template:
    if not isinstance(name, str) or name not in TEMPLATES:
        raise TemplateError("No existe una consulta aprobada con ese nombre.")
    return TEMPLATES[name]


def jsonable_params(params: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in params.items() if v is not None}


# --- the five KPIs --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kpi:
    name: str
    description: str
    build: Callable[[], sa.Select]
    money: bool = True


def _kpi_ventas_hoy() -> sa.Select:
    start, end = _day_bounds(clock.today(), clock.today())
    return sa.select(sa.func.coalesce(sa.func.sum(Order.total), 0)).where(
        Order.cancelled_at.is_(None), Order.sold_at >= start, Order.sold_at < end
    )


def _kpi_ocupacion_manana() -> sa.Select:
    tomorrow = clock.today() + timedelta(days=1)
    return (
        sa.select(sa.func.count(ServiceLine.id))
        .join(Order, Order.id == ServiceLine.order_id)
        .where(ACTIVE_LINE, Order.cancelled_at.is_(None), ServiceLine.service_date == tomorrow)
    )


def _kpi_saldo_pendiente() -> sa.Select:
    return sa.select(sa.func.coalesce(sa.func.sum(Order.balance_due), 0)).where(
        Order.cancelled_at.is_(None), Order.balance_due > 0
    )


def _kpi_giftcards_pasivo() -> sa.Select:
    return sa.select(sa.func.coalesce(sa.func.sum(GiftCard.balance), 0)).where(
        GiftCard.status == "por_cobrar", GiftCard.expires_on >= clock.today()
    )


def _kpi_fallidos() -> sa.Select:
    since = clock.now() - timedelta(hours=24)
    return sa.select(sa.func.count(CommunicationLog.id)).where(
        CommunicationLog.status == "FAILED", CommunicationLog.failed_at >= since
    )


KPIS: dict[str, Kpi] = {
    k.name: k
    for k in (
        Kpi("ventas_hoy", "Ventas de hoy (total de órdenes no canceladas)", _kpi_ventas_hoy),
        Kpi("ocupacion_manana", "Reservas de servicios para mañana", _kpi_ocupacion_manana, money=False),
        Kpi("saldo_pendiente_total", "Saldo pendiente de cobro de órdenes vigentes", _kpi_saldo_pendiente),
        Kpi("giftcards_pasivo", "Saldo vigente de gift cards (pasivo)", _kpi_giftcards_pasivo),
        Kpi("mensajes_fallidos_24h", "Mensajes fallidos en las últimas 24 horas", _kpi_fallidos, money=False),
    )
}


def get_kpi(name: object) -> Kpi:
    if not isinstance(name, str) or name not in KPIS:
        raise TemplateError("No existe un indicador con ese nombre.")
    return KPIS[name]


def tool_definitions() -> list[dict]:
    """The two tools in the chat-completions `tools` format."""
    return [
        {
            "type": "function",
            "function": {
                "name": "query_template",
                "description": "Ejecuta una consulta aprobada. Plantillas: "
                + "; ".join(f"{t.name}: {t.description}" for t in TEMPLATES.values()),
                "parameters": {
                    "type": "object",
                    "properties": {
                        "nombre": {"type": "string", "enum": list(TEMPLATES)},
                        "parametros": {
                            "type": "object",
                            "description": "; ".join(
                                f"{t.name}({', '.join(p.name for p in t.params)})" for t in TEMPLATES.values()
                            ),
                        },
                    },
                    "required": ["nombre"],
                },
            },
        },
        {
            "type": "function",
            "function": {
                "name": "get_kpi",
                "description": "Lee un indicador: " + "; ".join(f"{k.name}: {k.description}" for k in KPIS.values()),
                "parameters": {
                    "type": "object",
                    "properties": {"nombre": {"type": "string", "enum": list(KPIS)}},
                    "required": ["nombre"],
                },
            },
        },
    ]
