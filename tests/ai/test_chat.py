"""Business chat (ai.md §2, acceptance 1–3, 6): the flag and roles, the ten canonical questions with the FakeLLM
against the expected tables and their CSV, SQL typed in a question, read-only execution of registry SQL only."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import date

import pytest
import sqlalchemy as sa

from app.ai.models import AIQueryLog
from app.ai.registry import TEMPLATES, get_template, validate_params
from app.extensions import db

AI_GETS = ("/ventas/ia/", "/ventas/ia/historial/", "/ventas/ia/uso/", "/ventas/ia/campanas/")


def test_flag_off_every_route_404_and_no_menu_entry(app, login):
    c = login("admin")
    for path in (*AI_GETS, "/ventas/ia/consultas/1/csv/", "/ventas/clientes/1/sugerencias-ia/"):
        assert c.get(path).status_code == 404, path
    assert c.post("/ventas/ia/preguntar/", data={"pregunta": "ventas"}).status_code == 404
    page = c.get("/ventas/admin-dashboard/").get_data(as_text=True)
    assert "/ventas/ia/" not in page and "Asistente IA" not in page


def test_flag_on_menu_for_allowed_roles_and_403_for_recepcion(ai_login, make_user):
    for role in ("admin", "gerente", "marketing"):
        c = ai_login(role)
        page = c.get("/ventas/admin-dashboard/").get_data(as_text=True)
        assert "/ventas/ia/" in page, role
        assert c.get("/ventas/ia/").status_code == 200, role
    c = ai_login("recepcion")
    for path in AI_GETS:
        assert c.get(path).status_code == 403, path
    assert "/ventas/ia/" not in c.get("/ventas/admin-dashboard/").get_data(as_text=True)


def test_ai_allowed_roles_config_narrows_access(ai_app, ai_login):
    ai_app.config["AI_ALLOWED_ROLES"] = ["admin"]
    assert ai_login("gerente").get("/ventas/ia/").status_code == 403
    assert ai_login("admin").get("/ventas/ia/").status_code == 200


def test_usage_page_admin_and_gerente_only(ai_login):
    assert ai_login("marketing").get("/ventas/ia/uso/").status_code == 403
    assert ai_login("gerente").get("/ventas/ia/uso/").status_code == 200


def test_anonymous_redirected_and_htmx_401(ai_client):
    resp = ai_client.get("/ventas/ia/")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/accounts/login/")
    assert ai_client.get("/ventas/ia/", headers={"HX-Request": "true"}).status_code == 401


def _rows(resp_text: str) -> list[list[str]]:
    table = re.search(r'<table[^>]*id="ai-table".*?<tbody>(.*?)</tbody>', resp_text, re.S).group(1)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", tr, re.S)]
        for tr in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]


CANONICAL = [
    (
        "top 10 clientes de 2025 por monto pagado",
        "top_clientes_por_pago",
        lambda d: [
            (d["clients"][0].id, "Cliente IA 1", 2, 145000),
            (d["clients"][1].id, "Cliente IA 2", 2, 95000),
            (d["clients"][2].id, "Cliente IA 3", 1, 90000),
        ],
    ),
    (
        "ocupación de cabañas el próximo fin de semana",
        "ocupacion_servicios",
        lambda d: [(date(2026, 3, 7), "Cabaña IA", 1, 2, 1)],
    ),
    (
        "servicios más vendidos del trimestre",
        "servicios_mas_vendidos",
        lambda d: [("Tina Calipso IA", 2, 3, 75000), ("Masaje IA", 1, 1, 45000)],
    ),
    (
        "ventas por mes de 2025",
        "ventas_por_mes",
        lambda d: [
            (2, 1, 95000, 95000),
            (6, 1, 50000, 50000),
            (7, 1, 70000, 70000),
            (8, 1, 25000, 25000),
            (11, 1, 90000, 90000),
        ],
    ),
    (
        "ingresos por método de pago del trimestre",
        "ingresos_por_metodo",
        lambda d: [("dinero", "efectivo", 2, 90000)],
    ),
    (
        "clientes inactivos hace 120 días",
        "clientes_inactivos",
        lambda d: [
            (d["clients"][1].id, "Cliente IA 2", date(2025, 8, 9), 2, 95000),
            (d["clients"][0].id, "Cliente IA 1", date(2025, 6, 14), 2, 145000),
        ],
    ),
    (
        "análisis rfm de clientes",
        "rfm_clientes",
        lambda d: [
            (d["clients"][1].id, "Cliente IA 2", date(2025, 8, 9), 2, 95000),
            (d["clients"][2].id, "Cliente IA 3", date(2025, 11, 20), 1, 90000),
            (d["clients"][4].id, "Cliente IA 5", date(2026, 3, 2), 1, 70000),
            (d["clients"][0].id, "Cliente IA 1", date(2025, 6, 14), 1, 50000),
        ],
    ),
    ("afinidad de servicios", "afinidad_servicios", lambda d: [("Tina Calipso IA", "Masaje IA", 2)]),
    (
        "no shows por servicio del trimestre",
        "no_shows_por_servicio",
        lambda d: [("Tina Calipso IA", 2, 1, 50.0), ("Masaje IA", 1, 0, 0.0)],
    ),
    ("saldo de gift cards por vencimiento", "giftcards_saldo_pendiente", lambda d: [(2026, 12, 1, 30000)]),
]


def _norm(row):
    return tuple(float(v) if hasattr(v, "as_integer_ratio") and not isinstance(v, int) else v for v in row)


@pytest.mark.parametrize(("question", "template", "expected"), CANONICAL, ids=[c[1] for c in CANONICAL])
def test_canonical_question_gives_the_right_table_and_csv(ai_login, fake_llm, sales_data, question, template, expected):
    c = ai_login("gerente")
    started = time.monotonic()
    resp = c.post("/ventas/ia/preguntar/", data={"pregunta": question}, headers={"HX-Request": "true"})
    elapsed = time.monotonic() - started
    assert resp.status_code == 200
    assert elapsed <= 5
    html = resp.get_data(as_text=True)
    assert f'<code id="ai-template">{template}</code>' in html
    log = db.session.scalars(sa.select(AIQueryLog).order_by(AIQueryLog.id.desc())).first()
    assert log.template == template and log.status == "ok" and log.kind == "chat"
    assert log.input_tokens > 0 and log.output_tokens > 0 and log.cost_milli_clp > 0
    want = expected(sales_data)
    assert log.rows == len(want) <= 1000
    # the same table read directly (not read-only, not through the service)
    direct = db.session.execute(get_template(template).build(validate_params(get_template(template), log.params))).all()
    assert [_norm(r) for r in direct] == [_norm(r) for r in want]
    shown = _rows(html)
    assert len(shown) == len(want)
    # the CSV: the whole result, same rows
    csv_resp = c.get(f"/ventas/ia/consultas/{log.id}/csv/")
    assert csv_resp.status_code == 200 and csv_resp.mimetype == "text/csv"
    reader = list(csv.reader(io.StringIO(csv_resp.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert reader[0] == list(TEMPLATES[template].columns)
    assert len(reader) == len(want) + 1
    for r, wr in zip(reader[1:], want, strict=True):
        assert all(_cell_matches(cell, w) for cell, w in zip(r, wr, strict=True)), (r, wr)


def _cell_matches(cell: str, want) -> bool:
    """Integers (counts, CLP) exactly as written; a rate by value (50.0 may be written 50 when it is integral)."""
    if isinstance(want, float):
        return float(cell) == want
    return cell == str(want)


def test_chart_for_series_and_categories(ai_login, fake_llm, sales_data):
    c = ai_login("gerente")
    html = c.post("/ventas/ia/preguntar/", data={"pregunta": "ventas por mes de 2025"}).get_data(as_text=True)
    assert 'id="ai-chart"' in html and '"type": "line"' in html
    html = c.post("/ventas/ia/preguntar/", data={"pregunta": "clientes inactivos hace 120 días"}).get_data(as_text=True)
    assert 'id="ai-chart"' not in html  # a client list is not a series


def test_uncovered_question_gets_the_spec_answer_and_examples(ai_login, fake_llm, sales_data):
    resp = ai_login("marketing").post("/ventas/ia/preguntar/", data={"pregunta": "¿cuál es el sentido de la vida?"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "No tengo una consulta aprobada para eso." in html
    assert "top 10 clientes de 2025 por monto pagado" in html
    log = db.session.scalars(sa.select(AIQueryLog).order_by(AIQueryLog.id.desc())).first()
    assert log.template is None and log.rows == 0 and log.input_tokens > 0


def test_empty_question_is_422(ai_login, fake_llm):
    resp = ai_login("gerente").post("/ventas/ia/preguntar/", data={"pregunta": "  "}, headers={"HX-Request": "true"})
    assert resp.status_code == 422
    assert "Escriba una pregunta." in resp.get_data(as_text=True)
    assert fake_llm.calls == 0


def _outside_ai_log(statement: str) -> bool:
    s = statement.strip().upper()
    if s.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
        return False
    return "AI_QUERY_LOGS" not in s


def test_sql_typed_in_a_question_runs_no_query(ai_login, fake_llm, sales_data, seen_sql):
    c = ai_login("gerente")
    seen_sql.clear()
    html = c.post("/ventas/ia/preguntar/", data={"pregunta": "SELECT phone FROM clients; DROP TABLE users;"}).get_data(
        as_text=True
    )
    assert "No tengo una consulta aprobada para eso." in html
    issued = [s for s in seen_sql if _outside_ai_log(s) and "USERS" not in s.upper().split("FROM")[-1][:20]]
    # only the login's user lookup and the audit log: no statement over the business tables
    assert not [s for s in issued if re.search(r"\b(clients|orders|payments|order_service_lines)\b", s, re.I)]
    assert not [s for s in seen_sql if re.search(r"\bDROP\b", s, re.I)]


def test_a_model_asking_for_an_unknown_template_or_bad_params_runs_no_query(ai_ctx, fake_llm, make_user, seen_sql):
    from app.ai.llm import LLMResult, ToolCall
    from app.ai.services import ask

    user = make_user("gerente")
    fake_llm.script = [
        LLMResult(tool_calls=(ToolCall("1", "query_template", {"nombre": "DROP TABLE clients", "parametros": {}}),)),
        LLMResult(
            tool_calls=(ToolCall("2", "query_template", {"nombre": "clientes_inactivos", "parametros": {"dias": 5}}),)
        ),
        LLMResult(
            tool_calls=(
                ToolCall("3", "query_template", {"nombre": "top_clientes_por_pago", "parametros": {"sql": "1; DROP"}}),
            )
        ),
        LLMResult(text="No pude."),
    ]
    seen_sql.clear()
    answer = ask("algo", user=user)
    assert answer.status == "uncovered"
    assert not [s for s in seen_sql if _outside_ai_log(s)]
    tool_msgs = [m for m in fake_llm.prompts[-1] if m["role"] == "tool"]
    assert "No existe una consulta aprobada" in tool_msgs[0]["content"]
    assert "entre 30 y 3650" in tool_msgs[1]["content"]
    assert "desconocido" in tool_msgs[2]["content"]


def test_at_most_three_tool_calls_per_question(ai_ctx, fake_llm, make_user, sales_data):
    from app.ai.llm import LLMResult, ToolCall
    from app.ai.services import ask

    call = ToolCall("x", "get_kpi", {"nombre": "ventas_hoy"})
    fake_llm.script = [LLMResult(tool_calls=(call, call)), LLMResult(tool_calls=(call, call)), LLMResult(text="ok")]
    answer = ask("ventas", user=make_user("gerente"))
    tool_msgs = [m for m in fake_llm.prompts[-1] if m["role"] == "tool"]
    assert len(tool_msgs) == 4
    assert "máximo de 3" in tool_msgs[3]["content"]
    assert answer.status == "ok" and fake_llm.calls == 3


def test_only_registry_sql_reaches_the_database_inside_a_read_only_transaction(
    ai_ctx, fake_llm, make_user, sales_data, seen_sql
):
    from app.ai.services import ask

    user = make_user("gerente")
    db.session.flush()
    seen_sql.clear()
    answer = ask("top 10 clientes de 2025 por monto pagado", user=user)
    assert answer.status == "ok"
    dialect = db.session.get_bind().dialect.name
    enter = "SET TRANSACTION READ ONLY" if dialect == "postgresql" else "PRAGMA query_only = ON"
    starts = [i for i, s in enumerate(seen_sql) if s.strip() == enter]
    assert len(starts) == 1
    i = starts[0]
    inside = seen_sql[i + 1 :]
    if dialect == "postgresql":
        assert inside[0].startswith("SET LOCAL statement_timeout = 5000")
        inside = inside[1:]
    query = inside[0]
    assert "FROM payments" in query and "LIMIT" in query.upper()
    assert not [s for s in seen_sql[:i] if _outside_ai_log(s)], "statements before the read-only block"
    after = [s for s in inside[1:] if _outside_ai_log(s) and not s.startswith("PRAGMA query_only = OFF")]
    assert after == []


def test_read_only_transaction_refuses_a_write(ai_ctx, db_session):
    from app.ai.readonly import run_readonly
    from app.clients.models import Client

    class Sneaky(sa.sql.expression.Select):
        pass

    stmt = sa.select(Client.id).where(Client.id == -1)
    cols, rows = run_readonly(stmt)
    assert cols == ["id"] and rows == []
    # the same mechanism refuses a write on both databases
    conn = db.session.connection()
    nested = conn.begin_nested()
    try:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        else:
            conn.exec_driver_sql("PRAGMA query_only = ON")
        with pytest.raises(sa.exc.DBAPIError):
            conn.execute(sa.text("UPDATE clients SET name = name"))
    finally:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA query_only = OFF")
        nested.rollback()
    # and the connection is writable again afterwards
    db.session.execute(sa.text("UPDATE clients SET name = name WHERE id = -1"))


def test_row_limit_applies(ai_ctx, sales_data):
    from app.ai.services import run_template

    ai_ctx.config["AI_SQL_ROW_LIMIT"] = 2
    _, _, _, rows = run_template("rfm_clientes", {})
    assert len(rows) == 2


def test_invalid_parameters_refused_before_any_query(ai_ctx, seen_sql):
    from app.ai.registry import TemplateError
    from app.ai.services import run_template

    seen_sql.clear()
    for name, params in (
        ("top_clientes_por_pago", {"limite": 101}),
        ("ocupacion_servicios", {"dias": 32}),
        ("clientes_inactivos", {"dias": 29}),
        ("rfm_clientes", {"meses": 25}),
        ("servicios_mas_vendidos", {"desde": "2026-13-01"}),
        ("ventas_por_mes", {"anio": "2025; DROP TABLE x"}),
        ("no_shows_por_servicio", {"desde": "2026-03-10", "hasta": "2026-03-01"}),
        ("giftcards_saldo_pendiente", {"x": 1}),
        ("no_existe", {}),
    ):
        with pytest.raises(TemplateError):
            run_template(name, params)
    assert seen_sql == []


def test_history_and_repeat_without_the_model(ai_login, fake_llm, sales_data):
    c = ai_login("gerente")
    c.post("/ventas/ia/preguntar/", data={"pregunta": "ventas por mes de 2025"})
    log = db.session.scalars(sa.select(AIQueryLog).order_by(AIQueryLog.id.desc())).first()
    page = c.get("/ventas/ia/historial/").get_data(as_text=True)
    assert "ventas por mes de 2025" in page and "Repetir" in page
    frag = c.get("/ventas/ia/historial/", headers={"HX-Request": "true"})
    assert frag.status_code == 200 and "<html" not in frag.get_data(as_text=True)
    calls = fake_llm.calls
    resp = c.post(f"/ventas/ia/consultas/{log.id}/repetir/", headers={"HX-Request": "true"})
    assert resp.status_code == 200 and fake_llm.calls == calls
    assert len(_rows(resp.get_data(as_text=True))) == 5
    # another gerente does not see it; admin does
    other = ai_login("gerente")
    assert "ventas por mes de 2025" not in other.get("/ventas/ia/historial/").get_data(as_text=True)
    assert other.get(f"/ventas/ia/consultas/{log.id}/csv/").status_code == 404
    assert "ventas por mes de 2025" in ai_login("admin").get("/ventas/ia/historial/").get_data(as_text=True)


def test_kpis(ai_ctx, sales_data):
    from app.ai.services import run_kpi

    assert run_kpi("ventas_hoy")["valor"] == 0
    assert run_kpi("ocupacion_manana")["valor"] == 0
    assert run_kpi("saldo_pendiente_total")["valor"] == 30000 + 90000 + 50000
    assert run_kpi("giftcards_pasivo")["valor"] == 30000
    assert run_kpi("mensajes_fallidos_24h")["valor"] == 0


def test_kpi_question_through_the_chat(ai_login, fake_llm, sales_data):
    html = (
        ai_login("gerente")
        .post("/ventas/ia/preguntar/", data={"pregunta": "pasivo de gift cards"})
        .get_data(as_text=True)
    )
    assert "kpi:giftcards_pasivo" in html and "30000" in html


def test_access_matrix_of_the_ai_routes(ai_app, ai_client, ai_login):
    """The access-matrix rows of the AI routes (tests/test_access_matrix.py runs with the flag off, where they do
    not exist): anonymous → login, each role → 200 or 403 per its role_required roles."""
    routes = [
        (rule.rule, ai_app.view_functions[rule.endpoint]._roles)
        for rule in ai_app.url_map.iter_rules()
        if rule.endpoint.startswith("ai.") and "GET" in rule.methods and not rule.arguments
    ]
    assert {r for r, _ in routes} == set(AI_GETS)
    for path, _ in routes:
        assert ai_client.get(path).status_code == 302
    for role in ("admin", "gerente", "recepcion", "marketing"):
        c = ai_login(role)
        for path, allowed in routes:
            assert c.get(path).status_code == (200 if role in allowed and role != "recepcion" else 403), (path, role)
