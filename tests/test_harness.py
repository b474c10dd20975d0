"""The test harness itself: what tests/conftest.py relies on beyond Flask's public API."""

from __future__ import annotations

from flask import globals as flask_globals

from app.extensions import db


def test_flask_private_context_names_used_by_the_request_sessions_still_exist(app, db_session):
    """tests/conftest.py `_request_scoped_sessions` (written for Flask 3.1) gives each request its own session by
    reading `flask.globals._cv_request`, `_cv_app` and `RequestContext._cv_tokens`. If an upgrade renames them,
    this fails here instead of every request quietly sharing the test's session."""
    assert hasattr(flask_globals, "_cv_request") and hasattr(flask_globals, "_cv_app")
    outer = db.session()
    with app.test_request_context("/"):
        request_context = flask_globals._cv_request.get(None)
        assert request_context is not None
        tokens = request_context._cv_tokens
        assert tokens and tokens[-1][1] is None  # the request reused the test's app context
        inner = db.session()
        assert inner is not outer  # …and still got a session of its own
        assert db.session() is inner
    assert db.session() is outer
