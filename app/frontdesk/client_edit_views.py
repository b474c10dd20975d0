"""Client create and edit, and the review of pending contact updates (spec crm.md §3, §4): recepcion, gerente and
admin (README §6). The routes sit on the client screens' blueprint (`clients.*`), registered when client_views is
imported."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_login import current_user

from app.auth.decorators import role_required
from app.clients import queries as q
from app.clients.models import Client, ClientUpdateRequest
from app.clients.services import UPDATE_FIELDS, DuplicatePhone, create_client, review_update_request, update_client
from app.core.pagination import page_of, parse_page
from app.extensions import db
from app.frontdesk.client_forms import ClientForm, UpdateReviewForm
from app.frontdesk.client_views import bp
from app.web.forms import submit
from app.web.htmx import render_page, see_other, wants_fragment
from app.web.params import MAX_ID

EDITORS = ("recepcion", "gerente", "admin")
UPDATES_PER_PAGE = 25
UPDATE_LABELS = {"nombre": "Nombre", "telefono": "Teléfono", "email": "E-mail", "documento_identidad": "RUT/documento"}


def _client(client_id: int) -> Client:
    client = db.session.get(Client, client_id) if client_id <= MAX_ID else None
    return client or abort(404)


def _form_page(form: ClientForm, client: Client | None):
    """The form (page or its `client_form` block), with the link to the client that already has the phone."""
    duplicate = None
    if isinstance(form.refusal, DuplicatePhone):
        duplicate = db.session.get(Client, form.refusal.client_id)
    return render_page(
        "clients/form.html", "client_form", status=form.status, form=form, client=client, duplicate=duplicate
    )


@bp.route("/clientes/nuevo/", methods=["GET", "POST"])
@role_required(*EDITORS)
def client_new():
    form = ClientForm()
    source = "recepcion" if current_user.role == "recepcion" else "staff"

    def create():
        return create_client(
            data=form.client_data(),
            origin="recepcion",
            marketing_consent=form.acepta_marketing.data,
            consent_source=source,
            by=current_user,
            ip=request.remote_addr,
        )

    if submit(form, create):
        flash(f"Cliente {form.result.name} creado.", "success")
        return see_other(url_for("clients.client_detail", client_id=form.result.id))
    return _form_page(form, None)


@bp.route("/clientes/<int:client_id>/editar/", methods=["GET", "POST"])
@role_required(*EDITORS)
def client_edit(client_id: int):
    client = _client(client_id)
    form = ClientForm(data=ClientForm.initial(client))
    if submit(form, lambda: update_client(client, data=form.client_data(), by=current_user)):
        flash("Datos guardados." if form.result else "Sin cambios.", "success")
        return see_other(url_for("clients.client_detail", client_id=client.id))
    return _form_page(form, client)


# --- pending contact updates (crm.md §4) -------------------------------------------------------------------------


def _updates_page(*, status: int = 200, error: str | None = None, done: str | None = None):
    total = db.session.scalar(q.pending_update_count_select())
    page = page_of(
        db.session,
        q.pending_updates_select(),
        total,
        parse_page(request.args.get("page")),
        UPDATES_PER_PAGE,
        scalars=False,
    )
    return render_page(
        "clients/updates.html",
        "client_updates",
        status=status,
        page=page,
        labels=UPDATE_LABELS,
        known=UPDATE_FIELDS,
        error=error,
        done=done,
        form=UpdateReviewForm(formdata=None),
    )


@bp.get("/clientes/actualizaciones/")
@role_required(*EDITORS)
def client_updates():
    return _updates_page()


@bp.post("/clientes/actualizaciones/<int:request_id>/")
@role_required(*EDITORS)
def client_update_review(request_id: int):
    pending = db.session.get(ClientUpdateRequest, request_id) if request_id <= MAX_ID else None
    if pending is None:
        abort(404)
    form = UpdateReviewForm()
    form.campos.choices = [(f, f) for f in pending.proposed]
    approve = form.campos.data if form.accion.data == "aprobar" else []
    if submit(form, lambda: review_update_request(pending, approve=approve or [], by=current_user)):
        name = db.session.get(Client, pending.client_id).name
        done = f"Actualización de {name} aprobada." if approve else f"Actualización de {name} rechazada."
        if not wants_fragment():
            flash(done, "success")
            return see_other(url_for("clients.client_updates"))
        return _updates_page(done=done)
    return _updates_page(status=form.refusal_status, error=form.first_error)
