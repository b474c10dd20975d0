"""merge_clients, the merge screen and `flask normalize-and-merge-clients` (spec crm.md §8): history kept."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from app.clients.models import Client, ClientEvent, ClientMerge, ClientUpdateRequest, ConsentEvent, Suppression
from app.clients.services import set_consents
from app.sales.client_merge_services import merge_clients, normalize_and_merge
from app.sales.models import GiftCard, Order


def _history(db_session, client, *, order_total=0):
    order = Order(client_id=client.id, origin="recepcion", total=order_total)
    db_session.add(order)
    db_session.flush()
    card = GiftCard(
        code=f"GC{client.id:08d}",
        initial_amount=10000,
        issued_on=date(2026, 1, 1),
        expires_on=date(2027, 1, 1),
        buyer_client_id=client.id,
        recipient_client_id=client.id,
    )
    db_session.add_all(
        [
            card,
            Suppression(channel="email", destination=f"x{client.id}@example.com", reason="manual", client_id=client.id),
            ClientUpdateRequest(client_id=client.id, source="checkout", proposed={"email": {}}),
        ]
    )
    db_session.flush()
    return order, card


def test_merge_keeps_all_history_and_records_it(db_session, make_client, make_user):
    gerente = make_user("gerente")
    survivor = make_client(name="Ana Díaz", email=None, city=None)
    dup = make_client(name="Ana D.", email="ana@example.com", city="Osorno", marketing_consent=True)
    set_consents(survivor, {"accepts_sms": True}, source="staff")
    set_consents(dup, {"accepts_sms": False}, source="staff")
    order, card = _history(db_session, dup)
    _history(db_session, survivor)
    dup_events = db_session.scalar(sa.select(sa.func.count()).where(ClientEvent.client_id == dup.id))
    dup_consents = db_session.scalar(sa.select(sa.func.count()).where(ConsentEvent.client_id == dup.id))
    survivor_events = db_session.scalar(sa.select(sa.func.count()).where(ClientEvent.client_id == survivor.id))
    dup_id, dup_phone = dup.id, dup.phone

    [merge] = merge_clients(survivor, [dup], by=gerente)
    db_session.commit()

    assert db_session.get(Client, dup_id) is None
    assert db_session.get(Order, order.id).client_id == survivor.id
    card = db_session.get(GiftCard, card.id)
    assert card.buyer_client_id == card.recipient_client_id == survivor.id
    assert db_session.scalar(sa.select(sa.func.count()).where(Suppression.client_id == survivor.id)) == 2
    assert db_session.scalar(sa.select(sa.func.count()).where(ClientUpdateRequest.client_id == survivor.id)) == 2
    events = db_session.scalars(sa.select(ClientEvent).where(ClientEvent.client_id == survivor.id)).all()
    # every old event of both + client_updated (filled fields) + consent_changed (restrictive sms) + client_merged
    assert len(events) == dup_events + survivor_events + 3
    assert db_session.scalar(sa.select(sa.func.count()).where(ConsentEvent.client_id == survivor.id)) >= dup_consents
    assert survivor.email == "ana@example.com" and survivor.city == "Osorno" and survivor.name == "Ana Díaz"
    assert survivor.preferences.accepts_sms is False  # the most restrictive value wins
    assert merge.merged_client_id == dup_id and merge.snapshot["phone"] == dup_phone
    assert merge.moved["orders"] == 1 and merge.moved["gift_cards.buyer_client_id"] == 1
    assert merge.by_label == gerente.username
    merged_event = [e for e in events if e.event_type == "client_merged"][0]
    assert f"#{dup_id}" in merged_event.description


def test_merge_screen(login, db_session, make_client):
    a = make_client(email="same@example.com")
    b = make_client(email="same@example.com")
    _history(db_session, b)
    db_session.commit()
    a_id = a.id
    c = login("gerente")
    dups = c.get("/ventas/clientes/duplicados/")
    assert dups.status_code == 200 and "same@example.com" in dups.text
    page = c.get(f"/ventas/clientes/fusionar/?ids={a.id},{b.id}")
    assert page.status_code == 200 and f'id="merge-client-{b.id}"' in page.text
    assert c.get("/ventas/clientes/fusionar/?ids=abc").status_code == 200
    bad = c.post("/ventas/clientes/fusionar/", data={"ids": f"{a.id},{b.id}", "sobreviviente": "999"})
    assert bad.status_code == 422 and "Elija el cliente" in bad.text
    ok = c.post("/ventas/clientes/fusionar/", data={"ids": f"{a.id},{b.id}", "sobreviviente": str(b.id)})
    assert ok.status_code == 303 and ok.headers["Location"].endswith(f"/ventas/clientes/{b.id}/")
    db_session.expire_all()
    assert db_session.get(Client, a_id) is None
    assert db_session.scalar(sa.select(ClientMerge.survivor_id).where(ClientMerge.merged_client_id == a_id)) == b.id
    assert login("recepcion").post("/ventas/clientes/fusionar/", data={"ids": "1,2"}).status_code == 403


def test_normalize_and_merge_command(app, db_session, make_client):
    canon = make_client(name="Canónico", phone="+56987654321")
    raw = Client(name="Sin normalizar", phone="9 8765 4321", origin="import")
    free = Client(name="Libre", phone="(+56) 9-1111-2222", origin="import")
    bad = Client(name="Malo", phone="12345", origin="import")
    db_session.add_all([raw, free, bad])
    db_session.flush()
    db_session.add_all([Order(client_id=raw.id, origin="recepcion"), Order(client_id=raw.id, origin="recepcion")])
    db_session.commit()
    canon_id, raw_id, free_id, bad_id = canon.id, raw.id, free.id, bad.id
    lines: list[str] = []

    dry = normalize_and_merge(dry_run=True, echo=lines.append)
    assert all(line.startswith("[DRY-RUN]") for line in lines)
    assert dry["invalid"] == [(bad_id, "12345")] and len(dry["merged"]) == 1
    db_session.expire_all()
    assert db_session.get(Client, canon_id) is not None and db_session.get(Client, free_id).phone != "+56911112222"

    report = normalize_and_merge(echo=lines.append)
    db_session.expire_all()
    assert report["normalized"] == [(free_id, "(+56) 9-1111-2222", "+56911112222")]
    assert db_session.get(Client, free_id).phone == "+56911112222"
    assert db_session.get(Client, bad_id).phone == "12345"  # reported, left untouched
    # the client with most orders survives and takes the canonical number
    assert report["merged"] == [("+56987654321", raw_id, [canon_id])]
    assert db_session.get(Client, canon_id) is None
    assert db_session.get(Client, raw_id).phone == "+56987654321"
    assert (
        db_session.scalar(sa.select(ClientMerge.by_label).where(ClientMerge.merged_client_id == canon_id)) == "sistema"
    )

    runner = app.test_cli_runner()
    result = runner.invoke(args=["normalize-and-merge-clients", "--dry-run"])
    assert result.exit_code == 0 and "[DRY-RUN] Grupos fusionados: 0" in result.output


def test_refused_merge_marks_the_choice_and_keeps_the_ids(login, make_client, db_session):
    a, b = make_client(), make_client()
    c = login("gerente")
    bad = c.post("/ventas/clientes/fusionar/", data={"ids": f"{a.id},{b.id}", "sobreviviente": "abc"})
    assert bad.status_code == 422 and 'id="merge-error">Elija el cliente que se conserva.<' in bad.text
    assert f'name="ids" type="hidden" value="{a.id},{b.id}"' in bad.text
    assert 'aria-invalid="true" aria-describedby="merge-error"' in bad.text
    assert c.post("/ventas/clientes/fusionar/", data={"ids": f"{a.id}", "sobreviviente": str(a.id)}).status_code == 422
