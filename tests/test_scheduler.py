from datetime import datetime, timedelta

from app.core.clock import LOCAL_TZ
from app.scheduler import job_list, run_job


def test_job_list_has_explicit_ids_and_schedules():
    jobs = {j.id: j for j in job_list()}
    assert jobs["expire_cart_holds"].trigger_args == {"minutes": 1}
    assert jobs["expire_unpaid_orders"].trigger_args == {"minutes": 5}


def test_run_job_cli_runs_and_commits(app, db_session, booking_setup, freeze_clock):
    from app.sales import cart_services
    from app.sales import services as sales_services

    cart = cart_services.create_cart()
    hold = cart_services.hold_slot(
        cart,
        sales_services.LineRequest(
            service_id=booking_setup["calipso"].id, day=datetime(2026, 3, 2).date(), hhmm="14:00", people=1
        ),
    )
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


# --- where the scheduler starts (only `make run`'s server and `flask scheduler run`) --------------------------------


def test_should_start_in_process_only_in_a_server(app, monkeypatch):
    import click
    from flask.cli import run_command

    from app.scheduler import should_start_in_process

    monkeypatch.setitem(app.config, "SCHEDULER_ENABLED", True)
    assert should_start_in_process(app)  # no click context: gunicorn importing wsgi.py
    with click.Context(run_command):
        assert should_start_in_process(app)  # `flask run` (make run)
    with click.Context(click.Command("seed-demo")):
        assert not should_start_in_process(app)  # any other flask command
    monkeypatch.setitem(app.config, "SCHEDULER_ENABLED", False)
    with click.Context(run_command):
        assert not should_start_in_process(app)


def _dev_env(tmp_path):
    import os
    import sys
    from pathlib import Path

    return {
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "APP_ENV": "development",
        "FLASK_APP": "wsgi.py",
        "SCHEDULER_ENABLED": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "SCHEDULER_HEARTBEAT_FILE": str(tmp_path / "heartbeat"),
        "LOG_LEVEL": "INFO",
    }


def test_a_flask_command_in_development_does_not_start_the_scheduler(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [str(Path(sys.executable).parent / "flask"), "scheduler", "list"],
        cwd=root,
        env=_dev_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "expire_cart_holds" in out.stdout
    assert "scheduler started in-process" not in out.stdout + out.stderr


def test_flask_run_of_make_run_starts_the_scheduler(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    log = tmp_path / "run.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "flask"), "run", "--host", "127.0.0.1", "--port", "5123", "--no-reload"],
            cwd=root,
            env=_dev_env(tmp_path),
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and "scheduler started in-process" not in log.read_text():
                assert proc.poll() is None, log.read_text()
                time.sleep(0.2)
            assert "scheduler started in-process with" in log.read_text()
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)


# --- SQLite demo: WAL + busy timeout (no "database is locked" between the scheduler and the requests) --------------


def test_sqlite_file_connections_use_wal_and_a_busy_timeout(tmp_path):
    import sqlalchemy as sa

    from app.extensions import SQLITE_BUSY_TIMEOUT_MS

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS
    finally:
        engine.dispose()


def test_sqlite_a_writer_commits_while_another_connection_holds_a_read_transaction(tmp_path):
    """The in-process scheduler writes while a request reads (and the other way round). In the old rollback
    journal the writer waited for the reader and failed with "database is locked"."""
    import threading
    import time

    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'busy.db'}", connect_args={"timeout": 1})
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
            conn.exec_driver_sql("INSERT INTO t (v) VALUES (1)")
        reading, written = threading.Event(), threading.Event()
        seen = []

        def reader():
            with engine.begin() as conn:  # a long request: read transaction open while the job writes
                seen.append(conn.exec_driver_sql("SELECT count(*) FROM t").scalar())
                reading.set()
                written.wait(timeout=8)

        thread = threading.Thread(target=reader)
        thread.start()
        assert reading.wait(timeout=5)
        try:
            start = time.monotonic()
            with engine.begin() as conn:
                conn.exec_driver_sql("INSERT INTO t (v) VALUES (2)")  # commits now, not after the reader
            assert time.monotonic() - start < 2  # the rollback journal waited for the reader (8 s here)
        finally:
            written.set()
            thread.join(timeout=10)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 2
        assert seen == [1]
    finally:
        engine.dispose()
