"""One-time submission keys (house style §3).

A form that creates or moves money or bookings renders `{{ submission_field() }}`: a hidden key, new on every
render. The view calls `claim_submission()` inside the request's single transaction, before the service: the key
is inserted under a unique constraint, so a double click, a retry or a second tab takes effect once. A concurrent
second request waits for the first transaction (PostgreSQL) and then fails the claim; a rolled-back attempt does
not consume the key, so a corrected form can be sent again. A POST without a key (API clients, old tabs) is not
guarded here.
"""

from __future__ import annotations

import functools
import itertools
import secrets
from collections.abc import Iterator
from datetime import timedelta

import sqlalchemy as sa
from flask import request
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError

from app.core.clock import now
from app.core.db import insert_for
from app.core.errors import ConflictError, ValidationError
from app.extensions import db
from app.web.models import FormSubmission

FIELD = "submission_key"
KEEP = timedelta(days=2)


class DuplicateSubmission(ConflictError):
    code = "duplicate_submission"

    def __init__(self) -> None:
        super().__init__("Este formulario ya fue enviado y quedó registrado. Revise el resultado antes de repetirlo.")


def new_submission_key() -> str:
    return secrets.token_urlsafe(16)


def submission_keys() -> Iterator[str]:
    """Fresh keys for the many forms of one render (the board's rows): a random prefix and a counter, unique per
    form and render as new_submission_key's are, at a fraction of their cost (one random draw per render)."""
    prefix = secrets.token_urlsafe(12)
    return (f"{prefix}-{i:x}" for i in itertools.count())


def submission_field() -> Markup:
    """The hidden input of a one-time submission key (a new key on every render)."""
    return Markup(f'<input type="hidden" name="{FIELD}" value="{new_submission_key()}">')


def claim_submission(key: str | None = None) -> None:
    """Claim the request's submission key in the current transaction; flushes. Raises DuplicateSubmission."""
    key = request.form.get(FIELD, "") if key is None else key
    if not key:
        return
    if len(key) > 64 or not key.isascii() or not key.replace("-", "").replace("_", "").isalnum():
        raise ValidationError("El formulario no es válido; recargue la página e intente nuevamente.")
    user_id = current_user.id if current_user and current_user.is_authenticated else None
    values = {"key": key, "endpoint": (request.endpoint or "")[:120], "user_id": user_id, "created_at": now()}
    dialect = db.session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        # one statement (issue 20): a key already claimed — or being claimed by a transaction that then commits —
        # inserts nothing and returns no row; a rolled-back claim leaves the key free, as with the savepoint
        if db.session.execute(_claim_statement(dialect), values).first() is None:
            raise DuplicateSubmission()
        return
    try:
        with db.session.begin_nested():
            db.session.add(FormSubmission(**values))
    except IntegrityError:
        raise DuplicateSubmission() from None


@functools.cache
def _claim_statement(dialect: str):
    """The claim's INSERT … ON CONFLICT (key) DO NOTHING RETURNING key with bound values, built once per dialect."""
    table = FormSubmission.__table__
    names = ("key", "endpoint", "user_id", "created_at")
    insert = insert_for(dialect, table, shape="form_submissions.claim").values(
        {name: sa.bindparam(name, type_=table.c[name].type) for name in names}
    )
    return insert.on_conflict_do_nothing(index_elements=["key"]).returning(table.c.key)


def purge_form_submissions() -> str:
    """Delete submission keys older than two days (scheduler job)."""
    result = db.session.execute(sa.delete(FormSubmission).where(FormSubmission.created_at < now() - KEEP))
    return f"{result.rowcount} claves de envío eliminadas"
