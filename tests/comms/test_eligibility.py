"""Static checks (§5 rows 1–5): the pure predicate and the SQL builder agree, reason codes and labels."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.clients.models import Suppression
from app.clients.services import set_consents
from app.comms import eligibility_queries as eligibility
from app.comms.eligibility_queries import check, clients_with_reason, prefs_dict
from app.comms.policy import REASONS, Limits


@pytest.fixture
def population(db_session, make_client):
    ok = make_client(marketing_consent=True)
    landline = make_client(phone="+56221234567", marketing_consent=True)
    no_email = make_client(email=None, marketing_consent=True)
    no_sms = make_client(marketing_consent=True)
    set_consents(no_sms, {"accepts_sms": False}, source="staff")
    no_type = make_client(marketing_consent=False)
    suppressed = make_client(marketing_consent=True)
    db_session.add_all(
        [
            Suppression(channel="sms", destination=suppressed.phone, reason="stop"),
            Suppression(channel="email", destination=suppressed.email, reason="bounce"),
        ]
    )
    db_session.flush()
    return {
        "ok": ok,
        "landline": landline,
        "no_email": no_email,
        "no_sms": no_sms,
        "no_type": no_type,
        "suppressed": suppressed,
    }


EXPECTED = {
    ("BIRTHDAY", "SMS"): {
        "ok": None,
        "landline": "not_mobile",
        "no_email": None,
        "no_sms": "no_channel_consent",
        "no_type": "no_type_consent",
        "suppressed": "suppressed",
    },
    ("NEWSLETTER", "EMAIL"): {
        "ok": None,
        "landline": None,
        "no_email": "no_destination",
        "no_sms": None,
        "no_type": "no_type_consent",
        "suppressed": "suppressed",
    },
    ("BOOKING_REMINDER", "SMS"): {
        "ok": None,
        "landline": "not_mobile",
        "no_email": None,
        "no_sms": "no_channel_consent",
        "no_type": None,
        "suppressed": "suppressed",
    },
    ("GIFT_CARD", "EMAIL"): {
        "ok": None,
        "landline": None,
        "no_email": "no_destination",
        "no_sms": None,
        "no_type": None,
        "suppressed": "suppressed",
    },
}


@pytest.mark.parametrize(("message_type", "channel"), list(EXPECTED))
def test_pure_and_sql_agree(db_session, population, message_type, channel):
    ids = {c.id: name for name, c in population.items()}
    stmt = clients_with_reason(message_type, channel).where(sa.column("client_id").in_(list(ids)))
    sql = {
        ids[r.client_id]: r.reason
        for r in db_session.execute(
            clients_with_reason(message_type, channel).where(eligibility.Client.id.in_(list(ids)))
        )
    }
    assert stmt is not None
    pure = {}
    for name, c in population.items():
        destination = c.phone if channel == "SMS" else c.email
        channel_code = "sms" if channel == "SMS" else "email"
        suppressed = (
            db_session.scalar(
                sa.select(Suppression.id).where(
                    Suppression.channel == channel_code, Suppression.destination == destination
                )
            )
            is not None
        )
        pure[name] = check(
            message_type=message_type,
            channel=channel,
            destination=destination,
            has_client=True,
            prefs=prefs_dict(c.preferences),
            suppressed=suppressed,
        )
    assert sql == pure == EXPECTED[(message_type, channel)]


def test_channel_disabled_first(db_session, population):
    limits = Limits(sms_enabled=False)
    assert (
        check(
            message_type="OTHER",
            channel="SMS",
            destination=None,
            has_client=False,
            prefs=None,
            suppressed=True,
            limits=limits,
        )
        == "channel_disabled"
    )
    reasons = {r.reason for r in db_session.execute(clients_with_reason("OTHER", "SMS", limits=limits))}
    assert reasons == {"channel_disabled"}


def test_eligible_clause_and_labels(db_session, population):
    ids = [c.id for c in population.values()]
    stmt = (
        sa.select(eligibility.Client.id)
        .outerjoin(eligibility.ClientPreferences)
        .where(eligibility.Client.id.in_(ids), eligibility.eligible("BIRTHDAY", "SMS"))
    )
    assert set(db_session.scalars(stmt)) == {population["ok"].id, population["no_email"].id}
    assert REASONS["no_type_consent"] == "sin consentimiento para este tipo"
    assert eligibility.reason_label("not_mobile") == "no es celular"
