"""Liveness and readiness (spec api.md §9): no auth, no CSRF, no rate limits.

/healthz is liveness only: the process answers. /readyz answers 503 with a JSON body naming each failing check:
`database` (SELECT 1), `migrations` (alembic_version equals the migration head, read once at start; review L6: an
empty database is `sin_migrar`, one behind is `desactualizada`; a revision this code does not know is `adelantada`
and still ready, so old pods keep serving during a rolling update after `migrate`) and
`redis` (when the rate limits use Redis; review M1). Production overrides in force (ALLOW_FAKE_BACKENDS_IN_PRODUCTION,
ALLOW_INSECURE_COOKIES_IN_PRODUCTION) are listed under `overrides` without failing the check.
"""

from __future__ import annotations

import functools
import logging

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify

from app.auth.decorators import public  # noqa: I001
from app.extensions import db, limiter

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


READY = {"ok", "adelantada"}  # a database ahead of this code (rolling update after `migrate`) still serves


@bp.record_once
def _read_migration_heads(state) -> None:
    state.app.extensions["migration_heads"], state.app.extensions["migration_revisions"] = migration_heads(state.app)


def migration_heads(app) -> tuple[frozenset[str], frozenset[str]]:
    """The head revision(s) and every revision of migrations/ (read once per process, at start)."""
    migrate = app.extensions.get("migrate")
    if migrate is None:
        return frozenset(), frozenset()
    return _read_scripts(migrate.directory)


@functools.lru_cache(maxsize=4)
def _read_scripts(directory: str) -> tuple[frozenset[str], frozenset[str]]:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", directory)
    script = ScriptDirectory.from_config(cfg)
    return frozenset(script.get_heads()), frozenset(rev.revision for rev in script.walk_revisions())


def _check_database() -> str:
    try:
        db.session.execute(sa.text("SELECT 1"))
        return "ok"
    except Exception:
        db.session.rollback()
        return "error"


def _check_migrations() -> str:
    heads = current_app.extensions.get("migration_heads") or frozenset()
    try:
        current = frozenset(db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
    except Exception:  # no alembic_version table: an empty, never migrated database
        db.session.rollback()
        return "sin_migrar"
    finally:
        db.session.rollback()  # nothing to keep; ends the read transaction
    if current == heads:
        return "ok"
    known = current_app.extensions.get("migration_revisions") or frozenset()
    # a revision this code does not know: `migrate` of a newer release ran while these pods still serve
    return "adelantada" if current and not current & known else "desactualizada"


def _check_redis() -> str:
    try:
        return "ok" if limiter.storage.check() else "error"
    except Exception:
        return "error"


@bp.get("/healthz")
@limiter.exempt
@public
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
@limiter.exempt
@public
def readyz():
    config = current_app.config
    checks = {"database": _check_database()}
    if checks["database"] == "ok" and config.get("READYZ_CHECK_MIGRATIONS"):
        checks["migrations"] = _check_migrations()
    if config.get("RATELIMIT_ENABLED") and config.get("RATELIMIT_STORAGE_URI", "").startswith("redis"):
        checks["redis"] = _check_redis()
    failing = [name for name, value in checks.items() if value not in READY]
    body = {"status": "error" if failing else "ok", **checks}
    if failing:
        body["failing"] = failing
    if config.get("UNSAFE_OVERRIDES"):
        body["overrides"] = list(config["UNSAFE_OVERRIDES"])
    if failing:
        log.warning("readyz: no listo (%s)", ", ".join(failing))
        return jsonify(body), 503
    return jsonify(body)
