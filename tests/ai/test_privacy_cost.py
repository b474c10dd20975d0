"""Privacy (acceptance 4): no phone, e-mail, RUT or birth date in any prompt, client names as pseudonyms restored in
the UI, ≤ 50 rows seen by the model. Cost control and audit (acceptance 6): cost from configured prices, caps
checked before each call with a negative control, the usage page, the purge."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from app.ai.models import AIQueryLog
from app.ai.policy import cost_milli_clp, price_milli, scrub
from app.extensions import db
from tests.ai.test_chat import CANONICAL


def _forbidden(clients) -> list[str]:
    out = []
    for c in clients:
        out += [c.phone, c.phone.replace("+56", ""), c.email, c.document_id, c.document_id.replace("-", "")]
        out += [c.birth_date.isoformat(), c.birth_date.strftime("%d/%m/%Y"), c.name]
    return out


def test_no_prompt_carries_contact_data_rut_or_birth_date(ai_login, fake_llm, sales_data):
    c = ai_login("gerente")
    clients = sales_data["clients"]
    for question, _, _ in CANONICAL:
        assert c.post("/ventas/ia/preguntar/", data={"pregunta": question}).status_code == 200
    # a question that carries personal data typed by the user
    first = clients[0]
    c.post(
        "/ventas/ia/preguntar/",
        data={"pregunta": f"ventas de {first.email} tel {first.phone} rut {first.document_id} nacido 17/05/1981"},
    )
    c.post(f"/ventas/clientes/{clients[1].id}/sugerencias-ia/")
    c.post("/ventas/ia/campanas/", data={"objetivo": f"reactivar a {first.email} y {first.phone}"})
    assert len(fake_llm.prompts) >= 22
    text = json.dumps(fake_llm.prompts, ensure_ascii=False)
    for value in _forbidden(clients):
        assert value not in text, value
    assert '\\"cliente\\": \\"C1\\"' in text  # pseudonyms reach the model (inside the tool result's JSON)


def test_pseudonyms_are_restored_in_the_ui(ai_login, fake_llm, sales_data):
    html = (
        ai_login("gerente")
        .post("/ventas/ia/preguntar/", data={"pregunta": "top 10 clientes de 2025 por monto pagado"})
        .get_data(as_text=True)
    )
    explanation = html.split('id="ai-explanation">', 1)[1].split("</p>", 1)[0]
    assert "cliente Cliente IA 1" in explanation and "C1" not in explanation


def test_the_model_sees_at_most_50_rows(ai_ctx, fake_llm, make_user, make_client, sales_data):
    from app.ai.services import ask

    ask("clientes inactivos hace 30 días", user=make_user("gerente"))  # warm
    from app.ai.registry import get_template
    from app.ai.services import MODEL_ROWS, Pseudonyms, model_view

    rows = [(i, f"Nombre {i}", None, 1, 100) for i in range(120)]
    view = model_view(
        get_template("clientes_inactivos"),
        ["cliente_id", "cliente", "ultima_visita", "visitas", "gasto"],
        rows,
        Pseudonyms(),
    )
    assert len(view) == MODEL_ROWS == 50
    assert "cliente_id" not in view[0] and view[49]["cliente"] == "C50"


def test_scrub():
    assert scrub("mail ana.perez@example.com, +56 9 8765 4321, 12.345.678-5, 17/05/1980") == (
        "mail [correo], [telefono], [rut], [fecha]"
    )
    assert scrub("top 10 clientes de 2025") == "top 10 clientes de 2025"


def test_cost_from_configured_prices():
    assert price_milli("0.3") == 300 and price_milli("1,1") == 1100 and price_milli("x") == 0
    assert cost_milli_clp(1000, 1000, "0.3", "1.1") == 1400
    assert cost_milli_clp(400, 80, "0.3", "1.1") == 208


def _spend(user_id, milli):
    db.session.add(
        AIQueryLog(
            user_id=user_id,
            kind="chat",
            question="x",
            cost_milli_clp=milli,
            status="ok",
            rows=0,
            duration_ms=0,
            input_tokens=0,
            output_tokens=0,
        )
    )
    db.session.flush()


def test_user_cap_blocks_before_any_call_with_negative_control(ai_app, ai_login, fake_llm, sales_data):
    c = ai_login("gerente")
    user = c.user
    ai_app.config["AI_USER_DAILY_COST_LIMIT_CLP"] = 1
    _spend(user.id, 584)  # below the cap of 1 peso = 1000 thousandths: both calls are made (584 + 2 × 208 = 1000)
    html = c.post("/ventas/ia/preguntar/", data={"pregunta": "ventas por mes de 2025"}).get_data(as_text=True)
    assert fake_llm.calls >= 1 and "ventas_por_mes" in html
    log = db.session.scalars(sa.select(AIQueryLog).order_by(AIQueryLog.id.desc())).first()
    assert log.cost_milli_clp == 416 and log.status == "ok"  # 2 calls × (400 × 0.3 + 80 × 1.1)
    calls = fake_llm.calls
    # now at the cap: no call at all
    resp = c.post("/ventas/ia/preguntar/", data={"pregunta": "ventas por mes de 2025"})
    assert fake_llm.calls == calls
    assert "Se alcanzó el límite diario de uso de IA." in resp.get_data(as_text=True)
    log = db.session.scalars(sa.select(AIQueryLog).order_by(AIQueryLog.id.desc())).first()
    assert log.status == "blocked" and log.input_tokens == 0 and log.cost_milli_clp == 0
    # another user is under their own cap
    other = ai_login("marketing")
    other.post("/ventas/ia/preguntar/", data={"pregunta": "ventas por mes de 2025"})
    assert fake_llm.calls > calls


def test_global_cap_blocks_everyone(ai_app, ai_login, fake_llm, make_user):
    ai_app.config["AI_DAILY_COST_LIMIT_CLP"] = 2
    _spend(make_user("admin").id, 2000)
    html = ai_login("marketing").post("/ventas/ia/preguntar/", data={"pregunta": "afinidad"}).get_data(as_text=True)
    assert "Se alcanzó el límite diario de uso de IA." in html and fake_llm.calls == 0


def test_yesterdays_spend_does_not_count(ai_app, ai_login, fake_llm, freeze_clock, sales_data):
    from app.core import clock

    ai_app.config["AI_USER_DAILY_COST_LIMIT_CLP"] = 1
    c = ai_login("gerente")
    _spend(c.user.id, 5000)
    db.session.execute(sa.update(AIQueryLog).values(created_at=clock.now() - timedelta(days=1)))
    c.post("/ventas/ia/preguntar/", data={"pregunta": "afinidad de servicios"})
    assert fake_llm.calls == 2


def test_usage_page_and_purge(ai_app, ai_login, fake_llm, sales_data):
    from app.ai.jobs import purge_ai_logs
    from app.core import clock

    c = ai_login("gerente")
    c.post("/ventas/ia/preguntar/", data={"pregunta": "afinidad de servicios"})
    html = c.get("/ventas/ia/uso/").get_data(as_text=True)
    assert c.user.username in html and "Uso y costos de IA" in html
    assert '<span id="ai-today-total">0.4</span> de $5.000' in html
    old = AIQueryLog(
        user_id=c.user.id,
        kind="chat",
        question="vieja",
        status="ok",
        rows=0,
        duration_ms=0,
        input_tokens=0,
        output_tokens=0,
        cost_milli_clp=0,
        created_at=clock.now() - timedelta(days=31),
    )
    db.session.add(old)
    db.session.flush()
    assert purge_ai_logs() == "1 registros de IA eliminados"
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(AIQueryLog).where(AIQueryLog.question == "vieja")) == 0
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AIQueryLog)) == 1
