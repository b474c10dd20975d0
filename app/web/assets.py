"""Static files: fingerprinted URLs cached for a year, the favicon at /favicon.ico, HTML never cached publicly
(UX review D21, D24)."""

from __future__ import annotations

import hashlib
import os

from flask import Flask, Response, request

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=3600"  # a static file asked for without its fingerprint (old link, bookmark)
HTML = "no-cache, private"


def _fingerprints(static_folder: str) -> dict[str, str]:
    """`{filename: first 12 hex of sha256}` for every file under static/, computed once at start."""
    prints = {}
    for root, _dirs, files in os.walk(static_folder):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as fh:
                digest = hashlib.sha256(fh.read()).hexdigest()[:12]
            prints[os.path.relpath(path, static_folder).replace(os.sep, "/")] = digest
    return prints


def init_assets(app: Flask) -> None:
    prints = _fingerprints(app.static_folder)
    app.extensions["static_fingerprints"] = prints

    @app.url_defaults
    def _fingerprint(endpoint, values):
        """url_for('static', filename=...) -> /static/<file>?v=<hash>: a new file gets a new URL."""
        if endpoint == "static" and "v" not in values:
            digest = prints.get(values.get("filename", ""))
            if digest:
                values["v"] = digest

    with open(os.path.join(app.static_folder, "icons", "favicon.ico"), "rb") as fh:
        favicon_bytes = fh.read()

    @app.get("/favicon.ico")
    def favicon():  # browsers ask for it on every site, whatever the page links
        return Response(
            favicon_bytes, mimetype="image/vnd.microsoft.icon", headers={"Cache-Control": "public, max-age=86400"}
        )

    favicon._public = True  # read by the access-matrix test

    @app.after_request
    def _cache_headers(response):
        if request.endpoint == "static":
            if response.status_code in (200, 304):
                filename = (request.view_args or {}).get("filename", "")
                fresh = request.args.get("v") and request.args.get("v") == prints.get(filename)
                response.headers["Cache-Control"] = IMMUTABLE if fresh else SHORT
        elif response.mimetype == "text/html" and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = HTML
        return response
