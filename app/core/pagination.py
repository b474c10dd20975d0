"""Page a Select: the view passes a Select from queries.py and gets rows plus navigation data."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa


@dataclass
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


MAX_PAGE = 10**6


def parse_page(value: str | None) -> int:
    """A page number: 1 when missing or malformed (ASCII digits only), clamped to 1..MAX_PAGE, so the OFFSET is
    never negative nor beyond BIGINT."""
    text = (value or "").strip()
    if not re.fullmatch(r"-?[0-9]{1,18}", text):
        return 1
    return min(max(int(text), 1), MAX_PAGE)


def page_of(session, stmt: sa.Select, total: int, page: int, per_page: int, *, scalars: bool = True, wrap=None) -> Page:
    """One page of `stmt` when the total is already known (e.g. from a totals statement): no COUNT.

    `wrap(limited)` turns the limited select into the statement run (e.g. joins applied after the LIMIT)."""

    def select(n: int, size: int) -> sa.Select:
        limited = stmt.limit(size).offset((n - 1) * size)
        return wrap(limited) if wrap is not None else limited

    return page_of_select(session, select, total, page, per_page, scalars=scalars)


def page_of_select(
    session, page_select: Callable[[int, int], sa.Select], total: int, page: int, per_page: int, *, scalars: bool = True
) -> Page:
    """Like `page_of`, for a statement that picks its own page: `page_select(page, per_page)` (e.g. the page's ids
    chosen on an index first, then joined). The page number is clamped to the last page."""
    page = min(page, max((total + per_page - 1) // per_page, 1))
    result = session.execute(page_select(page, per_page))
    items = list(result.scalars()) if scalars else list(result)
    return Page(items=items, page=page, per_page=per_page, total=total)


def count_rows(session, stmt: sa.Select) -> int:
    """The number of rows `stmt` returns (its ORDER BY dropped)."""
    return session.execute(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()


def paginate(session, stmt: sa.Select, page: int, per_page: int, *, scalars: bool = True) -> Page:
    """Run `stmt` for one page plus a count over the same filter."""
    return page_of(session, stmt, count_rows(session, stmt), page, per_page, scalars=scalars)
