"""A client's sales, read side: visits, spend and segment per client (the segmentation rule and its SQL twin),
the client list's statistics, and a client's orders, payments and gift cards. They join the client record to the
sales core, so they live above both (docs/ARCHITECTURE.md §1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from app.auth.models import User
from app.clients.models import Client
from app.clients.queries import search_condition
from app.core import clock
from app.core.money import format_clp
from app.core.settings import in_force
from app.extensions import db
from app.sales.client_stats_services import NOT_A_VISIT, recompute_select
from app.sales.models import ClientStats, GiftCard, Order, Payment, PaymentMethod, ServiceLine

VISIT_BANDS = ("new", "regular", "vip")
SPEND_BANDS = ("low", "medium", "high")
ZERO_SPEND = "zero_spend"
SEGMENT_KEYS = (ZERO_SPEND,) + tuple(f"{v}_{s}_spend" for v in VISIT_BANDS for s in SPEND_BANDS)


@dataclass(frozen=True)
class Thresholds:
    visits_regular: int
    visits_vip: int
    spend_medium: int
    spend_high: int

    @classmethod
    def from_config(cls) -> Thresholds:
        cfg = in_force()
        return cls(
            int(cfg["SEGMENT_VISITS_REGULAR"]),
            int(cfg["SEGMENT_VISITS_VIP"]),
            int(cfg["SEGMENT_SPEND_MEDIUM"]),
            int(cfg["SEGMENT_SPEND_HIGH"]),
        )


def visit_band(visits: int, t: Thresholds) -> str:
    return "new" if visits < t.visits_regular else "regular" if visits < t.visits_vip else "vip"


def spend_band(spend: int, t: Thresholds) -> str:
    return "low" if spend < t.spend_medium else "medium" if spend < t.spend_high else "high"


def segment_of(visits: int, spend: int, t: Thresholds) -> str:
    """The pure rule, mirrored by the SQL CASE in client_stats (tests compare both at every boundary)."""
    if visits == 0 and spend == 0:
        return ZERO_SPEND
    return f"{visit_band(visits, t)}_{spend_band(spend, t)}_spend"


def segment_labels(t: Thresholds | None = None) -> dict[str, str]:
    """Spanish labels built from the thresholds, e.g. "Regulares (2-5 Visitas, Gasto Medio)"."""
    t = t or Thresholds.from_config()
    visit_text = {
        "new": f"Nuevos (0-{t.visits_regular - 1} Visita{'s' if t.visits_regular - 1 != 1 else ''}",
        "regular": f"Regulares ({t.visits_regular}-{t.visits_vip - 1} Visitas",
        "vip": f"VIP (>{t.visits_vip - 1} Visitas",
    }
    spend_text = {"low": "Bajo Gasto", "medium": "Gasto Medio", "high": "Alto Gasto"}
    labels = {ZERO_SPEND: "Clientes Sin Gasto Registrado"}
    for v in VISIT_BANDS:
        for s in SPEND_BANDS:
            labels[f"{v}_{s}_spend"] = f"{visit_text[v]}, {spend_text[s]})"
    return labels


def threshold_legend(t: Thresholds | None = None) -> list[str]:
    t = t or Thresholds.from_config()
    return [
        f"Visitas: nuevos < {t.visits_regular}, regulares < {t.visits_vip}, VIP ≥ {t.visits_vip}.",
        f"Gasto: bajo < {format_clp(t.spend_medium)}, medio < {format_clp(t.spend_high)}, "
        f"alto ≥ {format_clp(t.spend_high)}.",
    ]


def _segment_columns(visits, spend, t: Thresholds) -> list:
    """visit_band, spend_band and segment as SQL CASEs over `visits`/`spend` (the pure rule segment_of)."""
    v_band = sa.case((visits < t.visits_regular, "new"), (visits < t.visits_vip, "regular"), else_="vip")
    s_band = sa.case((spend < t.spend_medium, "low"), (spend < t.spend_high, "medium"), else_="high")
    segment = sa.case(
        (sa.and_(visits == 0, spend == 0), ZERO_SPEND),
        else_=v_band + "_" + s_band + "_spend",
    )
    return [v_band.label("visit_band"), s_band.label("spend_band"), segment.label("segment")]


def _activity_subquery(today: date) -> sa.Subquery:
    """Per client with ≥ 1 non-cancelled order, in ONE grouped pass over those orders LEFT JOINed to their visit
    day: visits = orders with a visit day, last_visit = latest visit day, spend = Σ paid. (On PostgreSQL: a merge
    join of the orders with the lines grouped per order, both read in order-id order, then one hash aggregate.)"""
    visit_days = (
        sa.select(ServiceLine.order_id, sa.func.max(ServiceLine.service_date).label("day"))
        .where(ServiceLine.status.not_in(NOT_A_VISIT), ServiceLine.service_date <= today)
        .group_by(ServiceLine.order_id)
        .subquery("visit_days")
    )
    return (
        sa.select(
            Order.client_id.label("client_id"),
            sa.func.count(visit_days.c.day).label("visits"),
            sa.func.sum(Order.paid).label("spend"),
            sa.func.max(visit_days.c.day).label("last_visit"),
        )
        .select_from(Order)
        .outerjoin(visit_days, visit_days.c.order_id == Order.id)
        .where(Order.cancelled_at.is_(None))
        .group_by(Order.client_id)
        .subquery("activity")
    )


def client_activity(today: date | None = None, thresholds: Thresholds | None = None) -> sa.Select:
    """client_stats() restricted to the clients with ≥ 1 non-cancelled order (same columns, same values), without
    the pass over every client: every client outside it is zero_spend, so any other segment can be read here."""
    today = today or clock.today()
    t = thresholds or Thresholds.from_config()
    activity = _activity_subquery(today)
    visits = activity.c.visits
    spend = sa.cast(sa.func.coalesce(activity.c.spend, 0), sa.BigInteger)
    return sa.select(
        activity.c.client_id.label("client_id"),
        visits.label("visits"),
        spend.label("spend"),
        activity.c.last_visit.label("last_visit"),
        *_segment_columns(visits, spend, t),
    )


def stats_select(
    today: date | None = None, thresholds: Thresholds | None = None, client_ids: list[int] | None = None
) -> sa.Select:
    """client_id, visits, spend, last_visit, visit_band, spend_band, segment for every client (client_stats()'
    columns), read from the client_stats TABLE (the one source of the board, the automations' selections and the
    CRM; equal to client_stats(), the reference, tested on random data). A row past its `next_visit` (a booked day
    arrived since it was written, before the nightly job rewrote it) is recomputed here, so the figures are exact
    on any day. With `client_ids` (a page, one client) a client without a row is recomputed too."""
    today = today or clock.today()
    t = thresholds or Thresholds.from_config()
    cs = ClientStats.__table__
    exact = sa.and_(cs.c.as_of <= today, sa.or_(cs.c.next_visit.is_(None), cs.c.next_visit > today))
    cols = ("client_id", "visits", "spend", "last_visit")  # client_stats()' columns (first_visit: the table's)
    kept = sa.select(*(cs.c[c] for c in cols)).where(exact)
    if client_ids is None:
        redo_ids = sa.select(cs.c.client_id).where(sa.or_(cs.c.as_of > today, cs.c.next_visit <= today))
    else:
        ids = sorted(set(client_ids))
        kept = kept.where(cs.c.client_id.in_(ids))
        redo_ids = sa.select(Client.id).where(
            Client.id.in_(ids), ~sa.exists().where(cs.c.client_id == Client.id, exact)
        )
    redo = recompute_select(today, redo_ids)
    rows = sa.union_all(kept, redo.with_only_columns(*(redo.selected_columns[c] for c in cols))).subquery("stats_rows")
    return sa.select(*rows.c, *_segment_columns(rows.c.visits, rows.c.spend, t))


def client_stats(today: date | None = None, thresholds: Thresholds | None = None) -> sa.Select:
    """client_id, visits, spend, last_visit, visit_band, spend_band, segment for every client (clients LEFT JOIN
    the per-client activity)."""
    today = today or clock.today()
    t = thresholds or Thresholds.from_config()
    activity = _activity_subquery(today)
    visits = sa.func.coalesce(activity.c.visits, 0)
    spend = sa.cast(sa.func.coalesce(activity.c.spend, 0), sa.BigInteger)
    return (
        sa.select(
            Client.id.label("client_id"),
            visits.label("visits"),
            spend.label("spend"),
            activity.c.last_visit.label("last_visit"),
            *_segment_columns(visits, spend, t),
        )
        .select_from(Client)
        .outerjoin(activity, activity.c.client_id == Client.id)
    )


def segment_stats(segment: str | None, today: date | None = None) -> sa.Select:
    """stats_select() rows of one segment (None = every client)."""
    stats = stats_select(today).subquery("segment_stats")
    if segment is None:
        return sa.select(*stats.c)
    return sa.select(*stats.c).where(stats.c.segment == segment)


def _band_figures(visits, spend, t: Thresholds, sign: int) -> list:
    """(sign, zero, visit band index, spend band index, clients, Σ spend) columns grouped by small integers: the
    cheap form of the segment CASE for a pass over every client (no text built per row)."""
    zero = sa.and_(visits == 0, spend == 0)
    v_band = sa.case((visits < t.visits_regular, 0), (visits < t.visits_vip, 1), else_=2)
    s_band = sa.case((spend < t.spend_medium, 0), (spend < t.spend_high, 1), else_=2)
    return [sa.literal(sign), zero, v_band, s_band, sa.func.count(), sa.func.sum(spend)]


def segment_figures_select(today: date | None = None) -> sa.CompoundSelect:
    """ONE statement for the clients and Σ spend per segment, from the client_stats table: every row as stored (+),
    minus the rows past their next_visit as stored (−, found by the next_visit index: few), plus those rows
    recomputed (+). Rows (sign, zero, visit band, spend band, clients, spend): segment_figures() adds them up."""
    today = today or clock.today()
    t = Thresholds.from_config()
    cs = ClientStats.__table__
    aged = sa.or_(cs.c.as_of > today, cs.c.next_visit <= today)
    parts = []
    for sign, source in (
        (1, cs),
        (-1, sa.select(cs.c.visits, cs.c.spend).where(aged).subquery("aged")),
        (1, recompute_select(today, sa.select(cs.c.client_id).where(aged)).subquery("redone")),
    ):
        cols = _band_figures(source.c.visits, source.c.spend, t, sign)
        parts.append(sa.select(*cols).select_from(source).group_by(*cols[1:4]))
    return sa.union_all(*parts)


def segment_figures(today: date | None = None) -> tuple[dict[str, int], dict[str, int]]:
    """Clients and Σ spend per segment (every key present, zeros included), in one statement."""
    counts, revenue = dict.fromkeys(SEGMENT_KEYS, 0), dict.fromkeys(SEGMENT_KEYS, 0)
    for sign, zero, v_band, s_band, n, spend in db.session.execute(segment_figures_select(today)).all():
        key = ZERO_SPEND if zero else f"{VISIT_BANDS[v_band]}_{SPEND_BANDS[s_band]}_spend"
        counts[key] += sign * n
        revenue[key] += sign * int(spend or 0)
    return counts, revenue


def segment_counts(today: date | None = None) -> dict[str, int]:
    """Clients per segment (every key present, zeros included) in one statement."""

    return segment_figures(today)[0]


def stats_for_select(client_ids) -> sa.Select:
    """stats_select() rows of the given clients only (a page's worth)."""

    return stats_select(client_ids=list(client_ids))


def client_export_select(q: str = "") -> sa.Select:
    """Plain rows for the client export: the client's columns plus visits, spend and last visit, one statement."""

    stats = stats_select().subquery()
    stmt = (
        sa.select(
            Client.id,
            Client.name,
            Client.phone,
            Client.email,
            Client.document_id,
            Client.city,
            Client.country,
            Client.birth_date,
            stats.c.visits,
            stats.c.spend,
            stats.c.last_visit,
            Client.created_at,
        )
        .join(stats, stats.c.client_id == Client.id)
        .order_by(Client.id)
    )
    cond = search_condition(q)
    return stmt.where(cond) if cond is not None else stmt


# --- client detail sections ------------------------------------------------------------------------------------


def client_orders_select(client_id: int) -> sa.Select:
    return sa.select(Order).where(Order.client_id == client_id).order_by(Order.sold_at.desc(), Order.id.desc())


def client_order_count_select(client_id: int) -> sa.Select:
    return sa.select(sa.func.count(Order.id)).where(Order.client_id == client_id)


def client_payments_select(client_id: int, limit: int = 50) -> sa.Select:
    """The client's latest payments (all orders), with method label and recording user."""

    return (
        sa.select(
            Payment.id,
            Payment.order_id,
            Payment.paid_at,
            Payment.amount,
            Payment.is_refund,
            Payment.status,
            PaymentMethod.label.label("method_label"),
            User.username,
        )
        .join(Order, Order.id == Payment.order_id)
        .outerjoin(PaymentMethod, PaymentMethod.code == Payment.method)
        .outerjoin(User, User.id == Payment.recorded_by_id)
        .where(Order.client_id == client_id)
        .order_by(Payment.paid_at.desc(), Payment.id.desc())
        .limit(limit)
    )


def client_gift_cards_select(client_id: int) -> sa.Select:
    """Gift cards the client bought or received."""

    return (
        sa.select(GiftCard)
        .where(sa.or_(GiftCard.buyer_client_id == client_id, GiftCard.recipient_client_id == client_id))
        .order_by(GiftCard.created_at.desc(), GiftCard.id.desc())
    )
