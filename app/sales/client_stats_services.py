"""The client-statistics table (ClientStats), write side: every order, line and payment change recomputes the
affected clients' rows in the SAME transaction, and a nightly job recomputes every row and reports any difference.

How the rows stay current, whatever path changed the sale:
- `after_flush` (a SQLAlchemy session event) notes the clients touched by the flushed orders (new, deleted, or a
  changed `client_id`, `paid`, `cancelled_at`, line collection) and service lines (new, deleted, or a changed
  `status`, `service_date`, `order_id`/`order`), and new clients (their zero row). Payments, refunds, gift cards and
  Flow change an order's `paid`, so they are covered by the order; the sales signals all follow such a flush, so
  every receiver of them is covered as well, and so are the paths that send no signal (edits, imports, the API).
- `after_flush_postexec` recomputes those clients' rows right after the flush with ONE set-based INSERT … SELECT …
  ON CONFLICT DO UPDATE (PostgreSQL and SQLite): the same figures as client_stats(), not delta arithmetic. Any
  session on the same transaction (the tests' request sessions share the test's connection) reads them at once.
- Core statements that bypass the ORM (the client merge moves orders with UPDATE) call `mark_clients`; such marks
  are written at the next flush, before a statement that reads the table (`do_orm_execute`), or before COMMIT.
A rolled-back transaction leaves the table as it was (the rows are written inside it).
Cost: one statement per flush that touched a sale (+3 on a staff place_order + payment + commit); inside a
`batched()` block (place_order) one for the whole block. Writing once per
transaction instead (drop the after_flush_postexec listener: the read and commit hooks already do the rest) costs +1,
but then fixtures that flush without committing must call `settle()` before a request reads the board in its own
session (6 tests in crm, ai and api do that today).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.sql.util import find_tables

from app.clients.models import Client
from app.core import clock
from app.core.db import insert_for
from app.extensions import db
from app.sales.models import ClientStats, Order, ServiceLine

log = logging.getLogger(__name__)

NOT_A_VISIT = ("cancelada", "no_show")  # = client_queries.NOT_A_VISIT (client_queries imports this module's table)
FIGURES = ("visits", "spend", "first_visit", "last_visit", "next_visit")
_CLIENTS = "client_stats.clients"  # session.info keys: client ids and order ids whose rows must be recomputed
_ORDERS = "client_stats.orders"
_BATCHED = "client_stats.batched"  # depth of `batched()` blocks: their flushes only note
# the relationships too: a line removed from `order.service_lines` (delete-orphan) or given another `order`
_ORDER_FIELDS = ("client_id", "paid", "cancelled_at", "service_lines")
_LINE_FIELDS = ("status", "service_date", "order_id", "order")


def recompute_select(today: date, client_ids: sa.Select | sa.CompoundSelect | list[int] | None = None) -> sa.Select:
    """(client_id, visits, spend, first_visit, last_visit, next_visit, as_of) per client, set-based: the figures of
    client_stats(today) plus the first visit and `next_visit`, the first counted line after today (the day the row
    stops being exact). `client_ids` restricts it to some clients (a list or a Select of ids)."""
    ids = None
    if client_ids is not None:
        ids = client_ids if isinstance(client_ids, (sa.Select, sa.CompoundSelect)) else sorted(set(client_ids))
    return _figures(today, ids)


def _figures(today, ids) -> sa.Select:
    """recompute_select's statement; `today` a date or a Date bind parameter, `ids` None, a list or a Select."""
    lines = sa.select(
        ServiceLine.order_id,
        sa.func.max(sa.case((ServiceLine.service_date <= today, ServiceLine.service_date))).label("day"),
        sa.func.min(sa.case((ServiceLine.service_date > today, ServiceLine.service_date))).label("next_day"),
    ).where(ServiceLine.status.not_in(NOT_A_VISIT))
    if ids is not None:
        lines = lines.where(ServiceLine.order_id.in_(sa.select(Order.id).where(Order.client_id.in_(ids))))
    per_order = lines.group_by(ServiceLine.order_id).subquery("per_order")
    orders = (
        sa.select(
            Order.client_id.label("client_id"),
            sa.func.count(per_order.c.day).label("visits"),
            sa.func.sum(Order.paid).label("spend"),
            sa.func.min(per_order.c.day).label("first_visit"),
            sa.func.max(per_order.c.day).label("last_visit"),
            sa.func.min(per_order.c.next_day).label("next_visit"),
        )
        .select_from(Order)
        .outerjoin(per_order, per_order.c.order_id == Order.id)
        .where(Order.cancelled_at.is_(None))
    )
    clients = sa.select(Client.id)
    if ids is not None:
        orders = orders.where(Order.client_id.in_(ids))
        clients = clients.where(Client.id.in_(ids))
    activity = orders.group_by(Order.client_id).subquery("activity")
    chosen = clients.subquery("chosen")
    as_of = today if isinstance(today, sa.BindParameter) else sa.literal(today, sa.Date)
    return (
        sa.select(
            chosen.c.id.label("client_id"),
            sa.func.coalesce(activity.c.visits, 0).label("visits"),
            sa.cast(sa.func.coalesce(activity.c.spend, 0), sa.BigInteger).label("spend"),
            activity.c.first_visit,
            activity.c.last_visit,
            activity.c.next_visit,
            as_of.label("as_of"),
        )
        .select_from(chosen.outerjoin(activity, activity.c.client_id == chosen.c.id))
        .where(sa.true())  # SQLite: INSERT … SELECT … ON CONFLICT needs a WHERE (its parsing ambiguity)
    )


def _upsert_statement(dialect: str, source: sa.Select, *, only_changed: bool = False):
    """INSERT the rows of `source` ON CONFLICT DO UPDATE; with `only_changed`, rows whose figures already equal
    the recomputed ones (and whose as_of is not in the future) are left alone."""
    table = ClientStats.__table__
    cols = [c.name for c in source.selected_columns]  # _figures': client_id, *FIGURES, as_of
    shape = "client_stats.changed" if only_changed else "client_stats"
    stmt = insert_for(dialect, table, shape=shape).from_select(cols, source)
    where = None
    if only_changed:
        where = sa.or_(
            table.c.as_of > stmt.excluded.as_of,
            *(table.c[c].is_distinct_from(stmt.excluded[c]) for c in FIGURES),
        )
    return stmt.on_conflict_do_update(
        index_elements=[table.c.client_id],
        set_={c: stmt.excluded[c] for c in ("as_of", *FIGURES)},
        where=where,
    )


def _upsert(session: Session, source: sa.Select, *, only_changed: bool = False) -> int:
    """_upsert_statement executed; returns the rows written."""
    stmt = _upsert_statement(session.get_bind().dialect.name, source, only_changed=only_changed)
    return session.execute(stmt).rowcount


@functools.cache
def _touched_statement(dialect: str):
    """The rows of the clients in :cs_clients and of the clients of the orders in :cs_orders, recomputed: built
    once per dialect (building it cost ~7 ms of CPU per flush that touched a sale), compiled once (insert_for)."""
    ids = sa.union(
        sa.select(Client.id).where(Client.id.in_(sa.bindparam("cs_clients", expanding=True))),
        sa.select(Order.client_id).where(Order.id.in_(sa.bindparam("cs_orders", expanding=True))),
    )
    return _upsert_statement(dialect, _figures(sa.bindparam("cs_today", type_=sa.Date), ids))


def _refresh(session: Session, clients, orders, today: date | None = None) -> None:
    stmt = _touched_statement(session.get_bind().dialect.name)
    params = {"cs_clients": list(clients), "cs_orders": list(orders), "cs_today": today or clock.today()}
    session.execute(stmt, params)


def refresh_clients(client_ids, *, today: date | None = None, session: Session | None = None) -> None:
    """Recompute the rows of these clients (ONE statement; a deleted client has no row: the cascade removed it)."""
    session = session or db.session
    ids = sorted({int(i) for i in client_ids if i is not None})
    if ids:
        _refresh(session, ids, (), today)


def mark_clients(*client_ids: int | None, session: Session | None = None) -> None:
    """Recompute these clients' rows before the transaction commits (for writes that bypass the ORM)."""
    session = session or db.session
    session.info.setdefault(_CLIENTS, set()).update(i for i in client_ids if i is not None)


def _changed(obj, fields) -> list:
    """The old and new values of the fields that changed on `obj` (empty if none did)."""
    state = sa.inspect(obj)
    out = []
    for name in fields:
        hist = state.attrs[name].history
        if hist.has_changes():
            out.extend(v for v in (*hist.deleted, *hist.added))
    return out


def _note_flush(session: Session, _ctx) -> None:
    clients: set = session.info.setdefault(_CLIENTS, set())
    orders: set = session.info.setdefault(_ORDERS, set())
    for obj in session.new:
        if isinstance(obj, Order):
            clients.add(obj.client_id)
        elif isinstance(obj, ServiceLine):
            orders.add(obj.order_id)
        elif isinstance(obj, Client):
            clients.add(obj.id)
    for obj in session.deleted:
        if isinstance(obj, Order):
            clients.add(obj.client_id)
        elif isinstance(obj, ServiceLine):
            orders.add(obj.order_id)
    for obj in session.dirty:
        if isinstance(obj, Order):
            if _changed(obj, _ORDER_FIELDS):
                clients.add(obj.client_id)
                clients.update(_changed(obj, ("client_id",)))
        elif isinstance(obj, ServiceLine):
            if _changed(obj, _LINE_FIELDS):
                orders.add(obj.order_id)
                orders.update(_changed(obj, ("order_id",)))
                orders.update(o.id for o in _changed(obj, ("order",)) if o is not None)


def _pending(session: Session) -> bool:
    return bool(session.info.get(_CLIENTS) or session.info.get(_ORDERS) or session.new or session.dirty)


def _apply(session: Session, *, flush: bool = True) -> None:
    """Flush, then recompute the rows of the clients noted since the last recompute (ONE statement)."""
    if flush:
        session.flush()
    clients = sorted(i for i in session.info.pop(_CLIENTS, ()) if i is not None)
    orders = sorted(i for i in session.info.pop(_ORDERS, ()) if i is not None)
    if clients or orders:  # the lines' clients found inside the same statement
        _refresh(session, clients, orders)


def settle(session: Session | None = None) -> None:
    """Write the noted rows now (they are written anyway before a read of the table and before COMMIT)."""
    session = session or db.session
    if _pending(session):
        _apply(session)


@contextmanager
def batched(session: Session | None = None) -> Iterator[None]:
    """Inside the block the flushes only note the touched clients; their rows are written once when it ends (or
    earlier, before a statement that reads the table): a service that flushes several times (place_order) costs
    one upsert instead of one per flush (issue 20). On an exception the marks stay for the rollback to drop."""
    session = session or db.session
    session.info[_BATCHED] = session.info.get(_BATCHED, 0) + 1
    try:
        yield
    finally:
        session.info[_BATCHED] -= 1
    if not session.info[_BATCHED] and _pending(session):
        _apply(session)


def _after_flush(session: Session, _ctx) -> None:
    if session.info.get(_BATCHED):
        return
    if session.info.get(_CLIENTS) or session.info.get(_ORDERS):
        _apply(session, flush=False)


def _before_commit(session: Session) -> None:
    if _pending(session):
        _apply(session)


def _before_read(state) -> None:
    """A statement that reads client_stats after a change in the same transaction sees the change: the noted rows
    are recomputed first (as autoflush does for the ORM). Nothing happens in a transaction that changed nothing."""
    session = state.session
    if not _pending(session) or not _reads_stats(state.statement):
        return
    _apply(session, flush=session.autoflush)


_READS: dict[int, tuple[object, bool]] = {}  # id(statement) -> (statement, reads client_stats): bounded memo


def _reads_stats(statement) -> bool:
    """Whether a statement mentions client_stats. Remembered per statement object (issue 20: walking the hot paths'
    statements, built once, on every execution inside a write cost ~0.5 ms per statement); the memo holds the
    statement itself, so an id is never reused while remembered."""
    hit = _READS.get(id(statement))
    if hit is not None and hit[0] is statement:
        return hit[1]
    found = ClientStats.__table__ in find_tables(statement, include_aliases=True)
    if len(_READS) >= 512:
        _READS.clear()
    _READS[id(statement)] = (statement, found)
    return found


def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended (committed or rolled back)
        session.info.pop(_CLIENTS, None)
        session.info.pop(_ORDERS, None)


def install(session_target=Session) -> None:
    """Connect the session events (once; called by create_app)."""
    if not event.contains(session_target, "after_flush", _note_flush):
        event.listen(session_target, "after_flush", _note_flush)
        event.listen(session_target, "before_commit", _before_commit)
        event.listen(session_target, "do_orm_execute", _before_read)
        event.listen(session_target, "after_flush_postexec", _after_flush)
        event.listen(session_target, "after_transaction_end", _forget)


# --- nightly full recompute ------------------------------------------------------------------------------------


def write_all(today: date | None = None, session: Session | None = None) -> int:
    """Every row written from scratch in one statement, without the comparison (data loads: bench/generate.py)."""
    session = session or db.session
    return _upsert(session, recompute_select(today or clock.today()))


def recompute_all(today: date | None = None, session: Session | None = None) -> dict[str, int]:
    """Recompute every row set-based and report how the table compared before writing: `differed` rows whose stored
    figures were wrong although the row claimed to be exact (should be 0: any other number is a bug or a write
    outside the application), `aged` rows past their `next_visit` (normal: days went by), `missing` clients without
    a row, `orphans` rows without a client; `written` rows inserted or updated."""
    session = session or db.session
    today = today or clock.today()
    fresh = recompute_select(today).subquery("fresh")
    cs = ClientStats.__table__
    exact = sa.and_(cs.c.as_of <= today, sa.or_(cs.c.next_visit.is_(None), cs.c.next_visit > today))
    differs = sa.or_(*(cs.c[c].is_distinct_from(fresh.c[c]) for c in FIGURES if c != "next_visit"))
    row = session.execute(
        sa.select(
            sa.func.count().filter(sa.and_(exact, differs)),
            sa.func.count().filter(sa.not_(exact)),
        ).select_from(cs.join(fresh, fresh.c.client_id == cs.c.client_id))
    ).one()
    missing = session.execute(
        sa.select(sa.func.count()).select_from(Client).where(~sa.exists().where(cs.c.client_id == Client.id))
    ).scalar_one()
    orphans = session.execute(sa.delete(cs).where(~sa.exists().where(Client.id == cs.c.client_id))).rowcount
    written = _upsert(session, recompute_select(today), only_changed=True)
    report = {"differed": row[0], "aged": row[1], "missing": missing, "orphans": orphans, "written": written}
    (log.warning if report["differed"] or report["missing"] or orphans else log.info)(
        "client_stats recomputed: %s", report
    )
    return report
