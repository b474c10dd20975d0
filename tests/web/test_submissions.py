"""One-time submission keys: a key claims once per committed transaction; a rolled-back claim frees it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core import clock
from app.core.errors import ValidationError
from app.extensions import db
from app.web.models import FormSubmission
from app.web.submissions import (
    FIELD,
    DuplicateSubmission,
    claim_submission,
    purge_form_submissions,
    submission_field,
)


def test_field_renders_a_new_key_each_time(app):
    with app.test_request_context():
        first, second = str(submission_field()), str(submission_field())
    pattern = rf'<input type="hidden" name="{FIELD}" value="([A-Za-z0-9_-]+)">'
    assert re.fullmatch(pattern, first) and re.fullmatch(pattern, second)
    assert first != second


def test_second_claim_of_a_key_is_refused(app, db_session):
    with app.test_request_context(method="POST", data={FIELD: "abc123"}):
        claim_submission()
        with pytest.raises(DuplicateSubmission) as excinfo:
            claim_submission()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FormSubmission)) == 1
    assert excinfo.value.status == 409
    assert "ya fue enviado" in excinfo.value.message


def test_a_rolled_back_claim_does_not_consume_the_key(app, db_session):
    with app.test_request_context(method="POST", data={FIELD: "retry-key"}):
        outer = db.session.begin_nested()
        claim_submission()
        outer.rollback()
        assert db.session.get(FormSubmission, "retry-key") is None
        claim_submission()  # the corrected form, sent again
        assert db.session.get(FormSubmission, "retry-key") is not None


def test_without_a_key_nothing_is_claimed(app, db_session):
    with app.test_request_context(method="POST", data={}):
        claim_submission()
        claim_submission()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FormSubmission)) == 0


@pytest.mark.parametrize("bad", ["x" * 65, "clave con espacios", "ñandú", "a\x00b"])
def test_malformed_keys_are_a_validation_error(app, db_session, bad):
    with app.test_request_context(method="POST", data={FIELD: bad}), pytest.raises(ValidationError):
        claim_submission()


def test_purge_keeps_two_days(app, db_session):
    db_session.add_all(
        [
            FormSubmission(key="old", endpoint="x", created_at=clock.now() - timedelta(days=3)),
            FormSubmission(key="new", endpoint="x", created_at=clock.now() - timedelta(hours=1)),
        ]
    )
    db_session.flush()
    assert purge_form_submissions() == "1 claves de envío eliminadas"
    assert {k for (k,) in db.session.execute(sa.select(FormSubmission.key))} == {"new"}
