"""Routes of the AI module (ai.md §2), registered only when AI_FEATURES_ENABLED (app.ai.init_app): the business
chat, its CSV and history, the usage page, the next-best-offer fragment of the client page and the campaign
copilot. Roles: AI_ALLOWED_ROLES (default admin, gerente, marketing); usage: admin and gerente."""

from __future__ import annotations

import csv
import io
import json

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, redirect, request, url_for
from flask_login import current_user

from app.ai import assist_services, queries, services
from app.ai.forms import DraftForm, ObjectiveForm, OfferCampaignForm, OfferSmsForm, QuestionForm
from app.ai.models import AIQueryLog
from app.ai.policy import EXAMPLE_QUESTIONS, LIMIT_MESSAGE
from app.ai.readonly import QueryTimeout
from app.ai.registry import KPIS, TEMPLATES, TemplateError
from app.auth.decorators import role_required
from app.clients.models import Client
from app.comms.providers import WHATSAPP_OFF_MESSAGE, whatsapp_configured
from app.core.errors import ValidationError
from app.core.pagination import page_of, parse_page
from app.core.uow import unit_of_work
from app.crm.audience_queries import PREVIEW_REASONS
from app.extensions import db
from app.web.forms import submit
from app.web.htmx import render_page, wants_fragment
from app.web.params import MAX_ID

bp = Blueprint("ai", __name__, url_prefix="/ventas")
AI_ROLES = ("admin", "gerente", "marketing")
USAGE_ROLES = ("admin", "gerente")
MONEY_COLUMNS = {"monto_pagado", "ingresos", "total", "pagado", "monto", "saldo", "gasto", "monetario"}


@bp.before_request
def _configured_roles():
    """AI_ALLOWED_ROLES narrows (or widens, within the staff roles) who may use the module: 403 for the others."""
    if current_user.is_authenticated and current_user.role not in current_app.config["AI_ALLOWED_ROLES"]:
        abort(403)


def _log_or_404(log_id: int) -> AIQueryLog:
    log = db.session.get(AIQueryLog, log_id) if log_id <= MAX_ID else None
    if log is None or log.kind != "chat" or (current_user.role != "admin" and log.user_id != current_user.id):
        abort(404)
    return log


def _chat_ctx(**extra) -> dict:
    return {
        "examples": EXAMPLE_QUESTIONS,
        "templates": TEMPLATES,
        "kpis": KPIS,
        "money_columns": MONEY_COLUMNS,
        "recent": db.session.scalars(queries.history_select(current_user).limit(5)).all(),
        **extra,
    }


# --- business chat ------------------------------------------------------------------------------------------


@bp.get("/ia/")
@role_required(*AI_ROLES)
def chat():
    return render_page("ai/chat.html", form=QuestionForm(), answer=None, **_chat_ctx())


@bp.post("/ia/preguntar/")
@role_required(*AI_ROLES)
def ask():
    form = QuestionForm()
    if submit(form, lambda: services.ask(form.pregunta.data, user=current_user)):
        answer = form.result
        status = 200
    else:
        answer, status = None, form.status
    if wants_fragment():
        return render_page("ai/chat.html", "answer", status=status, form=form, answer=answer, **_chat_ctx())
    return render_page("ai/chat.html", status=status, form=form, answer=answer, **_chat_ctx())


@bp.get("/ia/consultas/<int:log_id>/csv/")
@role_required(*AI_ROLES)
def query_csv(log_id: int):
    log = _log_or_404(log_id)
    try:
        answer = services.replay(log)
    except TemplateError:
        abort(404)
    except QueryTimeout as exc:
        return Response(str(exc), 503, mimetype="text/plain")
    if not answer.columns:
        abort(404)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";")
    writer.writerow(answer.columns)
    for row in answer.rows:
        writer.writerow(["" if v is None else v for v in row])
    name = (log.template or "consulta").replace(":", "-")
    return Response(
        "\ufeff" + buf.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="ia-{name}-{log.id}.csv"'},
    )


@bp.get("/ia/historial/")
@role_required(*AI_ROLES)
def history():
    stmt = queries.history_select(current_user)
    page = page_of(db.session, stmt, _count(stmt), parse_page(request.args.get("page")), 25)
    return render_page("ai/history.html", "history", page=page)


@bp.post("/ia/consultas/<int:log_id>/repetir/")
@role_required(*AI_ROLES)
def repeat(log_id: int):
    log = _log_or_404(log_id)
    with unit_of_work():
        answer = services.repeat(log, user=current_user)
    return render_page("ai/chat.html", "answer", form=QuestionForm(pregunta=log.question), answer=answer, **_chat_ctx())


# --- usage --------------------------------------------------------------------------------------------------


@bp.get("/ia/uso/")
@role_required(*USAGE_ROLES)
def usage():
    cfg = current_app.config
    return render_page(
        "ai/usage.html",
        days=queries.usage_by_day(),
        users=queries.usage_by_user(),
        today_total=queries.spent_today_milli(),
        today_mine=queries.spent_today_milli(current_user.id),
        global_cap=cfg["AI_DAILY_COST_LIMIT_CLP"],
        user_cap=cfg["AI_USER_DAILY_COST_LIMIT_CLP"],
        backend=cfg["AI_LLM_BACKEND"],
        model=cfg["AI_MODEL"],
        prices=(cfg["AI_PRICE_INPUT_CLP_PER_1K_TOKENS"], cfg["AI_PRICE_OUTPUT_CLP_PER_1K_TOKENS"]),
    )


# --- next best offer (fragment of the client page) ----------------------------------------------------------


def _client_or_404(client_id: int) -> Client:
    client = db.session.get(Client, client_id) if client_id <= MAX_ID else None
    if client is None:
        abort(404)
    return client


@bp.get("/clientes/<int:client_id>/sugerencias-ia/")
@role_required(*AI_ROLES)
def client_suggestions(client_id: int):
    client = _client_or_404(client_id)
    return render_page("ai/_suggestions.html", client=client, suggestions=None)


@bp.post("/clientes/<int:client_id>/sugerencias-ia/")
@role_required(*AI_ROLES)
def client_suggestions_generate(client_id: int):
    client = _client_or_404(client_id)
    with unit_of_work():
        suggestions = assist_services.suggest_offers(client, user=current_user)
    return render_page("ai/_suggestions.html", client=client, suggestions=suggestions)


@bp.post("/clientes/<int:client_id>/sugerencias-ia/sms/")
@role_required(*AI_ROLES)
def client_offer_sms(client_id: int):
    client = _client_or_404(client_id)
    form = OfferSmsForm()
    ok = submit(
        form,
        lambda: assist_services.send_offer_sms(
            client,
            form.texto.data,
            log_id=int(form.log_id.data or 0) if (form.log_id.data or "").isdigit() else 0,
            offer_no=int(form.oferta.data or 0) if (form.oferta.data or "").isdigit() else 0,
            by=current_user,
        ),
    )
    if ok:
        msg = (
            "SMS en cola: el despachador revisará consentimiento, topes y horario."
            if form.result
            else ("Ese SMS ya estaba en cola.")
        )
        return render_page("ai/_notice.html", notice=msg, ok=True)
    return render_page("ai/_notice.html", status=form.status, notice=form.first_error, ok=False)


@bp.post("/clientes/<int:client_id>/sugerencias-ia/campana/")
@role_required(*AI_ROLES)
def client_offer_campaign(client_id: int):
    client = _client_or_404(client_id)
    form = OfferCampaignForm()
    if submit(
        form,
        lambda: assist_services.offer_campaign(
            client,
            service=form.servicio.data or "oferta",
            sms=form.sms.data or "",
            email=form.email.data or "",
            by=current_user,
        ),
    ):
        target = url_for("crm.campaign_detail", campaign_id=form.result.id)
        if wants_fragment():
            return Response("", 204, headers={"HX-Redirect": target})
        return redirect(target, 303)
    return render_page("ai/_notice.html", status=form.status, notice=form.first_error, ok=False)


# --- campaign copilot ---------------------------------------------------------------------------------------


def _draft_form(draft) -> DraftForm:
    return DraftForm(
        formdata=None,
        objetivo=draft.objective,
        segmento=json.dumps(draft.segmento, ensure_ascii=False),
        nombre=f"IA: {draft.objective}"[:100],
        asunto=draft.asunto,
        cuerpo_email=draft.cuerpo_email,
        texto_sms=draft.texto_sms,
    )


def _segment_from(form: DraftForm) -> dict:
    try:
        data = json.loads(form.segmento.data or "{}")
        return assist_services.validate_draft(
            form.objetivo.data or "",
            {"segmento": data, "asunto": "", "cuerpo_email": "", "texto_sms": ""},
        ).segmento
    except (ValueError, TypeError) as exc:
        raise ValidationError(str(exc) if isinstance(exc, ValidationError) else "Segmento inválido.") from exc


def _preview(form: DraftForm) -> dict | None:
    try:
        return assist_services.preview_draft(
            form.nombre.data or "",
            _segment_from(form),
            form.asunto.data or "",
            form.cuerpo_email.data or "",
            form.texto_sms.data or "",
            form.objetivo.data or "",
            by=current_user,
            whatsapp=bool(form.whatsapp.data) and whatsapp_configured(),
        )
    except ValidationError as exc:
        form.attach(exc)
        return None


@bp.route("/ia/campanas/", methods=["GET", "POST"])
@role_required(*AI_ROLES)
def copilot():
    form = ObjectiveForm()
    draft_form, preview, error = None, None, None
    status = 200
    if form.is_submitted():
        if form.validate():
            with unit_of_work():
                draft, error = assist_services.draft_campaign(form.objetivo.data, user=current_user)
            if draft is not None:
                draft_form = _draft_form(draft)
                preview = _preview(draft_form)
                db.session.rollback()
            else:
                status = 429 if error == LIMIT_MESSAGE else 422
        else:
            status = 422
    return render_page(
        "ai/copilot.html",
        "draft",
        status=status,
        form=form,
        draft_form=draft_form,
        preview=preview,
        error=error,
        reason_labels=PREVIEW_REASONS,
        whatsapp_off=_whatsapp_off(),
    )


def _whatsapp_off() -> str | None:
    return None if whatsapp_configured() else WHATSAPP_OFF_MESSAGE


@bp.post("/ia/campanas/crear/")
@role_required(*AI_ROLES)
def copilot_create():
    form = DraftForm()

    def apply():
        return assist_services.create_draft_campaign(
            form.nombre.data,
            _segment_from(form),
            form.asunto.data or "",
            form.cuerpo_email.data or "",
            form.texto_sms.data or "",
            form.objetivo.data or "",
            by=current_user,
            whatsapp=bool(form.whatsapp.data),
        )

    if submit(form, apply):
        target = url_for("crm.campaign_detail", campaign_id=form.result.id)
        if wants_fragment():
            return Response("", 204, headers={"HX-Redirect": target})
        return redirect(target, 303)
    preview = _preview(form) if not form.segmento.errors else None
    db.session.rollback()
    return render_page(
        "ai/copilot.html",
        "draft",
        status=form.status if form.status != 200 else 422,
        form=ObjectiveForm(formdata=None, objetivo=form.objetivo.data),
        draft_form=form,
        preview=preview,
        error=None,
        reason_labels=PREVIEW_REASONS,
        whatsapp_off=_whatsapp_off(),
    )


def _count(stmt) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(stmt.subquery())).scalar_one()
