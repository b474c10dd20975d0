"""`/ventas/bloqueos/` (spec catalog.md §3): upcoming blocks, the two HTMX forms (a service or the whole spa by
dates; one time of one day) and removal; recepcion, gerente, admin (README §6). A block over standing bookings is
refused once with the list (409) and saved when "Confirmo el bloqueo" is ticked; removing one frees capacity
(`sales.signals.block_removed`)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, url_for
from flask_login import current_user

from app.auth.decorators import role_required
from app.catalog.models import Service, ServiceBlock, SlotBlock
from app.core import clock
from app.core.errors import DomainError
from app.core.uow import unit_of_work
from app.extensions import db
from app.frontdesk.block_forms import ServiceBlockForm, SlotBlockForm
from app.frontdesk.blueprint import DESK, bp
from app.sales import block_services as blocks
from app.sales.queries import upcoming_blocks
from app.web.forms import submit
from app.web.htmx import render_page, see_other, wants_fragment
from app.web.params import MAX_ID


def _panel(*, status: int = 200, service_form=None, slot_form=None, done: str | None = None, error: str | None = None):
    service_blocks, slot_blocks = upcoming_blocks(clock.today())
    services = db.session.scalars(sa.select(Service).where(Service.is_active.is_(True)).order_by(Service.name)).all()
    for form in (service_form, slot_form):
        if form is not None:  # shown again after a refusal: a fresh one-time key
            form.renew_key()
    return render_page(
        "frontdesk/blocks.html",
        "blocks_panel",
        status=status,
        service_form=service_form or ServiceBlockForm(formdata=None),
        slot_form=slot_form or SlotBlockForm(formdata=None),
        service_blocks=service_blocks,
        slot_blocks=slot_blocks,
        services=services,
        done=done,
        error=error,
        today=clock.today(),
    )


def _saved(message: str):
    if wants_fragment():
        return _panel(done=message)
    flash(message, "success")
    return see_other(url_for("frontdesk.block_list"))


def _create(form, create, message: str, form_name: str):
    """Both block forms: saved → the panel (or a redirect) with `message`; refused → the panel again with the form
    (as `form_name`) and its errors, at the refusal's status (409 with the standing bookings, 422 for bad input)."""
    if submit(form, create):
        return _saved(message)
    return _panel(status=form.status, **{form_name: form})


@bp.get("/bloqueos/")
@role_required(*DESK)
def block_list():
    return _panel()


@bp.post("/bloqueos/")
@role_required(*DESK)
def block_service_new():
    form = ServiceBlockForm()

    def create():
        return blocks.create_service_block(
            service_id=form.servicio_id.data,
            start=form.desde.data,
            end=form.hasta.data,
            reason=form.motivo.data,
            confirmed=form.confirmar.data,
            by=current_user,
        )

    return _create(form, create, "Bloqueo creado.", "service_form")


@bp.post("/bloqueos/horario/")
@role_required(*DESK)
def block_slot_new():
    form = SlotBlockForm()

    def create():
        return blocks.create_slot_block(
            service_id=form.servicio_id.data,
            day=form.fecha.data,
            time=form.hora.data,
            reason=form.motivo.data,
            confirmed=form.confirmar.data,
            by=current_user,
        )

    return _create(form, create, "Horario bloqueado.", "slot_form")


def _remove(model, block_id: int, remove):
    block = db.session.get(model, block_id) if block_id <= MAX_ID else None
    if block is None:
        abort(404)
    try:
        with unit_of_work():
            remove(block, by=current_user)
    except DomainError as exc:
        return _panel(status=exc.status, error=exc.message)
    return _saved("Bloqueo quitado: la capacidad queda libre.")


@bp.post("/bloqueos/servicio/<int:block_id>/quitar/")
@role_required(*DESK)
def block_service_remove(block_id: int):
    return _remove(ServiceBlock, block_id, blocks.remove_service_block)


@bp.post("/bloqueos/horario/<int:block_id>/quitar/")
@role_required(*DESK)
def block_slot_remove(block_id: int):
    return _remove(SlotBlock, block_id, blocks.remove_slot_block)
