"""DELETE /ventas/api/clientes/<id>/ answers 409 has_history for a client whose orders, gift cards or messages
have no ClientEvent (seeded or migrated data) instead of a foreign-key 500 (security review L1)."""

from __future__ import annotations

import sqlalchemy as sa

from app.clients.models import Client, ClientEvent


def _drop_events(db_session, client_id):
    db_session.execute(sa.delete(ClientEvent).where(ClientEvent.client_id == client_id))
    db_session.flush()


def test_client_with_an_order_but_no_events_is_409(api, placed_order, db_session):
    _drop_events(db_session, placed_order.client_id)
    resp = api("admin").delete(f"/ventas/api/clientes/{placed_order.client_id}/")
    assert resp.status_code == 409 and resp.json["code"] == "has_history"
    assert db_session.get(Client, placed_order.client_id) is not None


def test_client_with_only_a_message_is_409(api, make_client, db_session):
    from app.comms.models import CommunicationLog

    client = make_client(name="Solo Mensaje", phone="+56911112222")
    db_session.add(
        CommunicationLog(
            client_id=client.id,
            communication_type="SMS",
            message_type="BOOKING_CONFIRMATION",
            destination=client.phone,
            idempotency_key=f"test:{client.id}",
            triggered_by="test",
        )
    )
    db_session.flush()
    _drop_events(db_session, client.id)
    resp = api("admin").delete(f"/ventas/api/clientes/{client.id}/")
    assert resp.status_code == 409 and resp.json["code"] == "has_history"


def test_client_without_history_is_deleted(api, make_client, db_session):
    client = make_client(name="Sin Nada", phone="+56911113333")
    assert api("admin").delete(f"/ventas/api/clientes/{client.id}/").status_code == 204


def test_gift_card_conflict_uses_the_documented_code(api, placed_order, make_user, db_session):
    from app.sales import giftcard_services as giftcards

    card = giftcards.issue_gift_card(amount=5000, by=make_user("recepcion"))
    db_session.flush()
    resp = api("recepcion").post(
        "/ventas/api/pagos/",
        json={"venta_reserva": placed_order.id, "monto": 8000, "metodo_pago": "giftcard", "giftcard_codigo": card.code},
    )
    assert resp.status_code == 409 and resp.json["code"] == "giftcard_unavailable"
    assert "Saldo insuficiente" in resp.json["error"]
