"""Next best offer and the campaign copilot (ai.md §2): rules pick the offers and the audience, the model only writes
texts; nothing is queued without a person's action, and what is queued goes through the outbox and its gatekeeper
(consent, caps, quiet hours). Services flush, never commit."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from app.ai import policy
from app.ai.llm import LLMError
from app.ai.registry import TemplateError, get_template, jsonable_params, validate_params
from app.ai.services import CapReached, call_model, new_log
from app.catalog.models import Service
from app.clients.models import Client
from app.comms import outbox_services as outbox
from app.comms.policy import SMS
from app.core import clock
from app.core.errors import ValidationError
from app.crm import audience_queries
from app.crm import policy as crm_policy
from app.crm import services as crm_services
from app.crm.models import Campaign
from app.extensions import db
from app.sales.client_queries import NOT_A_VISIT, SEGMENT_KEYS
from app.sales.models import Order, ServiceLine

AUDIENCE_TEMPLATES = ("clientes_inactivos", "rfm_clientes", "top_clientes_por_pago")
MAX_OFFERS = 3


# --- next best offer ----------------------------------------------------------------------------------------


@dataclass
class Offer:
    kind: str  # afinidad | upgrade_cabana | horario_valle
    service_id: int
    service: str
    reason: str
    sms: str = ""
    email: str = ""


@dataclass
class Suggestions:
    offers: list[Offer] = field(default_factory=list)
    error: str | None = None
    log_id: int | None = None


def _client_lines(client_id: int) -> list[tuple]:
    return db.session.execute(
        sa.select(ServiceLine.service_id, Service.service_type, ServiceLine.service_date)
        .join(Order, Order.id == ServiceLine.order_id)
        .join(Service, Service.id == ServiceLine.service_id)
        .where(Order.client_id == client_id, Order.cancelled_at.is_(None), ServiceLine.status.not_in(NOT_A_VISIT))
    ).all()


def pick_offers(client_id: int) -> list[Offer]:
    """≤ 3 offers by rule: a service never booked that pairs with the usual ones (other clients' orders), a cabin
    upgrade after ≥ 2 tub visits, off-peak weekday hours for a weekend-only client."""
    lines = _client_lines(client_id)
    if not lines:
        return []
    booked = {sid for sid, _, _ in lines}
    offers: list[Offer] = []
    a, b = sa.orm.aliased(ServiceLine), sa.orm.aliased(ServiceLine)
    pair = (
        sa.select(b.service_id, Service.name, sa.func.count(sa.distinct(a.order_id)).label("n"))
        .select_from(a)
        .join(b, sa.and_(b.order_id == a.order_id, b.service_id != a.service_id))
        .join(Service, Service.id == b.service_id)
        .where(
            a.service_id.in_(booked),
            b.service_id.not_in(booked),
            a.status != "cancelada",
            b.status != "cancelada",
            Service.is_active.is_(True),
        )
        .group_by(b.service_id, Service.name)
        .order_by(sa.desc("n"), Service.name)
        .limit(1)
    )
    row = db.session.execute(pair).first()
    if row:
        offers.append(Offer("afinidad", row[0], row[1], "Se reserva a menudo junto a sus servicios habituales"))
    tub_visits = sum(1 for _, kind, _ in lines if kind == "tina")
    has_cabin = any(kind == "cabana" for _, kind, _ in lines)
    if tub_visits >= 2 and not has_cabin:
        cabin = db.session.execute(
            sa.select(Service.id, Service.name)
            .where(Service.service_type == "cabana", Service.is_active.is_(True))
            .order_by(Service.base_price, Service.id)
            .limit(1)
        ).first()
        if cabin:
            offers.append(
                Offer("upgrade_cabana", cabin[0], cabin[1], f"{tub_visits} visitas a tinas y nunca una cabaña")
            )
    weekend = [d for _, _, d in lines if d.weekday() >= 5]
    if weekend and len(weekend) == len(lines):
        usual = max(booked, key=lambda sid: sum(1 for s, _, _ in lines if s == sid))
        name = db.session.get(Service, usual).name
        offers.append(
            Offer("horario_valle", usual, name, "Solo viene los fines de semana: horario valle de lunes a jueves")
        )
    return offers[:MAX_OFFERS]


def suggest_offers(client: Client, *, user) -> Suggestions:
    """Rules pick the offers; the model writes an SMS (≤ 160 GSM-7 characters) and an e-mail paragraph for each.
    The prompt names the client only by pseudonym and carries no contact data. Writes an AIQueryLog (kind nbo)."""
    started = time.monotonic()
    out = Suggestions(offers=pick_offers(client.id))
    if not out.offers:
        return out
    log = new_log(user, "nbo", f"sugerencias cliente #{client.id}")
    payload = [{"cliente": "C1", "servicio": o.service, "motivo": o.reason, "tipo": o.kind} for o in out.offers]
    messages = [
        {
            "role": "system",
            "content": "Eres el redactor de Aremko (spa de tinas calientes en el sur de Chile): tono cálido, breve, "
            "tuteo. Para cada oferta escribe un SMS de máximo 160 caracteres sin emojis y un párrafo de correo. "
            'Responde SOLO JSON {"ofertas": [{"sms": "...", "email": "..."}]} en el mismo orden. '
            "El cliente se llama C1.",
        },
        {"role": "user", "content": "OFERTAS:" + json.dumps(payload, ensure_ascii=False)},
    ]
    try:
        result = call_model(log, messages, None)
        texts = json.loads(_json_text(result.text)).get("ofertas", [])
        for offer, text in zip(out.offers, texts, strict=False):
            offer.sms = policy.gsm7_trim(str(text.get("sms", "")).replace("C1", client.first_name))
            offer.email = str(text.get("email", "")).replace("C1", client.first_name)
    except CapReached:
        log.status, log.error, out.error = "blocked", policy.LIMIT_MESSAGE, policy.LIMIT_MESSAGE
    except LLMError as exc:
        log.status, log.error, out.error = "error", str(exc), str(exc)
    except (ValueError, AttributeError, TypeError):
        log.status = "error"
        log.error = out.error = "El asistente devolvió textos ilegibles; intente de nuevo."
    log.rows = len(out.offers)
    log.duration_ms = int((time.monotonic() - started) * 1000)
    db.session.flush()
    out.log_id = log.id
    return out


def send_offer_sms(client: Client, text: str, *, log_id: int, offer_no: int, by) -> bool:
    """'Enviar SMS': one PROMOTIONAL outbox row (the dispatcher's gatekeeper decides: consent, caps, quiet hours,
    suppression). Returns False when that offer's SMS was already queued."""
    text = policy.gsm7_trim((text or "").strip())
    if not text:
        raise ValidationError("El texto del SMS es obligatorio.", field="texto")
    return outbox.enqueue(
        message_type="PROMOTIONAL",
        channel=SMS,
        idempotency_key=f"ai:nbo:{log_id}:client:{client.id}:{offer_no}:{SMS}",
        client_id=client.id,
        expires_at=clock.now() + timedelta(days=7),
        triggered_by=f"staff:{getattr(by, 'username', '')}",
        created_by=by,
        payload={"text": text},
    )


def offer_campaign(client: Client, *, service: str, sms: str, email: str, by) -> Campaign:
    """'Usar en campaña': a Planning campaign whose list audience is this client, with the offer's texts."""
    stamp = clock.local_now().strftime("%d/%m/%Y %H:%M")
    campaign = crm_services.save_campaign(
        None,
        data={
            "name": f"IA: {service} para cliente #{client.id} ({stamp})"[:100],
            "goal": f"Oferta sugerida por IA: {service}",
            "audience_source": "lista",
            "channels": ["sms", "email"],
            "email_subject_template": f"Una invitación de Aremko: {service}",
            "email_body_template": email.replace(client.first_name, "{nombre_cliente}", 1),
            "sms_template": sms.replace(client.first_name, "{nombre_cliente}", 1),
        },
        by=by,
    )
    crm_services.add_targets(campaign, crm_services.client_ids_select([client.id]), source="manual", by=by)
    return campaign


# --- campaign copilot ---------------------------------------------------------------------------------------


@dataclass
class Draft:
    objective: str
    segmento: dict
    incentivo: str
    asunto: str
    cuerpo_email: str
    texto_sms: str

    def audience(self) -> dict:
        """{"source": reglas|lista, "segments": [...]} or {"template", "params"}."""
        return self.segmento


def _json_text(text: str) -> str:
    text = (text or "").strip()
    if text.startswith("```"):
        text = text.strip("`")
        text = text[text.find("{") :]
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if start >= 0 else text


def validate_draft(objective: str, data: object) -> Draft:
    """The model's JSON checked like the campaign form (segment keys or one audience template with valid
    parameters; template placeholders). Raises ValidationError (Spanish)."""
    if not isinstance(data, dict):
        raise ValidationError("El asistente no devolvió un borrador válido.")
    seg = data.get("segmento")
    if isinstance(seg, list):
        seg = {"segmentos": seg}
    if not isinstance(seg, dict):
        raise ValidationError("El borrador no indica un segmento.")
    if "plantilla" in seg:
        if seg["plantilla"] not in AUDIENCE_TEMPLATES:
            raise ValidationError("La plantilla de audiencia no está permitida.")
        try:
            params = validate_params(get_template(seg["plantilla"]), seg.get("parametros") or {})
        except TemplateError as exc:
            raise ValidationError(str(exc)) from exc
        seg = {"plantilla": seg["plantilla"], "parametros": jsonable_params(params)}
    else:
        keys = [k for k in seg.get("segmentos") or [] if isinstance(k, str)]
        if not keys or any(k not in SEGMENT_KEYS for k in keys):
            raise ValidationError("Segmento desconocido.")
        seg = {"segmentos": keys}
    fields = {k: str(data.get(k) or "").strip() for k in ("incentivo", "asunto", "cuerpo_email", "texto_sms")}
    for key in ("asunto", "cuerpo_email", "texto_sms"):
        error = crm_policy.template_error(fields[key])
        if error:
            raise ValidationError(error)
    fields["texto_sms"] = policy.gsm7_trim(fields["texto_sms"])
    return Draft(objective=objective, segmento=seg, **fields)


def draft_campaign(objective: str, *, user) -> tuple[Draft | None, str | None]:
    """Ask the model for {segmento, incentivo, asunto, cuerpo_email, texto_sms}; validated. (draft, error)."""
    started = time.monotonic()
    objective = (objective or "").strip()
    log = new_log(user, "copilot", objective)
    messages = [
        {
            "role": "system",
            "content": "Eres el copiloto de campañas de Aremko (spa en Chile). Devuelve SOLO JSON con las claves "
            'segmento, incentivo, asunto, cuerpo_email, texto_sms. segmento = {"segmentos": [claves]} con claves '
            f'de {", ".join(SEGMENT_KEYS)}, o {{"plantilla": una de {", ".join(AUDIENCE_TEMPLATES)}, '
            '"parametros": {...}}. Variables permitidas en los textos: {nombre_cliente}, {apellido_cliente}, '
            "{link}. SMS de máximo 160 caracteres.",
        },
        {"role": "user", "content": "COPILOTO:" + policy.scrub(objective)},
    ]
    draft, error = None, None
    try:
        result = call_model(log, messages, None)
        draft = validate_draft(objective, json.loads(_json_text(result.text)))
        log.template = draft.segmento.get("plantilla")
        log.params = draft.segmento
    except CapReached:
        error = policy.LIMIT_MESSAGE
        log.status = "blocked"
    except LLMError as exc:
        error = str(exc)
        log.status = "error"
    except ValueError as exc:
        error = str(exc) if isinstance(exc, ValidationError) else "El asistente no devolvió un borrador válido."
        log.status = "error"
    log.error = error
    log.duration_ms = int((time.monotonic() - started) * 1000)
    db.session.flush()
    return draft, error


def _campaign_data(
    name: str, segmento: dict, asunto: str, cuerpo: str, sms: str, objective: str, whatsapp: bool = False
) -> dict:
    """The campaign form's data of a draft. The SMS text is also the WhatsApp text; the WhatsApp channel only when
    the person ticked it (refused by the campaign rules when ManyChat is not configured)."""
    lista = "plantilla" in segmento
    return {
        "name": name,
        "goal": objective,
        "audience_source": "lista" if lista else "reglas",
        "target_segments": [] if lista else segmento["segmentos"],
        "channels": ["email", "sms"] + (["whatsapp"] if whatsapp else []),
        "email_subject_template": asunto,
        "email_body_template": cuerpo,
        "sms_template": sms,
        "whatsapp_template": sms,
    }


def _add_template_targets(campaign: Campaign, segmento: dict, by) -> None:
    template = get_template(segmento["plantilla"])
    stmt = template.build(validate_params(template, segmento.get("parametros") or {})).subquery("aud")
    crm_services.add_targets(campaign, sa.select(stmt.c.cliente_id), source="manual", by=by)


def preview_draft(
    name: str, segmento: dict, asunto: str, cuerpo: str, sms: str, objective: str, *, by, whatsapp: bool = False
) -> dict:
    """The audience preview (eligible / excluded per reason, crm.md §9.2) of a draft, computed on a campaign made
    inside a savepoint that is rolled back: nothing stays."""
    nested = db.session.begin_nested()
    try:
        campaign = crm_services.save_campaign(
            None,
            data=_campaign_data(name or "borrador-ia", segmento, asunto, cuerpo, sms, objective, whatsapp),
            by=by,
        )
        if "plantilla" in segmento:
            _add_template_targets(campaign, segmento, by)
        return audience_queries.preview(campaign)
    finally:
        nested.rollback()


def create_draft_campaign(
    name: str, segmento: dict, asunto: str, cuerpo: str, sms: str, objective: str, *, by, whatsapp: bool = False
):
    """'Crear campaña borrador': a Planning campaign (sending is the normal flow, never automatic); with
    `whatsapp` it is also sent on WhatsApp (ManyChat) with the SMS text."""
    campaign = crm_services.save_campaign(
        None, data=_campaign_data(name, segmento, asunto, cuerpo, sms, objective, whatsapp), by=by
    )
    if "plantilla" in segmento:
        _add_template_targets(campaign, segmento, by)
    return campaign
