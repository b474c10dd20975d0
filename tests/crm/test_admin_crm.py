"""CRM back office (crm.md §10): save hooks apply the rules; lead conversion as bulk action and as a button."""

from __future__ import annotations

import sqlalchemy as sa

from app.crm.models import Activity, Contact, Deal, Lead


def _lead(db_session, **kw):
    values = {"first_name": "Pia", "last_name": "Rojas", "email": "pia@example.com", "status": "Qualified"}
    values.update(kw)
    lead = Lead(**values)
    db_session.add(lead)
    db_session.commit()
    return lead


def test_bulk_conversion_action(login, db_session):
    good = _lead(db_session)
    new = _lead(db_session, email="nuevo@example.com", status="New")
    c = login("marketing")
    resp = c.post("/admin/lead/action/", data={"action": "convert", "rowid": [str(good.id), str(new.id)]})
    assert resp.status_code == 302
    with c.session_transaction() as sess:
        assert ("success", "1 leads calificados convertidos exitosamente.") in sess.get("_flashes", [])
    db_session.expire_all()
    assert db_session.get(Lead, good.id).status == "Converted" and db_session.get(Lead, new.id).status == "New"
    contact = db_session.scalar(sa.select(Contact).where(Contact.email == "pia@example.com"))
    assert db_session.scalar(sa.select(Deal).where(Deal.contact_id == contact.id)).stage == "Qualification"
    none = c.post("/admin/lead/action/", data={"action": "convert", "rowid": [str(new.id)]})
    assert none.status_code == 302
    with c.session_transaction() as sess:
        assert ("error", "No se seleccionaron leads calificados.") in sess.get("_flashes", [])


def test_lead_button_and_read_only_gerente(login, db_session):
    lead = _lead(db_session)
    listing = login("marketing").get("/admin/lead/")
    assert "Convertir a contacto" in listing.text
    assert "Convertir a contacto" not in login("gerente").get("/admin/lead/").text
    assert login("gerente").post(f"/admin/lead/convert/{lead.id}/").status_code == 403
    resp = login("admin").post(f"/admin/lead/convert/{lead.id}/")
    assert resp.status_code == 303
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).status == "Converted"


def test_activity_saved_in_back_office_contacts_new_lead(login, db_session):
    lead = _lead(db_session, status="New", email="a@example.com")
    c = login("marketing")
    resp = c.post(
        "/admin/activity/new/", data={"activity_type": "Call", "subject": "Llamada", "related_lead": str(lead.id)}
    )
    assert resp.status_code == 302
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).status == "Contacted"
    contact = Contact(first_name="Uno")
    db_session.add(contact)
    db_session.commit()
    before = db_session.scalar(sa.select(sa.func.count()).select_from(Activity))
    c.post(
        "/admin/activity/new/",
        data={
            "activity_type": "Call",
            "subject": "Dos",
            "related_lead": str(lead.id),
            "related_contact": str(contact.id),
        },
    )
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Activity)) == before


def test_lead_and_contact_phones_normalised(login, db_session):
    c = login("marketing")
    resp = c.post(
        "/admin/lead/new/",
        data={
            "first_name": "Leo",
            "last_name": "Paz",
            "email": "LEO@Example.com",
            "phone": "9 8765 4321",
            "status": "New",
            "source": "Referral",
        },
    )
    assert resp.status_code == 302
    lead = db_session.scalar(sa.select(Lead).where(Lead.email == "leo@example.com"))
    assert lead.phone == "+56987654321"
    c.post("/admin/contact/new/", data={"first_name": "Ema", "email": "ema@example.com", "phone": "abc"})
    assert db_session.scalar(sa.select(Contact).where(Contact.email == "ema@example.com")) is None
