import pytest
import sqlalchemy as sa

from app.clients.models import Client, ClientEvent, ConsentEvent
from app.clients.services import create_client, delete_client, opt_out_all, record_event, set_consents, update_client
from app.core.errors import ConflictError, HasHistory, ValidationError


def test_create_client_normalises_and_audits(db_session, make_user):
    staff = make_user("recepcion")
    client = create_client(
        data={
            "name": "  María   José Pérez ",
            "phone": "9 8765 4321",
            "email": " MJ@Example.com ",
            "document_id": "12.345.678-5",
        },
        origin="recepcion",
        marketing_consent=True,
        consent_source="recepcion",
        by=staff,
    )
    assert client.phone == "+56987654321"
    assert client.name == "María José Pérez" and client.first_name == "María" and client.last_name == "José Pérez"
    assert client.email == "mj@example.com" and client.document_id == "12345678-5"
    assert client.country == "Chile"
    prefs = client.preferences
    assert prefs.accepts_sms and prefs.accepts_booking_reminders and prefs.accepts_promotional
    types = db_session.scalars(sa.select(ClientEvent.event_type).where(ClientEvent.client_id == client.id)).all()
    assert types == ["client_created", "consent_changed"]
    consents = db_session.scalars(sa.select(ConsentEvent).where(ConsentEvent.client_id == client.id)).all()
    assert {c.field for c in consents} == {
        "accepts_birthday_messages",
        "accepts_promotional",
        "accepts_newsletters",
        "accepts_reactivation",
    }
    assert all(c.source == "recepcion" and c.user_id == staff.id for c in consents)


def test_marketing_off_by_default(db_session):
    client = create_client(data={"name": "Ana", "phone": "87654321"}, origin="web")
    assert not client.preferences.accepts_promotional
    assert client.preferences.accepts_booking_confirmations


@pytest.mark.parametrize(
    "data, message",
    [
        ({"name": "", "phone": "987654321"}, "El nombre es obligatorio."),
        ({"name": "Ana", "phone": "123"}, "Teléfono inválido: «123»"),
        ({"name": "Ana", "phone": "987654321", "email": "x@"}, "Ingrese un e-mail válido."),
        ({"name": "Ana", "phone": "987654321", "document_id": "12.345.678-0"}, "RUT inválido."),
        ({"name": "Ana", "phone": "987654321", "email": "a" * 250 + "@example.com"}, "Ingrese un e-mail válido."),
        ({"name": "Ana", "phone": "987654321", "city": "x" * 101}, "El campo ciudad admite hasta 100 caracteres."),
        ({"name": "Ana", "phone": "987654321", "country": "x" * 61}, "El campo país admite hasta 60 caracteres."),
    ],
)
def test_create_client_validation(db_session, data, message):
    with pytest.raises(ValidationError) as exc:
        create_client(data=data, origin="recepcion")
    assert exc.value.message == message
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0


def test_duplicate_phone_refused_by_service_and_database(db_session, make_client):
    make_client(phone="+56911112222")
    with pytest.raises(ConflictError, match="Ya existe un cliente con este teléfono."):
        create_client(data={"name": "Otra", "phone": "9 1111 2222"}, origin="web")
    nested = db_session.begin_nested()
    db_session.add(Client(name="Directo", phone="+56911112222", origin="seed"))
    with pytest.raises(sa.exc.IntegrityError):
        db_session.flush()
    nested.rollback()


def test_update_client_records_changes(db_session, make_client):
    client = make_client(email="a@example.com", city=None)
    changes = update_client(client, data={"email": "B@example.com", "city": "Puerto Varas", "name": client.name})
    assert set(changes) == {"email", "city"}
    event = db_session.scalars(
        sa.select(ClientEvent).where(ClientEvent.client_id == client.id, ClientEvent.event_type == "client_updated")
    ).one()
    assert "email: a@example.com → b@example.com" in event.description
    assert update_client(client, data={"city": "Puerto Varas"}) == {}


def test_consent_changes_are_proven(db_session, make_client, make_user):
    client = make_client(marketing_consent=True)
    staff = make_user("recepcion")
    assert (
        set_consents(
            client, {"accepts_sms": False, "accepts_promotional": True}, source="recepcion", by=staff, ip="127.0.0.1"
        )
        == 1
    )
    event = db_session.scalars(
        sa.select(ConsentEvent).where(ConsentEvent.client_id == client.id, ConsentEvent.field == "accepts_sms")
    ).one()
    assert (event.old_value, event.new_value, event.source, event.user_id) == (True, False, "recepcion", staff.id)
    assert opt_out_all(client, source="unsubscribe_link") > 0
    assert client.preferences.opt_out_date is not None
    assert not client.preferences.accepts_email and not client.preferences.has_marketing_consent
    with pytest.raises(ValidationError):
        set_consents(client, {"accepts_everything": True}, source="staff")


def test_client_with_history_cannot_be_deleted(db_session, make_client):
    fresh = make_client()
    delete_client(fresh)
    assert db_session.get(Client, fresh.id) is None
    used = make_client()
    record_event(used, "payment_recorded", "Pago registrado - efectivo - $10.000")
    with pytest.raises(HasHistory, match="No se puede eliminar: tiene historial asociado"):
        delete_client(used)
    assert db_session.get(Client, used.id) is not None
