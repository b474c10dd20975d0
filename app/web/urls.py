"""URLs built without a request (jobs, services, messages): paths from the URL map, absolute from PUBLIC_BASE_URL."""

from __future__ import annotations

from flask import current_app


def path_for(endpoint: str, **values) -> str:
    return current_app.url_map.bind("localhost").build(endpoint, values)


def public_url(endpoint: str, **values) -> str:
    return current_app.config["PUBLIC_BASE_URL"] + path_for(endpoint, **values)
