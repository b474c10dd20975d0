"""Automation endpoints (api.md §6): X-API-KEY, exact shapes and errors, rate limit per key."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app import create_app
from app.comms.models import CommunicationLog
from app.crm.models import Activity, CampaignInteraction, Contact
from tests.conftest import make_test_config

KEY = "clave-automatizacion-de-prueba"
H = {"X-API-KEY": KEY}


@pytest.fixture
def api(app, client, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "AUTOMATION_API_KEY", KEY)
    return client


@pytest.fixture
def campaign(make_campaign, crm_now):
    from datetime import date

    return make_campaign(
        name="Primavera",
        goal="Reactivar",
        start_date=date(2026, 3, 1),
        end_date=date(2026, 3, 31),
        whatsapp_template="Hola {nombre_cliente}",
    )


def test_disabled_and_bad_key(app, client, db_session, campaign, monkeypatch):
    monkeypatch.setitem(app.config, "AUTOMATION_API_KEY", None)
    urls = [f"/ventas/api/campaigns/{campaign.id}/details/", f"/ventas/api/campaigns/{campaign.id}/targets/"]
    for url in urls:
        resp = client.get(url, headers=H)
        assert resp.status_code == 503 and resp.get_json() == {"error": "Automation API disabled."}
    assert client.post("/ventas/api/activities/log/", json={}, headers=H).status_code == 503
    monkeypatch.setitem(app.config, "AUTOMATION_API_KEY", KEY)
    for headers in ({}, {"X-API-KEY": "otra"}, {"Authorization": f"Bearer {KEY}"}):
        for url in urls:
            resp = client.get(url, headers=headers)
            assert resp.status_code == 401 and resp.get_json() == {"error": "Authentication required."}
        assert client.post("/ventas/api/interactions/log/", json={}, headers=headers).status_code == 401


def test_campaign_details(api, campaign):
    resp = api.get(f"/ventas/api/campaigns/{campaign.id}/details/", headers=H)
    assert resp.status_code == 200
    assert resp.get_json() == {
        "id": campaign.id,
        "name": "Primavera",
        "status": "Planning",
        "goal": "Reactivar",
        "start_date": "2026-03-01",
        "end_date": "2026-03-31",
        "email_subject_template": "Promo para {nombre_cliente}",
        "email_body_template": "Hola {nombre_cliente} {apellido_cliente}: {link}",
        "sms_template": "Hola {nombre_cliente}, promo en {link}",
        "whatsapp_template": "Hola {nombre_cliente}",
    }
    assert list(resp.get_json()) == [
        "id",
        "name",
        "status",
        "goal",
        "start_date",
        "end_date",
        "email_subject_template",
        "email_body_template",
        "sms_template",
        "whatsapp_template",
    ]
    missing = api.get("/ventas/api/campaigns/999999/details/", headers=H)
    assert missing.status_code == 404 and missing.get_json() == {"error": "Campaign not found."}


def test_campaign_targets(api, make_campaign, make_client, db_session, crm_now):
    from app.clients.services import set_consents
    from app.crm.services import add_targets, client_ids_select

    both = make_client(name="Ana María Soto", marketing_consent=True)
    email_only = make_client(name="Bea", marketing_consent=True)
    set_consents(email_only, {"accepts_sms": False, "accepts_whatsapp": False}, source="staff")
    nobody = make_client(name="Cata", marketing_consent=False)
    campaign = make_campaign(audience_source="lista")
    add_targets(campaign, client_ids_select([both.id, email_only.id, nobody.id]), source="manual")
    body = api.get(f"/ventas/api/campaigns/{campaign.id}/targets/", headers=H).get_json()
    assert (body["campaign_id"], body["count"], body["page"], body["page_size"], body["next"]) == (
        campaign.id,
        2,
        1,
        100,
        None,
    )
    first = body["targets"][0]
    assert first == {
        "id": both.id,
        "nombre": "Ana",
        "apellido": "María Soto",
        "email": both.email,
        "telefono": both.phone,
        "acepta_sms": True,
        "acepta_email": True,
        "acepta_whatsapp": True,
    }
    second = body["targets"][1]
    assert (second["id"], second["telefono"], second["email"], second["acepta_sms"]) == (
        email_only.id,
        None,
        email_only.email,
        False,
    )
    sms = api.get(f"/ventas/api/campaigns/{campaign.id}/targets/?canal=sms", headers=H).get_json()
    assert [t["id"] for t in sms["targets"]] == [both.id]
    paged = api.get(f"/ventas/api/campaigns/{campaign.id}/targets/?page_size=1", headers=H).get_json()
    assert paged["count"] == 2 and len(paged["targets"]) == 1 and "page=2" in paged["next"]
    assert api.get(f"/ventas/api/campaigns/{campaign.id}/targets/?canal=fax", headers=H).status_code == 400
    assert api.get("/ventas/api/campaigns/999999/targets/", headers=H).status_code == 404


def test_activity_log_by_client_inserts_sent_promotional(api, campaign, make_client, db_session):
    client = make_client(name="Rosa Díaz", marketing_consent=True)
    resp = api.post(
        "/ventas/api/activities/log/",
        headers=H,
        json={
            "contact_identifier_type": "cliente_id",
            "contact_identifier": client.id,
            "campaign_id": campaign.id,
            "activity_type": "SMS Sent",
            "subject": "Promo primavera",
            "notes": "enviado por n8n",
        },
    )
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["success"] is True and list(body) == ["success", "activity_id"]
    activity = db_session.get(Activity, body["activity_id"])
    contact = db_session.scalar(sa.select(Contact).where(Contact.client_id == client.id))
    assert activity.related_contact_id == contact.id and activity.campaign_id == campaign.id
    assert activity.notes == "(Logged via API) enviado por n8n"
    log = db_session.scalar(
        sa.select(CommunicationLog).where(CommunicationLog.idempotency_key == f"n8n:activity:{activity.id}")
    )
    assert (
        log.status,
        log.message_type,
        log.communication_type,
        log.triggered_by,
        log.client_id,
        log.campaign_id,
        log.destination,
    ) == ("SENT", "PROMOTIONAL", "SMS", "n8n", client.id, campaign.id, client.phone)
    # by phone (any format) and e-mail resolve to the same contact; a Note does not log a message
    for kind, ident in (("phone", client.phone[3:]), ("email", client.email.upper())):
        resp = api.post(
            "/ventas/api/activities/log/",
            headers=H,
            json={
                "contact_identifier_type": kind,
                "contact_identifier": ident,
                "campaign_id": campaign.id,
                "activity_type": "Note Added",
                "subject": "nota",
            },
        )
        assert resp.status_code == 201
        assert db_session.get(Activity, resp.get_json()["activity_id"]).related_contact_id == contact.id
    assert db_session.scalar(sa.select(sa.func.count()).select_from(CommunicationLog)) == 1


@pytest.mark.parametrize(
    "payload, status, error",
    [
        (
            {"contact_identifier_type": "email", "contact_identifier": "x@example.com", "activity_type": "Call"},
            400,
            "Missing required fields: campaign_id, subject",
        ),
        (
            {
                "contact_identifier_type": "fax",
                "contact_identifier": "1",
                "campaign_id": "C",
                "activity_type": "Call",
                "subject": "s",
            },
            400,
            "Invalid contact_identifier_type. Use email, phone, cliente_id or contact_id.",
        ),
        (
            {
                "contact_identifier_type": "email",
                "contact_identifier": "x@example.com",
                "campaign_id": "C",
                "activity_type": "Poke",
                "subject": "s",
            },
            400,
            "Invalid activity_type. Valid types are: Call, Email Sent, Email Received, Meeting, Note Added, "
            "Status Change, "
            "Campaign Initiation, SMS Sent, SMS Failed, Email Failed, WhatsApp Sent, WhatsApp Failed, Other",
        ),
        (
            {
                "contact_identifier_type": "email",
                "contact_identifier": "x@example.com",
                "campaign_id": 999999,
                "activity_type": "Call",
                "subject": "s",
            },
            404,
            "Campaign not found.",
        ),
        (
            {
                "contact_identifier_type": "email",
                "contact_identifier": "nadie@example.com",
                "campaign_id": "C",
                "activity_type": "Call",
                "subject": "s",
            },
            404,
            "Contact not found.",
        ),
        (
            {
                "contact_identifier_type": "contact_id",
                "contact_identifier": "abc",
                "campaign_id": "C",
                "activity_type": "Call",
                "subject": "s",
            },
            404,
            "Contact not found.",
        ),
        (
            {
                "contact_identifier_type": "phone",
                "contact_identifier": "123",
                "campaign_id": "C",
                "activity_type": "Call",
                "subject": "s",
            },
            404,
            "Contact not found.",
        ),
    ],
)
def test_activity_log_errors(api, campaign, db_session, payload, status, error):
    payload = {k: (campaign.id if v == "C" else v) for k, v in payload.items()}
    resp = api.post("/ventas/api/activities/log/", headers=H, json=payload)
    assert resp.status_code == status and resp.get_json() == {"error": error}
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Activity)) == 0


def test_multiple_contacts_and_bad_json(api, campaign, make_client, db_session):
    make_client(email="dup@example.com")
    make_client(email="dup@example.com")
    resp = api.post(
        "/ventas/api/activities/log/",
        headers=H,
        json={
            "contact_identifier_type": "email",
            "contact_identifier": "dup@example.com",
            "campaign_id": campaign.id,
            "activity_type": "Call",
            "subject": "s",
        },
    )
    assert resp.status_code == 400 and resp.get_json() == {"error": "Multiple contacts found for identifier."}
    bad = api.post("/ventas/api/activities/log/", headers={**H, "Content-Type": "application/json"}, data="{x")
    assert bad.status_code == 400 and "error" in bad.get_json()
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0


def test_interaction_log(api, campaign, make_client, db_session):
    contact = Contact(first_name="Lola", email="lola@example.com")
    db_session.add(contact)
    db_session.flush()
    resp = api.post(
        "/ventas/api/interactions/log/",
        headers=H,
        json={
            "contact_identifier_type": "contact_id",
            "contact_identifier": str(contact.id),
            "campaign_id": campaign.id,
            "interaction_type": "EMAIL_CLICK",
            "timestamp": "2026-03-01T12:00:00-03:00",
            "details": {"url": "x"},
            "activity_id": 999999,
        },
    )
    assert resp.status_code == 201 and list(resp.get_json()) == ["success", "interaction_id"]
    row = db_session.get(CampaignInteraction, resp.get_json()["interaction_id"])
    assert (row.contact_id, row.campaign_id, row.activity_id, row.details) == (
        contact.id,
        campaign.id,
        None,
        {"url": "x"},
    )
    assert row.timestamp.isoformat() == "2026-03-01T15:00:00+00:00"
    now = api.post(
        "/ventas/api/interactions/log/",
        headers=H,
        json={
            "contact_identifier_type": "email",
            "contact_identifier": "lola@example.com",
            "campaign_id": campaign.id,
            "interaction_type": "OTHER",
            "timestamp": "ayer",
        },
    )
    assert now.status_code == 201
    bad_type = api.post(
        "/ventas/api/interactions/log/",
        headers=H,
        json={
            "contact_identifier_type": "email",
            "contact_identifier": "lola@example.com",
            "campaign_id": campaign.id,
            "interaction_type": "LIKE",
        },
    )
    assert bad_type.status_code == 400 and bad_type.get_json() == {
        "error": (
            "Invalid interaction_type. Valid types are: EMAIL_OPEN, EMAIL_CLICK, SMS_REPLY, WHATSAPP_REPLY, "
            "CALL_ANSWERED, CALL_VOICEMAIL, FORM_SUBMIT, OTHER"
        )
    }
    bad_details = api.post(
        "/ventas/api/interactions/log/",
        headers=H,
        json={
            "contact_identifier_type": "email",
            "contact_identifier": "lola@example.com",
            "campaign_id": campaign.id,
            "interaction_type": "OTHER",
            "details": [1],
        },
    )
    assert bad_details.status_code == 400 and bad_details.get_json() == {"error": "details must be a JSON object."}


def test_rate_limit_per_key(db_session, campaign):
    from app.extensions import limiter

    application = create_app(make_test_config(RATELIMIT_ENABLED=True, AUTOMATION_API_KEY=KEY))
    try:
        c = application.test_client()
        url = f"/ventas/api/campaigns/{campaign.id}/details/"
        statuses = [c.get(url, headers=H).status_code for _ in range(121)]
        assert statuses[:120] == [200] * 120 and statuses[120] == 429
        assert c.get(url, headers=H).get_json()["error"] == "Demasiadas solicitudes. Intente nuevamente en un minuto."
        assert c.get(url, headers={"X-API-KEY": "otra-clave"}).status_code == 401  # another key: own budget
    finally:
        limiter.reset()
        limiter.enabled = False
