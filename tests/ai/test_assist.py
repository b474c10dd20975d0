"""Next best offer and the campaign copilot (ai.md §2, acceptance 5): rules pick, the model writes; nothing queued
without a person's action; what is queued passes the gatekeeper."""

from __future__ import annotations

import sqlalchemy as sa

from app.ai.models import AIQueryLog
from app.clients.models import ClientPreferences
from app.comms.models import CommunicationLog
from app.crm.models import Campaign, CampaignTarget
from app.extensions import db


def _outbox_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(CommunicationLog))


def test_offers_by_rule_texts_by_the_model_nothing_queued(ai_login, fake_llm, sales_data):
    c = ai_login("marketing")
    client = sales_data["clients"][1]  # two Saturday tub visits and a massage, never a cabin
    card = c.get(f"/ventas/clientes/{client.id}/sugerencias-ia/", headers={"HX-Request": "true"})
    assert card.status_code == 200 and "Generar sugerencias" in card.get_data(as_text=True)
    assert fake_llm.calls == 0  # loading the card calls nobody
    html = c.post(f"/ventas/clientes/{client.id}/sugerencias-ia/", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert "Cabaña IA" in html and "horario valle" in html.lower()
    assert "Enviar SMS" in html and "Usar en campaña" in html
    assert "Cliente" in html and "C1" not in html  # pseudonym restored
    assert _outbox_count() == 0
    log = db.session.scalars(sa.select(AIQueryLog).order_by(AIQueryLog.id.desc())).first()
    assert log.kind == "nbo" and log.rows == 2 and log.cost_milli_clp == 208
    prompt = fake_llm.prompts[-1][-1]["content"]
    assert "C1" in prompt and client.name not in prompt and client.phone not in prompt


def test_client_page_loads_the_card_only_when_enabled(ai_login, login, sales_data):
    client = sales_data["clients"][0]
    assert "sugerencias-ia" in ai_login("gerente").get(f"/ventas/clientes/{client.id}/").get_data(as_text=True)
    assert "sugerencias-ia" not in ai_login("recepcion").get(f"/ventas/clientes/{client.id}/").get_data(as_text=True)
    assert "sugerencias-ia" not in login("gerente").get(f"/ventas/clientes/{client.id}/").get_data(as_text=True)


def test_send_sms_is_one_promotional_row_through_the_gatekeeper(ai_login, fake_llm, sales_data):
    from app.comms.dispatch_services import dispatch_outbox

    c = ai_login("marketing")
    ok, refused = sales_data["clients"][1], sales_data["clients"][0]
    db.session.execute(
        sa.update(ClientPreferences).where(ClientPreferences.client_id == refused.id).values(accepts_promotional=False)
    )
    for client in (ok, refused):
        resp = c.post(
            f"/ventas/clientes/{client.id}/sugerencias-ia/sms/",
            data={"texto": "Aremko: te esperamos en la Cabaña IA.", "log_id": "7", "oferta": "1"},
            headers={"HX-Request": "true"},
        )
        assert resp.status_code == 200 and "SMS en cola" in resp.get_data(as_text=True)
    again = c.post(
        f"/ventas/clientes/{ok.id}/sugerencias-ia/sms/", data={"texto": "x", "log_id": "7", "oferta": "1"}
    ).get_data(as_text=True)
    assert "ya estaba en cola" in again
    rows = db.session.scalars(sa.select(CommunicationLog).order_by(CommunicationLog.id)).all()
    assert [(r.message_type, r.communication_type, r.status) for r in rows] == [("PROMOTIONAL", "SMS", "PENDING")] * 2
    dispatch_outbox()
    db.session.expire_all()
    by_client = {r.client_id: r for r in db.session.scalars(sa.select(CommunicationLog)).all()}
    assert by_client[ok.id].status == "SENT"
    assert "te esperamos en la Cabaña IA" in by_client[ok.id].content
    assert (by_client[refused.id].status, by_client[refused.id].reason) == ("BLOCKED", "no_type_consent")


def test_offer_sms_waits_for_quiet_hours_and_the_caps(ai_login, fake_llm, sales_data):
    """Acceptance 5: the offer's SMS is a marketing row like any other — outside the contact window it waits, and a
    client at the daily SMS cap is deferred, while a client under it is sent (negative control)."""
    from datetime import datetime, timedelta

    from app.comms.dispatch_services import dispatch_outbox
    from app.core import clock
    from app.core.clock import LOCAL_TZ

    c = ai_login("marketing")
    free, capped = sales_data["clients"][1], sales_data["clients"][2]
    now = clock.now()
    for n in range(2):  # two promotional SMS already sent to `capped` today (daily cap 2)
        db.session.add(
            CommunicationLog(
                client_id=capped.id,
                communication_type="SMS",
                message_type="PROMOTIONAL",
                status="SENT",
                destination=capped.phone,
                idempotency_key=f"test:promo:{capped.id}:{n}",
                sent_at=now - timedelta(hours=n + 1),
                not_before=now - timedelta(hours=n + 1),
                triggered_by="test",
            )
        )
    db.session.flush()
    for client in (free, capped):
        c.post(
            f"/ventas/clientes/{client.id}/sugerencias-ia/sms/",
            data={"texto": "Aremko: te esperamos.", "log_id": "9", "oferta": "1"},
            headers={"HX-Request": "true"},
        )
    key = "ai:nbo:9:client:{}:1:SMS"

    def row(client):
        db.session.expire_all()
        return db.session.scalar(
            sa.select(CommunicationLog).where(CommunicationLog.idempotency_key == key.format(client.id))
        )

    clock.freeze(datetime(2026, 3, 4, 22, 30, tzinfo=LOCAL_TZ))  # after the 09:00–20:00 window
    dispatch_outbox()
    assert (row(free).status, row(free).reason) == ("PENDING", "quiet_hours")
    clock.freeze(datetime(2026, 3, 4, 16, 0, tzinfo=LOCAL_TZ))  # back inside the window, same day
    db.session.execute(
        sa.update(CommunicationLog).values(not_before=clock.now()).where(CommunicationLog.status == "PENDING")
    )
    dispatch_outbox()
    assert row(free).status == "SENT"
    assert (row(capped).status, row(capped).reason) == ("PENDING", "cap_sms_daily")


def test_empty_sms_is_422(ai_login, sales_data):
    resp = ai_login("gerente").post(
        f"/ventas/clientes/{sales_data['clients'][0].id}/sugerencias-ia/sms/", data={"texto": " "}
    )
    assert resp.status_code == 422 and "obligatorio" in resp.get_data(as_text=True)
    assert _outbox_count() == 0


def test_use_in_campaign_creates_a_planning_list_campaign(ai_login, sales_data):
    client = sales_data["clients"][1]
    resp = ai_login("marketing").post(
        f"/ventas/clientes/{client.id}/sugerencias-ia/campana/",
        data={"servicio": "Cabaña IA", "sms": "Aremko: Cliente, ven a la Cabaña IA", "email": "Hola Cliente"},
    )
    assert resp.status_code == 303
    campaign = db.session.scalars(sa.select(Campaign)).one()
    assert campaign.status == "Planning" and campaign.audience_source == "lista"
    assert campaign.sms_template == "Aremko: {nombre_cliente}, ven a la Cabaña IA"
    assert db.session.scalars(sa.select(CampaignTarget.client_id)).all() == [client.id]
    assert _outbox_count() == 0


OBJECTIVE = "reactivar clientes con más de 90 días sin visita"


def test_copilot_drafts_and_previews_exclusions_per_reason(ai_login, fake_llm, sales_data):
    c1, c2, c3 = sales_data["clients"][:3]
    db.session.execute(
        sa.update(ClientPreferences).where(ClientPreferences.client_id == c2.id).values(accepts_promotional=False)
    )
    db.session.execute(
        sa.update(ClientPreferences).where(ClientPreferences.client_id == c3.id).values(accepts_sms=False)
    )
    c = ai_login("marketing")
    resp = c.post("/ventas/ia/campanas/", data={"objetivo": OBJECTIVE}, headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "clientes_inactivos" in html and "Te extrañamos en Aremko" in html
    assert "Audiencia: <strong>3</strong>" in html
    sms = html.split('id="ai-exclusions-sms"', 1)[1].split("</table>", 1)[0]
    email = html.split('id="ai-exclusions-email"', 1)[1].split("</table>", 1)[0]
    assert 'Sin consentimiento del canal</th><td class="text-end">1<' in sms.replace("\n", "")
    assert 'Sin consentimiento para promociones</th><td class="text-end">1<' in sms.replace("\n", "")
    assert 'Sin consentimiento para promociones</th><td class="text-end">1<' in email.replace("\n", "")
    # nothing stays from the preview, nothing queued
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0
    assert _outbox_count() == 0
    log = db.session.scalars(sa.select(AIQueryLog).order_by(AIQueryLog.id.desc())).first()
    assert log.kind == "copilot" and log.status == "ok" and log.template == "clientes_inactivos"


def test_copilot_creates_a_planning_campaign_only_on_click(ai_login, fake_llm, sales_data):
    c = ai_login("marketing")
    resp = c.post(
        "/ventas/ia/campanas/crear/",
        data={
            "objetivo": OBJECTIVE,
            "segmento": '{"plantilla": "clientes_inactivos", "parametros": {"dias": 90}}',
            "nombre": "Reactivación marzo",
            "asunto": "Te extrañamos",
            "cuerpo_email": "Hola {nombre_cliente}",
            "texto_sms": "Aremko te espera",
        },
    )
    assert resp.status_code == 303
    campaign = db.session.scalars(sa.select(Campaign)).one()
    assert (campaign.name, campaign.status, campaign.audience_source) == ("Reactivación marzo", "Planning", "lista")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CampaignTarget)) == 3
    assert _outbox_count() == 0 and fake_llm.calls == 0


def test_copilot_refuses_bad_segment_or_placeholder(ai_login, fake_llm, sales_data):
    c = ai_login("marketing")
    base = {"objetivo": OBJECTIVE, "nombre": "X", "asunto": "a", "cuerpo_email": "b", "texto_sms": "c"}
    bad = c.post("/ventas/ia/campanas/crear/", data={**base, "segmento": '{"segmentos": ["no_existe"]}'})
    assert bad.status_code == 422 and "Segmento desconocido." in bad.get_data(as_text=True)
    bad = c.post(
        "/ventas/ia/campanas/crear/",
        data={**base, "segmento": '{"segmentos": ["vip_high_spend"]}', "cuerpo_email": "Hola {telefono}"},
    )
    assert bad.status_code == 422 and "Variable desconocida" in bad.get_data(as_text=True)
    bad = c.post("/ventas/ia/campanas/crear/", data={**base, "segmento": "DROP TABLE"})
    assert bad.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0


def test_copilot_with_an_unreadable_model_answer(ai_login, fake_llm, sales_data):
    from app.ai.llm import LLMResult

    fake_llm.script = [LLMResult(text="no es json", input_tokens=10, output_tokens=5)]
    resp = ai_login("marketing").post("/ventas/ia/campanas/", data={"objetivo": OBJECTIVE})
    assert resp.status_code == 422 and "borrador válido" in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0
