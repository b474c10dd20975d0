"""core.db.insert_for(shape=…): dialect INSERTs with ON CONFLICT compiled once and cached (SQLAlchemy 2.0 caches none
of them), with the right SQL and values on every execution."""

import pytest
import sqlalchemy as sa

from app.core.db import insert_for

metadata = sa.MetaData()
pairs = sa.Table("pairs", metadata, sa.Column("k", sa.Integer, primary_key=True), sa.Column("v", sa.Integer))


def _upsert(dialect: str, k: int, v: int, shape: str | None = "pairs.upsert"):
    stmt = insert_for(dialect, pairs, shape=shape).values(k=k, v=v)
    return stmt.on_conflict_do_update(index_elements=["k"], set_={"v": stmt.excluded.v})


def _keep(dialect: str, k: int, v: int):
    return insert_for(dialect, pairs, shape="pairs.keep").values(k=k, v=v).on_conflict_do_nothing(index_elements=["k"])


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_shaped_statements_have_cache_keys_that_tell_shapes_and_values_apart(dialect):
    assert _upsert(dialect, 1, 2, shape=None)._generate_cache_key() is None  # SQLAlchemy's own: never cached
    first, second, keep = (
        s._generate_cache_key() for s in (_upsert(dialect, 1, 2), _upsert(dialect, 3, 4), _keep(dialect, 1, 2))
    )
    assert first is not None and first == second  # same shape, other values: one compiled statement
    assert [b.value for b in second.bindparams] == [3, 4]  # the values travel with the key, not the compilation
    assert keep != first


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_bound_values_in_the_conflict_clause_are_refused(dialect):
    stmt = insert_for(dialect, pairs, shape="pairs.bad").values(k=1, v=2)
    with pytest.raises(ValueError):
        stmt.on_conflict_do_update(index_elements=["k"], set_={"v": 5})
    with pytest.raises(ValueError):
        stmt.on_conflict_do_update(index_elements=["k"], set_={"v": stmt.excluded.v}, where=pairs.c.v < 3)


def test_cached_executions_write_each_call_s_values(db_session):
    conn = db_session.connection()
    dialect = conn.dialect.name
    pairs.create(conn)
    try:
        compiled = [conn.execute(_upsert(dialect, k, v)).context.compiled for k, v in [(1, 10), (2, 20), (1, 11)]]
        assert compiled[0] is compiled[1] is compiled[2]  # compiled once, then taken from the engine's cache
        kept = conn.execute(_keep(dialect, 2, 99)).context.compiled  # DO NOTHING: the other shape
        assert kept is not compiled[0] and "DO NOTHING" in kept.string.upper()
        assert dict(conn.execute(sa.select(pairs.c.k, pairs.c.v).order_by(pairs.c.k)).all()) == {1: 11, 2: 20}
        uncached = [conn.execute(_upsert(dialect, 3, 30, shape=None)).context.compiled for _ in range(2)]
        assert uncached[0] is not uncached[1]  # negative control: SQLAlchemy's own insert compiles every time
    finally:
        pairs.drop(conn)
