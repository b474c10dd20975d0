"""`flask db upgrade` on an empty database, no drift between models and migrations, working downgrade."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db
from tests.conftest import make_test_config


def test_upgrade_from_empty_matches_models_and_downgrades(empty_database_url):
    application = create_app(make_test_config(SQLALCHEMY_DATABASE_URI=empty_database_url, SQLALCHEMY_ENGINE_OPTIONS={}))
    with application.app_context():
        try:
            upgrade()
            with db.engine.connect() as conn:
                diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
                tables = set(sa.inspect(conn).get_table_names())
            assert diffs == []
            assert {"users", "services", "clients", "client_events", "stock_movements"} <= tables
            downgrade(revision="base")
            with db.engine.connect() as conn:
                assert set(sa.inspect(conn).get_table_names()) <= {"alembic_version"}
            upgrade()
        finally:
            db.session.remove()
            db.engine.dispose()
