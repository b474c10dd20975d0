"""One commit point per request (Indico's request handler, ARCHITECTURE.md §2 "Transactions").

Services flush; a view wraps its write in `unit_of_work()`: the block commits once when it ends, and any exception
(a `DomainError` included) rolls everything back and propagates. A `DomainError` that leaves the view is answered by
the error handler (app/web/errors.py: the JSON error, the error fragment for HTMX, the page otherwise), or by the
blueprint's own handler where a screen answers refusals in place (the front desk's dialogs). Forms go through
`app.web.forms.submit`, which uses it too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from app.extensions import db


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Commit the block's changes together, or none of them."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
