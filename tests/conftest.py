"""Test fixtures: one app and schema per session; each test in a transaction rolled back at the end.

PostgreSQL when TEST_DATABASE_URL is set, else in-memory SQLite (foreign keys on).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import shutil
import sqlite3
import uuid

import pytest
import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy

os.environ.setdefault("APP_ENV", "test")


def _per_worker_database() -> None:
    """Under pytest-xdist (`make test` runs the suite in parallel workers) each worker gets a PostgreSQL database of
    its own, `<name>_<worker>` (created when missing): one worker's drop_all/create_all must not pull the schema from
    under another. Runs before the app's config is read. SQLite is in memory, one per process, already."""
    worker, base = os.environ.get("PYTEST_XDIST_WORKER"), os.environ.get("TEST_DATABASE_URL")
    if not worker or not base:
        return
    url = sa.make_url(base)
    name = f"{url.database}_{worker}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    os.environ["TEST_DATABASE_URL"] = url.set(database=name).render_as_string(hide_password=False)


_per_worker_database()

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from config import TestConfig  # noqa: E402

PASSWORD = "clave-de-prueba-123"
ROLES = ("admin", "gerente", "recepcion", "marketing")


def make_test_config(**overrides) -> TestConfig:
    cfg = TestConfig()
    cfg.SECRET_KEY = "test-secret-key"
    cfg.WTF_CSRF_ENABLED = False
    for key, value in overrides.items():
        setattr(cfg, key, value)
    return cfg


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which turns the group marks into node id suffixes
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (`--dist loadgroup`): a test file runs whole on one worker (its module fixtures — a proxy, a
    pair of gunicorn processes, a migrated database — are made once), and the browser journeys run together, in their
    usual order, on one worker, since they share one live server. The deploy tests (real gunicorn, nginx and
    scheduler processes on ports picked free just before they start) also run together, so that two of their servers
    never race for a port. xdist hands out the groups largest first (its default `--loadscope-reorder`), so these two
    start on different workers; the journeys are also moved to the front of the collection."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        group = next((name for name in ("e2e", "deploy") if path.startswith(f"tests/{name}/")), path)
        item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: not item.nodeid.startswith("tests/e2e/"))


@pytest.fixture(autouse=True, scope="session")
def _memoized_password_hashes():
    """scrypt costs about 0.1 s per hash and per check, and hundreds of tests create and log in users with the same
    few passwords. Memoize werkzeug's two functions where app.auth.services calls them: the stored hashes are still
    real scrypt hashes, and each (hash, password) pair is verified for real the first time it is checked."""
    from app.auth import services

    generate, check = services.generate_password_hash, services.check_password_hash
    services.generate_password_hash = functools.lru_cache(maxsize=None)(generate)
    services.check_password_hash = functools.lru_cache(maxsize=None)(check)
    yield
    services.generate_password_hash, services.check_password_hash = generate, check


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    media = tmp_path_factory.mktemp("media")
    application = create_app(make_test_config(MEDIA_ROOT=str(media)))
    with application.app_context():
        db.drop_all()
        db.create_all()
        db.session.remove()
        db.session.configure(join_transaction_mode="create_savepoint")
    _request_scoped_sessions(application)
    yield application
    with application.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _request_scoped_sessions(application) -> None:
    """Requests made while a test holds an app context would reuse that context and so the test's session.
    Production gives every request its own session; so do the tests (a view that forgets to commit, or rolls
    back, behaves here as it would in production).

    Written for Flask 3.1 (requirements.txt pins Flask==3.1.3): it reads Flask's private context variables
    `flask.globals._cv_request` / `_cv_app` and `RequestContext._cv_tokens` (a request pushed while the test's app
    context is active stores None as its app context token). tests/test_harness.py fails loudly if a Flask upgrade
    renames them; without them every request would silently share the test's session."""
    from flask import globals as flask_globals

    def scope():
        # Keyed by the context objects themselves, not their id(): a session left in the registry (a request of
        # another app, pushed inside an app context, is never torn down by this app's teardown_request) keeps its
        # key alive, so a later request can never inherit it through a recycled id — and with it a connection to
        # a race test's database that has since been dropped.
        req = flask_globals._cv_request.get(None)
        if req is not None and req._cv_tokens and req._cv_tokens[-1][1] is None:  # reused the test's app context
            return ("request", req)
        return ("app", flask_globals._cv_app.get(None))

    db.session.registry.scopefunc = scope

    @application.teardown_request
    def _remove_request_session(_exc):
        from flask import g

        db.session.remove()
        g.pop("_login_user", None)  # Flask-Login caches the user on g, which the shared app context keeps


@pytest.fixture
def db_session(app, monkeypatch):
    """`db.session` bound to one outer transaction that is rolled back after the test."""
    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        monkeypatch.setattr(SQLAlchemy, "engines", property(lambda self: {None: connection}))
        db.session.remove()
        try:
            yield db.session
        finally:
            db.session.remove()
            if transaction.is_active:
                transaction.rollback()
            connection.close()


@pytest.fixture
def limited_app(db_session):
    """A second app with rate limits on (the Limiter singleton is restored afterwards)."""
    from app.extensions import limiter

    application = create_app(make_test_config(RATELIMIT_ENABLED=True))
    try:
        yield application
    finally:
        limiter.reset()
        limiter.enabled = False


@pytest.fixture
def client(app, db_session):
    return app.test_client()


_seq = itertools.count(1)


@pytest.fixture
def make_user(db_session):
    from app.auth.services import create_user

    def factory(role: str = "recepcion", username: str | None = None, password: str = PASSWORD, **kw):
        user = create_user(
            username=username or f"{role}{next(_seq)}",
            role=role,
            password=password,
            email=kw.pop("email", None),
            full_name=kw.pop("full_name", None),
        )
        for key, value in kw.items():
            setattr(user, key, value)
        db_session.flush()
        return user

    return factory


@pytest.fixture
def login(client, make_user):
    """login(role) -> the test client logged in as a fresh user of that role (also returns the user)."""

    def do_login(role: str = "recepcion", user=None):
        user = user or make_user(role)
        with client.session_transaction() as sess:
            sess["_user_id"] = str(user.id)
            sess["_fresh"] = True
        client.user = user
        return client

    return do_login


@pytest.fixture
def make_client(db_session):
    from app.clients.services import create_client

    def factory(**overrides):
        n = next(_seq)
        data = {"name": f"Cliente Prueba {n}", "phone": f"+569{50000000 + n:08d}", "email": f"cliente{n}@example.com"}
        marketing = overrides.pop("marketing_consent", False)
        origin = overrides.pop("origin", "recepcion")
        data.update(overrides)
        return create_client(data=data, origin=origin, marketing_consent=marketing)

    return factory


@pytest.fixture
def make_category(db_session):
    from app.catalog.models import ServiceCategory

    def factory(**overrides):
        values = {"name": f"Categoría {next(_seq)}", "sort_order": 0}
        values.update(overrides)
        cat = ServiceCategory(**values)
        db_session.add(cat)
        db_session.flush()
        return cat

    return factory


@pytest.fixture
def make_service(db_session):
    from app.catalog.models import Service
    from app.catalog.policy import validate_slot_grid

    def factory(**overrides):
        values = {
            "name": f"Tina {next(_seq)}",
            "base_price": 25000,
            "duration_minutes": 120,
            "min_people": 1,
            "max_people": 4,
            "service_type": "tina",
            "slot_grid": validate_slot_grid({"monday": ["14:00", "17:00"]}),
        }
        values.update(overrides)
        service = Service(**values)
        db_session.add(service)
        db_session.flush()
        return service

    return factory


@pytest.fixture
def make_product(db_session):
    from app.catalog.models import Product

    def factory(**overrides):
        values = {"name": f"Producto {next(_seq)}", "base_price": 1500, "stock": 10}
        values.update(overrides)
        product = Product(**values)
        db_session.add(product)
        db_session.flush()
        return product

    return factory


def _admin_engine(url) -> sa.Engine:
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


@contextlib.contextmanager
def fresh_database(tmp_path, *, template: str | None = None):
    """A brand-new database of the same kind as the test database; dropped afterwards.

    Empty, or a copy of `template` (from `database_templates.get`: a PostgreSQL database name, cloned with
    CREATE DATABASE … TEMPLATE, or a SQLite file, copied)."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        path = tmp_path / f"fresh_{uuid.uuid4().hex[:8]}.db"
        if template:
            shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    url = sa.make_url(base)
    name = f"aremko_tmp_{uuid.uuid4().hex[:8]}"
    admin = _admin_engine(url)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def migrate_to_head(url: str) -> None:
    """Run every migration on the database at `url` (the way `flask db upgrade` does), then close its connections."""
    from flask_migrate import upgrade

    application = create_app(make_test_config(SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS={}))
    with application.app_context():
        upgrade()
        db.session.remove()
        db.engine.dispose()


class DatabaseTemplates:
    """Databases filled once per session (e.g. migrated to the head) and copied for each test that needs a fresh one
    (`fresh_database(tmp_path, template=…)`): a clone costs a fraction of running every migration again.

    On PostgreSQL the template is a database named after the test database (`<name>_tpl_<fill>_<random>`), closed to
    connections once filled (CREATE DATABASE … TEMPLATE needs a source nobody is connected to) and dropped at the
    end of the session; on SQLite it is a file. The kind follows TEST_DATABASE_URL, as fresh_database does."""

    def __init__(self, folder):
        self.folder = folder
        self.made: dict[tuple[str, str], str] = {}

    def get(self, fill=migrate_to_head, *, base: str | None = None) -> str:
        """The template filled by `fill(url)`, made on first use: on the server of `base` (a PostgreSQL URL), by
        default of the test database kind."""
        base = base or os.environ.get("TEST_DATABASE_URL") or ""
        key = (base, fill.__name__)
        if key not in self.made:
            self.made[key] = self._make(base, fill)
        return self.made[key]

    def _make(self, base: str, fill) -> str:
        if not base:
            path = self.folder / f"template_{fill.__name__}_{uuid.uuid4().hex[:6]}.db"
            fill(f"sqlite:///{path}")
            with contextlib.closing(sqlite3.connect(path)) as conn:  # one self-contained file: fold in any WAL
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.execute("PRAGMA journal_mode=DELETE")
            return str(path)
        url = sa.make_url(base)
        name = f"{url.database}_tpl_{fill.__name__}"[:54] + f"_{uuid.uuid4().hex[:8]}"
        admin = _admin_engine(url)
        try:
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            try:
                fill(url.set(database=name).render_as_string(hide_password=False))
            except BaseException:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                raise
            with admin.connect() as conn:
                conn.execute(sa.text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false IS_TEMPLATE true'))
        finally:
            admin.dispose()
        return name

    def drop_all(self) -> None:
        for (base, _fill), template in self.made.items():
            if not base:
                continue
            admin = _admin_engine(sa.make_url(base))
            with admin.connect() as conn:
                conn.execute(sa.text(f'ALTER DATABASE "{template}" WITH IS_TEMPLATE false'))
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
            admin.dispose()
        self.made.clear()


@pytest.fixture(scope="session")
def database_templates(tmp_path_factory):
    templates = DatabaseTemplates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.drop_all()


@pytest.fixture
def empty_database_url(tmp_path):
    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture
def freeze_clock():
    """freeze_clock(datetime) pins core.clock; thawed after the test."""
    from app.core import clock

    yield clock.freeze
    clock.freeze(None)


@pytest.fixture
def booking_setup(db_session, make_category, make_service, freeze_clock):
    """Spec catalog.md §6: Tina Calipso ($25.000 pp, 1–4, capacity 1), Monday grid [14:00, 17:00], Tuesday closed;
    Tina Grande (capacity 2); massages with Ana and Berta; a cabin. Now = Monday 02/03/2026 10:00 local."""
    from datetime import datetime

    from app.catalog.models import Provider
    from app.catalog.policy import validate_slot_grid
    from app.core.clock import LOCAL_TZ
    from app.sales.models import DiscountCode
    from app.sales.payment_services import ensure_payment_methods

    freeze_clock(datetime(2026, 3, 2, 10, 0, tzinfo=LOCAL_TZ))
    ensure_payment_methods()
    db_session.add(DiscountCode(code="AREMKO15", kind="porcentaje", value=15))
    tinas = make_category(name="Tinas Calientes")
    grid = validate_slot_grid({"monday": ["14:00", "17:00"], "wednesday": ["14:00"], "saturday": ["19:00"]})
    ana, berta = Provider(name="Ana Soto"), Provider(name="Berta Muñoz")
    db_session.add_all([ana, berta])
    db_session.flush()
    massage_grid = validate_slot_grid({"monday": ["13:00", "14:15"]})
    return {
        "calipso": make_service(name="Tina Calipso", category=tinas, slot_grid=grid),
        "grande": make_service(
            name="Tina Grande",
            category=tinas,
            base_price=22000,
            min_people=2,
            max_people=8,
            max_concurrent_bookings=2,
            slot_grid=validate_slot_grid({"monday": ["19:00"]}),
        ),
        "relajacion": make_service(
            name="Masaje Relajación",
            service_type="masaje",
            base_price=45000,
            max_people=1,
            duration_minutes=60,
            slot_grid=massage_grid,
            max_concurrent_bookings=3,
            providers=[ana, berta],
        ),
        "descontracturante": make_service(
            name="Masaje Descontracturante",
            service_type="masaje",
            base_price=50000,
            max_people=1,
            duration_minutes=60,
            slot_grid=massage_grid,
            max_concurrent_bookings=3,
            providers=[ana],
        ),
        "arrayan": make_service(
            name="Cabaña Arrayán",
            service_type="cabana",
            base_price=90000,
            max_people=2,
            slot_grid=validate_slot_grid({"monday": ["16:00"]}),
        ),
        "ana": ana,
        "berta": berta,
    }


@pytest.fixture
def count_statements(db_session):
    """count_statements(fn) -> number of SQL statements fn() runs (through the test connection)."""

    def run(fn) -> int:
        engine_or_conn = db_session.get_bind()
        seen = []

        def listener(conn, cursor, statement, *args):
            seen.append(statement)

        target = engine_or_conn.engine if hasattr(engine_or_conn, "engine") else engine_or_conn
        sa.event.listen(target, "before_cursor_execute", listener)
        try:
            fn()
        finally:
            sa.event.remove(target, "before_cursor_execute", listener)
        return len(seen)

    return run
