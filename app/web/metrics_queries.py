"""The gauges read from the database at scrape time (app/web/metrics.py): work done by other processes.

Table names only (no model imports: app.web sits below the domain packages). On PostgreSQL the scheduler's leader is
the backend holding its advisory lock (app/scheduler.py LEADER_LOCK_KEY) and its heartbeat is that connection's last
query (the leader checks it every tick, 30 s); elsewhere (the SQLite demo) the heartbeat file stands in.
"""

from __future__ import annotations

import logging
import os

import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily

from app.core.clock import now
from app.core.db import UTCDateTime
from app.extensions import db

log = logging.getLogger(__name__)
LEADER_LOCK_KEY = 4242001  # app/scheduler.py (a wiring module this layer may not import)
HEARTBEAT_FRESH_SECONDS = 180

_outbox = sa.table("communication_logs", sa.column("status"), sa.column("not_before", UTCDateTime()))
_deliveries = sa.table("webhook_deliveries", sa.column("status"), sa.column("next_attempt_at", UTCDateTime()))
_holds = sa.table("cart_holds", sa.column("expires_at", UTCDateTime()))


def _by_status(table) -> dict[str, int]:
    rows = db.session.execute(sa.select(table.c.status, sa.func.count()).group_by(table.c.status))
    return {status: count for status, count in rows}


def _scheduler_pg() -> tuple[int, float | None]:
    row = db.session.execute(
        sa.text(
            "SELECT count(*), extract(epoch FROM max(a.state_change)) FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
            "AND l.classid = 0 AND l.objid = :key AND l.objsubid = 1 AND l.database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
        {"key": LEADER_LOCK_KEY},
    ).one()
    return (1 if row[0] else 0), (float(row[1]) if row[1] is not None else None)


def _scheduler_file() -> tuple[int, float | None]:
    try:
        mtime = os.path.getmtime(os.environ.get("SCHEDULER_HEARTBEAT_FILE", "/tmp/scheduler-heartbeat"))
    except OSError:
        return 0, None
    return (1 if now().timestamp() - mtime < HEARTBEAT_FRESH_SECONDS else 0), mtime


class DatabaseCollector:
    """Collected once per scrape, in the request's app context; a database error gives `aremko_database_up 0`."""

    def collect(self):
        up = GaugeMetricFamily("aremko_database_up", "1 when the metrics queries reached the database")
        try:
            families = list(self._families())
        except sa.exc.SQLAlchemyError:
            db.session.rollback()
            log.warning("metrics: la base de datos no respondió")
            up.add_metric([], 0)
            yield up
            return
        finally:
            db.session.rollback()  # read-only; ends the transaction
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self):
        at = now()
        outbox = GaugeMetricFamily("aremko_outbox_messages", "Outbox messages by status", labels=["status"])
        for status, count in sorted(_by_status(_outbox).items()):
            outbox.add_metric([status], count)
        yield outbox
        backlog = db.session.execute(
            sa.select(sa.func.count(), sa.func.min(_outbox.c.not_before)).where(
                _outbox.c.status == "PENDING", _outbox.c.not_before <= at
            )
        ).one()
        yield GaugeMetricFamily("aremko_outbox_backlog", "Outbox messages due and not yet sent", value=backlog[0])
        yield GaugeMetricFamily(
            "aremko_outbox_oldest_due_age_seconds",
            "Age of the oldest due outbox message (0 when none)",
            value=(at - backlog[1]).total_seconds() if backlog[1] else 0,
        )
        deliveries = GaugeMetricFamily("aremko_webhook_deliveries", "Webhook deliveries by status", labels=["status"])
        for status, count in sorted(_by_status(_deliveries).items()):
            deliveries.add_metric([status], count)
        yield deliveries
        due = db.session.execute(
            sa.select(sa.func.count()).where(_deliveries.c.status == "PENDING", _deliveries.c.next_attempt_at <= at)
        ).scalar_one()
        yield GaugeMetricFamily("aremko_webhook_backlog", "Webhook deliveries due and not yet sent", value=due)
        active = db.session.execute(sa.select(sa.func.count()).where(_holds.c.expires_at > at)).scalar_one()
        yield GaugeMetricFamily(
            "aremko_cart_holds_active", "Cart holds (slots held in carts) not expired", value=active
        )
        leader, heartbeat = _scheduler_pg() if db.engine.dialect.name == "postgresql" else _scheduler_file()
        yield GaugeMetricFamily(
            "aremko_scheduler_leader", "1 when a scheduler process holds the leader lock", value=leader
        )
        if heartbeat is not None:
            yield GaugeMetricFamily(
                "aremko_scheduler_heartbeat_timestamp_seconds",
                "Unix time of the scheduler leader's last heartbeat",
                value=heartbeat,
            )
