"""How the approved queries run (ai.md §1): money stays integer CLP on PostgreSQL (SUM gives Decimal there) in the
table, the CSV and the chart; the optional read-only AI_DATABASE_URL; the read-only transaction of the default path
refusing a write made inside it; the statement timeout actually firing; "Repetir" audited without the model."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.ai import readonly
from app.ai.models import AIQueryLog
from app.ai.registry import TEMPLATES, Template, get_template, validate_params
from app.extensions import db


def _last_log() -> AIQueryLog:
    return db.session.scalars(sa.select(AIQueryLog).order_by(AIQueryLog.id.desc())).first()


def _dialect() -> str:
    return db.session.get_bind().dialect.name


# --- 1. money is integer CLP ----------------------------------------------------------------------------------


def test_plain_number():
    from app.ai.services import plain_number

    assert plain_number(Decimal("145000")) == 145000 and type(plain_number(Decimal("145000"))) is int
    assert type(plain_number(Decimal("145000.000"))) is int
    assert plain_number(Decimal("33.33")) == 33.33 and type(plain_number(Decimal("33.33"))) is float
    assert plain_number(7) == 7 and plain_number("x") == "x" and plain_number(None) is None


def test_money_column_is_an_int_in_table_csv_and_chart(ai_login, fake_llm, sales_data):
    """On PostgreSQL the raw SUM is a Decimal (checked, so this test can fail there); the answer's rows, the CSV
    cells and the chart's data are exact integers on both databases."""
    template = get_template("top_clientes_por_pago")
    raw = db.session.execute(template.build(validate_params(template, {"anio": 2025}))).all()
    if _dialect() == "postgresql":
        assert isinstance(raw[0][3], Decimal)  # what _plain_value used to turn into a float
    c = ai_login("gerente")
    html = c.post("/ventas/ia/preguntar/", data={"pregunta": "top 10 clientes de 2025 por monto pagado"}).get_data(
        as_text=True
    )
    assert "$145.000" in html
    chart = json.loads(re.search(r"data-chart='([^']*)'", html).group(1).replace("&#34;", '"'))
    data = chart["data"]["datasets"][0]["data"]
    assert data == [145000, 95000, 90000] and all(type(v) is int for v in data)
    assert "145000.0" not in html
    log = _last_log()
    body = c.get(f"/ventas/ia/consultas/{log.id}/csv/").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    assert [r[3] for r in rows[1:]] == ["145000", "95000", "90000"]
    # the service's rows themselves (what the model sees and the table renders)
    from app.ai.services import model_view, run_template

    tpl, _, columns, rows = run_template("top_clientes_por_pago", {"anio": 2025})
    assert [type(r[3]) for r in rows] == [int, int, int]
    from app.ai.services import Pseudonyms

    view = model_view(tpl, columns, rows, Pseudonyms())
    assert view[0]["monto_pagado"] == 145000 and type(view[0]["monto_pagado"]) is int


def test_chart_sums_money_exactly(ai_ctx):
    """Labels that repeat are summed as ints (no float drift on large CLP amounts)."""
    from app.ai.services import chart_config

    rows = [("Tina", 1, 2, Decimal("9007199254740993")), ("Tina", 1, 1, Decimal("2"))]
    chart = chart_config("servicios_mas_vendidos", ["servicio", "reservas", "personas", "ingresos"], rows)
    assert chart["data"]["datasets"][0]["data"] == [9007199254740995]


# --- 2. read-only execution -----------------------------------------------------------------------------------


@pytest.fixture
def read_only_url(app, tmp_path):
    """A database URL that can only read: on PostgreSQL a login role with SELECT only (created and dropped here,
    outside the test's transaction), on SQLite the schema in a file opened read-only (`mode=ro`)."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if url.startswith("postgresql"):
        role = f"aremko_ai_ro_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            dbname = conn.exec_driver_sql("SELECT current_database()").scalar_one()
            conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
            conn.exec_driver_sql(f'GRANT CONNECT ON DATABASE "{dbname}" TO {role}')
            conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA public TO {role}")
            conn.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
        ro_url = sa.engine.make_url(url).set(username=role, password=None).render_as_string(hide_password=False)
        try:
            yield ro_url, role
        finally:
            stale = readonly._engines.pop(ro_url, None)
            if stale is not None:
                stale.dispose()
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP OWNED BY {role}")
                conn.exec_driver_sql(f"DROP ROLE {role}")
            admin.dispose()
    else:
        path = tmp_path / "ai-ro.sqlite"
        writer = sa.create_engine(f"sqlite:///{path}")
        db.metadata.create_all(writer)
        writer.dispose()
        ro_url = f"sqlite:///file:{path}?mode=ro&uri=true"
        try:
            yield ro_url, None
        finally:
            stale = readonly._engines.pop(ro_url, None)
            if stale is not None:
                stale.dispose()


def test_ai_database_url_runs_templates_and_cannot_write(ai_ctx, fake_llm, make_user, sales_data, read_only_url):
    from app.ai.services import ask

    url, role = read_only_url
    ai_ctx.config["AI_DATABASE_URL"] = url
    engine = readonly._separate_engine(url)
    seen: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda conn, cur, stmt, *a: seen.append(stmt))
    answer = ask("top 10 clientes de 2025 por monto pagado", user=make_user("gerente"))
    # it ran, on the other connection: the test's uncommitted sales are not there, so no rows
    assert answer.status == "ok" and answer.template == "top_clientes_por_pago"
    assert answer.rows == [] and _last_log().status == "ok"
    assert any("FROM payments" in s for s in seen)
    if role:
        assert seen[0] == "SET TRANSACTION READ ONLY"
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT current_user").scalar_one() == role
    # a write through that engine fails (the role may only SELECT; the SQLite file is opened read-only)
    with engine.connect() as conn, pytest.raises(sa.exc.DBAPIError) as err:
        conn.exec_driver_sql("UPDATE clients SET name = name")
    assert re.search(r"permission denied|readonly database", str(err.value), re.I)
    # negative control: the same question on the default path sees the test's sales
    ai_ctx.config["AI_DATABASE_URL"] = ""
    assert len(ask("top 10 clientes de 2025 por monto pagado", user=make_user("gerente")).rows) == 3


def test_default_path_transaction_is_read_only(ai_ctx, sales_data, monkeypatch):
    """A write attempted inside run_readonly's own transaction (between its read-only switch and the registry
    query) is refused by the database; after it, the session writes again."""
    from app.ai.services import run_template
    from app.clients.models import Client

    refused: list[str] = []
    original = readonly._execute

    def write_first(conn, query, timeout_ms):
        try:
            with conn.begin_nested():
                conn.execute(sa.update(Client).values(name="escrito por la IA"))
        except sa.exc.DBAPIError as exc:
            refused.append(str(exc.orig))
        return original(conn, query, timeout_ms)

    monkeypatch.setattr(readonly, "_execute", write_first)
    _, _, _, rows = run_template("top_clientes_por_pago", {"anio": 2025})
    assert len(rows) == 3
    assert len(refused) == 1 and re.search(r"read-only transaction|readonly database", refused[0])
    assert not db.session.scalar(sa.select(sa.func.count()).where(Client.name == "escrito por la IA"))
    db.session.execute(sa.update(Client).where(Client.id == -1).values(name="x"))  # writable again


# --- 3. the statement timeout fires ---------------------------------------------------------------------------


def _slow(_params) -> sa.Select:
    """Counts to 10⁸ with a recursive CTE: tens of seconds on either database, unless the timeout cancels it."""
    n = sa.select(sa.literal(1).label("n")).cte("cuenta", recursive=True)
    n = n.union_all(sa.select(n.c.n + 1).where(n.c.n < 100_000_000))
    return sa.select(sa.func.count().label("filas")).select_from(n)


@pytest.fixture
def slow_template(monkeypatch):
    template = Template(
        name="consulta_lenta", description="Solo para pruebas.", params=(), build=_slow, columns=("filas",)
    )
    monkeypatch.setitem(TEMPLATES, template.name, template)
    return template


def test_statement_timeout_fires_with_message_and_log(ai_app, ai_login, fake_llm, sales_data, slow_template):
    """PostgreSQL: `SET LOCAL statement_timeout` cancels it; SQLite: the progress handler interrupts it. The page
    says so (no 500), the log row is an error with the message, and the connection is usable afterwards."""
    import time

    from app.ai.llm import LLMResult, ToolCall

    ai_app.config["AI_QUERY_TIMEOUT_SECONDS"] = 0.2
    fake_llm.script = [
        LLMResult(tool_calls=(ToolCall("1", "query_template", {"nombre": "consulta_lenta", "parametros": {}}),)),
        LLMResult(text="No alcancé a leerlo."),
    ]
    started = time.monotonic()
    resp = ai_login("gerente").post("/ventas/ia/preguntar/", data={"pregunta": "algo lento"})
    assert time.monotonic() - started < 10
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "La consulta tardó demasiado (más de 0.2 s) y se canceló." in html
    log = _last_log()
    assert log.status == "error" and "tardó demasiado" in log.error and log.template is None
    tool_msg = [m for m in fake_llm.prompts[-1] if m["role"] == "tool"][0]
    assert "tardó demasiado" in tool_msg["content"]
    # negative control: with the normal timeout a real template answers on the same connection
    ai_app.config["AI_QUERY_TIMEOUT_SECONDS"] = 5
    html = ai_login("gerente").post("/ventas/ia/preguntar/", data={"pregunta": "ventas por mes de 2025"})
    assert _last_log().status == "ok" and "ventas_por_mes" in html.get_data(as_text=True)


def test_timeout_on_repeat_and_csv_is_no_500(ai_app, ai_login, fake_llm, sales_data, slow_template):
    c = ai_login("gerente")
    log = AIQueryLog(user_id=c.user.id, kind="chat", question="lenta", template="consulta_lenta", params={})
    db.session.add(log)
    db.session.flush()
    ai_app.config["AI_QUERY_TIMEOUT_SECONDS"] = 0.2
    resp = c.post(f"/ventas/ia/consultas/{log.id}/repetir/", headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "tardó demasiado" in resp.get_data(as_text=True)
    repeat = _last_log()
    assert repeat.id != log.id and repeat.status == "error" and "tardó demasiado" in repeat.error
    csv_resp = c.get(f"/ventas/ia/consultas/{log.id}/csv/")
    assert csv_resp.status_code == 503 and "tardó demasiado" in csv_resp.get_data(as_text=True)


# --- 4. "Repetir" is audited ----------------------------------------------------------------------------------


def test_repeat_writes_a_log_without_a_model_call(ai_login, fake_llm, sales_data):
    c = ai_login("gerente")
    c.post("/ventas/ia/preguntar/", data={"pregunta": "ventas por mes de 2025"})
    original = _last_log()
    calls = fake_llm.calls
    resp = c.post(f"/ventas/ia/consultas/{original.id}/repetir/", headers={"HX-Request": "true"})
    assert resp.status_code == 200 and fake_llm.calls == calls
    db.session.expire_all()
    repeat = _last_log()
    assert repeat.id != original.id
    assert (repeat.user_id, repeat.kind, repeat.question) == (c.user.id, "chat", "ventas por mes de 2025")
    assert (repeat.template, repeat.params) == ("ventas_por_mes", original.params)
    assert repeat.rows == 5 and repeat.status == "ok" and repeat.error is None
    assert (repeat.input_tokens, repeat.output_tokens, repeat.cost_milli_clp) == (0, 0, 0)
    assert repeat.duration_ms >= 0 and "sin el modelo" in repeat.answer
    # the page's CSV link is the new log's, and the CSV writes no log
    html = resp.get_data(as_text=True)
    assert f"/ventas/ia/consultas/{repeat.id}/csv/" in html
    before = db.session.scalar(sa.select(sa.func.count(AIQueryLog.id)))
    assert c.get(f"/ventas/ia/consultas/{repeat.id}/csv/").status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(AIQueryLog.id))) == before
