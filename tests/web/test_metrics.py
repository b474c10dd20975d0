"""/metrics (docs/OPERATIONS.md "Metrics"): guarded by network or token; after a booking it shows the request,
Flow callback, outbox, webhook, cart hold and scheduler series."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app import scheduler
from app.comms.outbox_services import enqueue
from app.web import metrics_queries
from app.web.metrics import parse_networks, scrape_allowed
from tests.shop.test_order_page import calipso, checkout, fake_flow  # noqa: F401  (fixture)

OUTSIDE = {"REMOTE_ADDR": "203.0.113.7"}


def samples(client) -> dict[tuple[str, tuple], float]:
    resp = client.get("/metrics")
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    assert resp.headers["Cache-Control"] == "no-store"
    found = {}
    for family in text_string_to_metric_families(resp.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found, name, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_guard_by_network_or_token(app, client, monkeypatch):
    assert client.get("/metrics").status_code == 200  # loopback (the test client's address)
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 404
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "s3cr3t-metrics-token-0123456789")
    assert client.get("/metrics", environ_base=OUTSIDE, headers={"Authorization": "Bearer wrong"}).status_code == 404
    ok = client.get(
        "/metrics", environ_base=OUTSIDE, headers={"Authorization": "Bearer s3cr3t-metrics-token-0123456789"}
    )
    assert ok.status_code == 200 and "aremko_http_requests_total" in ok.text


def test_scrape_allowed_networks():
    nets = parse_networks("10.0.0.0/8, fd00::/8")
    assert scrape_allowed("10.42.3.4", None, nets, None)
    assert scrape_allowed("::ffff:10.1.2.3", None, nets, None)  # IPv4-mapped, as dual-stack sockets report it
    assert scrape_allowed("fd12::1", None, nets, None)
    assert not scrape_allowed("192.168.1.2", None, nets, None)
    assert not scrape_allowed(None, "Bearer x", nets, None)  # no token configured: a header opens nothing
    assert scrape_allowed("192.168.1.2", "Bearer x", nets, "x")
    assert parse_networks("") == ()
    with pytest.raises(ValueError, match="METRICS_ALLOWED_NETWORKS"):
        parse_networks("10.0.0.0/8,intranet")


def test_lock_key_matches_the_scheduler():
    assert metrics_queries.LEADER_LOCK_KEY == scheduler.LEADER_LOCK_KEY


def test_named_series_after_a_booking(client, calipso):  # noqa: F811
    before = samples(client)
    resp = checkout(client, calipso)
    assert resp.status_code == 303
    fake_flow(client, resp.headers["Location"], "pagar")
    after = samples(client)
    route = (("method", "POST"), ("route", "/ventas/complete-checkout/"), ("status", "303"))
    assert after[("aremko_http_requests_total", route)] == before.get(("aremko_http_requests_total", route), 0) + 1
    latency = (("method", "POST"), ("route", "/ventas/complete-checkout/"))
    assert after[("aremko_http_request_duration_seconds_count", latency)] >= 1
    assert any(name == "aremko_http_request_duration_seconds_bucket" for name, _ in after)
    returns = sum(
        v for (n, labels), v in after.items() if n == "aremko_flow_callbacks_total" and ("kind", "return") in labels
    )
    returns_before = sum(
        v for (n, labels), v in before.items() if n == "aremko_flow_callbacks_total" and ("kind", "return") in labels
    )
    assert returns == returns_before + 1
    assert value(after, "aremko_database_up") == 1
    assert value(after, "aremko_cart_holds_active") == 0  # the paid order released its hold
    backlog = value(after, "aremko_outbox_backlog")
    enqueue(
        message_type="OTHER",
        channel="SMS",
        idempotency_key="metrics:1",
        triggered_by="staff:test",
        payload={"text": "Hola", "subject": "Asunto"},
    )
    queued = samples(client)
    assert value(queued, "aremko_outbox_backlog") == backlog + 1
    assert value(queued, "aremko_outbox_messages", status="PENDING") >= 1
    for name in ("aremko_webhook_backlog", "aremko_outbox_oldest_due_age_seconds", "aremko_scheduler_leader"):
        assert (name, ()) in after, name
    # a pending checkout holds its slot
    client.post(
        "/ventas/add-to-cart/",
        data={"servicio_id": calipso.id, "fecha": "2026-03-02", "hora": "17:00", "cantidad_personas": 2},
    )
    assert value(samples(client), "aremko_cart_holds_active") == 1


def test_unmatched_paths_share_one_series(client):
    client.get("/no-existe-1")
    client.get("/no-existe-2")
    text = client.get("/metrics").text
    assert "no-existe" not in text and 'route="<unmatched>"' in text
