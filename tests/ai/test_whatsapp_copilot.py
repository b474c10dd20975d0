"""The campaign copilot's chosen texts on WhatsApp (ai.md §2, integrations.md §6): the draft offers "Enviar también
por WhatsApp" only when MANYCHAT_API_TOKEN is set (else disabled with a Spanish explanation, and refused if forced);
the Planning campaign then carries the WhatsApp channel with the SMS text; nothing is queued by the copilot."""

from __future__ import annotations

import sqlalchemy as sa

from app.comms.models import CommunicationLog
from app.comms.providers import WHATSAPP_OFF_MESSAGE
from app.crm.models import Campaign
from app.extensions import db


def _copilot_draft(c):
    return c.post("/ventas/ia/campanas/", data={"objetivo": "reactivar clientes con más de 90 días sin visita"})


def test_copilot_draft_offers_whatsapp_only_with_token(ai_app, ai_login, fake_llm, sales_data, monkeypatch):
    monkeypatch.setitem(ai_app.config, "MANYCHAT_API_TOKEN", "")
    c = ai_login("marketing")
    html = _copilot_draft(c).get_data(as_text=True)
    box = html[html.index('id="whatsapp"') - 60 : html.index('id="whatsapp"') + 200]
    assert "disabled" in box and WHATSAPP_OFF_MESSAGE in html
    form = {
        "objetivo": "reactivar",
        "segmento": '{"plantilla": "clientes_inactivos", "parametros": {"dias": 90}}',
        "nombre": "IA por WhatsApp",
        "asunto": "Te extrañamos",
        "cuerpo_email": "Hola {nombre_cliente}",
        "texto_sms": "Hola {nombre_cliente}, vuelve a Aremko: {link}",
        "whatsapp": "y",
    }
    refused = c.post("/ventas/ia/campanas/crear/", data=form)
    assert refused.status_code == 422 and WHATSAPP_OFF_MESSAGE in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(Campaign).where(Campaign.name == "IA por WhatsApp")) is None

    monkeypatch.setitem(ai_app.config, "MANYCHAT_API_TOKEN", "mc-token")
    html = _copilot_draft(c).get_data(as_text=True)
    box = html[html.index('id="whatsapp"') - 60 : html.index('id="whatsapp"') + 200]
    assert "disabled" not in box and WHATSAPP_OFF_MESSAGE not in html
    created = c.post("/ventas/ia/campanas/crear/", data=form)
    assert created.status_code == 303
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.name == "IA por WhatsApp"))
    assert campaign.status == "Planning" and "whatsapp" in campaign.channels
    assert campaign.whatsapp_template == form["texto_sms"]
    # nothing queued by the copilot: sending is the campaign's normal flow
    assert db.session.scalar(sa.select(sa.func.count()).where(CommunicationLog.campaign_id == campaign.id)) == 0
