"""The automations in the ONE job list (communications.md §9): local-time schedules, coalesce, one instance, misfire
grace; a job run through the scheduler's unit of work commits once and is idempotent."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from app.core.clock import LOCAL_TZ
from app.scheduler import build_scheduler, job_list, run_job

SCHEDULES = {
    "booking_reminders": (datetime(2026, 3, 2, 10, 5), datetime(2026, 3, 2, 11, 0), 300),
    "reactivation": (datetime(2026, 3, 2, 9, 30), datetime(2026, 3, 3, 9, 0), 6 * 3600),
    "birthday_messages": (datetime(2026, 3, 2, 9, 30), datetime(2026, 3, 2, 10, 0), 6 * 3600),
    "satisfaction_surveys": (datetime(2026, 3, 2, 11, 0, 1), datetime(2026, 3, 3, 11, 0), 6 * 3600),
    "vip_newsletter": (datetime(2026, 3, 2, 9, 0), datetime(2026, 4, 1, 9, 0), 6 * 3600),
    "manager_report": (datetime(2026, 3, 2, 21, 0, 1), datetime(2026, 3, 3, 21, 0), 6 * 3600),
}


@pytest.mark.parametrize("job_id", sorted(SCHEDULES))
def test_automation_jobs_are_scheduled_in_local_time(app, job_id):
    after, expected, grace = SCHEDULES[job_id]
    scheduler = build_scheduler(app)
    job = scheduler.get_job(job_id)
    assert job.coalesce and job.max_instances == 1 and job.misfire_grace_time == grace
    fire = job.trigger.get_next_fire_time(None, after.replace(tzinfo=LOCAL_TZ))
    assert fire == expected.replace(tzinfo=LOCAL_TZ)


def test_daily_job_fires_at_local_nine_across_dst(app):
    """Sunday 05/04/2026 (UTC-4 after the change) still at 09:00 local, i.e. 13:00 UTC instead of 12:00."""
    job = build_scheduler(app).get_job("reactivation")
    fire = job.trigger.get_next_fire_time(None, datetime(2026, 4, 4, 10, 0, tzinfo=LOCAL_TZ))
    assert fire.astimezone(LOCAL_TZ).hour == 9 and fire.utcoffset().total_seconds() == -4 * 3600


def test_reminder_job_runs_in_a_unit_of_work_and_twice_sends_once(
    app, db_session, freeze_clock, make_client, make_service
):
    from app.comms.models import CommunicationLog
    from app.sales.models import Order, ServiceLine

    freeze_clock(datetime(2026, 3, 2, 10, 0, tzinfo=LOCAL_TZ))
    client, service = make_client(), make_service()
    order = Order(client_id=client.id, origin="recepcion", created_at=datetime(2026, 2, 1, tzinfo=LOCAL_TZ))
    db_session.add(order)
    db_session.flush()
    db_session.add(
        ServiceLine(
            order_id=order.id,
            service_id=service.id,
            service_date=date(2026, 3, 2),
            start_time="17:00",
            people=1,
            unit_price=1,
            pricing_rule="por_persona",
            subtotal=1,
        )
    )
    db_session.commit()
    job = {j.id: j for j in job_list()}["booking_reminders"]
    assert run_job(app, job) == "2 recordatorios en cola"
    assert run_job(app, job) == "0 recordatorios en cola"
    count = db_session.scalar(
        sa.select(sa.func.count()).select_from(CommunicationLog).where(CommunicationLog.order_id == order.id)
    )
    assert count == 2
