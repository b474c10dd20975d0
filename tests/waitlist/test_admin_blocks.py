"""Deleting a block in the back office frees capacity: the waitlist offer is made in the delete's transaction."""

from __future__ import annotations

import sqlalchemy as sa

from app.catalog.models import ServiceBlock, SlotBlock
from tests.waitlist.conftest import DAY


def test_deleting_a_slot_block_offers_the_freed_hour(booking_setup, book, join, login, db_session):
    calipso = booking_setup["calipso"]
    book(calipso, "14:00")
    block = SlotBlock(service_id=calipso.id, date=DAY, time="17:00", reason="Mantención")
    db_session.add(block)
    db_session.flush()
    entry = join(calipso, None)
    resp = login("recepcion").post("/admin/slotblock/delete/", data={"id": block.id})
    assert resp.status_code == 302
    db_session.refresh(entry)
    assert entry.status == "ofrecida" and entry.offered_time == "17:00"


def test_deleting_a_spa_wide_block_offers(booking_setup, book, join, login, db_session):
    calipso = booking_setup["calipso"]
    order = book(calipso, "14:00")
    entry = join(calipso, "14:00")
    block = ServiceBlock(service_id=None, start_date=DAY, end_date=DAY, reason="Corte de agua")
    db_session.add(block)
    order.service_lines[0].status = "cancelada"  # freed while the spa is closed: nothing to offer yet
    db_session.flush()
    resp = login("gerente").post("/admin/serviceblock/delete/", data={"id": block.id})
    assert resp.status_code == 302
    db_session.refresh(entry)
    assert entry.status == "ofrecida" and entry.offered_time == "14:00"
    assert db_session.scalar(sa.select(sa.func.count()).select_from(ServiceBlock)) == 0
