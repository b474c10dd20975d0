"""Campaign screens (crm.md §9.3) and adding board selections to a campaign (§6.4): parse -> service -> commit."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from app.auth.decorators import role_required
from app.comms.providers import WHATSAPP_OFF_MESSAGE, whatsapp_configured
from app.core.errors import DomainError
from app.core.pagination import paginate, parse_page
from app.core.uow import unit_of_work
from app.crm import queries as q
from app.crm import sending_services as sending  # sending registers the PROMOTIONAL renderer and relevance check
from app.crm import services
from app.crm.forms import CampaignForm, CampaignSelectionForm, CampaignSendForm, CampaignTestForm
from app.crm.models import CAMPAIGN_CHANNELS, TARGET_SOURCE_LABELS, Activity, Campaign, CampaignInteraction, Deal, Lead
from app.extensions import db
from app.sales.client_queries import SEGMENT_KEYS, segment_labels
from app.web.forms import submit
from app.web.htmx import render_page
from app.web.params import MAX_ID

bp = Blueprint("crm", __name__, url_prefix="/ventas")

MARKETING = ("marketing", "gerente", "admin")
PER_PAGE = 50


def get_campaign_or_404(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id) if campaign_id <= MAX_ID else None
    if campaign is None:
        abort(404)
    return campaign


def _local_redirect(target: str | None, fallback: str):
    if target and target.startswith("/") and not target.startswith("//"):
        return redirect(target, 303)
    return redirect(fallback, 303)


# --- list, form --------------------------------------------------------------------------------------------


@bp.get("/campanas/")
@role_required(*MARKETING)
def campaign_list():
    page = paginate(db.session, q.campaigns_select(), parse_page(request.args.get("page")), PER_PAGE)
    figures = campaign_figures(page.items)
    return render_page("crm/campaign_list.html", "campaign_list", page=page, figures=figures)


def campaign_figures(campaigns: list[Campaign]) -> dict[int, dict]:
    """Audience, sent messages, attributed orders and revenue per campaign of a page (a constant number of
    statements, whatever the number of campaigns)."""
    from app.crm.roi_queries import campaign_roi_rows

    ids = [c.id for c in campaigns]
    out = {cid: {"audience": 0, "sent": 0, "orders": 0, "revenue": 0} for cid in ids}
    if not ids:
        return out
    for cid, size in q.audience_sizes(db.session, campaigns).items():
        out[cid]["audience"] = size
    for row in campaign_roi_rows(ids):
        out[row.campaign_id].update(sent=row.sent, orders=row.orders, revenue=row.revenue)
    return out


def _form(campaign: Campaign | None) -> CampaignForm:
    form = CampaignForm(obj=campaign) if campaign is not None and request.method == "GET" else CampaignForm()
    labels = segment_labels()
    form.target_segments.choices = [(k, labels[k]) for k in SEGMENT_KEYS]
    if campaign is not None and request.method == "GET":
        form.target_segments.data = list(campaign.target_segments or [])
        form.channels.data = list(campaign.channels or [])
    return form


def _campaign_form(campaign: Campaign | None):
    form = _form(campaign)
    if submit(form, lambda: services.save_campaign(campaign, data=form.campaign_data(), by=current_user)):
        flash(f"Campaña «{form.result.name}» guardada.", "success")
        return redirect(url_for("crm.campaign_detail", campaign_id=form.result.id), 303)
    return render_page(
        "crm/campaign_form.html",
        "campaign_form",
        form=form,
        campaign=campaign,
        status=form.status,
        whatsapp_off=None if whatsapp_configured() else WHATSAPP_OFF_MESSAGE,
    )


@bp.route("/campanas/nueva/", methods=["GET", "POST"])
@role_required(*MARKETING)
def campaign_new():
    return _campaign_form(None)


@bp.route("/admin/campaign/setup/", methods=["GET", "POST"])
@role_required(*MARKETING)
def campaign_setup():
    return _campaign_form(None)


@bp.route("/campanas/<int:campaign_id>/editar/", methods=["GET", "POST"])
@role_required(*MARKETING)
def campaign_edit(campaign_id: int):
    return _campaign_form(get_campaign_or_404(campaign_id))


@bp.route("/admin/campaign/setup/<int:campaign_id>/", methods=["GET", "POST"])
@role_required(*MARKETING)
def campaign_setup_edit(campaign_id: int):
    return _campaign_form(get_campaign_or_404(campaign_id))


# --- detail ------------------------------------------------------------------------------------------------


@bp.get("/campanas/<int:campaign_id>/")
@role_required(*MARKETING)
def campaign_detail(campaign_id: int):
    from app.crm.roi_queries import campaign_roi

    campaign = get_campaign_or_404(campaign_id)
    targets = paginate(
        db.session, q.targets_select(campaign.id), parse_page(request.args.get("page")), PER_PAGE, scalars=False
    )
    leads = db.session.scalars(sa.select(Lead).where(Lead.campaign_id == campaign.id).order_by(Lead.id)).all()
    deals = db.session.scalars(sa.select(Deal).where(Deal.campaign_id == campaign.id).order_by(Deal.id)).all()
    activities = db.session.scalars(
        sa.select(Activity).where(Activity.campaign_id == campaign.id).order_by(Activity.activity_date.desc()).limit(50)
    ).all()
    interactions = db.session.scalars(
        sa.select(CampaignInteraction)
        .where(CampaignInteraction.campaign_id == campaign.id)
        .order_by(CampaignInteraction.timestamp.desc())
        .limit(50)
    ).all()
    labels = segment_labels()
    return render_page(
        "crm/campaign_detail.html",
        "campaign_targets" if request.args.get("bloque") == "targets" else None,
        campaign=campaign,
        targets=targets,
        leads=leads,
        deals=deals,
        activities=activities,
        interactions=interactions,
        roi=campaign_roi(campaign),
        audience=q.audience_size(db.session, campaign),
        segment_labels=labels,
        channel_labels=CAMPAIGN_CHANNELS,
        whatsapp_off=None if whatsapp_configured() else WHATSAPP_OFF_MESSAGE,
        preview=sending.campaign_preview(campaign),
        send_default=_send_default(campaign),
        target_sources=TARGET_SOURCE_LABELS,
        send_form=CampaignSendForm(formdata=None),
        test_form=CampaignTestForm(formdata=None),
    )


def _send_default(campaign: Campaign) -> dict:
    """*Enviar campaña* starts on the campaign's start date (10:00, Chile) when that is in the future, else *Ahora*."""
    from app.core import clock

    if campaign.start_date and campaign.start_date > clock.today():
        return {"cuando": "programado", "fecha_hora": f"{campaign.start_date.isoformat()}T10:00"}
    return {"cuando": "ahora", "fecha_hora": ""}


# --- segmentation board -> campaign ------------------------------------------------------------------------


@bp.route("/admin/campaign/select-for-clients/", methods=["GET", "POST"])
@role_required(*MARKETING)
def select_for_clients():
    board = url_for("reports.segmentation_board")
    if request.method == "GET":
        return redirect(board, 303)
    form = CampaignSelectionForm()

    def add():
        if form.segmento.data:
            ids_select, source = q.segment_client_ids_select(form.segmento.data), "segmento"
        else:
            ids_select, source = services.client_ids_select(form.selected_clients.data), "manual"
        return services.add_targets(form.chosen, ids_select, source=source, by=current_user)

    if not submit(form, add):
        flash(form.first_error, "error")
        return _local_redirect(form.origen.data, board)
    campaign = form.chosen
    flash(
        f"{form.result.added} clientes agregados a la campaña «{campaign.name}» ({form.result.existing} ya estaban).",
        "success",
    )
    return redirect(url_for("crm.campaign_detail", campaign_id=campaign.id), 303)


# --- audience preview, test, send, cancel ------------------------------------------------------------------


@bp.get("/campanas/<int:campaign_id>/audiencia/")
@role_required(*MARKETING)
def campaign_audience(campaign_id: int):
    from app.crm import audience_queries as audience

    campaign = get_campaign_or_404(campaign_id)
    canal = request.args.get("canal")
    motivo = request.args.get("motivo")
    clients = None
    if canal in (campaign.channels or []) and (motivo in audience.PREVIEW_REASONS or motivo == "elegibles"):
        clients = paginate(
            db.session,
            audience.reason_clients_select(campaign, canal, motivo),
            parse_page(request.args.get("page")),
            PER_PAGE,
            scalars=False,
        )
    return render_page(
        "crm/campaign_audience.html",
        "audience",
        campaign=campaign,
        preview=audience.preview(campaign),
        labels=audience.PREVIEW_REASONS,
        canal=canal,
        motivo=motivo,
        clients=clients,
    )


@bp.post("/campanas/<int:campaign_id>/prueba/")
@role_required(*MARKETING)
def campaign_test(campaign_id: int):
    campaign = get_campaign_or_404(campaign_id)
    form = CampaignTestForm()
    if submit(form, lambda: sending.send_test(campaign, form.destino.data or "", by=current_user)):
        flash(f"Prueba encolada por {'SMS' if form.result == 'SMS' else 'correo electrónico'}.", "success")
    else:
        flash(form.first_error, "error")
    return redirect(url_for("crm.campaign_detail", campaign_id=campaign.id), 303)


@bp.post("/campanas/<int:campaign_id>/enviar/")
@role_required(*MARKETING)
def campaign_send(campaign_id: int):
    """Two steps: *Continuar* shows how many messages would be queued; *Confirmar envío* (`confirmar=1`, with the
    one-time key) sends or schedules."""
    from app.crm.audience_queries import messages_to_queue

    campaign = get_campaign_or_404(campaign_id)
    form = CampaignSendForm()
    ctx = {"campaign": campaign, "form": form, "cuando": form.cuando.data, "fecha_hora": form.fecha_hora.data or ""}
    if form.confirmar.data != "1":
        if form.validate():
            try:
                sending._check_sendable(campaign)
            except DomainError as exc:
                form.attach(exc)
        if form.status == 200:
            return render_page("crm/campaign_send.html", None, n=messages_to_queue(campaign), when=form.when, **ctx)
    elif submit(form, lambda: sending.send_campaign(campaign, when=form.when, by=current_user)):
        if form.when is not None:
            flash(f"Campaña programada para el {form.when.strftime('%d/%m/%Y %H:%M')}.", "success")
        else:
            flash(f"{form.result} mensajes encolados.", "success")
        return redirect(url_for("crm.campaign_detail", campaign_id=campaign.id), 303)
    return render_page(
        "crm/campaign_send.html", None, error=form.first_error, n=None, when=None, status=form.status, **ctx
    )


@bp.post("/campanas/<int:campaign_id>/cancelar-envio/")
@role_required(*MARKETING)
def campaign_cancel_send(campaign_id: int):
    campaign = get_campaign_or_404(campaign_id)
    with unit_of_work():
        blocked = sending.cancel_campaign_send(campaign)
    flash(f"Envío cancelado: {blocked} mensajes pendientes bloqueados.", "success")
    return redirect(url_for("crm.campaign_detail", campaign_id=campaign.id), 303)
