"""Client screens (spec crm.md §3, §7, §8): list with live search, detail, export, import, duplicates and merge.

The detail page is one template with a named block per section (`client_orders`, `client_events`, …) and include
hooks other packages fill in: `clients/_consent_actions.html` (consent editing) and `clients/_messages.html` (the
message log), both `ignore missing`.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, request, url_for
from flask_login import current_user

from app.auth.decorators import role_required
from app.clients import import_services as importer
from app.clients import queries as q
from app.clients.models import CONSENT_FIELDS, CONSENT_LABELS, EVENT_TYPES, Client, ClientImport
from app.core.db import stream_rows
from app.core.errors import DomainError, ValidationError
from app.core.pagination import Page, page_of, parse_page
from app.core.uow import unit_of_work
from app.core.xlsx import Sheet, export_filename, xlsx_download
from app.extensions import db
from app.frontdesk.client_forms import ClientImportActionForm, ClientImportForm, ClientMergeForm, merge_ids
from app.sales import client_queries as cq
from app.sales.client_merge_services import merge_clients
from app.web.errors import error_response
from app.web.forms import submit
from app.web.htmx import render_page, see_other, wants_fragment
from app.web.params import MAX_ID

bp = Blueprint("clients", __name__, url_prefix="/ventas")

STAFF = ("recepcion", "marketing", "gerente", "admin")
EXPORTERS = ("marketing", "gerente", "admin")
MANAGERS = ("gerente", "admin")
PER_PAGE = 25
ORDERS_PER_PAGE = 10
EVENTS_PER_PAGE = 50
EXPORT_HEADERS = [
    "ID",
    "Nombre",
    "Teléfono",
    "Email",
    "Documento Identidad",
    "Ciudad",
    "País",
    "Fecha Nacimiento",
    "Visitas",
    "Gasto Total",
    "Última Visita",
    "Fecha Creación",
]
TEMPLATE_HEADERS = [
    "ID",
    "Documento Identidad",
    "Nombre",
    "Teléfono",
    "Email",
    "Ciudad",
    "País",
    "Fecha Nacimiento",
    "Acepta Marketing",
]


def _page(stmt, total: int, arg: str, per_page: int, *, scalars: bool = True) -> Page:
    return page_of(db.session, stmt, total, parse_page(request.args.get(arg)), per_page, scalars=scalars)


def _search_text() -> str:
    return (request.args.get("q") or "").strip()[:100]


# --- list and export -------------------------------------------------------------------------------------------


@bp.get("/clientes/")
@role_required(*STAFF)
def client_list():
    text = _search_text()
    total = db.session.scalar(q.client_count_select(text))
    page = _page(q.client_list_select(text), total, "page", PER_PAGE)
    stats = (
        {r.client_id: r for r in db.session.execute(cq.stats_for_select([c.id for c in page.items]))}
        if page.items
        else {}
    )
    extra = {}
    if not wants_fragment() and current_user.role in ("recepcion", "gerente", "admin"):
        extra["pending_updates"] = db.session.scalar(q.pending_update_count_select())
    return render_page(
        "clients/list.html", "client_results", page=page, stats=stats, q=text, args={"q": text} if text else {}, **extra
    )


def _client_export_rows(text: str):
    for r in stream_rows(db.session, cq.client_export_select(text)):
        yield (
            r.id,
            r.name,
            r.phone,
            r.email,
            r.document_id,
            r.city,
            r.country,
            r.birth_date,
            int(r.visits),
            int(r.spend),
            r.last_visit,
            r.created_at,
        )


@bp.get("/exportar-clientes/")
@role_required(*EXPORTERS)
def client_export():
    text = _search_text()
    sheet = Sheet("Clientes", EXPORT_HEADERS, _client_export_rows(text), money_columns=(9,), wide_columns=(1, 3))
    return xlsx_download(export_filename("Clientes"), [sheet])


# --- detail ----------------------------------------------------------------------------------------------------

DETAIL_BLOCKS = ("client_orders", "client_events")


def _client_or_404(client_id: int) -> Client:
    client = db.session.get(Client, client_id) if client_id <= MAX_ID else None
    if client is None:
        abort(404)
    return client


@bp.get("/clientes/<int:client_id>/")
@role_required(*STAFF)
def client_detail(client_id: int):
    from app.sales.client_queries import segment_labels
    from app.sales.models import BOOKING_STATUS_LABELS

    client = _client_or_404(client_id)
    block = request.args.get("bloque")
    block = block if block in DETAIL_BLOCKS else None
    ctx = {"client": client, "event_types": EVENT_TYPES, "booking_labels": BOOKING_STATUS_LABELS}
    if block in (None, "client_orders"):
        ctx["orders"] = _page(
            cq.client_orders_select(client_id),
            db.session.scalar(cq.client_order_count_select(client_id)),
            "pedidos",
            ORDERS_PER_PAGE,
        )
    if block in (None, "client_events"):
        ctx["events"] = _page(
            q.client_events_select(client_id),
            db.session.scalar(q.client_event_count_select(client_id)),
            "eventos",
            EVENTS_PER_PAGE,
            scalars=False,
        )
    if block is None:
        ctx["stats"] = db.session.execute(cq.stats_for_select([client_id])).one()
        ctx["segment_label"] = segment_labels().get(ctx["stats"].segment, ctx["stats"].segment)
        ctx["payments"] = db.session.execute(cq.client_payments_select(client_id)).all()
        ctx["gift_cards"] = list(db.session.scalars(cq.client_gift_cards_select(client_id)))
        ctx["consent_fields"] = [(f, CONSENT_LABELS[f]) for f in CONSENT_FIELDS]
    return render_page("clients/detail.html", block, **ctx)


# --- import ----------------------------------------------------------------------------------------------------


def _import_form(form: ClientImportForm | None = None, *, error: str | None = None, status: int = 200):
    """The upload form; after a refusal, its message above the form (422)."""
    form = form or ClientImportForm(formdata=None)
    error = error or form.first_error
    return render_page(
        "clients/import.html", "import_form", form=form, error=error, marketing=form.marketing, status=status
    )


@bp.errorhandler(DomainError)
def _refused(exc: DomainError):
    """A refused confirm or discard of an import answers in place with the upload form (422), as the upload does;
    any other refusal on these screens gets the app's error page."""
    if request.endpoint in ("clients.client_import_confirm", "clients.client_import_discard"):
        return _import_form(error=exc.message, status=422)
    return error_response(exc.status, exc.message)


@bp.get("/importar-clientes/")
@role_required(*MANAGERS)
def client_import():
    return _import_form()


@bp.get("/importar-clientes/plantilla/")
@role_required(*MANAGERS)
def client_import_template():
    example = [
        (None, "12.345.678-5", "María Pérez", "9 8765 4321", "maria@example.com", "Puerto Varas", "Chile", None, "No")
    ]
    return xlsx_download("Plantilla_Clientes.xlsx", [Sheet("Clientes", TEMPLATE_HEADERS, example, wide_columns=(2, 4))])


@bp.post("/importar-clientes/")
@role_required(*MANAGERS)
def client_import_upload():
    form = ClientImportForm()
    if not submit(form, lambda: _preview(form)):
        return _import_form(form, status=422)
    record, result = form.result
    return render_page(
        "clients/import.html",
        "import_form",
        record=record,
        result=result,
        action_labels=importer.ACTION_LABELS,
        marketing=form.marketing,
        action_form=ClientImportActionForm(formdata=None),
    )


def _preview(form: ClientImportForm):
    upload = form.archivo.data
    return importer.create_import(upload.stream, upload.filename, marketing=form.marketing, by=current_user)


def _import_or_404(import_id: int) -> ClientImport:
    record = db.session.get(ClientImport, import_id) if import_id <= MAX_ID else None
    if record is None:
        abort(404)
    return record


@bp.get("/importar-clientes/<int:import_id>/errores/")
@role_required(*MANAGERS)
def client_import_errors(import_id: int):
    record = _import_or_404(import_id)
    if record.status != "preview" or not importer.file_matches(record):
        abort(404)
    rows = importer.problem_rows(importer.stored_path(record.stored_name), new_marketing=record.marketing_consent)
    return xlsx_download(
        export_filename("Errores_Importacion"),
        [Sheet("Errores", importer.ERROR_HEADERS, rows, wide_columns=(2, 4, 10))],
    )


@bp.post("/importar-clientes/<int:import_id>/confirmar/")
@role_required(*MANAGERS)
def client_import_confirm(import_id: int):
    record = _import_or_404(import_id)
    with unit_of_work():
        counts = importer.apply_import(record, by=current_user)
    importer.remove_file(record)
    flash(
        f"Importación completada: {counts['nuevo']} creados, {counts['actualizado']} actualizados, "
        f"{counts['sin_cambios']} sin cambios, {counts['error']} con errores.",
        "success",
    )
    return see_other(url_for("clients.client_list"))


@bp.post("/importar-clientes/<int:import_id>/descartar/")
@role_required(*MANAGERS)
def client_import_discard(import_id: int):
    record = _import_or_404(import_id)
    with unit_of_work():
        importer.discard_import(record)
    importer.remove_file(record)
    flash("Importación descartada.", "info")
    return see_other(url_for("clients.client_import"))


# --- duplicates and merge --------------------------------------------------------------------------------------


@bp.get("/clientes/duplicados/")
@role_required(*MANAGERS)
def client_duplicates():
    email_stmt, doc_stmt = q.duplicate_groups_select()
    groups = []
    for label, column, stmt in (("E-mail", Client.email, email_stmt), ("Documento", Client.document_id, doc_stmt)):
        keys = [r.key for r in db.session.execute(stmt)]
        if not keys:
            continue
        members: dict[str, list[Client]] = {}
        for c in db.session.scalars(sa.select(Client).where(column.in_(keys)).order_by(Client.id)):
            members.setdefault(getattr(c, column.key), []).append(c)
        groups += [(label, key, members.get(key, [])) for key in keys]
    return render_page("clients/duplicates.html", None, groups=groups)


def _merge_page(form: ClientMergeForm, ids: list[int]):
    """The clients side by side; the form's refusal above them (422)."""
    from app.clients.models import ClientEvent
    from app.sales.models import GiftCard, Order

    clients = list(db.session.scalars(sa.select(Client).where(Client.id.in_(ids)).order_by(Client.id))) if ids else []

    def counts(column):
        return (
            dict(db.session.execute(sa.select(column, sa.func.count()).where(column.in_(ids)).group_by(column)).all())
            if ids
            else {}
        )

    orders, events = counts(Order.client_id), counts(ClientEvent.client_id)
    bought, received = counts(GiftCard.buyer_client_id), counts(GiftCard.recipient_client_id)
    rows = [(c, orders.get(c.id, 0), events.get(c.id, 0), bought.get(c.id, 0) + received.get(c.id, 0)) for c in clients]
    error = form.first_error
    if error is None and len(clients) < 2:
        error = "Indique al menos dos clientes existentes para fusionar (?ids=12,45)."
    form.ids.data = ",".join(str(c.id) for c in clients)
    return render_page("clients/merge.html", None, rows=rows, form=form, error=error, status=form.status)


@bp.get("/clientes/fusionar/")
@role_required(*MANAGERS)
def client_merge():
    return _merge_page(ClientMergeForm(formdata=None), merge_ids(request.args.get("ids")))


@bp.post("/clientes/fusionar/")
@role_required(*MANAGERS)
def client_merge_confirm():
    form = ClientMergeForm()
    if not submit(form, lambda: _merge(form)):
        return _merge_page(form, form.client_ids)
    merges, survivor_id = form.result, form.survivor_id
    flash(
        f"{len(merges)} cliente{'s' if len(merges) != 1 else ''} fusionado{'s' if len(merges) != 1 else ''} "
        f"en #{survivor_id}.",
        "success",
    )
    return see_other(url_for("clients.client_detail", client_id=survivor_id))


def _merge(form: ClientMergeForm):
    ids, survivor_id = form.client_ids, form.survivor_id
    clients = {c.id: c for c in db.session.scalars(sa.select(Client).where(Client.id.in_(ids)))}
    if len(clients) != len(ids):
        raise ValidationError("Alguno de los clientes ya no existe.")
    return merge_clients(clients[survivor_id], [clients[i] for i in ids if i != survivor_id], by=current_user)


from app.frontdesk import client_edit_views  # noqa: E402,F401  (registers its routes on bp)
