"""GET /metrics (docs/OPERATIONS.md "Metrics"): Prometheus text, only from METRICS_ALLOWED_NETWORKS or with
`Authorization: Bearer METRICS_TOKEN`; anyone else gets a plain 404, as if it did not exist. The compose proxy
refuses the path too (deploy/nginx.conf), since behind it every client would come from the proxy's private address."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST

from app.extensions import limiter
from app.web.metrics import render_metrics, scrape_allowed

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
@limiter.exempt
def metrics():
    allowed = scrape_allowed(
        request.remote_addr,
        request.headers.get("Authorization"),
        current_app.extensions["metrics_networks"],
        current_app.config.get("METRICS_TOKEN"),
    )
    if not allowed:
        abort(404)
    return Response(render_metrics(), mimetype=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


metrics._network_guard = True  # read by the access-matrix test: guarded by address or token, not by role
