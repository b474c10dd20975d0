"""APScheduler wiring: the ONE list of jobs, a leader lock, and a unit of work around each run.

Started by `flask scheduler run` or by the web process when SCHEDULER_ENABLED=true (never by create_app).
On PostgreSQL only the process holding the advisory lock runs jobs; on SQLite there is one process.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask

from app.extensions import db

log = logging.getLogger(__name__)
LEADER_LOCK_KEY = 4242001  # pg_advisory_lock key shared by every scheduler process (communications.md §9)
HEARTBEAT_FILE = os.environ.get("SCHEDULER_HEARTBEAT_FILE", "/tmp/scheduler-heartbeat")


@dataclass(frozen=True)
class Job:
    id: str
    func: Callable[[], str]
    trigger: str
    trigger_args: dict


def job_list() -> list[Job]:
    from app.orders.jobs import expire_cart_holds
    from app.payments.jobs import expire_unpaid_orders
    from app.webhooks.dispatcher import dispatch_webhooks

    return [
        Job("expire_cart_holds", expire_cart_holds, "interval", {"minutes": 1}),
        Job("expire_unpaid_orders", expire_unpaid_orders, "interval", {"minutes": 5}),
        Job("dispatch_webhooks", dispatch_webhooks, "interval", {"minutes": 1}),
    ]


def run_job(app: Flask, job: Job) -> str | None:
    """One unit of work: app context, commit or rollback, session removed, failure logged."""
    with app.app_context():
        try:
            result = job.func()
            db.session.commit()
            log.info("job %s: %s", job.id, result)
            return result
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", job.id)
            return None
        finally:
            db.session.remove()


class Leader:
    """Holds a session-level PostgreSQL advisory lock on a dedicated connection (no-op on SQLite)."""

    def __init__(self, app: Flask):
        self.app = app
        self.conn = None

    def acquire(self) -> bool:
        with self.app.app_context():
            engine = db.engine
            if engine.dialect.name != "postgresql":
                return True
            if self.conn is None:
                self.conn = engine.connect()
            got = self.conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": LEADER_LOCK_KEY}).scalar()
            self.conn.commit()
            return bool(got)

    def release(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def build_scheduler(app: Flask, leader: Leader | None = None):
    from apscheduler.schedulers.background import BackgroundScheduler

    leader = leader or Leader(app)
    scheduler = BackgroundScheduler(timezone="America/Santiago")

    def guarded(job: Job):
        def run():
            if not leader.acquire():
                return
            run_job(app, job)
            _heartbeat()
        return run

    for job in job_list():
        scheduler.add_job(guarded(job), job.trigger, id=job.id, coalesce=True, max_instances=1,
                          replace_existing=True, **job.trigger_args)
    return scheduler


def _heartbeat() -> None:
    try:
        with open(HEARTBEAT_FILE, "w") as fh:
            fh.write(str(int(time.time())))
    except OSError:
        pass


def start_in_process(app: Flask):
    """For the single-process demo (`make run`): a background scheduler inside the web process."""
    scheduler = build_scheduler(app)
    scheduler.start()
    log.info("scheduler started in-process with %d jobs", len(scheduler.get_jobs()))
    return scheduler


def register_scheduler_cli(app: Flask) -> None:
    import click

    group = click.Group("scheduler", help="Tareas programadas.")

    @group.command("run")
    def run_cmd():
        """Run the scheduler in the foreground (one per deployment; the advisory lock guards against two)."""
        scheduler = build_scheduler(app)
        scheduler.start()
        click.echo(f"Scheduler iniciado con {len(scheduler.get_jobs())} tareas.")
        try:
            while True:
                _heartbeat()
                time.sleep(30)
        except (KeyboardInterrupt, SystemExit):
            scheduler.shutdown()

    @group.command("list")
    def list_cmd():
        for job in job_list():
            click.echo(f"{job.id}: {job.trigger} {job.trigger_args}")

    app.cli.add_command(group)

    @app.cli.command("run-job")
    @click.argument("job_id")
    def run_job_cmd(job_id):
        """Run one job now, in this process."""
        jobs = {j.id: j for j in job_list()}
        if job_id not in jobs:
            raise click.ClickException(f"Tarea desconocida: {job_id}. Disponibles: {', '.join(jobs)}")
        result = run_job(app, jobs[job_id])
        if result is None:
            raise click.ClickException("La tarea falló; revise el registro.")
        click.echo(result)
