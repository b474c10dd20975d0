"""`Idempotency-Key` on order and payment creation (spec api.md §2).

The key is claimed in its own transaction before any work; the response is stored with the work's own commit
(or, for a 4xx, after the rollback); a 5xx releases the key. Same key + same body → the stored response with
`Idempotent-Replayed: true`; another body → 422; still running → 409. Records older than 24 h are ignored and
purged by `purge_idempotency_records`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from functools import wraps

import sqlalchemy as sa
from flask import Response, g, make_response, request
from sqlalchemy.exc import IntegrityError

from app.api.auth import api_identity
from app.api.models import IdempotencyRecord
from app.core import clock
from app.extensions import db
from app.web.errors import api_error

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
REUSED = "Idempotency-Key reutilizada con otro contenido."
IN_PROGRESS = "Otra solicitud con esta Idempotency-Key está en curso."
INVALID = "Idempotency-Key debe tener entre 1 y 255 caracteres imprimibles."


def request_hash() -> str:
    """SHA-256 of the canonical JSON body (key order and spacing do not matter)."""
    raw = request.get_data(cache=True)
    try:
        canonical = json.dumps(
            json.loads(raw or b"null"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    except (ValueError, RecursionError):  # not JSON, or nested too deep to parse
        canonical = raw
    return hashlib.sha256(canonical).hexdigest()


def _valid_key(key: str) -> bool:
    return 1 <= len(key) <= 255 and key.isprintable()


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(record.response_body or "", status=record.response_status, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def claim(scope: str, key: str):
    """Insert the in-progress record and commit; returns (record id, None) or (None, response to send)."""
    digest = request_hash()
    for _ in range(2):  # a second time only after purging an expired record of this key
        record = IdempotencyRecord(
            scope=scope,
            key=key,
            method=request.method,
            path=request.path[:255],
            request_hash=digest,
            status="in_progress",
            created_at=clock.now(),
        )
        db.session.add(record)
        try:
            db.session.flush()
            record_id = record.id
            _commit_keeping_state()
            return record_id, None
        except IntegrityError:
            db.session.rollback()
        existing = db.session.scalar(
            sa.select(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
        )
        if existing is None or existing.created_at >= clock.now() - TTL:
            break
        db.session.delete(existing)  # older than 24 h: ignored, the key is free again
        db.session.commit()
    if existing is None:  # released meanwhile: the caller may retry
        return None, api_error(409, IN_PROGRESS, code="idempotency_in_progress")
    if existing.request_hash != digest or existing.method != request.method or existing.path != request.path[:255]:
        return None, api_error(422, REUSED, code="idempotency_key_reused")
    if existing.status != "done":
        return None, api_error(409, IN_PROGRESS, code="idempotency_in_progress")
    return None, _replay(existing)


def _commit_keeping_state() -> None:
    """Commit the claim without expiring what the request already loaded (caller, token): the view goes on in a
    new transaction with them instead of reloading each one."""
    session = db.session()
    previous, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = previous


def store(record_id: int, response: Response) -> None:
    """Keep the response (done) or, for a 5xx, release the key; in the current transaction (one statement)."""
    where = IdempotencyRecord.id == record_id
    if response.status_code >= 500:
        db.session.execute(sa.delete(IdempotencyRecord).where(where))
    else:
        db.session.execute(
            sa.update(IdempotencyRecord)
            .where(where)
            .values(status="done", response_status=response.status_code, response_body=response.get_data(as_text=True))
        )


def idempotent(view):
    """Honour `Idempotency-Key` on a create view. The view commits its work through `commit_with(response)`."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        key = request.headers.get(HEADER)
        scope = api_identity()
        if key is None or scope is None or request.method != "POST":
            return view(*args, **kwargs)
        if not _valid_key(key):
            return api_error(400, INVALID, detail={HEADER: [INVALID]})
        record_id, early = claim(scope, key)
        if early is not None:
            return early
        g.idempotency_record = record_id
        try:
            response = make_response(view(*args, **kwargs))
        except Exception:
            db.session.rollback()
            _finish(record_id, None)
            raise
        finally:
            g.pop("idempotency_record", None)
        if not g.pop("idempotency_stored", False):
            _finish(record_id, response)
        return response

    return wrapped


def commit_with(response: Response) -> None:
    """Commit the view's work; under a claimed Idempotency-Key its response is stored in that same commit."""
    record_id = g.get("idempotency_record")
    if record_id is not None:
        store(record_id, response)
    db.session.commit()
    if record_id is not None:
        g.idempotency_stored = True


def _finish(record_id: int, response: Response | None) -> None:
    """After the view: store the outcome in a fresh transaction (the view already committed or rolled back)."""
    db.session.rollback()  # anything the view left uncommitted was not meant to be kept
    if response is None:
        db.session.execute(sa.delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))
    else:
        store(record_id, response)
    db.session.commit()


def purge_idempotency_records() -> str:
    """Scheduler job: delete records older than 24 h; the unit of work commits."""
    result = db.session.execute(sa.delete(IdempotencyRecord).where(IdempotencyRecord.created_at < clock.now() - TTL))
    return f"{result.rowcount} registros de idempotencia eliminados"
