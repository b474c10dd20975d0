"""Read side of the sales list/detail/print and the purchases reports (spec reports.md §5–6).

Every list is a Select built from one set of conditions, so the page, its totals footer and the Excel export read
exactly the same rows. Nothing here mutates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from app.auth.models import User
from app.catalog.models import Product, Provider, Purchase, PurchaseLine, Service, ServiceCategory
from app.clients.models import Client, ClientEvent
from app.reports.filters import DateRange
from app.sales.models import (
    BOOKING_STATUS_LABELS,
    PAYMENT_STATUS_LABELS,
    Discount,
    GiftCard,
    Order,
    Payment,
    PaymentMethod,
    ProductLine,
    ServiceLine,
)
from app.web.params import parse_id

LINE_STATUS_LABELS = BOOKING_STATUS_LABELS
PRODUCT_LINE_STATUS_LABELS = {"activa": "Activa", "anulada": "Anulada"}
ORIGIN_LABELS = {"web": "Web", "recepcion": "Recepción", "telefono": "Teléfono", "api": "API"}
BASES = ("venta", "servicio")
DETAIL_BLOCKS = (
    "order_states",
    "order_totals",
    "order_lines",
    "order_payments",
    "order_discounts",
    "order_events",
    "order_giftcards",
    "order_actions",
)


def payment_label(status: str, checkout_method: str | None, due_at: datetime | None, now: datetime) -> str:
    """The `estado_pago` label, with "Esperando pago Flow" for a pending Flow order still in time."""
    if status == "pendiente" and checkout_method == "flow" and due_at is not None and due_at > now:
        return "Esperando pago Flow"
    return PAYMENT_STATUS_LABELS.get(status, status)


def _clp_sum(column) -> sa.ColumnElement:
    """Σ of a CLP column as an integer (PostgreSQL sums BIGINT as NUMERIC)."""
    return sa.cast(sa.func.coalesce(sa.func.sum(column), 0), sa.BigInteger)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# --- orders list ---------------------------------------------------------------------------------------------


@dataclass
class OrderFilters:
    dates: DateRange
    base: str = "venta"
    categoria: int | None = None
    servicio: int | None = None
    estado_pago: str | None = None
    estado_reserva: str | None = None
    origen: str | None = None
    requiere_reembolso: bool | None = None
    q: str = ""

    def as_args(self) -> dict[str, str]:
        """The query string that reproduces these filters (pagination and export links)."""
        args = {**self.dates.as_args(), "base": self.base}
        for key in ("categoria", "servicio", "estado_pago", "estado_reserva", "origen"):
            value = getattr(self, key)
            if value is not None:
                args[key] = str(value)
        if self.requiere_reembolso is not None:
            args["requiere_reembolso"] = "si" if self.requiere_reembolso else "no"
        if self.q:
            args["q"] = self.q
        return args


def _search(q: str) -> sa.ColumnElement:
    """Client name or phone, contact snapshot, or order number (`123` or `#123`)."""
    clauses = [Client.name.ilike(_like(q), escape="\\"), Order.contact_name.ilike(_like(q), escape="\\")]
    number = q.lstrip("#").strip()
    if parse_id(number):
        clauses.append(Order.id == parse_id(number))
    digits = re.sub(r"\D", "", q)
    if len(digits) >= 4:
        clauses += [
            Client.phone.contains(digits, autoescape=True),
            Order.contact_phone.contains(digits, autoescape=True),
        ]
    return sa.or_(*clauses)


def order_conditions(f: OrderFilters) -> list[sa.ColumnElement]:
    """WHERE clauses over Order (joined with Client) for the filters."""
    conds: list[sa.ColumnElement] = []
    line_conds: list[sa.ColumnElement] = []
    if f.base == "servicio":
        line_conds += [ServiceLine.service_date >= f.dates.start, ServiceLine.service_date <= f.dates.end]
    else:
        conds += [Order.sold_at >= f.dates.start_utc, Order.sold_at < f.dates.end_utc]
    if f.servicio is not None:
        line_conds.append(ServiceLine.service_id == f.servicio)
    if f.categoria is not None:
        line_conds.append(ServiceLine.service_id.in_(sa.select(Service.id).where(Service.category_id == f.categoria)))
    if line_conds:  # one line must satisfy every line condition (e.g. that service on those dates)
        conds.append(sa.exists().where(ServiceLine.order_id == Order.id, *line_conds))
    if f.estado_pago is not None:
        conds.append(Order.payment_status == f.estado_pago)
    if f.estado_reserva is not None:
        conds.append(Order.booking_status == f.estado_reserva)
    if f.origen is not None:
        conds.append(Order.origin == f.origen)
    if f.requiere_reembolso is not None:
        conds.append(Order.requires_refund.is_(f.requiere_reembolso))
    if f.q:
        conds.append(_search(f.q))
    return conds


def _order_sort():
    return (Order.sold_at.desc(), Order.id.desc())


def orders_select(f: OrderFilters) -> sa.Select:
    """Orders (with their client) matching the filters, newest sale first."""
    return (
        sa.select(Order)
        .join(Order.client)
        .options(contains_eager(Order.client))
        .where(*order_conditions(f))
        .order_by(*_order_sort())
    )


def order_totals_select(f: OrderFilters) -> sa.Select:
    """One row over every filtered order: n, Σ total, Σ pagado, Σ saldo pendiente, Σ saldo a favor."""
    return (
        sa.select(
            sa.func.count(Order.id).label("n"),
            _clp_sum(Order.total).label("total"),
            _clp_sum(Order.paid).label("paid"),
            _clp_sum(Order.balance_due).label("balance_due"),
            _clp_sum(Order.credit).label("credit"),
        )
        .select_from(Order)
        .join(Client, Client.id == Order.client_id)
        .where(*order_conditions(f))
    )


def orders_export_select(f: OrderFilters) -> sa.Select:
    """Plain columns for the streaming Excel export (no ORM identity map)."""
    return (
        sa.select(
            Order.id,
            Order.sold_at,
            Client.name.label("client_name"),
            Client.phone.label("client_phone"),
            Order.services_total,
            Order.products_total,
            Order.discount_total,
            Order.total,
            Order.paid,
            Order.balance_due,
            Order.credit,
            Order.payment_status,
            Order.checkout_method,
            Order.payment_due_at,
            Order.booking_status,
            Order.origin,
        )
        .select_from(Order)
        .join(Client, Client.id == Order.client_id)
        .where(*order_conditions(f))
        .order_by(*_order_sort())
    )


def line_summaries_select(order_ids) -> sa.Select:
    """Per order: (kind S|P, name, Σ people or quantity), grouped by service/product — one statement for many
    orders. Cancelled/voided lines are left out, except on a cancelled order (which would otherwise show nothing)."""
    active_or_cancelled_order = sa.or_(ServiceLine.status != "cancelada", Order.cancelled_at.is_not(None))
    services = (
        sa.select(
            ServiceLine.order_id.label("order_id"),
            sa.literal("S", sa.String).label("kind"),
            Service.name.label("name"),
            sa.cast(sa.func.sum(ServiceLine.people), sa.BigInteger).label("qty"),
            sa.func.min(ServiceLine.id).label("first_id"),
        )
        .join(Service, Service.id == ServiceLine.service_id)
        .join(Order, Order.id == ServiceLine.order_id)
        .where(ServiceLine.order_id.in_(order_ids), active_or_cancelled_order)
        .group_by(ServiceLine.order_id, Service.id, Service.name)
    )
    products = (
        sa.select(
            ProductLine.order_id.label("order_id"),
            sa.literal("P", sa.String).label("kind"),
            Product.name.label("name"),
            sa.cast(sa.func.sum(ProductLine.quantity), sa.BigInteger).label("qty"),
            sa.func.min(ProductLine.id).label("first_id"),
        )
        .join(Product, Product.id == ProductLine.product_id)
        .join(Order, Order.id == ProductLine.order_id)
        .where(
            ProductLine.order_id.in_(order_ids), sa.or_(ProductLine.status == "activa", Order.cancelled_at.is_not(None))
        )
        .group_by(ProductLine.order_id, Product.id, Product.name)
    )
    u = sa.union_all(services, products).subquery()
    return sa.select(u.c.order_id, u.c.kind, u.c.name, u.c.qty).order_by(u.c.order_id, u.c.kind.desc(), u.c.first_id)


@dataclass
class LineSummary:
    services: str = ""
    products: str = ""


def line_summaries(session, order_ids) -> dict[int, LineSummary]:
    """{order id: "Tina Calipso ×2, Masaje Relajación ×1" / "Espumante ×1"} from one statement."""
    ids = list(order_ids)
    if not ids:
        return {}
    parts: dict[int, dict[str, list[str]]] = {}
    for row in session.execute(line_summaries_select(ids)):
        parts.setdefault(row.order_id, {"S": [], "P": []})[row.kind].append(f"{row.name} ×{int(row.qty)}")
    return {oid: LineSummary(", ".join(p["S"]), ", ".join(p["P"])) for oid, p in parts.items()}


def filter_choices_select() -> tuple[sa.Select, sa.Select]:
    """Categories and services for the filter form."""
    return (
        sa.select(ServiceCategory.id, ServiceCategory.name).order_by(ServiceCategory.sort_order, ServiceCategory.name),
        sa.select(Service.id, Service.name).order_by(Service.name, Service.id),
    )


# --- order detail --------------------------------------------------------------------------------------------


@dataclass
class OrderDetail:
    order: Order
    gift_cards: list[GiftCard] = field(default_factory=list)
    events: list = field(default_factory=list)  # rows (ClientEvent, username)
    usernames: dict[int, str] = field(default_factory=dict)

    def username(self, user_id: int | None) -> str:
        if user_id is None:
            return "sistema"
        return self.usernames.get(user_id, "—")


def order_detail_select(order_id: int) -> sa.Select:
    """The order with everything its detail page shows, in a fixed number of statements."""
    return (
        sa.select(Order)
        .where(Order.id == order_id)
        .options(
            joinedload(Order.client),
            joinedload(Order.discount_code),
            selectinload(Order.service_lines).options(
                joinedload(ServiceLine.service), joinedload(ServiceLine.provider)
            ),
            selectinload(Order.product_lines).joinedload(ProductLine.product),
            selectinload(Order.discounts).joinedload(Discount.code),
            selectinload(Order.payments).options(
                joinedload(Payment.recorded_by), joinedload(Payment.voided_by), joinedload(Payment.gift_card)
            ),
        )
    )


def order_gift_cards_select(order_id: int) -> sa.Select:
    """Gift cards issued by the order's product lines."""
    return (
        sa.select(GiftCard)
        .join(ProductLine, ProductLine.id == GiftCard.order_line_id)
        .where(ProductLine.order_id == order_id)
        .order_by(GiftCard.id)
    )


def order_events_select(order_id: int) -> sa.Select:
    """The order's audit trail, newest first, with the acting user's name."""
    return (
        sa.select(ClientEvent, User.username)
        .outerjoin(User, User.id == ClientEvent.user_id)
        .where(ClientEvent.order_id == order_id)
        .order_by(ClientEvent.created_at.desc(), ClientEvent.id.desc())
    )


def load_order_detail(session, order_id: int) -> OrderDetail | None:
    order = session.scalars(order_detail_select(order_id)).unique().one_or_none()
    if order is None:
        return None
    detail = OrderDetail(order=order)
    detail.gift_cards = list(session.scalars(order_gift_cards_select(order_id)))
    detail.events = list(session.execute(order_events_select(order_id)))
    user_ids = {d.created_by_id for d in order.discounts} | {d.voided_by_id for d in order.discounts}
    user_ids |= {order.cancelled_by_id, order.created_by_id}
    user_ids.discard(None)
    if user_ids:
        detail.usernames = dict(session.execute(sa.select(User.id, User.username).where(User.id.in_(user_ids))).all())
    return detail


# --- purchases -----------------------------------------------------------------------------------------------


@dataclass
class PurchaseFilters:
    dates: DateRange
    proveedor: int | None = None
    producto: int | None = None

    def as_args(self) -> dict[str, str]:
        args = self.dates.as_args()
        if self.proveedor is not None:
            args["proveedor"] = str(self.proveedor)
        if self.producto is not None:
            args["producto"] = str(self.producto)
        return args


def _purchase_conditions(f: PurchaseFilters) -> list[sa.ColumnElement]:
    conds: list[sa.ColumnElement] = [Purchase.purchase_date >= f.dates.start, Purchase.purchase_date <= f.dates.end]
    if f.proveedor is not None:
        conds.append(Purchase.provider_id == f.proveedor)
    return conds


def _line_count():
    return (
        sa.select(sa.func.count(PurchaseLine.id))
        .where(PurchaseLine.purchase_id == Purchase.id)
        .correlate(Purchase)
        .scalar_subquery()
    )


def purchases_select(f: PurchaseFilters) -> sa.Select:
    """One row per purchase (purchases containing `producto` when given), newest first."""
    conds = _purchase_conditions(f)
    if f.producto is not None:
        conds.append(sa.exists().where(PurchaseLine.purchase_id == Purchase.id, PurchaseLine.product_id == f.producto))
    return (
        sa.select(
            Purchase.id,
            Purchase.purchase_date,
            Provider.name.label("provider_name"),
            Purchase.document_number,
            Purchase.payment_method,
            PaymentMethod.label.label("payment_method_label"),
            _line_count().label("n_lines"),
            Purchase.total,
        )
        .select_from(Purchase)
        .outerjoin(Provider, Provider.id == Purchase.provider_id)
        .outerjoin(PaymentMethod, PaymentMethod.code == Purchase.payment_method)
        .where(*conds)
        .order_by(Purchase.purchase_date.desc(), Purchase.id.desc())
    )


def purchase_totals_select(f: PurchaseFilters) -> sa.Select:
    sub = purchases_select(f).order_by(None).subquery()
    return sa.select(sa.func.count(sub.c.id).label("n"), _clp_sum(sub.c.total).label("total"))


def purchase_lines_select(f: PurchaseFilters) -> sa.Select:
    """One row per purchase line (lines of `producto` when given), newest purchase first."""
    conds = _purchase_conditions(f)
    if f.producto is not None:
        conds.append(PurchaseLine.product_id == f.producto)
    return (
        sa.select(
            PurchaseLine.id,
            PurchaseLine.purchase_id,
            Purchase.purchase_date,
            Provider.name.label("provider_name"),
            Product.name.label("product_name"),
            PurchaseLine.description,
            PurchaseLine.quantity,
            PurchaseLine.unit_price,
            PurchaseLine.subtotal,
        )
        .select_from(PurchaseLine)
        .join(Purchase, Purchase.id == PurchaseLine.purchase_id)
        .outerjoin(Provider, Provider.id == Purchase.provider_id)
        .outerjoin(Product, Product.id == PurchaseLine.product_id)
        .where(*conds)
        .order_by(Purchase.purchase_date.desc(), PurchaseLine.purchase_id.desc(), PurchaseLine.id)
    )


def purchase_line_totals_select(f: PurchaseFilters) -> sa.Select:
    sub = purchase_lines_select(f).order_by(None).subquery()
    return sa.select(
        sa.func.count(sub.c.id).label("n"),
        _clp_sum(sub.c.quantity).label("quantity"),
        _clp_sum(sub.c.subtotal).label("subtotal"),
    )


def purchase_filter_choices_select() -> tuple[sa.Select, sa.Select]:
    """Providers and products for the filter form."""
    return (
        sa.select(Provider.id, Provider.name).order_by(Provider.name, Provider.id),
        sa.select(Product.id, Product.name).order_by(Product.name, Product.id),
    )


def purchase_detail_select(purchase_id: int) -> sa.Select:
    """The purchase with its provider, lines and their products."""
    return (
        sa.select(Purchase, PaymentMethod.label)
        .outerjoin(PaymentMethod, PaymentMethod.code == Purchase.payment_method)
        .where(Purchase.id == purchase_id)
        .options(joinedload(Purchase.provider), selectinload(Purchase.lines).joinedload(PurchaseLine.product))
    )


def purchase_line_detail_select(line_id: int) -> sa.Select:
    """One purchase line with its purchase, provider and product."""
    return (
        sa.select(PurchaseLine)
        .where(PurchaseLine.id == line_id)
        .options(joinedload(PurchaseLine.purchase).joinedload(Purchase.provider), joinedload(PurchaseLine.product))
    )
