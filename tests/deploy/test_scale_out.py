"""Scale-out correctness with real processes (spec deployment.md §5–6, communications.md §9): two gunicorn web
processes started by the container entry point on one database, and two `flask scheduler run` processes on one
PostgreSQL database.

- Sessions, CSRF tokens and signed links made by one web process are accepted by the other (one SECRET_KEY, no
  server-side state).
- With RATELIMIT_STORAGE_URI=redis://… (Redis on 127.0.0.1:6379) a limit counts requests of both processes;
  the negative control (memory://) lets each process count alone.
- Only the holder of the advisory lock runs jobs; when it dies the other takes over.

Web processes use the test database kind (a throwaway SQLite file, or a throwaway PostgreSQL database when
TEST_DATABASE_URL is set); the scheduler test needs PostgreSQL and creates a throwaway database on
TEST_DATABASE_URL's server, else on 127.0.0.1:5432.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from tests.conftest import fresh_database, migrate_to_head
from tests.deploy.test_entrypoint import ENTRYPOINT, ROOT

REDIS_URI = "redis://127.0.0.1:6379/0"
DEMO_PASSWORD = "clave-demo-escala-123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(database_url: str, tmp: Path, **extra) -> dict:
    env = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        "HOME": str(tmp),
        "FLASK_APP": "wsgi.py",
        "APP_ENV": "production",
        "SECRET_KEY": "escala-" + uuid.uuid4().hex,
        "DATABASE_URL": database_url,
        "DEMO_PASSWORD": DEMO_PASSWORD,
        "FLOW_MODE": "fake",
        "SMS_BACKEND": "console",
        "EMAIL_BACKEND": "console",
        "ALLOW_FAKE_BACKENDS_IN_PRODUCTION": "1",
        "SESSION_COOKIE_SECURE": "false",
        "ALLOW_INSECURE_COOKIES_IN_PRODUCTION": "1",
        "MEDIA_ROOT": str(tmp / "media"),
        "IMPORT_DIR": str(tmp / "imports"),
        "PROXY_FIX_X_FOR": "1",
        "LOG_LEVEL": "INFO",
        "DB_POOL_SIZE": "2",
        "DB_MAX_OVERFLOW": "2",
    }
    env.update(extra)
    return env


def entrypoint(*args, env, timeout=180):
    out = subprocess.run(
        ["sh", str(ENTRYPOINT), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out


class Proc:
    """A process started by the entry point in its own process group, output captured to a file."""

    def __init__(self, args, env, log: Path):
        self.log = log
        self._fh = open(log, "w")
        self.popen = subprocess.Popen(
            ["sh", str(ENTRYPOINT), *args],
            cwd=ROOT,
            env=env,
            stdout=self._fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text()

    def stop(self, sig=signal.SIGTERM) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
        self._fh.close()


def wait_until(predicate, timeout=45.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Web(Proc):
    def __init__(self, env, log: Path, **extra):
        self.port = free_port()
        super().__init__(
            ["web"], {**env, "PORT": str(self.port), "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "2", **extra}, log
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def ready(self) -> bool:
        assert self.popen.poll() is None, self.output()
        try:
            body = requests.get(self.url + "/readyz", timeout=5).json()
            return body["status"] == "ok" and body["database"] == body["migrations"] == "ok"
        except requests.RequestException:  # not listening yet, or the worker is still booting
            return False


def start_pair(env, tmp: Path, name: str, **extra) -> list[Web]:
    """Two web processes started together; both answer /readyz before this returns."""
    procs = [Web(env, tmp / f"{name}-{i}.log", **extra) for i in (1, 2)]
    try:
        wait_until(lambda: all(p.ready() for p in procs), timeout=90, what=f"two web processes ({name})")
    except BaseException:
        for p in procs:
            p.stop()
        raise
    return procs


def migrated_and_seeded_by_the_entrypoint(url: str) -> None:
    """Fill of the session template shared by the web stacks here and in test_proxy.py: the entry point's
    `migrate` then `seed-demo` (run once per session, then copied for each stack)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = base_env(url, Path(tmp))
        entrypoint("migrate", env=env)
        entrypoint("seed-demo", env=env)


@pytest.fixture(scope="module")
def stack(tmp_path_factory, database_templates):
    """Migrated and seeded database (entry point `migrate`, `seed-demo`) shared by two web processes on Redis."""
    tmp = tmp_path_factory.mktemp("scale")
    with fresh_database(tmp, template=database_templates.get(migrated_and_seeded_by_the_entrypoint)) as url:
        env = base_env(url, tmp, LOG_FORMAT="json")
        pair = start_pair(env, tmp, "redis", RATELIMIT_STORAGE_URI=REDIS_URI)
        try:
            yield {"env": env, "tmp": tmp, "url": url, "web": pair}
        finally:
            for p in pair:
                p.stop()
            sa.create_engine(url).dispose()


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, html[:500]
    return match.group(1)


def test_session_csrf_and_signed_links_made_by_one_process_work_on_the_other(stack):
    a, b = stack["web"]
    browser = requests.Session()  # cookies for 127.0.0.1 go to both ports, like a browser behind one balancer
    token = csrf_token(browser.get(a.url + "/accounts/login/", timeout=10).text)
    login = browser.post(
        b.url + "/accounts/login/",
        data={"csrf_token": token, "username": "gerente", "password": DEMO_PASSWORD},
        allow_redirects=False,
        timeout=10,
    )
    assert login.status_code == 302, login.text[:500]  # B accepted A's session and CSRF token

    engine = sa.create_engine(stack["url"])
    with engine.connect() as conn:
        order_id = conn.execute(sa.text("SELECT min(id) FROM orders")).scalar()
    engine.dispose()
    detail = browser.get(f"{a.url}/ventas/venta_reservas/{order_id}/", allow_redirects=False, timeout=10)
    assert detail.status_code == 200  # the session made on B is valid on A
    public = re.search(r"(/ventas/reserva/[A-Za-z0-9_.-]+/)", detail.text).group(1)

    anonymous = requests.Session()
    for proc in (a, b):
        page = anonymous.get(proc.url + public, timeout=10)
        assert page.status_code == 200 and f"#{order_id}" in page.text
        tampered = anonymous.get(proc.url + public.rstrip("/") + "x/", timeout=10)
        assert tampered.status_code == 404
    assert anonymous.get(b.url + "/ventas/venta_reservas/", allow_redirects=False, timeout=10).status_code == 302
    app_lines = [line for line in a.output().splitlines() if line.startswith("{")]
    assert app_lines and all(json.loads(line)["level"] for line in app_lines)  # LOG_FORMAT=json: real JSON
    assert stack["env"]["SECRET_KEY"] not in a.output() + b.output()


def failed_logins(procs, attempts: int, ip: str) -> list[int]:
    """Wrong-password logins for one username from one client address, round robin over the processes."""
    browser = requests.Session()
    token = csrf_token(browser.get(procs[0].url + "/accounts/login/", timeout=10).text)
    codes = []
    for i in range(attempts):
        response = browser.post(
            procs[i % len(procs)].url + "/accounts/login/",
            data={"csrf_token": token, "username": "recepcion", "password": "equivocada"},
            headers={"X-Forwarded-For": ip},
            allow_redirects=False,
            timeout=10,
        )
        codes.append(response.status_code)
    return codes


def test_rate_limits_are_shared_by_every_process_through_redis(stack):
    ip = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    # login: 5 failed attempts per 15 minutes per user and address (spec README §7)
    assert failed_logins(stack["web"], 7, ip) == [422] * 5 + [429, 429]


def test_negative_control_memory_storage_counts_per_process(stack):
    pair = start_pair(stack["env"], stack["tmp"], "memory", RATELIMIT_STORAGE_URI="memory://")
    try:
        # each process sees only its own attempts: twice the limit goes through before either refuses
        assert failed_logins(pair, 11, "10.250.250.250") == [422] * 10 + [429]
    finally:
        for p in pair:
            p.stop()


def postgres_admin_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    return url if url.startswith("postgresql") else "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def pg_database(tmp_path, database_templates):
    """A throwaway PostgreSQL database, migrated (the leader lock is a PostgreSQL advisory lock): a copy of the
    session's migrated template (the entry point's `migrate` is covered by the web stack and test_entrypoint.py)."""
    admin_url = sa.make_url(postgres_admin_url())
    template = database_templates.get(migrate_to_head, base=admin_url.render_as_string(hide_password=False))
    name = f"aremko_sched_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# fires every job once and waits until each one has run (or was refused the leader lock), not a fixed time
RUN_EVERY_JOB_NOW = """
import threading
from datetime import datetime, timezone
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from app import create_app
from app.scheduler import build_scheduler, Leader
app = create_app()
scheduler = build_scheduler(app, Leader(app))
ids, done, finished = {job.id for job in scheduler.get_jobs()}, set(), threading.Event()
def ran(event):
    done.add(event.job_id)
    if done >= ids:
        finished.set()
scheduler.add_listener(ran, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
scheduler.start()
for job in scheduler.get_jobs():
    job.modify(next_run_time=datetime.now(timezone.utc))
assert finished.wait(60), sorted(ids - done)
scheduler.shutdown()
"""


def run_every_job_now(env) -> str:
    out = subprocess.run(
        [sys.executable, "-c", RUN_EVERY_JOB_NOW], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return out.stdout + out.stderr


def lock_holders(url: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        n = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 "
                "AND objid = 4242001 AND granted AND database = (SELECT oid FROM pg_database "
                "WHERE datname = current_database())"
            )
        ).scalar()
    engine.dispose()
    return n


def test_two_schedulers_only_the_lock_holder_runs_jobs_and_the_other_takes_over(pg_database, tmp_path):
    from app.scheduler import LEADER_LOCK_KEY

    assert LEADER_LOCK_KEY == 4242001
    env = base_env(pg_database, tmp_path)
    leader_text = "este proceso es el líder"
    schedulers = [
        Proc(
            ["scheduler"],
            {**env, "SCHEDULER_TICK_SECONDS": "1", "SCHEDULER_HEARTBEAT_FILE": str(tmp_path / f"heartbeat-{i}")},
            tmp_path / f"scheduler-{i}.log",
        )
        for i in (1, 2)
    ]
    try:
        wait_until(lambda: all("Scheduler iniciado" in s.output() for s in schedulers), what="both schedulers")
        wait_until(lambda: sum(leader_text in s.output() for s in schedulers) == 1, what="one leader")
        time.sleep(2)  # a few more ticks: still exactly one leader
        assert sum(leader_text in s.output() for s in schedulers) == 1
        assert lock_holders(pg_database) == 1
        leader = next(s for s in schedulers if leader_text in s.output())
        standby = next(s for s in schedulers if s is not leader)
        assert "en espera" in standby.output()
        for i in (1, 2):  # both alive: each writes its heartbeat every tick
            assert time.time() - (tmp_path / f"heartbeat-{i}").stat().st_mtime < 10

        # a third process fires every job at once while the leader holds the lock: it runs none of them
        assert "job expire_cart_holds" not in run_every_job_now(env)

        leader.stop(signal.SIGKILL)  # the holder dies: PostgreSQL releases its lock, the standby takes over
        wait_until(lambda: leader_text in standby.output(), timeout=30, what="takeover")
        assert lock_holders(pg_database) == 1
        standby.stop()  # SIGTERM: clean shutdown releases the lock
        wait_until(lambda: lock_holders(pg_database) == 0, timeout=15, what="lock released")
    finally:
        for s in schedulers:
            s.stop()
    # positive control: with no other scheduler left, the same process runs every job
    output = run_every_job_now(env)
    assert "job expire_cart_holds:" in output and "job expire_unpaid_orders:" in output
