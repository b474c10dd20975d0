"""Prometheus metrics (docs/OPERATIONS.md "Metrics"), prometheus-client in gunicorn's multiprocess mode.

Request latency and count per route (the URL rule, never the raw path), and Flow callbacks, are counted in each web
process; with PROMETHEUS_MULTIPROC_DIR set (the image sets it, gunicorn.conf.py empties it at start) /metrics sums
every worker's samples. The outbox, webhook deliveries, cart holds and the scheduler's leader and heartbeat live in
other processes (the scheduler container): they are read from the database at scrape time (metrics_queries.py).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time

from flask import Flask, g, request
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if MULTIPROC_DIR:  # `flask scheduler run` and the one-off commands have no gunicorn master to create it
    os.makedirs(MULTIPROC_DIR, exist_ok=True)

REQUESTS = Counter(
    "aremko_http_requests_total", "HTTP requests by route, method and status", ["route", "method", "status"]
)
LATENCY = Histogram(
    "aremko_http_request_duration_seconds",
    "HTTP request latency by route and method",
    ["route", "method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
FLOW_CALLBACKS = Counter(
    "aremko_flow_callbacks_total", "Flow payment callbacks received, by kind and HTTP status", ["kind", "status"]
)
FLOW_CALLBACK_RULES = {"/ventas/payment/confirmation/": "confirmation", "/ventas/payment/return/": "return"}
UNMATCHED = "<unmatched>"  # 404s and WhiteNoise-less static misses: one series, not one per probed path


def parse_networks(text: str) -> tuple:
    """`METRICS_ALLOWED_NETWORKS` (comma list of CIDRs) -> networks; a wrong entry stops the app naming it."""
    networks = []
    for item in (part.strip() for part in (text or "").split(",")):
        if item:
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"METRICS_ALLOWED_NETWORKS: red no válida {item!r}") from None
    return tuple(networks)


def scrape_allowed(remote_addr: str | None, authorization: str | None, networks: tuple, token: str | None) -> bool:
    """From an allowed network (the cluster's, loopback) or with `Authorization: Bearer <METRICS_TOKEN>`."""
    if token and authorization and authorization.startswith("Bearer "):
        if hmac.compare_digest(authorization[len("Bearer ") :].encode(), token.encode()):
            return True
    try:
        address = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        return False
    if getattr(address, "ipv4_mapped", None):
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def render_metrics() -> bytes:
    """The exposition text: every process's counters (multiprocess) or this one's, then the database gauges."""
    from app.web.metrics_queries import DatabaseCollector

    if MULTIPROC_DIR:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    database = CollectorRegistry(auto_describe=False)
    database.register(DatabaseCollector())
    return generate_latest(registry) + generate_latest(database)


def init_metrics(app: Flask) -> None:
    app.extensions["metrics_networks"] = parse_networks(app.config.get("METRICS_ALLOWED_NETWORKS", ""))
    if not app.config.get("METRICS_ENABLED", True):
        return

    @app.before_request
    def _start_timer():
        g._metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.pop("_metrics_started", None)
        if started is not None:
            rule = request.url_rule.rule if request.url_rule is not None else UNMATCHED
            status = str(response.status_code)
            REQUESTS.labels(rule, request.method, status).inc()
            LATENCY.labels(rule, request.method).observe(time.perf_counter() - started)
            kind = FLOW_CALLBACK_RULES.get(rule)
            if kind:
                FLOW_CALLBACKS.labels(kind, status).inc()
        return response

    from app.web.metrics_views import bp

    app.register_blueprint(bp)
