"""CRM rules (crm.md §9.1–9.2, §10): templates, audience, lead auto-status and conversion, client contacts."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.errors import ValidationError
from app.crm import policy, services
from app.crm.models import Activity, Company, Contact, Deal, Lead
from app.crm.queries import audience_select


@pytest.mark.parametrize(
    "text, error",
    [
        ("Hola {nombre_cliente} {apellido_cliente}: {link}", None),
        ("Sin variables", None),
        (
            "Hola {nombre}",
            "Variable desconocida: {nombre}. Variables permitidas: {nombre_cliente}, {apellido_cliente}, {link}",
        ),
        ("Hola {nombre_cliente", "Llaves sin cerrar."),
        ("Hola nombre_cliente}", "Llaves sin cerrar."),
    ],
)
def test_template_placeholders(text, error):
    assert policy.template_error(text) == error


@pytest.mark.parametrize(
    "status, kind, expected",
    [
        ("New", "Call", "Contacted"),
        ("New", "Email Sent", "Contacted"),
        ("New", "Meeting", "Contacted"),
        ("New", "Note Added", "New"),
        ("New", "SMS Sent", "New"),
        ("Qualified", "Call", "Qualified"),
    ],
)
def test_status_after_activity(status, kind, expected):
    assert policy.status_after_activity(status, kind) == expected


def test_roi_ratio():
    assert policy.roi(150000, 100000) == 0.5
    assert policy.roi(1000, 0) is None


def test_save_campaign_refuses_unknown_placeholder_and_duplicates(db_session, make_campaign):
    make_campaign(name="Verano")
    with pytest.raises(ValidationError) as exc:
        make_campaign(name="Otra", sms_template="Hola {nombre}")
    assert exc.value.field == "sms_template" and exc.value.message.startswith("Variable desconocida: {nombre}.")
    with pytest.raises(ValidationError, match="Ya existe una campaña con ese nombre."):
        make_campaign(name="Verano")
    with pytest.raises(ValidationError, match="Segmento desconocido."):
        make_campaign(name="X", target_segments=["gold"])


def _ids(campaign):
    from app.extensions import db

    return set(db.session.scalars(audience_select(campaign)))


def test_audience_rules(db_session, make_client, add_visits, make_campaign):
    zero = make_client()
    new_low = add_visits(make_client(), visits=1, spend=10000)
    regular = add_visits(make_client(), visits=3, spend=60000)
    vip = add_visits(make_client(), visits=7, spend=300000)
    everyone = _ids(make_campaign())
    assert {zero.id, new_low.id, regular.id, vip.id} <= everyone
    assert _ids(make_campaign(target_min_visits=3)) == {regular.id, vip.id}
    assert _ids(make_campaign(target_min_spend=60000)) == {regular.id, vip.id}
    assert _ids(make_campaign(target_min_visits=1, target_min_spend=100000)) == {vip.id}
    assert _ids(make_campaign(target_segments=["new_low_spend", "zero_spend"])) >= {zero.id, new_low.id}
    assert not _ids(make_campaign(target_segments=["new_low_spend"])) & {zero.id, regular.id, vip.id}
    lista = make_campaign(audience_source="lista", target_min_visits=5)
    assert _ids(lista) == set()
    result = services.add_targets(lista, services.client_ids_select([zero.id, regular.id, 999999]), source="manual")
    assert (result.added, result.existing) == (2, 0)
    assert _ids(lista) == {zero.id, regular.id}  # explicit targets only; rules are ignored for `lista`


def test_log_activity_contacts_new_lead_only(db_session):
    lead = Lead(first_name="Ana", email="ana@example.com")
    db_session.add(lead)
    db_session.flush()
    services.log_activity(activity_type="Note Added", subject="nota", lead=lead)
    assert lead.status == "New"
    services.log_activity(activity_type="Call", subject="llamada", lead=lead)
    assert lead.status == "Contacted"
    lead.status = "Unqualified"
    services.log_activity(activity_type="Meeting", subject="reunión", lead=lead)
    assert lead.status == "Unqualified"
    contact = Contact(first_name="Eva")
    db_session.add(contact)
    with pytest.raises(ValidationError):
        services.log_activity(activity_type="Call", subject="x", lead=lead, contact=contact)
    with pytest.raises(ValidationError):
        services.log_activity(activity_type="Telepathy", subject="x", lead=lead)


def test_activity_check_constraint_allows_one_related(db_session):
    lead = Lead(first_name="Ana", email="ana2@example.com")
    contact = Contact(first_name="Eva")
    db_session.add_all([lead, contact])
    db_session.flush()
    from app.core import clock

    db_session.add(
        Activity(
            activity_type="Other",
            subject="x",
            related_lead_id=lead.id,
            related_contact_id=contact.id,
            activity_date=clock.now(),
        )
    )
    with pytest.raises(sa.exc.IntegrityError):
        with db_session.begin_nested():
            db_session.flush()


def test_lead_conversion(db_session, make_client):
    client = make_client(name="María Pérez", phone="+56987650001", email="maria@example.com")
    db_session.add(Contact(first_name="Ya", last_name="Existe", email="dup@example.com"))
    good = Lead(
        first_name="María",
        last_name="Pérez",
        email="Maria@Example.com",
        phone="+56987650001",
        company_name="Hotel Sur",
        status="Qualified",
    )
    dup = Lead(first_name="Dup", last_name="Licado", email="dup@example.com", status="Qualified")
    other = Lead(first_name="Nuevo", email="nuevo@example.com", status="New")
    db_session.add_all([good, dup, other])
    db_session.flush()
    messages = services.convert_leads([good, dup, other])
    assert (
        "warning",
        f"Contacto con email dup@example.com ya existe. Conversión omitida para Lead ID {dup.id}.",
    ) in messages
    assert ("success", "1 leads calificados convertidos exitosamente.") in messages
    contact = db_session.scalar(sa.select(Contact).where(Contact.email == "maria@example.com"))
    assert contact.client_id == client.id and contact.company.name == "Hotel Sur"
    deal = db_session.scalar(sa.select(Deal).where(Deal.contact_id == contact.id))
    assert deal.name == "Oportunidad Inicial para María Pérez" and deal.stage == "Qualification"
    assert good.status == "Converted" and dup.status == "Qualified" and other.status == "New"
    activity = db_session.scalar(sa.select(Activity).where(Activity.related_lead_id == good.id))
    assert activity.activity_type == "Status Change" and activity.subject == "Lead Convertido a Contacto: María Pérez"
    assert services.convert_leads([other]) == [("warning", "No se seleccionaron leads calificados.")]
    # the same company is reused
    again = Lead(first_name="Otro", email="otro@example.com", company_name="Hotel Sur", status="Qualified")
    db_session.add(again)
    db_session.flush()
    services.convert_leads([again])
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Company)) == 1


def test_ensure_contact_for_client(db_session, make_client):
    db_session.add(Contact(first_name="Otra", email="compartido@example.com"))
    client = make_client(name="Juan Carlos Soto", email="compartido@example.com")
    contact = services.ensure_contact_for_client(client)
    assert (contact.first_name, contact.last_name, contact.email, contact.phone, contact.client_id) == (
        "Juan",
        "Carlos Soto",
        None,
        client.phone,
        client.id,
    )
    assert services.ensure_contact_for_client(client).id == contact.id
