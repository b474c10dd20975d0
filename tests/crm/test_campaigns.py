"""Campaign screens and sending (crm.md §9): form and placeholders, preview reasons, idempotent send, cancel,
scheduler, ROI figures recomputed independently here."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.clients.models import Suppression
from app.clients.services import set_consents
from app.comms.models import CommunicationLog
from app.core import clock
from app.core.clock import LOCAL_TZ
from app.crm import sending_services as sending
from app.crm.models import Campaign, Deal, Lead
from app.sales.models import Order

HX = {"HX-Request": "true"}


@pytest.fixture
def audience(db_session, make_client, crm_now):
    """Five clients covering each exclusion reason plus two fully eligible ones."""
    ok1 = make_client(name="Ana Ok", marketing_consent=True)
    ok2 = make_client(name="Bea Ok", marketing_consent=True)
    landline = make_client(name="Carla Fija", phone="+56221234567", email=None, marketing_consent=True)
    no_promo = make_client(name="Dora SinPromo", marketing_consent=False)
    no_sms = make_client(name="Eva SinSms", marketing_consent=True)
    set_consents(no_sms, {"accepts_sms": False}, source="staff")
    suppressed = make_client(name="Fina Suprimida", marketing_consent=True)
    db_session.add(Suppression(channel="email", destination=suppressed.email, reason="manual"))
    db_session.flush()
    return {"ok": [ok1, ok2], "landline": landline, "no_promo": no_promo, "no_sms": no_sms, "suppressed": suppressed}


def _lista(make_campaign, clients, **kw):
    from app.crm.services import add_targets, client_ids_select

    campaign = make_campaign(audience_source="lista", **kw)
    add_targets(campaign, client_ids_select([c.id for c in clients]), source="manual")
    return campaign


def _all(a):
    return [*a["ok"], a["landline"], a["no_promo"], a["no_sms"], a["suppressed"]]


def test_campaign_form_create_edit_and_placeholder_error(login, db_session):
    c = login("marketing")
    assert c.get("/ventas/campanas/nueva/").status_code == 200
    assert c.get("/ventas/admin/campaign/setup/").status_code == 200
    bad = c.post(
        "/ventas/campanas/nueva/",
        data={"name": "Otoño", "audience_source": "reglas", "sms_template": "Hola {nombre}", "budget": "0"},
    )
    assert bad.status_code == 422 and "Variable desconocida: {nombre}." in bad.text
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0
    ok = c.post(
        "/ventas/campanas/nueva/",
        data={
            "name": "Otoño",
            "audience_source": "reglas",
            "sms_template": "Hola {nombre_cliente}: {link}",
            "budget": "50000",
            "channels": ["sms"],
            "target_segments": ["vip_high_spend"],
            "target_min_visits": "2",
        },
    )
    assert ok.status_code == 303
    campaign = db_session.scalar(sa.select(Campaign).where(Campaign.name == "Otoño"))
    assert (
        campaign.budget,
        campaign.channels,
        campaign.target_segments,
        campaign.target_min_visits,
        campaign.status,
    ) == (50000, ["sms"], ["vip_high_spend"], 2, "Planning")
    for url in (f"/ventas/campanas/{campaign.id}/editar/", f"/ventas/admin/campaign/setup/{campaign.id}/"):
        page = c.get(url)
        assert page.status_code == 200 and 'value="Otoño"' in page.text
    dup = c.post("/ventas/campanas/nueva/", data={"name": "Otoño", "audience_source": "reglas"})
    assert dup.status_code == 422 and "Ya existe una campaña con ese nombre." in dup.text
    assert c.get("/ventas/campanas/999999/editar/").status_code == 404
    assert c.get("/ventas/campanas/").status_code == 200


def test_detail_full_page_and_targets_fragment(login, make_campaign, make_client):
    campaign = _lista(make_campaign, [make_client(name="Zoe Target")])
    c = login("gerente")
    page = c.get(f"/ventas/campanas/{campaign.id}/")
    assert page.status_code == 200 and 'id="roi"' in page.text and "Zoe Target" in page.text
    fragment = c.get(f"/ventas/campanas/{campaign.id}/?bloque=targets", headers=HX)
    assert fragment.text.lstrip().startswith('<section id="campaign-targets"') and 'id="roi"' not in fragment.text
    assert c.get("/ventas/campanas/999999/").status_code == 404


def test_preview_reasons(login, make_campaign, audience, db_session):
    campaign = _lista(make_campaign, _all(audience))
    preview = sending.__dict__  # noqa: F841 (module imported for its hooks)
    from app.crm.audience_queries import preview as compute

    p = compute(campaign)
    assert p["size"] == 6
    sms, email = p["channels"]["sms"], p["channels"]["email"]
    assert sms["eligible"] == 3  # ok1, ok2, suppressed-by-email-only
    assert sms["excluded"]["sin_telefono_movil"] == 1 and sms["excluded"]["sin_consentimiento_canal"] == 1
    assert sms["excluded"]["sin_consentimiento_promociones"] == 1
    assert email["eligible"] == 3  # ok1, ok2, no_sms
    assert email["excluded"]["sin_email"] == 1 and email["excluded"]["suprimido"] == 1
    assert email["excluded"]["sin_consentimiento_promociones"] == 1
    c = login("marketing")
    full = c.get(f"/ventas/campanas/{campaign.id}/audiencia/")
    assert full.status_code == 200 and 'id="eligible-sms">3<' in full.text
    frag = c.get(f"/ventas/campanas/{campaign.id}/audiencia/?canal=email&motivo=suprimido", headers=HX)
    assert frag.text.lstrip().startswith('<div id="audience"')
    assert f'id="audience-client-{audience["suppressed"].id}"' in frag.text
    assert f'id="audience-client-{audience["ok"][0].id}"' not in frag.text


def test_preview_counts_cap_deferrals(make_campaign, audience, db_session):
    campaign = _lista(make_campaign, audience["ok"], channels=["email"])
    now = clock.now()
    db_session.add(
        CommunicationLog(
            client_id=audience["ok"][0].id,
            communication_type="EMAIL",
            message_type="NEWSLETTER",
            status="SENT",
            sent_at=now - timedelta(hours=1),
            idempotency_key="x:1",
            triggered_by="test",
        )
    )
    db_session.flush()
    from app.crm.audience_queries import preview as compute

    email = compute(campaign)["channels"]["email"]
    assert email["eligible"] == 2 and email["excluded"]["se_diferira_por_tope"] == 1


def _rows(db_session, campaign):
    return db_session.execute(
        sa.select(CommunicationLog.idempotency_key, CommunicationLog.status).where(
            CommunicationLog.campaign_id == campaign.id
        )
    ).all()


def test_send_confirm_then_queue_idempotent(login, make_campaign, audience, db_session):
    campaign = _lista(make_campaign, _all(audience))
    c = login("marketing")
    confirm = c.post(f"/ventas/campanas/{campaign.id}/enviar/", data={"cuando": "ahora"})
    assert confirm.status_code == 200 and "Se encolarán 6 mensajes" in confirm.text
    assert _rows(db_session, campaign) == []
    sent = c.post(f"/ventas/campanas/{campaign.id}/enviar/", data={"cuando": "ahora", "confirmar": "1"})
    assert sent.status_code == 303
    rows = _rows(db_session, campaign)
    keys = {k for k, _ in rows}
    ok1 = audience["ok"][0]
    assert len(rows) == 6 and f"campaign:{campaign.id}:client:{ok1.id}:sms" in keys
    assert f"campaign:{campaign.id}:client:{ok1.id}:email" in keys
    assert {s for _, s in rows} == {"PENDING"}
    db_session.refresh(campaign)
    assert campaign.status == "Active" and campaign.sent_at is not None
    again = c.post(f"/ventas/campanas/{campaign.id}/enviar/", data={"cuando": "ahora"})
    assert "Se encolarán 0 mensajes" in again.text
    c.post(f"/ventas/campanas/{campaign.id}/enviar/", data={"cuando": "ahora", "confirmar": "1"})
    assert len(_rows(db_session, campaign)) == 6  # re-sending never duplicates
    row = db_session.scalar(
        sa.select(CommunicationLog).where(
            CommunicationLog.idempotency_key == f"campaign:{campaign.id}:client:{ok1.id}:sms"
        )
    )
    assert row.message_type == "PROMOTIONAL" and row.destination == ok1.phone and row.triggered_by == "campaign"


def test_promotional_renderer_and_dispatch(make_campaign, audience, db_session):
    """The dispatcher sends campaign rows with the campaign text per client, and blocks rows of a campaign
    cancelled meanwhile (relevance hook)."""
    from app.comms.dispatch_services import dispatch_outbox
    from app.comms.models import FakeMessage

    campaign = _lista(make_campaign, audience["ok"])
    other = _lista(make_campaign, audience["ok"], channels=["sms"], sms_template="Otra {nombre_cliente}")
    sending.send_campaign(campaign)
    sending.send_campaign(other)
    row = db_session.scalar(
        sa.select(CommunicationLog).where(
            CommunicationLog.idempotency_key == f"campaign:{campaign.id}:client:{audience['ok'][0].id}:sms"
        )
    )
    text = sending.render_promotional(row).text
    assert text.startswith("Hola Ana, promo en http://127.0.0.1:5000/ Baja: ") and text.endswith("responde STOP")
    assert row.expires_at == clock.now() + timedelta(days=7)
    other.status = "Cancelled"
    db_session.commit()
    result = dispatch_outbox()
    assert result.sent == 4
    sms = db_session.scalars(sa.select(FakeMessage.text).where(FakeMessage.channel == "SMS")).all()
    assert sorted(t.split(" Baja:")[0] for t in sms) == [
        "Hola Ana, promo en http://127.0.0.1:5000/",
        "Hola Bea, promo en http://127.0.0.1:5000/",
    ]
    blocked = db_session.execute(
        sa.select(CommunicationLog.status, CommunicationLog.reason).where(CommunicationLog.campaign_id == other.id)
    ).all()
    assert blocked == [("BLOCKED", "campaign_cancelled")] * 2


def test_send_errors_and_scheduled(login, make_campaign, audience, db_session):
    c = login("admin")
    closed = make_campaign(status="Completed")
    resp = c.post(f"/ventas/campanas/{closed.id}/enviar/", data={"cuando": "ahora"})
    assert resp.status_code == 409 and "no se puede enviar" in resp.text
    campaign = _lista(make_campaign, audience["ok"])
    past = c.post(
        f"/ventas/campanas/{campaign.id}/enviar/",
        data={"cuando": "programado", "fecha_hora": "2026-03-01T10:00", "confirmar": "1"},
    )
    assert past.status_code == 422 and "debe ser futura" in past.text
    bad = c.post(f"/ventas/campanas/{campaign.id}/enviar/", data={"cuando": "programado", "fecha_hora": "x"})
    assert bad.status_code == 422
    ok = c.post(
        f"/ventas/campanas/{campaign.id}/enviar/",
        data={"cuando": "programado", "fecha_hora": "2026-03-02T12:00", "confirmar": "1"},
    )
    assert ok.status_code == 303 and _rows(db_session, campaign) == []
    db_session.refresh(campaign)
    assert campaign.status == "Active"
    assert campaign.scheduled_at == datetime(2026, 3, 2, 12, 0, tzinfo=LOCAL_TZ)
    assert "0 campañas programadas" in sending.run_scheduler()
    clock.freeze(datetime(2026, 3, 2, 12, 1, tzinfo=LOCAL_TZ))
    assert "1 campañas programadas encoladas (4 mensajes)" in sending.run_scheduler()
    assert len(_rows(db_session, campaign)) == 4 and campaign.scheduled_at is None


def test_scheduler_completes_finished_campaigns(make_campaign, audience, db_session):
    done = _lista(make_campaign, audience["ok"], end_date=date(2026, 3, 1))
    busy = _lista(make_campaign, audience["ok"], end_date=date(2026, 3, 1))
    for campaign in (done, busy):
        campaign.status = "Active"
    sending.queue_campaign(busy)
    db_session.flush()
    sending.run_scheduler()
    assert done.status == "Completed" and busy.status == "Active"


def test_cancel_send_blocks_pending(login, make_campaign, audience, db_session):
    campaign = _lista(make_campaign, audience["ok"])
    sending.send_campaign(campaign)
    first = db_session.scalars(sa.select(CommunicationLog).where(CommunicationLog.campaign_id == campaign.id)).first()
    first.status, first.sent_at = "SENT", clock.now()
    db_session.commit()
    resp = login("marketing").post(f"/ventas/campanas/{campaign.id}/cancelar-envio/")
    assert resp.status_code == 303
    statuses = sorted(
        (s, r)
        for _, s in _rows(db_session, campaign)
        for r in [db_session.scalar(sa.select(CommunicationLog.reason).where(CommunicationLog.idempotency_key == _))]
    )
    assert statuses == [("BLOCKED", "campaign_cancelled")] * 3 + [("SENT", None)]
    db_session.refresh(campaign)
    assert campaign.status == "Cancelled"
    assert sending._campaign_relevance(first) == "campaign_cancelled"


def test_test_send(login, make_campaign, db_session):
    campaign = make_campaign()
    c = login("marketing")
    assert c.post(f"/ventas/campanas/{campaign.id}/prueba/", data={"destino": "9 8765 4321"}).status_code == 303
    assert c.post(f"/ventas/campanas/{campaign.id}/prueba/", data={"destino": "yo@example.com"}).status_code == 303
    rows = db_session.scalars(sa.select(CommunicationLog).where(CommunicationLog.message_type == "OTHER")).all()
    assert {(r.communication_type, r.destination) for r in rows} == {
        ("SMS", "+56987654321"),
        ("EMAIL", "yo@example.com"),
    }
    sms = next(r for r in rows if r.communication_type == "SMS")
    assert sms.payload["text"].startswith("Hola Nombre, promo en http")
    c.post(f"/ventas/campanas/{campaign.id}/prueba/", data={"destino": "2 2123 4567"})
    with c.session_transaction() as sess:
        assert any("celular válido" in m for _, m in sess.get("_flashes", []))


def test_roi_figures(login, make_campaign, audience, db_session, make_client):
    """Recomputed here by hand: 2 SMS sent (cost 12 each), 1 e-mail delivered, 1 blocked, 1 failed; orders of
    recipients inside the window count, others not."""
    campaign = _lista(make_campaign, audience["ok"], budget=10000)
    ok1, ok2 = audience["ok"]
    now = clock.now()

    def log(client, channel, status, key, sent_at=None, cost=0):
        db_session.add(
            CommunicationLog(
                client_id=client.id,
                campaign_id=campaign.id,
                communication_type=channel,
                message_type="PROMOTIONAL",
                status=status,
                sent_at=sent_at,
                cost=cost,
                idempotency_key=key,
                triggered_by="campaign",
            )
        )

    log(ok1, "SMS", "SENT", "k1", now - timedelta(days=5), 12)
    log(ok2, "SMS", "DELIVERED", "k2", now - timedelta(days=40), 12)
    log(ok1, "EMAIL", "DELIVERED", "k3", now - timedelta(days=3))
    log(audience["no_sms"], "SMS", "BLOCKED", "k4")
    log(audience["landline"], "EMAIL", "FAILED", "k5")
    stranger = make_client()

    def order(client, total, days_ago, cancelled=False):
        db_session.add(
            Order(
                client_id=client.id,
                origin="web",
                total=total,
                created_at=now - timedelta(days=days_ago),
                cancelled_at=now if cancelled else None,
            )
        )

    order(ok1, 100000, 2)  # within 30 days after ok1's first message (5 days ago) → counts
    order(ok1, 50000, 10)  # before ok1's first message → no
    order(ok1, 70000, 1, True)  # cancelled → no
    order(ok2, 30000, 20)  # 20 days after ok2's message (40 days ago) → counts
    order(ok2, 80000, 5)  # 35 days after → outside the window
    order(stranger, 999999, 1)  # not a recipient
    db_session.add(Lead(first_name="L", email="l@example.com", campaign_id=campaign.id))
    db_session.flush()
    from app.crm.models import Contact

    contact = Contact(first_name="C")
    db_session.add(contact)
    db_session.flush()
    db_session.add(
        Deal(name="Grande", contact_id=contact.id, stage="Closed Won", amount=1250000, campaign_id=campaign.id)
    )
    db_session.flush()
    from app.crm.roi_queries import campaign_roi

    roi = campaign_roi(campaign)
    expected_revenue = 100000 + 30000
    expected_cost = 10000 + 24
    assert (roi.sent, roi.sent_by_channel, roi.blocked, roi.failed, roi.sms_cost) == (
        3,
        {"SMS": 2, "EMAIL": 1},
        1,
        1,
        24,
    )
    assert (roi.orders, roi.revenue, roi.cost) == (2, expected_revenue, expected_cost)
    assert roi.roi == pytest.approx((expected_revenue - expected_cost) / expected_cost)
    assert (roi.leads, roi.won_deals, roi.won_value) == (1, 1, 1250000)
    page = login("marketing").get(f"/ventas/campanas/{campaign.id}/")
    assert "$1.250.000 CLP" in page.text and 'id="roi-revenue">$130.000<' in page.text
    listing = login("marketing").get("/ventas/campanas/")
    assert "$130.000" in listing.text


def test_campaign_routes_with_arguments_by_role(app, client, login, make_campaign):
    campaign = make_campaign()
    paths = [
        f"/ventas/campanas/{campaign.id}/",
        f"/ventas/campanas/{campaign.id}/editar/",
        f"/ventas/admin/campaign/setup/{campaign.id}/",
        f"/ventas/campanas/{campaign.id}/audiencia/",
        "/ventas/reportes/segmentacion-clientes/vip_high_spend/",
    ]
    posts = [
        f"/ventas/campanas/{campaign.id}/prueba/",
        f"/ventas/campanas/{campaign.id}/enviar/",
        f"/ventas/campanas/{campaign.id}/cancelar-envio/",
        "/ventas/admin/campaign/select-for-clients/",
    ]
    for path in paths:
        assert client.get(path).status_code == 302
        assert client.get(path, headers=HX).status_code == 401
    for path in posts:
        assert client.post(path).status_code == 302
    for role, allowed in (("recepcion", False), ("marketing", True), ("gerente", True), ("admin", True)):
        c = login(role)
        for path in paths:
            assert c.get(path).status_code == (200 if allowed else 403), (role, path)
        if not allowed:
            for path in posts:
                assert c.post(path).status_code == 403, (role, path)


def test_campaign_list_figures_in_constant_statements(login, make_campaign, audience, db_session, count_statements):
    from app.crm.queries import audience_size, audience_sizes

    _lista(make_campaign, audience["ok"])
    make_campaign(target_min_visits=1)
    db_session.commit()
    c = login("marketing")
    c.get("/ventas/campanas/")
    few = count_statements(lambda: c.get("/ventas/campanas/"))
    for i in range(6):
        make_campaign(target_segments=["zero_spend"]) if i % 2 else _lista(make_campaign, audience["ok"][:1])
    db_session.commit()
    assert count_statements(lambda: c.get("/ventas/campanas/")) == few
    campaigns = db_session.scalars(sa.select(Campaign)).all()
    assert audience_sizes(db_session, campaigns) == {x.id: audience_size(db_session, x) for x in campaigns}
    listing = c.get("/ventas/campanas/", headers=HX)
    assert listing.text.lstrip().startswith('<div id="campaign-list"') and listing.text.count('id="campaign-') == 9


# --- campaign detail: ROI, message, preview, send defaults (UX review D16) --------------------------------------


def test_roi_is_a_dash_until_something_is_sent_and_percentages_use_a_comma(login, make_campaign, audience, db_session):
    campaign = _lista(make_campaign, audience["ok"], budget=10000)
    c = login("marketing")
    page = c.get(f"/ventas/campanas/{campaign.id}/").text
    assert 'id="roi-value">—<' in page and "-100" not in page
    ok1 = audience["ok"][0]
    db_session.add(
        CommunicationLog(
            client_id=ok1.id,
            campaign_id=campaign.id,
            communication_type="EMAIL",
            message_type="PROMOTIONAL",
            status="DELIVERED",
            sent_at=clock.now(),
            read_at=clock.now(),
            idempotency_key="d16-1",
            triggered_by="campaign",
        )
    )
    db_session.add(
        CommunicationLog(
            client_id=audience["ok"][1].id,
            campaign_id=campaign.id,
            communication_type="SMS",
            message_type="PROMOTIONAL",
            status="SENT",
            sent_at=clock.now(),
            cost=12,
            idempotency_key="d16-2",
            triggered_by="campaign",
        )
    )
    db_session.add(Order(client_id=ok1.id, origin="web", total=22500, created_at=clock.now() + timedelta(hours=1)))
    db_session.flush()
    page = c.get(f"/ventas/campanas/{campaign.id}/").text
    assert 'id="roi-value">124,7 %<' in page  # (22.500 − 10.012) / 10.012
    assert 'id="roi-opened">1 <span class="small text-body-secondary">(50,0 %)</span>' in page
    assert "(Correo electrónico: 1)" in page and "(SMS: 1)" in page and "EMAIL" not in page


def test_percentage_filter(app):
    fmt = app.jinja_env.filters["porcentaje"]
    assert fmt(24.8) == "24,8 %" and fmt(-100) == "-100,0 %" and fmt(0) == "0,0 %" and fmt(None) == "—"
    assert fmt(1 / 3 * 100) == "33,3 %" and fmt(-0.01) == "0,0 %" and fmt(50, 0) == "50 %"


def test_detail_shows_the_texts_a_sample_preview_and_sms_segments(login, make_campaign, audience, db_session):
    campaign = _lista(
        make_campaign,
        audience["ok"],
        channels=["sms", "email"],
        sms_template="Hola {nombre_cliente}, tinas en promoción: {link}",
    )
    c = login("marketing")
    page = c.get(f"/ventas/campanas/{campaign.id}/").text
    assert 'id="campaign-channels">SMS, Correo electrónico<' in page
    assert "Hola {nombre_cliente}, tinas en promoción: {link}" in page  # the text as written
    preview = sending.campaign_preview(campaign)
    assert preview.sms_text.startswith("Hola Camila, tinas en promocion: ")  # accents stripped as when sent
    assert " Baja: " in preview.sms_text and preview.sms_text.endswith("o responde STOP")
    assert preview.sms.encoding == "GSM-7" and preview.sms.length == len(preview.sms_text)
    assert f'id="sms-preview">{preview.sms_text}<' in page
    segments = "1 segmento" if preview.sms.length <= 160 else f"{preview.sms.segments} segmentos"
    assert f"{preview.sms.length} caracteres · {segments}" in page and "GSM-7" in page
    assert 'id="email-preview-subject">Promo para Camila<' in page
    assert "Hola Camila Rojas:" in page
    assert "Correo electrónico" in page and "E-mail" not in page and "e-mail" not in page  # D18: one word for it
    form = c.get(f"/ventas/campanas/{campaign.id}/editar/").text
    assert "Asunto del correo electrónico" in form and "E-mail" not in form

    long_text = "Hola {nombre_cliente} 😀 " + "x" * 80
    campaign.sms_template = long_text
    db_session.flush()
    info = sending.campaign_preview(campaign).sms
    assert info.encoding == "UCS-2" and info.segments == -(-info.length // 67) and info.segments >= 2
    page = c.get(f"/ventas/campanas/{campaign.id}/").text
    assert f"{info.segments} segmentos" in page and "70 por SMS, 67 por parte" in page and "😀" in page


def test_send_form_defaults_to_the_future_start_date(login, make_campaign, audience, db_session):
    future = _lista(make_campaign, audience["ok"], start_date=clock.today() + timedelta(days=8))
    c = login("marketing")
    page = c.get(f"/ventas/campanas/{future.id}/").text
    assert 'value="programado" id="cuando-prog" checked' in page and 'id="cuando-ahora" >' in page
    assert f'id="fecha_hora" value="{clock.today() + timedelta(days=8):%Y-%m-%d}T10:00"' in page
    started = _lista(make_campaign, audience["ok"], start_date=clock.today())
    page = c.get(f"/ventas/campanas/{started.id}/").text
    assert 'id="cuando-ahora" checked' in page and 'id="fecha_hora" value=""' in page


def test_same_send_confirmation_twice_queues_once(login, make_campaign, audience, db_session):
    import re

    campaign = _lista(make_campaign, _all(audience))
    c = login("marketing")
    confirm = c.post(f"/ventas/campanas/{campaign.id}/enviar/", data={"cuando": "ahora"})
    assert 'hx-disabled-elt="find [type=submit]"' in confirm.text
    key = re.search(r'name="submission_key"[^>]*value="([^"]+)"', confirm.text).group(1)
    data = {"cuando": "ahora", "confirmar": "1", "submission_key": key}
    assert c.post(f"/ventas/campanas/{campaign.id}/enviar/", data=data).status_code == 303
    queued = len(_rows(db_session, campaign))
    again = c.post(f"/ventas/campanas/{campaign.id}/enviar/", data=data)
    assert again.status_code == 409 and "ya fue enviado" in again.text
    assert len(_rows(db_session, campaign)) == queued == 6


def test_detail_with_a_text_saved_outside_the_form_shows_the_error_not_a_500(login, make_campaign, db_session):
    campaign = make_campaign()
    campaign.sms_template = "Hola {nombre}, te esperamos"  # e.g. edited in the back office
    db_session.flush()
    page = login("marketing").get(f"/ventas/campanas/{campaign.id}/")
    assert page.status_code == 200 and 'id="message-error"' in page.text
    assert "Variable desconocida: {nombre}" in page.text and 'id="sms-preview"' not in page.text


def test_send_form_shape_errors(login, make_campaign, audience, db_session):
    """*Enviar campaña*'s form: `cuando` must be ahora or programado, a scheduled send needs its date and time
    (only then), and the detail page's first step carries no one-time key (the confirmation renders it)."""
    campaign = _lista(make_campaign, audience["ok"])
    c = login("marketing")
    url = f"/ventas/campanas/{campaign.id}/enviar/"
    for data, message in (
        ({"cuando": "mañana"}, "Elija cuándo enviar: ahora o programado."),
        ({"cuando": "", "confirmar": "1"}, "Elija cuándo enviar: ahora o programado."),
        ({"cuando": "programado", "fecha_hora": ""}, "Indique la fecha y hora del envío programado."),
        ({"cuando": "programado", "fecha_hora": "2026-13-01T10:00", "confirmar": "1"}, "Indique la fecha y hora"),
    ):
        resp = c.post(url, data=data)
        assert resp.status_code == 422 and message in resp.text, data
    now = c.post(url, data={"cuando": "ahora", "fecha_hora": "no es una fecha"})  # ignored when sending now
    assert now.status_code == 200 and "Se encolarán 4 mensajes" in now.text
    assert _rows(db_session, campaign) == []
    detail = c.get(f"/ventas/campanas/{campaign.id}/").text
    send_form = re.search(r'<form[^>]*id="send-form".*?</form>', detail, re.S).group(0)
    assert 'name="submission_key"' not in send_form
    cancel = re.search(r'<form[^>]*id="cancel-form".*?</form>', detail, re.S)
    assert cancel is None  # only an active campaign can be cancelled
