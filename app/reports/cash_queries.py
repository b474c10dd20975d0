"""Read side of the caja diaria and cierre de caja (spec reports.md §2): every function returns a Select.

Totals are SQL aggregates over exactly the filtered rows (GROUP BY), so a page runs the same number of statements
whatever the number of payments.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload

from app.auth.models import User
from app.catalog.models import Product
from app.clients.models import Client
from app.sales.cash_queries import day_bounds, money_sum
from app.sales.models import CashClose, CashCloseLine, Discount, Order, Payment, PaymentMethod, ProductLine, ServiceLine

GIFTCARD = "giftcard"


@dataclass(frozen=True)
class CashFilter:
    """What the caja diaria shows: [start_utc, end_utc) on `paid_at` (discounts: `created_at`)."""

    start_utc: datetime
    end_utc: datetime
    method: str | None = None
    user_ids: Sequence[int] | None = None  # None = every user
    reception_only: bool = False  # only users whose role is recepcion ("Todos los de recepción")
    include_voided: bool = False  # detail only; voided payments are never counted

    def __post_init__(self):
        if isinstance(self.method, str) and not self.method:
            object.__setattr__(self, "method", None)  # no method = every method

    @classmethod
    def for_day(cls, day: date, **kw) -> CashFilter:
        start, end = day_bounds(day)
        return cls(start, end, **kw)


def _reception_ids() -> sa.Select:
    return sa.select(User.id).where(User.role == "recepcion")


def _user_conditions(column, f: CashFilter) -> list:
    conds = []
    if f.user_ids is not None:
        ids = f.user_ids
        conds.append(column.in_(ids if isinstance(ids, sa.BindParameter) else list(ids)))
    if f.reception_only:
        conds.append(column.in_(_reception_ids()))
    return conds


def payment_conditions(f: CashFilter) -> list:
    """Filters shared by every payment query (not the status)."""
    conds = [Payment.paid_at >= f.start_utc, Payment.paid_at < f.end_utc, *_user_conditions(Payment.recorded_by_id, f)]
    if f.method is not None:
        conds.append(Payment.method == f.method)
    return conds


def discount_conditions(f: CashFilter) -> list:
    """Active discounts created in the range (by the filtered users); the method filter does not apply."""
    return [
        Discount.status == "activo",
        Discount.created_at >= f.start_utc,
        Discount.created_at < f.end_utc,
        *_user_conditions(Discount.created_by_id, f),
    ]


def cash_groups(f: CashFilter) -> tuple[sa.Select, dict]:
    """`_cash_groups` for `f`: the statement (built once per shape of filter: its construction and cache key cost
    more CPU than its execution) and its parameters."""
    params = {"start_utc": f.start_utc, "end_utc": f.end_utc}
    if f.method is not None:
        params["method"] = f.method
    if f.user_ids is not None:
        params["user_ids"] = list(f.user_ids)
    return _cash_groups(f.method is not None, f.user_ids is not None, f.reception_only), params


@functools.cache
def _cash_groups(by_method: bool, by_users: bool, reception_only: bool) -> sa.Select:
    """Blocks A–D and the detail footer in one statement, one scan of the filtered payments (index-only on
    ix_payments_cash) plus the discounts: rows per (method, user) over the payments and per user over the active
    discounts (`code` None), each with the rank of its method (`sort_order`, code) and of its user (username, sistema
    last) so that the caller folds them in SQL's order.

    Payment rows: code, label, counts_as_cash, user_id, transactions (valid), income (Σ valid > 0), refunds (Σ valid
    < 0, negative), net (Σ valid), voided (count of voided rows: shown in the detail, never counted); discount rows:
    user_id, discount_count, discounts (Σ amount). Other columns are 0. The filter's values are bind parameters."""
    f = CashFilter(
        sa.bindparam("start_utc"),
        sa.bindparam("end_utc"),
        method=sa.bindparam("method") if by_method else None,
        user_ids=sa.bindparam("user_ids", expanding=True) if by_users else None,
        reception_only=reception_only,
    )
    valid = Payment.status == "valido"
    zero = sa.literal(0, sa.BigInteger)
    pays = (
        sa.select(
            Payment.method.label("code"),
            PaymentMethod.label,
            PaymentMethod.counts_as_cash,
            PaymentMethod.sort_order,
            Payment.recorded_by_id.label("user_id"),
            sa.cast(sa.func.count(Payment.id).filter(valid), sa.BigInteger).label("transactions"),
            money_sum(sa.case((valid & (Payment.amount > 0), Payment.amount), else_=0)).label("income"),
            money_sum(sa.case((valid & (Payment.amount < 0), Payment.amount), else_=0)).label("refunds"),
            money_sum(sa.case((valid, Payment.amount), else_=0)).label("net"),
            sa.cast(sa.func.count(Payment.id).filter(Payment.status == "anulado"), sa.BigInteger).label("voided"),
            zero.label("discount_count"),
            zero.label("discounts"),
        )
        .join(PaymentMethod, PaymentMethod.code == Payment.method)
        .where(*payment_conditions(f))
        .group_by(
            Payment.method,
            PaymentMethod.label,
            PaymentMethod.counts_as_cash,
            PaymentMethod.sort_order,
            Payment.recorded_by_id,
        )
    )
    discs = (
        sa.select(
            sa.cast(sa.null(), sa.String),
            sa.cast(sa.null(), sa.String),
            sa.cast(sa.null(), sa.Boolean),
            sa.cast(sa.null(), sa.Integer),
            Discount.created_by_id,
            zero,
            zero,
            zero,
            zero,
            zero,
            sa.cast(sa.func.count(Discount.id), sa.BigInteger),
            money_sum(Discount.amount),
        )
        .where(*discount_conditions(f))
        .group_by(Discount.created_by_id)
    )
    u = sa.union_all(pays, discs).subquery()
    return sa.select(
        *u.c,
        User.username,
        sa.func.dense_rank().over(order_by=(u.c.sort_order, u.c.code)).label("method_rank"),
        sa.func.dense_rank().over(order_by=(User.username.is_(None), User.username)).label("user_rank"),
    ).outerjoin(User, User.id == u.c.user_id)


def _detail_rows() -> sa.Select:
    return (
        sa.select(
            Payment.id,
            Payment.paid_at,
            Payment.order_id,
            Client.name.label("client_name"),
            PaymentMethod.label.label("method_label"),
            Payment.method,
            Payment.amount,
            User.username,
            Payment.is_refund,
            Payment.status,
            Payment.reference,
            Payment.after_close,
            Order.total.label("order_total"),
            Order.policy_snapshot,
        )
        .join(Order, Order.id == Payment.order_id)
        .join(Client, Client.id == Order.client_id)
        .join(PaymentMethod, PaymentMethod.code == Payment.method)
        .outerjoin(User, User.id == Payment.recorded_by_id)
        .order_by(Payment.paid_at, Payment.id)
    )


def _detail_conditions(f: CashFilter) -> list:
    return payment_conditions(f) + ([] if f.include_voided else [Payment.status == "valido"])


def detail(f: CashFilter) -> sa.Select:
    """Detail rows (§2.1 columns), oldest first; voided rows only with `include_voided`. Plain rows, no ORM loads."""
    return _detail_rows().where(*_detail_conditions(f))


def detail_page(f: CashFilter, page: int, per_page: int) -> sa.Select:
    """One page of `detail(f)`: the page's ids are chosen on `payments` alone (paid_at index), then joined."""
    ids = (
        sa.select(Payment.id)
        .where(*_detail_conditions(f))
        .order_by(Payment.paid_at, Payment.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return _detail_rows().where(Payment.id.in_(ids))


def gift_card_sale_orders() -> sa.Select:
    """Ids of gift-card sale orders: at least one active gift-card product line, no service line and no other
    active product line (desk sales, online gift-card purchases)."""
    gift_line = sa.exists().where(
        ProductLine.order_id == Order.id,
        ProductLine.status == "activa",
        ProductLine.product_id.in_(sa.select(Product.id).where(Product.is_gift_card)),
    )
    other_line = sa.exists().where(
        ProductLine.order_id == Order.id,
        ProductLine.status == "activa",
        ProductLine.product_id.in_(sa.select(Product.id).where(~Product.is_gift_card)),
    )
    service_line = sa.exists().where(ServiceLine.order_id == Order.id)
    return sa.select(Order.id).where(gift_line, ~other_line, ~service_line)


def giftcard_sales(f: CashFilter) -> sa.Select:
    """ "Venta de gift cards" of the caja diaria: valid payments of gift-card sale orders in the filter, per method
    (label, transactions, net), in `sort_order`. They are money received, so they are also part of the method
    totals and of the close's expected amounts (`sales.cash_queries.expected_by_method`); a later redemption of the card
    is method `giftcard`, which is not real money, so nothing is counted twice."""
    return (
        sa.select(
            PaymentMethod.code,
            PaymentMethod.label,
            sa.cast(sa.func.count(Payment.id), sa.BigInteger).label("transactions"),
            money_sum(Payment.amount).label("net"),
        )
        .join(PaymentMethod, PaymentMethod.code == Payment.method)
        .where(
            Payment.status == "valido",
            PaymentMethod.counts_as_cash.is_(True),
            *payment_conditions(f),
            Payment.order_id.in_(gift_card_sale_orders()),
        )
        .group_by(PaymentMethod.code, PaymentMethod.label, PaymentMethod.sort_order)
        .order_by(PaymentMethod.sort_order, PaymentMethod.code)
    )


def payment_methods() -> sa.Select:
    return sa.select(PaymentMethod).order_by(PaymentMethod.sort_order, PaymentMethod.code)


def active_users(role: str | None = None) -> sa.Select:
    stmt = sa.select(User).where(User.is_active.is_(True)).order_by(User.username)
    if role:
        stmt = stmt.where(User.role == role)
    return stmt


# --- cierre de caja ----------------------------------------------------------------------------------------------


def methods_with_movement(day: date) -> sa.Select:
    """Codes of the methods with valid payments on the local date `day` (the cierre asks only for these, and cash)."""
    f = CashFilter.for_day(day)
    return sa.select(Payment.method).where(Payment.status == "valido", *payment_conditions(f)).distinct()


def closes_between(first: date, last: date) -> sa.Select:
    """Every close (all versions) of business dates in [first, last], newest first, with Σ of its lines."""
    closer = aliased(User)
    return (
        sa.select(
            CashClose.id,
            CashClose.business_date,
            CashClose.status,
            CashClose.version,
            CashClose.closed_at,
            CashClose.notes,
            CashClose.reopen_reason,
            closer.username.label("closed_by"),
            money_sum(CashCloseLine.expected).label("expected"),
            money_sum(CashCloseLine.counted).label("counted"),
            money_sum(CashCloseLine.difference).label("difference"),
        )
        .outerjoin(CashCloseLine, CashCloseLine.cash_close_id == CashClose.id)
        .outerjoin(closer, closer.id == CashClose.closed_by_id)
        .where(CashClose.business_date >= first, CashClose.business_date <= last)
        .group_by(CashClose.id, closer.username)
        .order_by(CashClose.business_date.desc(), CashClose.version.desc())
    )


def close_versions(day: date) -> sa.Select:
    """Version history of one business date."""
    return (
        sa.select(CashClose)
        .options(joinedload(CashClose.closed_by), joinedload(CashClose.reopened_by))
        .where(CashClose.business_date == day)
        .order_by(CashClose.version)
    )


def close_lines(close_id: int) -> sa.Select:
    """Lines of a close with the method label, in `sort_order`."""
    return (
        sa.select(
            CashCloseLine.method_code,
            PaymentMethod.label,
            CashCloseLine.expected,
            CashCloseLine.counted,
            CashCloseLine.difference,
        )
        .join(PaymentMethod, PaymentMethod.code == CashCloseLine.method_code)
        .where(CashCloseLine.cash_close_id == close_id)
        .order_by(PaymentMethod.sort_order, PaymentMethod.code)
    )


def _late_conditions(close: CashClose) -> list:
    conds = [Payment.after_close.is_(True), Payment.created_at >= close.closed_at]
    if close.reopened_at is not None:
        conds.append(Payment.created_at < close.reopened_at)
    return conds


def late_payments(close: CashClose) -> sa.Select:
    """Payments of the close's day recorded while that close was in force ("posterior al cierre")."""
    return detail(CashFilter.for_day(close.business_date, include_voided=True)).where(*_late_conditions(close))


def late_payments_total(close: CashClose) -> sa.Select:
    f = CashFilter.for_day(close.business_date)
    return sa.select(sa.func.count(Payment.id), money_sum(Payment.amount)).where(
        Payment.status == "valido", *payment_conditions(f), *_late_conditions(close)
    )
