"""The catalogue version (issue 20 §2): a token that changes in the same transaction as any change to a service or
a category, so that what the public pages build only from the catalogue (navigation, category and service cards) can
be cached by every web process and is never stale.

It is stored as the `_catalog_version` row of the settings table (not an editable setting): the request's one
settings statement (`app.core.settings`) reads it with the overrides, so a page whose cached parts are fresh sends
that one statement. Every change through the ORM — a flush with a new, changed or deleted `Service` or
`ServiceCategory`, or an ORM `insert/update/delete` statement on them — writes a fresh random token; a token (not a
counter) so two transactions never need to read-modify-write the same number. Cache entries are keyed by the token:
a new token makes every cached part unreachable.
"""

from __future__ import annotations

import uuid
from itertools import chain

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.catalog.models import Service, ServiceCategory
from app.core.settings import VERSION_KEY, Setting, data_version, reread
from app.webhooks.models import WebhookEndpoint

KEY = VERSION_KEY
# Also bumped by the few other slow-changing rows read once per version by hot paths (issue 20): the webhook
# endpoints (app.webhooks.event_services reads the version through app.core.settings.data_version: webhooks sit
# below catalog) and, registered with watch() by the sales package, the booking policies.
WATCHED: tuple[type, ...] = (Service, ServiceCategory, WebhookEndpoint)


def watch(*classes: type) -> None:
    """A higher package's slow-changing model whose changes bump the version too (for its own versioned reads)."""
    global WATCHED
    WATCHED = (*WATCHED, *(c for c in classes if c not in WATCHED))


def catalog_version() -> str:
    """The version in force ("0" before the first change): read with the request's settings statement."""
    return data_version()


def bump_catalog_version(session: Session) -> None:
    """A new token, written by the caller's transaction (flushed with it)."""
    session.merge(Setting(key=KEY, value=uuid.uuid4().hex[:16]))
    reread()  # this request (or job) reads the new token next, not its copy of the old one


def _touches_catalog(session: Session) -> bool:
    return any(isinstance(obj, WATCHED) for obj in chain(session.new, session.dirty, session.deleted))


@sa.event.listens_for(Session, "before_flush")
def _bump_on_flush(session, flush_context, instances):
    if _touches_catalog(session):
        bump_catalog_version(session)


@sa.event.listens_for(Session, "do_orm_execute")
def _bump_on_statement(state):
    if (state.is_insert or state.is_update or state.is_delete) and state.bind_mapper is not None:
        if state.bind_mapper.class_ in WATCHED:
            bump_catalog_version(state.session)
