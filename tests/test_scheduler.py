from datetime import datetime, timedelta

from app.core.clock import LOCAL_TZ
from app.scheduler import job_list, run_job


def test_job_list_has_explicit_ids_and_schedules():
    jobs = {j.id: j for j in job_list()}
    assert jobs["expire_cart_holds"].trigger_args == {"minutes": 1}
    assert jobs["expire_unpaid_orders"].trigger_args == {"minutes": 5}


def test_run_job_cli_runs_and_commits(app, db_session, booking_setup, freeze_clock):
    from app.orders import services as booking

    cart = booking.create_cart()
    hold = booking.hold_slot(cart, booking.LineRequest(service_id=booking_setup["calipso"].id,
                                                       day=datetime(2026, 3, 2).date(), hhmm="14:00", people=1))
    db_session.commit()
    freeze_clock(datetime(2026, 3, 2, 10, 30, tzinfo=LOCAL_TZ))
    result = app.test_cli_runner().invoke(args=["run-job", "expire_cart_holds"])
    assert result.exit_code == 0 and "1 retenciones liberadas" in result.output
    db_session.refresh(hold)
    assert hold.released_at is not None
    unknown = app.test_cli_runner().invoke(args=["run-job", "nada"])
    assert unknown.exit_code != 0 and "Tarea desconocida" in unknown.output


def test_failing_job_is_rolled_back_and_logged(app, caplog):
    from app.scheduler import Job

    def boom():
        raise RuntimeError("falla")

    assert run_job(app, Job("boom", boom, "interval", {"minutes": 1})) is None
    assert "job boom failed" in caplog.text


def test_scheduler_builds_with_every_job(app):
    from app.scheduler import build_scheduler

    scheduler = build_scheduler(app)
    assert {j.id for j in scheduler.get_jobs()} == {j.id for j in job_list()}
    assert all(j.coalesce and j.max_instances == 1 for j in scheduler.get_jobs())
    assert timedelta(minutes=1) == scheduler.get_job("expire_cart_holds").trigger.interval
