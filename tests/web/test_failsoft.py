"""Dependencies fail soft (security review M1, L6).

With the rate-limit Redis down (a closed port) or stalled (a local TCP server that accepts and never answers),
login, the token API and add-to-cart still answer 2xx/4xx within a bound, never a 500 nor a hang; limits fall back
to memory with a log line; /readyz answers 503 naming `redis`. /readyz also answers 503 on an empty database and on
one a revision behind the migration head; /healthz stays a liveness check.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time

import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import limiter
from tests.conftest import PASSWORD, fresh_database, make_test_config

BOUND = 5.0  # seconds per request (password hashing on a busy machine included); the stalled Redis costs one
# socket timeout (0.3 s) before the fallback, where the old code hung for as long as Redis stayed stalled


@contextlib.contextmanager
def stalled_server():
    """Accepts connections on 127.0.0.1 and never answers (at most 64 connections, closed on exit)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.2)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def loop():
        while not stop.is_set() and len(accepted) < 64:
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
        server.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def redis_app(port: int):
    uri = f"redis://127.0.0.1:{port}/0"
    application = create_app(
        make_test_config(
            RATELIMIT_ENABLED=True,
            RATELIMIT_STORAGE_URI=uri,
            RATELIMIT_STORAGE_OPTIONS={"socket_timeout": 0.3, "socket_connect_timeout": 0.3},
        )
    )
    try:
        yield application
    finally:  # the Limiter is a singleton: back to memory storage, limits off, storage marked alive
        create_app(make_test_config())
        limiter.enabled = False
        limiter._storage_dead = False


@pytest.fixture(params=["closed", "stalled"])
def redis_down(request, db_session):
    if request.param == "closed":
        with redis_app(closed_port()) as application:
            yield application
    else:
        with stalled_server() as port, redis_app(port) as application:
            yield application


def timed(call):
    start = time.monotonic()
    response = call()
    elapsed = time.monotonic() - start
    assert elapsed < BOUND, f"{elapsed:.2f} s"
    return response


def test_login_api_and_checkout_keep_working_when_redis_is_down_or_stalled(
    redis_down, make_user, booking_setup, caplog
):
    from app.auth.services import create_api_token

    caplog.set_level(logging.WARNING)
    user = make_user("gerente", username="gerente_redis")
    _, raw_token = create_api_token(user, "redis", None)
    client = redis_down.test_client()

    wrong = timed(lambda: client.post("/accounts/login/", data={"username": "gerente_redis", "password": "mala"}))
    assert wrong.status_code == 422
    right = timed(lambda: client.post("/accounts/login/", data={"username": "gerente_redis", "password": PASSWORD}))
    assert right.status_code == 302
    api = redis_down.test_client()
    listed = timed(lambda: api.get("/ventas/api/clientes/", headers={"Authorization": f"Bearer {raw_token}"}))
    assert listed.status_code == 200
    anonymous = timed(lambda: api.get("/ventas/api/clientes/"))
    assert anonymous.status_code == 401
    added = timed(
        lambda: redis_down.test_client().post(
            "/ventas/add-to-cart/",
            data={
                "servicio_id": booking_setup["calipso"].id,
                "fecha": "2026-03-02",
                "hora": "14:00",
                "cantidad_personas": 1,
            },
        )
    )
    assert added.status_code == 303 and added.headers["Location"].endswith("/ventas/cart/"), added.text[:300]
    assert "falling back to in-memory storage" in caplog.text  # the log line when limits fall back

    ready = timed(lambda: api.get("/readyz"))
    assert ready.status_code == 503
    assert ready.get_json()["redis"] == "error" and ready.get_json()["failing"] == ["redis"]
    assert timed(lambda: api.get("/healthz")).get_json() == {"status": "ok"}


def test_limits_still_apply_from_memory_while_redis_is_down(db_session, make_user):
    make_user("recepcion", username="recepcion_redis")
    with redis_app(closed_port()) as application:
        client = application.test_client()
        codes = [
            client.post(
                "/accounts/login/",
                data={"username": "recepcion_redis", "password": "mala"},
                environ_base={"REMOTE_ADDR": "10.9.8.7"},
            ).status_code
            for _ in range(6)
        ]
    assert codes == [422] * 5 + [429]  # login: 5 failed attempts per 15 minutes (spec README §7)


def test_production_config_gives_redis_calls_a_short_socket_timeout(monkeypatch):
    from config import load_config

    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://redis:6379/0")
    cfg = load_config("development")
    assert cfg.RATELIMIT_SWALLOW_ERRORS is True and cfg.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED is True
    assert cfg.RATELIMIT_STORAGE_OPTIONS == {"socket_timeout": 0.3, "socket_connect_timeout": 0.3}
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    assert load_config("development").RATELIMIT_STORAGE_OPTIONS == {}


# --- readiness against the migration head (L6) ----------------------------------------------------------------------


@pytest.fixture
def readiness(tmp_path):
    """An app with the migration check on, against a brand-new empty database of the test kind."""
    with fresh_database(tmp_path) as url:
        application = create_app(make_test_config(SQLALCHEMY_DATABASE_URI=url, READYZ_CHECK_MIGRATIONS=True))
        engine = sa.create_engine(url)
        try:
            yield application, engine
        finally:
            engine.dispose()
            from app.extensions import db

            with application.app_context():
                db.engine.dispose()


def stamp(engine, revision: str | None) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL)"))
        conn.execute(sa.text("DELETE FROM alembic_version"))
        if revision:
            conn.execute(sa.text("INSERT INTO alembic_version (version_num) VALUES (:r)"), {"r": revision})


def test_readyz_is_not_ready_on_an_empty_or_outdated_database(readiness):
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    application, engine = readiness
    client = application.test_client()
    heads = application.extensions["migration_heads"]
    (head,) = heads
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", application.extensions["migrate"].directory)
    previous = ScriptDirectory.from_config(cfg).get_revision(head).down_revision
    assert isinstance(previous, str)

    empty = client.get("/readyz")
    assert empty.status_code == 503
    assert empty.get_json() == {
        "status": "error",
        "database": "ok",
        "migrations": "sin_migrar",
        "failing": ["migrations"],
    }
    stamp(engine, previous)  # one revision behind the code
    behind = client.get("/readyz")
    assert behind.status_code == 503 and behind.get_json()["migrations"] == "desactualizada"
    stamp(engine, "f0000000newer")  # a newer release migrated while this code still serves (rolling update)
    ahead = client.get("/readyz")
    assert ahead.status_code == 200 and ahead.get_json()["migrations"] == "adelantada"
    stamp(engine, head)
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ok", "database": "ok", "migrations": "ok"}
    assert client.get("/healthz").status_code == 200


def test_readyz_names_the_production_overrides_in_force(db_session):
    application = create_app(make_test_config(UNSAFE_OVERRIDES=["ALLOW_FAKE_BACKENDS_IN_PRODUCTION"]))
    body = application.test_client().get("/readyz").get_json()
    assert body["status"] == "ok" and body["overrides"] == ["ALLOW_FAKE_BACKENDS_IN_PRODUCTION"]
