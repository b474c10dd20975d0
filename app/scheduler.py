"""APScheduler wiring: the ONE list of jobs, a leader lock, and a unit of work around each run.

Started by `flask scheduler run` or by the web process when SCHEDULER_ENABLED=true (never by create_app, never by
another `flask` command: should_start_in_process).
On PostgreSQL only the process holding the advisory lock runs jobs; on SQLite there is one process.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask

from app.extensions import db

log = logging.getLogger(__name__)
LEADER_LOCK_KEY = 4242001  # pg_try_advisory_lock key shared by every scheduler process (communications.md §9)
HEARTBEAT_FILE = os.environ.get("SCHEDULER_HEARTBEAT_FILE", "/tmp/scheduler-heartbeat")
TICK_SECONDS = float(os.environ.get("SCHEDULER_TICK_SECONDS", "30"))  # lock retry and heartbeat period


@dataclass(frozen=True)
class Job:
    id: str
    func: Callable[[], str]
    trigger: str
    trigger_args: dict
    misfire_grace_time: int = 300  # seconds; DAILY_GRACE for daily/monthly jobs (communications.md §9)


DAILY_GRACE = 6 * 3600  # a 09:30 restart still runs the 09:00 job


def job_list() -> list[Job]:
    from app.ai.jobs import purge_ai_logs
    from app.api.idempotency import purge_idempotency_records
    from app.automations import jobs as automation_jobs
    from app.comms import jobs as comms_jobs
    from app.crm.jobs import campaign_scheduler
    from app.reports.manager_report import manager_report
    from app.sales.jobs import expire_cart_holds, expire_unpaid_orders, recompute_client_stats
    from app.waitlist.jobs import expire_waitlist
    from app.web.submissions import purge_form_submissions
    from app.webhooks.dispatch_services import dispatch_webhooks

    return [
        Job("expire_cart_holds", expire_cart_holds, "interval", {"minutes": 1}),
        Job("expire_unpaid_orders", expire_unpaid_orders, "interval", {"minutes": 5}),
        Job("expire_waitlist", expire_waitlist, "interval", {"minutes": 1}),
        Job("dispatch_outbox", comms_jobs.dispatch_outbox, "interval", {"minutes": 1}),
        Job("poll_sms_status", comms_jobs.poll_sms_status, "interval", {"minutes": 15}),
        Job("poll_sms_replies", comms_jobs.poll_sms_replies, "interval", {"minutes": 15}),
        Job("booking_reminders", automation_jobs.booking_reminders, "cron", {"minute": 0}),
        Job("reactivation", automation_jobs.reactivation, "cron", {"hour": 9, "minute": 0}, DAILY_GRACE),
        Job("birthday_messages", automation_jobs.birthday_messages, "cron", {"hour": 10, "minute": 0}, DAILY_GRACE),
        Job(
            "satisfaction_surveys", automation_jobs.satisfaction_surveys, "cron", {"hour": 11, "minute": 0}, DAILY_GRACE
        ),
        Job("vip_newsletter", automation_jobs.vip_newsletter, "cron", {"day": 1, "hour": 9, "minute": 0}, DAILY_GRACE),
        Job("manager_report", manager_report, "cron", {"hour": 21, "minute": 0}, DAILY_GRACE),
        Job("campaign_scheduler", campaign_scheduler, "interval", {"minutes": 1}),
        Job("purge_idempotency_records", purge_idempotency_records, "interval", {"hours": 1}),
        Job("purge_form_submissions", purge_form_submissions, "interval", {"hours": 1}),
        Job("dispatch_webhooks", dispatch_webhooks, "interval", {"minutes": 1}),
        Job("purge_ai_logs", purge_ai_logs, "cron", {"hour": 3, "minute": 30}, DAILY_GRACE),
        # the client_stats table recomputed and proven equal, after the day changed (issue 20 item 4)
        Job("recompute_client_stats", recompute_client_stats, "cron", {"hour": 0, "minute": 5}, DAILY_GRACE),
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
    """Holds a session-level PostgreSQL advisory lock on a dedicated connection (no-op on SQLite).

    `acquire()` is called before every job and every tick of `flask scheduler run`: the holder checks that its
    connection is alive, the others try the lock again, so another process takes over if the holder dies. A lost
    connection means the lock is lost too (the server released it): the process steps down and retries later.
    """

    def __init__(self, app: Flask):
        self.app = app
        self.conn = None
        self.held = False
        self._mutex = threading.Lock()  # job threads and the main loop share the one connection

    def acquire(self) -> bool:
        with self._mutex, self.app.app_context():
            engine = db.engine
            if engine.dialect.name != "postgresql":
                return True
            was_held = self.held
            try:
                if self.conn is None:
                    self.conn = engine.connect()
                if self.held:
                    self.conn.execute(sa.text("SELECT 1"))
                else:
                    self.held = bool(
                        self.conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": LEADER_LOCK_KEY}).scalar()
                    )
                self.conn.commit()
            except sa.exc.DBAPIError:
                log.warning("scheduler: conexión del bloqueo de líder perdida; se reintentará")
                self._close()
            if self.held != was_held:
                log.info(
                    "scheduler: %s",
                    "este proceso es el líder y ejecuta las tareas"
                    if self.held
                    else "este proceso dejó de ser el líder",
                )
            return self.held

    def release(self) -> None:
        with self._mutex:
            self._close()

    def _close(self) -> None:
        if self.conn is not None:
            try:  # invalidate: the DBAPI connection is closed, not returned to the pool still holding the lock
                self.conn.invalidate()
                self.conn.close()
            except sa.exc.DBAPIError:
                pass
        self.conn = None
        self.held = False


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
        scheduler.add_job(
            guarded(job),
            job.trigger,
            id=job.id,
            name=job.id,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=job.misfire_grace_time,
            replace_existing=True,
            **job.trigger_args,
        )
    return scheduler


def _heartbeat() -> None:
    try:
        with open(HEARTBEAT_FILE, "w") as fh:
            fh.write(str(int(time.time())))
    except OSError:
        pass


def should_start_in_process(app: Flask) -> bool:
    """SCHEDULER_ENABLED and this process is a server: `flask run` (the `make run` demo) or a WSGI server importing
    wsgi.py. Never inside another `flask` command (seed-demo, db upgrade, run-job, a long import…), which would run
    the jobs while the command works, nor in `flask scheduler run`, which runs its own."""
    if not app.config.get("SCHEDULER_ENABLED"):
        return False
    import click
    from flask.cli import run_command

    ctx = click.get_current_context(silent=True)
    return ctx is None or ctx.command is run_command


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
        leader = Leader(app)
        scheduler = build_scheduler(app, leader)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # docker stop / pod deletion: finish running jobs
        scheduler.start()
        click.echo(f"Scheduler iniciado con {len(scheduler.get_jobs())} tareas.")
        if not leader.acquire():
            log.info("scheduler en espera: otro proceso tiene el bloqueo de líder")
        try:
            while True:
                _heartbeat()
                time.sleep(TICK_SECONDS)
                leader.acquire()
        except (KeyboardInterrupt, SystemExit):
            scheduler.shutdown()
            leader.release()

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
