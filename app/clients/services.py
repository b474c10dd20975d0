"""Client state changes with their audit events. Services flush, never commit."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from app.clients.models import (
    CHANNEL_FIELDS,
    CONSENT_FIELDS,
    CONSENT_LABELS,
    MARKETING_FIELDS,
    Client,
    ClientEvent,
    ClientPreferences,
    ClientUpdateRequest,
    ConsentEvent,
)
from app.clients.representation import client_representation
from app.core import clock
from app.core.errors import ConflictError, ValidationError
from app.core.identity import normalize_document, normalize_email
from app.core.phone import normalize_phone
from app.extensions import db
from app.webhooks.event_services import emit_event

EDITABLE_FIELDS = ("name", "phone", "email", "document_id", "country", "city", "birth_date", "notes")
FIELD_LABELS = {
    "name": "nombre",
    "phone": "telefono",
    "email": "email",
    "document_id": "documento_identidad",
    "country": "pais",
    "city": "ciudad",
    "birth_date": "fecha_nacimiento",
    "notes": "notas",
}


def record_event(
    client: Client, event_type: str, description: str, *, by=None, order_id=None, data=None, flush: bool = True
) -> ClientEvent:
    """Append an audit entry for `client` in the current transaction; flushes (unless `flush=False`: a caller that
    writes several entries flushes them together, one INSERT)."""
    event = ClientEvent(
        client_id=client.id,
        event_type=event_type,
        description=description,
        user_id=getattr(by, "id", None),
        order_id=order_id,
        data=data,
    )
    db.session.add(event)
    if flush:
        db.session.flush()
    return event


def clean_client_data(data: dict) -> dict:
    """Normalise and validate client fields (phone E.164, RUT, e-mail, birth date); raises ValidationError."""
    out = {}
    if "name" in data:
        name = " ".join((data.get("name") or "").split())
        if not name:
            raise ValidationError("El nombre es obligatorio.", field="nombre")
        if len(name) > 100:
            raise ValidationError("El nombre admite hasta 100 caracteres.", field="nombre")
        out["name"] = name
    if "phone" in data:
        out["phone"] = normalize_phone(data.get("phone"))
    if "email" in data:
        out["email"] = normalize_email(data.get("email"))
    if "document_id" in data:
        out["document_id"] = normalize_document(data.get("document_id"))
    for key, limit, label in (("country", 60, "país"), ("city", 100, "ciudad"), ("notes", None, "notas")):
        if key in data:
            out[key] = (data.get(key) or "").strip() or None
            if limit and out[key] and len(out[key]) > limit:
                raise ValidationError(f"El campo {label} admite hasta {limit} caracteres.", field=key)
    if "birth_date" in data:
        birth = data.get("birth_date")
        if birth is not None and not (date(1900, 1, 1) <= birth <= clock.today()):
            raise ValidationError("La fecha de nacimiento debe estar entre 1900 y hoy.", field="fecha_nacimiento")
        out["birth_date"] = birth
    return out


class DuplicatePhone(ConflictError):
    """The phone already belongs to another client (spec crm.md §3): the screen links to that client."""

    def __init__(self, client_id: int):
        super().__init__("Ya existe un cliente con este teléfono.", field="telefono")
        self.client_id = client_id


def _phone_taken(phone: str, exclude_id: int | None = None) -> bool:
    stmt = sa.select(Client.id).where(Client.phone == phone)
    if exclude_id is not None:
        stmt = stmt.where(Client.id != exclude_id)
    owner = db.session.scalar(stmt)
    if owner is not None:
        raise DuplicatePhone(owner)
    return False


def create_client(
    *,
    data: dict,
    origin: str,
    marketing_consent: bool = False,
    consent_source: str = "staff",
    by=None,
    ip=None,
    phone_checked: bool = False,
) -> Client:
    """Create a client with its preferences and audit events; flushes. `phone_checked`: the caller has just looked
    the phone up in this transaction and found no client (the checkout's match): not looked up again.

    Raises ValidationError for bad fields and ConflictError when the phone already belongs to a client.
    """
    values = clean_client_data({"name": data.get("name"), "phone": data.get("phone"), **data})
    if not phone_checked:
        _phone_taken(values["phone"])
    if values.get("country") is None and values["phone"].startswith("+56"):
        values["country"] = "Chile"
    client = Client(origin=origin, **values)
    db.session.add(client)
    db.session.flush()
    prefs = ClientPreferences(client_id=client.id, **{f: bool(marketing_consent) for f in MARKETING_FIELDS})
    db.session.add(prefs)
    record_event(client, "client_created", f"Cliente creado ({origin})", by=by)
    emit_event("client.created", lambda: {"cliente": client_representation(client)})
    if marketing_consent:
        for f in MARKETING_FIELDS:
            db.session.add(
                ConsentEvent(
                    client_id=client.id,
                    field=f,
                    old_value=None,
                    new_value=True,
                    source=consent_source,
                    user_id=getattr(by, "id", None),
                    ip=ip,
                )
            )
        record_event(client, "consent_changed", "Consentimiento de marketing otorgado al crear el cliente", by=by)
    db.session.flush()
    return client


def _display(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def update_client(client: Client, *, data: dict, by=None) -> dict:
    """Apply changed fields, write `client_updated` with before/after; flushes; returns the changes."""
    values = clean_client_data({k: v for k, v in data.items() if k in EDITABLE_FIELDS})
    if "phone" in values:
        _phone_taken(values["phone"], exclude_id=client.id)
    changes = {}
    for key, new in values.items():
        old = getattr(client, key)
        if old != new:
            changes[key] = {"antes": _display(old), "despues": _display(new)}
            setattr(client, key, new)
    if changes:
        description = "; ".join(f"{FIELD_LABELS[k]}: {v['antes']} → {v['despues']}" for k, v in changes.items())
        record_event(client, "client_updated", description, by=by, data=changes)
    db.session.flush()
    return changes


def set_consents(
    client: Client, changes: dict[str, bool], *, source: str, by=None, ip=None, message_id=None, note: str | None = None
) -> int:
    """Change consent switches, one ConsentEvent per changed field plus one `consent_changed`; flushes. Staff may
    add a note (crm.md §3 `/preferencias/`): kept on each ConsentEvent and in the client event's description.

    Returns how many fields changed.
    """
    note = " ".join((note or "").split()) or None
    if note is not None and len(note) > 200:
        raise ValidationError("La nota admite hasta 200 caracteres.", field="nota")
    prefs = client.preferences
    if prefs is None:
        prefs = ClientPreferences(client_id=client.id)
        db.session.add(prefs)
        db.session.flush()
    changed = []
    for field, value in changes.items():
        if field not in CONSENT_FIELDS:
            raise ValidationError(f"Preferencia desconocida: {field}")
        old = getattr(prefs, field)
        if old != bool(value):
            setattr(prefs, field, bool(value))
            db.session.add(
                ConsentEvent(
                    client_id=client.id,
                    field=field,
                    old_value=old,
                    new_value=bool(value),
                    source=source,
                    user_id=getattr(by, "id", None),
                    ip=ip,
                    message_id=message_id,
                    note=note,
                )
            )
            changed.append(f"{CONSENT_LABELS[field]}: {'sí' if old else 'no'} → {'sí' if value else 'no'}")
    if changed:
        if all(not getattr(prefs, f) for f in CHANNEL_FIELDS + MARKETING_FIELDS):
            prefs.opt_out_date = prefs.opt_out_date or clock.now()
        description = "; ".join(changed) + f" ({source})" + (f". Nota: {note}" if note else "")
        record_event(client, "consent_changed", description, by=by)
    db.session.flush()
    return len(changed)


def opt_out_all(client: Client, *, source: str, by=None, ip=None) -> int:
    """All channels and marketing types off, opt-out date set; flushes."""
    count = set_consents(client, {f: False for f in CHANNEL_FIELDS + MARKETING_FIELDS}, source=source, by=by, ip=ip)
    client.preferences.opt_out_date = clock.now()
    db.session.flush()
    return count


def delete_client(client: Client, *, by=None) -> None:
    """Delete a client without history; otherwise refuse (merge instead); flushes."""
    from app.core.errors import HasHistory

    if client.has_history():
        raise HasHistory()
    db.session.delete(client)
    db.session.flush()


# The fields a pending update may propose (spec crm.md §4: the checkout's and the API's names) → Client columns.
UPDATE_FIELDS = {"nombre": "name", "telefono": "phone", "email": "email", "documento_identidad": "document_id"}


def review_update_request(request: ClientUpdateRequest, *, approve: list[str] | tuple[str, ...], by) -> dict:
    """Approve the chosen fields of a pending update (→ `update_client`, its `client_updated` event) and reject the
    rest; the request is `aprobada` when any field was applied, else `rechazada`, with reviewer and time. Flushes;
    returns the applied changes. A request already reviewed is refused (two people on the same list)."""
    if request.status != "pendiente":
        raise ConflictError("Esta actualización ya fue revisada por otra persona.")
    unknown = [f for f in approve if f not in request.proposed or f not in UPDATE_FIELDS]
    if unknown:
        raise ValidationError("Elija campos de la actualización propuesta.")
    client = db.session.get(Client, request.client_id)
    data = {UPDATE_FIELDS[f]: request.proposed[f]["propuesto"] for f in approve}
    changes = update_client(client, data=data, by=by) if data else {}
    rejected = {f: v for f, v in request.proposed.items() if f not in approve}
    if rejected:  # the fields not applied leave their trace too, as the applied ones do (`client_updated`)
        description = "Rechazado: " + "; ".join(
            f"{f}: {v.get('actual') or '—'} → {v.get('propuesto') or '—'}" for f, v in rejected.items()
        )
        record_event(client, "client_update_rejected", description, by=by, order_id=request.order_id, data=rejected)
    request.status = "aprobada" if approve else "rechazada"
    request.reviewed_by_id = getattr(by, "id", None)
    request.reviewed_at = clock.now()
    db.session.flush()
    return changes
