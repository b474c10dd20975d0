"""Communications screens (communications.md §7, §8, §10) and the inbound SMS webhook (api.md §7).

Blueprints: `comms` (staff, /ventas/comunicaciones/), `comms_clients` / `comms_orders` (client- and order-page
fragments), `comms_public`
(unsubscribe and preferences pages), `comms_api` (inbound SMS).
"""

from __future__ import annotations

import hmac
from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, jsonify, make_response, redirect, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user

from app.auth.decorators import public, role_required
from app.clients.models import CONSENT_LABELS, Client, Suppression
from app.clients.queries import consent_history_select
from app.comms import consent_services as consent
from app.comms import queries, services
from app.comms import sms_template_services as sms_templates
from app.comms.forms import (
    PreferencesForm,
    ResendForm,
    StaffConsentsForm,
    SuppressionForm,
    TemplateForm,
    TemplatePreviewForm,
    UnsubscribeForm,
)
from app.comms.models import CommunicationLog, FakeMessage, SmsTemplate
from app.comms.policy import (
    CHANNEL_LABELS,
    MESSAGE_TYPES,
    REASONS,
    STATUS_LABELS,
    STATUSES,
    consent_switch,
    type_label,
)
from app.comms.providers import uses_fakes
from app.comms.public_texts import CONSENT_TEXT, unsubscribe_done, unsubscribe_question
from app.comms.render import log_id_from_token
from app.core import clock
from app.core.errors import ConflictError, DomainError
from app.core.pagination import paginate, parse_page
from app.core.settings import in_force
from app.core.uow import unit_of_work
from app.extensions import csrf, db, limiter
from app.web.errors import error_response
from app.web.forms import submit
from app.web.htmx import hx_trigger, render_page, wants_fragment
from app.web.params import MAX_ID, parse_choice, parse_day, parse_id

bp = Blueprint("comms", __name__, url_prefix="/ventas/comunicaciones")
clients_bp = Blueprint("comms_clients", __name__, url_prefix="/ventas/clientes")
orders_bp = Blueprint("comms_orders", __name__, url_prefix="/ventas/venta_reservas")
public_bp = Blueprint("comms_public", __name__, url_prefix="/ventas")
api_bp = Blueprint("comms_api", __name__, url_prefix="/ventas/api/sms")

LOG_ROLES = ("marketing", "gerente", "admin")
EDIT_ROLES = ("marketing", "admin")
DESK_ROLES = ("recepcion", "gerente", "admin")
ALL_STAFF = ("recepcion", "marketing", "gerente", "admin")
PER_PAGE = 50
RATE_MESSAGE = lazy_gettext("Demasiadas solicitudes. Intente nuevamente en un minuto.")
CONSENT_FORM_FIELDS = consent.PREFERENCE_FIELDS


def _get(model, entity_id: int):
    if entity_id > MAX_ID:
        abort(404)
    found = db.session.get(model, entity_id)
    if found is None:
        abort(404)
    return found


@bp.errorhandler(DomainError)
def _refused(exc: DomainError):
    """A refused one-click action. "Enviar ahora" answers the message alone, with its status (409), as it always
    has; anything else in this blueprint as the app-wide handler does."""
    if request.endpoint == "comms.log_send_now":
        return make_response(exc.message, exc.status)
    return error_response(exc.status, exc.message)


def _done(endpoint_url: str, message: str, event: str):
    """After a POST: HTMX → 204 + event + redirect location; plain form → 303."""
    flash(message, "success")
    if request.headers.get("HX-Request") == "true":
        response = make_response("", 204)
        response.headers["HX-Location"] = endpoint_url
        return hx_trigger(response, event)
    return redirect(endpoint_url, 303)


# --- the log ---------------------------------------------------------------------------------------------------


def parse_log_filters(args) -> queries.LogFilters:
    today = clock.today()
    start, bad_start = parse_day(args.get("fecha_inicio"), today - timedelta(days=29))
    end, bad_end = parse_day(args.get("fecha_fin"), today)
    if start > end:
        start, end = end, start
    return queries.LogFilters(
        start=start,
        end=end,
        notice=bad_start or bad_end,
        canal=parse_choice(args.get("canal"), CHANNEL_LABELS),
        tipo=parse_choice(args.get("tipo"), MESSAGE_TYPES),
        estado=parse_choice(args.get("estado"), STATUSES),
        motivo=parse_choice(args.get("motivo"), REASONS),
        cliente=parse_id(args.get("cliente")),
        campana=parse_id(args.get("campana")),
        q=(args.get("q") or "").strip()[:100],
    )


def _stats():
    rows = queries.stats_30_days()
    by_channel: dict[str, dict[str, int]] = {}
    by_type: dict[str, dict[str, int]] = {}
    for channel, message_type, status, count in rows:
        by_channel.setdefault(channel, {}).setdefault(status, 0)
        by_channel[channel][status] += count
        by_type.setdefault(message_type, {}).setdefault(status, 0)
        by_type[message_type][status] += count
    return {
        "by_channel": by_channel,
        "by_type": by_type,
        "sms_cost": queries.sms_cost_this_month(),
        "budget": in_force().get("SMS_MONTHLY_BUDGET_CLP", 0),
    }


@bp.get("/")
@role_required(*LOG_ROLES)
def log_list():
    filters = parse_log_filters(request.args)
    page = paginate(db.session, queries.log_list(filters), parse_page(request.args.get("page")), PER_PAGE)
    ctx = dict(
        filters=filters,
        page=page,
        channels=CHANNEL_LABELS,
        statuses=STATUS_LABELS,
        reasons=REASONS,
        types={t: type_label(t) for t in MESSAGE_TYPES},
    )
    if wants_fragment():
        return render_page("comms/log.html", "log_list", **ctx)
    return render_page("comms/log.html", stats=_stats(), fake_outbox=uses_fakes(), **ctx)


@bp.get("/<int:log_id>/")
@role_required(*LOG_ROLES)
def log_detail(log_id: int):
    row = _get(CommunicationLog, log_id)
    return render_page(
        "comms/log_detail.html", "log_detail", row=row, can_resend=services.can_resend(row, current_user.role)
    )


@bp.post("/<int:log_id>/reenviar/")
@role_required("recepcion", "marketing", "admin")
def log_resend(log_id: int):
    row = _get(CommunicationLog, log_id)
    if not services.can_resend(row, current_user.role):
        abort(403)
    form = ResendForm()
    if not submit(form, lambda: services.resend(row, by=current_user)):
        return make_response(form.first_error, form.status)  # the refusal alone, in place
    target = form.target(url_for("comms.log_detail", log_id=row.id))
    return _done(target, "Mensaje reenviado a la cola.", "message-queued")


@bp.post("/<int:log_id>/enviar-ahora/")
@role_required("admin")
def log_send_now(log_id: int):
    row = _get(CommunicationLog, log_id)
    with unit_of_work():  # a refusal (not pending: 409) is answered by _refused
        services.send_now(row, by=current_user)
    return _done(url_for("comms.log_detail", log_id=row.id), "Se enviará en el próximo ciclo.", "message-queued")


# --- SMS templates ---------------------------------------------------------------------------------------------


def _template_ctx(template, form):
    content = form.content.data or ""
    prev = (
        sms_templates.preview(content, strip_accents=current_app.config.get("SMS_STRIP_ACCENTS", True))
        if content.strip()
        else None
    )
    return dict(tpl=template, form=form, preview=prev, variables=sms_templates.VARIABLES)


@bp.get("/plantillas-sms/")
@role_required(*LOG_ROLES)
def template_list():
    rows = db.session.scalars(queries.templates()).all()
    return render_page(
        "comms/templates.html", "template_list", templates=rows, can_edit=current_user.role in EDIT_ROLES
    )


@bp.route("/plantillas-sms/nueva/", methods=["GET", "POST"])
@role_required(*EDIT_ROLES)
def template_new():
    return _template_form(None)


@bp.route("/plantillas-sms/<int:template_id>/", methods=["GET", "POST"])
@role_required(*EDIT_ROLES)
def template_edit(template_id: int):
    return _template_form(_get(SmsTemplate, template_id))


def _template_form(template):
    form = TemplateForm(obj=template if request.method == "GET" else None)

    def save():
        return sms_templates.save_template(
            template,
            name=form.name.data or "",
            message_type=form.message_type.data or "",
            content=form.content.data or "",
            is_active=form.is_active.data,
            by=current_user,
        )

    if submit(form, save):
        return _done(url_for("comms.template_list"), f"Plantilla «{form.result.name}» guardada.", "template-saved")
    ctx = _template_ctx(template, form)
    return render_page("comms/template_form.html", "template_form", status=form.status, **ctx)


@bp.post("/plantillas-sms/vista-previa/")
@role_required(*EDIT_ROLES)
def template_preview():
    """Live length/encoding/segments while typing (HTMX)."""
    form = TemplatePreviewForm()
    error = None
    try:  # nothing is written: the text's problem is shown next to the preview
        sms_templates.validate_content(form.content.data or "")
    except DomainError as exc:
        error = exc.message
    ctx = _template_ctx(None, form)
    return render_page("comms/template_form.html", "template_preview", preview_error=error, **ctx)


@bp.post("/plantillas-sms/<int:template_id>/activar/")
@role_required(*EDIT_ROLES)
def template_activate(template_id: int):
    template = _get(SmsTemplate, template_id)
    with unit_of_work():
        sms_templates.save_template(
            template,
            name=template.name,
            message_type=template.message_type,
            content=template.content,
            is_active=True,
            by=current_user,
        )
    return _done(url_for("comms.template_list"), f"Plantilla «{template.name}» activada.", "template-saved")


# --- suppressions and replies ----------------------------------------------------------------------------------


@bp.get("/supresiones/")
@role_required(*LOG_ROLES)
def suppression_list(form: SuppressionForm | None = None):
    form = form or SuppressionForm(formdata=None)
    q = (request.args.get("q") or "").strip()[:100]
    page = paginate(db.session, queries.suppressions(q), parse_page(request.args.get("page")), PER_PAGE)
    return render_page(
        "comms/suppressions.html",
        "suppression_list",
        status=form.status,
        page=page,
        q=q,
        form=form,
        can_edit=current_user.role in EDIT_ROLES,
    )


def _suppress(channel: str, destination: str) -> None:
    """Suppress by hand; the client with that phone or e-mail sees it in their consent record too."""
    field = "phone" if channel == "sms" else "email"
    client = db.session.scalar(sa.select(Client).where(getattr(Client, field) == destination).limit(1))
    if not consent.suppress(channel=channel, destination=destination, reason="manual", client=client, by=current_user):
        raise ConflictError("Ese destino ya está suprimido.", field="destination")
    if client is not None:  # the client's consent record shows it too (ConsentEvent with the user)
        from app.clients.services import set_consents

        set_consents(
            client,
            {"accepts_sms" if channel == "sms" else "accepts_email": False},
            source="staff",
            by=current_user,
            ip=request.remote_addr,
        )


@bp.post("/supresiones/")
@role_required(*EDIT_ROLES)
def suppression_add():
    form = SuppressionForm()
    if not submit(form, lambda: _suppress(form.channel.data, form.address)):
        return suppression_list(form)
    return _done(url_for("comms.suppression_list"), "Destino suprimido.", "suppression-changed")


@bp.post("/supresiones/<int:suppression_id>/eliminar/")
@role_required(*EDIT_ROLES)
def suppression_remove(suppression_id: int):
    with unit_of_work():
        consent.unsuppress(_get(Suppression, suppression_id), by=current_user)
    return _done(url_for("comms.suppression_list"), "Destino quitado de la lista.", "suppression-changed")


@bp.get("/respuestas/")
@role_required(*LOG_ROLES)
def reply_list():
    page = paginate(db.session, queries.replies(), parse_page(request.args.get("page")), PER_PAGE)
    return render_page("comms/replies.html", "reply_list", page=page)


# --- fake outbox (demo) ----------------------------------------------------------------------------------------


@bp.get("/bandeja-fake/")
@role_required(*ALL_STAFF)
def fake_outbox():
    if not uses_fakes():
        abort(404)
    page = paginate(db.session, queries.fake_messages(), parse_page(request.args.get("page")), PER_PAGE)
    return render_page("comms/fake_outbox.html", "fake_list", page=page)


@bp.get("/bandeja-fake/<int:message_id>/html/")
@role_required(*ALL_STAFF)
def fake_outbox_html(message_id: int):
    if not uses_fakes():
        abort(404)
    msg = _get(FakeMessage, message_id)
    response = make_response(msg.html or "<p>(sin HTML)</p>")
    # shown inside a sandboxed iframe: inline e-mail styles allowed, nothing else
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'self'"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


# --- client page fragments -------------------------------------------------------------------------------------


def _consent_ctx(client, form=None, **extra):
    return dict(
        client=client,
        form=form or StaffConsentsForm(formdata=None),
        prefs=client.preferences,
        fields=CONSENT_FORM_FIELDS,
        labels=CONSENT_LABELS,
        can_edit=current_user.role in DESK_ROLES,
        history=db.session.execute(consent_history_select(client.id)).all(),
        **extra,
    )


@clients_bp.get("/<int:client_id>/preferencias/")
@role_required(*ALL_STAFF)
def client_consents(client_id: int):
    client = _get(Client, client_id)
    return render_page("comms/client_consents.html", "client_consents", **_consent_ctx(client))


@clients_bp.post("/<int:client_id>/preferencias/")
@role_required(*DESK_ROLES)
def client_consents_save(client_id: int):
    client = _get(Client, client_id)
    source = "recepcion" if current_user.role == "recepcion" else "staff"
    form = StaffConsentsForm()

    def save():
        return consent.update_preferences(
            client,
            form.values(),
            nothing=False,
            source=source,
            by=current_user,
            ip=request.remote_addr,
            note=form.nota.data,
        )

    if not submit(form, save):
        ctx = _consent_ctx(client, form)
        return render_page("comms/client_consents.html", "client_consents", status=form.status, **ctx)
    count = form.result
    message = f"{count} preferencia{'s' if count != 1 else ''} actualizada{'s' if count != 1 else ''}."
    if wants_fragment():
        ctx = _consent_ctx(client, StaffConsentsForm(formdata=None), saved=message)
        response = render_page("comms/client_consents.html", "client_consents", **ctx)
        return hx_trigger(response, "consent-changed", {"client": client.id})
    flash(message, "success")
    return redirect(url_for("comms_clients.client_consents", client_id=client.id), 303)


@clients_bp.route("/<int:client_id>/consentimientos/", methods=["GET", "POST"])
@role_required(*ALL_STAFF)
def client_consents_old(client_id: int):
    """The page's former address (spec crm.md §3 names `/preferencias/`): a permanent redirect; 308 keeps a POST a
    POST, so a form rendered before the move still saves (its own role check there)."""
    return redirect(url_for("comms_clients.client_consents", client_id=client_id), 308)


def _messages(stmt, *, heading: str, endpoint: str, endpoint_args: dict):
    page = paginate(db.session, stmt, parse_page(request.args.get("page")), 20)
    return render_page(
        "comms/messages.html",
        "client_messages",
        heading=heading,
        page=page,
        endpoint=endpoint,
        endpoint_args=endpoint_args,
        can_resend=lambda row: services.can_resend(row, current_user.role),
    )


@clients_bp.get("/<int:client_id>/mensajes/")
@role_required(*ALL_STAFF)
def client_messages(client_id: int):
    client = _get(Client, client_id)
    return _messages(
        queries.client_messages(client.id),
        heading=client.name,
        endpoint="comms_clients.client_messages",
        endpoint_args={"client_id": client.id},
    )


@orders_bp.get("/<int:order_id>/mensajes/")
@role_required(*DESK_ROLES)
def order_messages(order_id: int):
    (orders_id,) = (fk.column for fk in CommunicationLog.__table__.c.order_id.foreign_keys)  # the sales core's
    if order_id > MAX_ID or db.session.scalar(sa.select(orders_id).where(orders_id == order_id)) is None:  # table,
        abort(404)  # read through the foreign key: comms sits below sales and does not import it
    return _messages(
        queries.order_messages(order_id),
        heading=f"Venta #{order_id}",
        endpoint="comms_orders.order_messages",
        endpoint_args={"order_id": order_id},
    )


# --- public: unsubscribe and preferences ------------------------------------------------------------------------


def _log_from_token(token: str) -> CommunicationLog:
    log_id = log_id_from_token(token)
    row = db.session.get(CommunicationLog, log_id) if log_id else None
    if row is None:
        abort(make_response(render_page("comms/unsubscribe.html", invalid=True, status=404)))
    return row


@public_bp.route("/baja/<token>/", methods=["GET", "POST"])
@public
@csrf.exempt  # RFC 8058 one-click POST comes from the mail client, without our token
@limiter.limit("30 per minute", error_message=RATE_MESSAGE)
def unsubscribe(token: str):
    row = _log_from_token(token)
    form = UnsubscribeForm(formdata=request.values)
    if submit(form, lambda: consent.unsubscribe(row, everything=form.everything, ip=request.remote_addr)):
        done = unsubscribe_done(form.result, row.message_type, form.everything)
        return render_page("comms/unsubscribe.html", row=row, token=token, done=done)
    question = unsubscribe_question(row.message_type, form.everything)
    return render_page(
        "comms/unsubscribe.html",
        status=form.status,
        row=row,
        token=token,
        everything=form.everything,
        question=question,
        has_switch=consent_switch(row.message_type) is not None,
    )


@public_bp.route("/preferencias/<token>/", methods=["GET", "POST"])
@public
@limiter.limit("30 per minute", error_message=RATE_MESSAGE)
def preferences(token: str):
    row = _log_from_token(token)
    client = row.client
    if client is None:
        return render_page("comms/preferences.html", row=row, token=token, client=None)
    saved = None
    form = PreferencesForm()

    def save():
        return consent.update_preferences(
            client, form.values(), nothing=form.nada.data, ip=request.remote_addr, message_id=row.id
        )

    if submit(form, save):
        saved = gettext("Tus preferencias quedaron guardadas.")
        form = PreferencesForm(formdata=None)
    return render_page(
        "comms/preferences.html",
        status=form.status,
        row=row,
        token=token,
        client=client,
        form=form,
        prefs=client.preferences,
        fields=CONSENT_FORM_FIELDS,
        labels=CONSENT_TEXT,
        saved=saved,
    )


# --- inbound SMS webhook (api.md §7) ---------------------------------------------------------------------------


@api_bp.post("/inbound/")
@public
@csrf.exempt
def inbound_sms():
    from app.web import credentials

    expected = current_app.config.get("SMS_INBOUND_TOKEN") or ""
    if expected and credentials.blocked():
        return jsonify({"error": credentials.TOO_MANY}), 429
    given = request.args.get("token") or request.headers.get("X-SMS-Token") or ""
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        if expected:
            credentials.failed()
        return jsonify({"error": "Token inválido."}), 401
    data = request.get_json(silent=True) if request.is_json else request.form
    data = data if isinstance(data, dict) or hasattr(data, "get") else {}
    phone = next((str(data.get(k)) for k in ("from", "telefono", "destination") if data.get(k)), "")
    text = next((str(data.get(k)) for k in ("message", "text", "mensaje") if data.get(k) is not None), None)
    if not phone or text is None:
        return jsonify(
            {"error": "Faltan campos: teléfono (from/telefono/destination) y texto (message/text/mensaje)."}
        ), 400
    batch = data.get("batchId") or data.get("batch_id")
    consent.record_inbound(
        phone=phone[:30], text=text[:1600], received_at=clock.now(), batch_id=str(batch)[:100] if batch else None
    )
    db.session.commit()
    return jsonify({"ok": True})
